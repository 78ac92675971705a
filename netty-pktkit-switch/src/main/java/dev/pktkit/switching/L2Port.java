package dev.pktkit.switching;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Vlan;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.util.concurrent.atomic.AtomicInteger;

/** A port of an {@link L2Hub}: its channel, VLAN options, counters and learned-address count. */
public final class L2Port extends HubPort {
    private static final int TPID = Ethernet.TYPE_VLAN;
    private static final int MIN_FRAME = Ethernet.HEADER_LENGTH;
    private static final int MIN_TAGGED_FRAME = Vlan.TAGGED_HEADER_LENGTH;

    final L2Hub l2hub;
    final L2PortOptions options;
    final int maxMacEntries;
    final AtomicInteger learned = new AtomicInteger();

    L2Port(L2Hub hub, Channel channel, L2PortOptions options) {
        super(hub, channel);
        this.l2hub = hub;
        this.options = options;
        this.maxMacEntries = options.maxMacEntries;
    }

    public L2PortOptions options() {
        return options;
    }

    /** Addresses currently learned on this port. */
    public int learnedAddresses() {
        return learned.get();
    }

    @Override
    protected void receive(ByteBuf frame) {
        receive(frame, null);
    }

    /**
     * Switches a frame with offload state and keeps the state: a switch changes no byte that a partial checksum
     * covers (at most the outer 802.1Q tag, in front of the IP header), so a partial checksum stays partial and a
     * large segment stays large, as a Linux bridge forwards them. Each destination (the mirror included) gets the
     * state if its channel accepts it ({@link OffloadPacket#ACCEPTS}), else a plain frame with the state completed
     * in Java; a tag inserted or removed on the way moves the state's offsets by 4 bytes.
     */
    @Override
    protected void receive(OffloadPacket p) {
        receive(p.content(), p);
    }

    /** {@code meta}: the offload state whose content {@code frame} is, or null for a plain frame. */
    private void receive(ByteBuf frame, OffloadPacket meta) {
        L2Hub hub = l2hub;
        int off = frame.readerIndex();
        if (options.isMirror()) {
            drop(frame, DropReason.VLAN); // a monitor port does not inject traffic
            return;
        }
        // The mirror sees every frame that enters the hub, also those dropped below (malformed, bad source,
        // wrong VLAN): a monitor is where one looks for exactly those.
        L2Port mirror = hub.mirror;
        if (mirror != null) {
            sendForm(mirror, frame.retainedDuplicate(), frame, meta, 0);
        }
        if (frame.readableBytes() < MIN_FRAME) {
            drop(frame, DropReason.MALFORMED);
            return;
        }
        long dst = Ethernet.dst(frame, off);
        long src = Ethernet.src(frame, off);
        if (MacAddress.isMulticast(src)) {
            drop(frame, DropReason.BAD_SOURCE);
            return;
        }
        int tagVid = -1;
        if (frame.getUnsignedShort(off + 12) == TPID) {
            if (frame.readableBytes() < MIN_TAGGED_FRAME) {
                drop(frame, DropReason.MALFORMED);
                return;
            }
            tagVid = frame.getUnsignedShort(off + 14) & 0x0FFF;
        }
        int vid = options.ingressVid(tagVid);
        if (vid < 0) {
            drop(frame, DropReason.VLAN);
            return;
        }
        long now = hub.now;
        hub.table.learn(MacTable.key(src, vid), this, now);

        if (!MacAddress.isMulticast(dst)) {
            L2Port out = hub.table.lookup(MacTable.key(dst, vid), now, hub.agingNanos);
            if (out != null && out.attached) {
                if (out == this) {
                    drop(frame, DropReason.SAME_PORT);
                    return;
                }
                if (out.options.member(vid)) {
                    boolean tagged = out.options.egressTagged(vid);
                    sendForm(out, egressForm(frame, tagVid, vid, tagged), frame, meta, shift(tagVid, vid, tagged));
                    return;
                }
            }
        }
        flood(frame, meta, tagVid, vid);
    }

    /**
     * How many bytes later the IP header starts in the egress form than in a frame with outer tag {@code tagVid}
     * (-1: untagged): +4 when a tag is inserted, -4 when one is removed, 0 otherwise.
     */
    private static int shift(int tagVid, int vid, boolean wantTagged) {
        if (wantTagged) {
            return tagVid < 0 ? 4 : 0;
        }
        return tagVid < 0 ? 0 : -4;
    }

    /**
     * Sends {@code form} to {@code out}: plain, or with {@code meta}'s offload state ({@code meta}'s content is
     * {@code frame}): {@code meta} itself when {@code form} is {@code frame}, else a new holder whose offsets are
     * moved by {@code shift}. Consumes {@code form}; {@code meta} is not read (its content may be released already).
     */
    private void sendForm(HubPort out, ByteBuf form, ByteBuf frame, OffloadPacket meta, int shift) {
        if (meta == null) {
            out.send(this, form);
        } else {
            out.send(this, form == frame ? meta : meta.replace(form, shift), true);
        }
    }

    private void drop(ByteBuf frame, DropReason reason) {
        counters.dropped(reason);
        frame.release();
    }

    /**
     * Sends a copy to every member of {@code vid} except this port; consumes {@code frame}.
     *
     * <p>Each destination gets a {@code retainedDuplicate()} (shared memory, own indices) except the last one of each
     * form, which gets the form's own buffer (the frame itself when its form fits): one duplicate and its three
     * reference-count updates fewer per flood, and no retain/release of the frame around the loop. To know the
     * last, the send to a destination waits until the next one of its form is found.
     */
    private void flood(ByteBuf frame, OffloadPacket meta, int tagVid, int vid) {
        ByteBuf untagged = null; // the form for untagged egress, once made: frame itself, or an untagged copy
        ByteBuf tagged = null;
        HubPort untaggedPending = null; // the latest destination of each form, not yet sent to
        HubPort taggedPending = null;
        int taggedShift = shift(tagVid, vid, true);
        int untaggedShift = shift(tagVid, vid, false);
        HubPort[] ports = hub.portArray();
        for (HubPort hp : ports) {
            L2Port p = (L2Port) hp;
            if (p == this || !p.options.member(vid)) {
                continue;
            }
            if (p.options.egressTagged(vid)) {
                if (tagged == null) {
                    tagged = tagVid == vid ? frame : retag(frame, tagVid, vid);
                }
                if (taggedPending != null) {
                    sendForm(taggedPending, tagged.retainedDuplicate(), frame, meta, taggedShift);
                }
                taggedPending = p;
            } else {
                if (untagged == null) {
                    untagged = tagVid < 0 ? frame : untag(frame);
                }
                if (untaggedPending != null) {
                    sendForm(untaggedPending, untagged.retainedDuplicate(), frame, meta, untaggedShift);
                }
                untaggedPending = p;
            }
        }
        // The last destination of each form takes the form itself; frame is ours until then (copies are made from
        // it inside the loop), and after it is sent it is not touched again.
        boolean frameSent = false;
        if (taggedPending != null) {
            frameSent = tagged == frame;
            sendForm(taggedPending, tagged, frame, meta, taggedShift);
        }
        if (untaggedPending != null) {
            frameSent |= untagged == frame;
            sendForm(untaggedPending, untagged, frame, meta, untaggedShift);
        }
        if (!frameSent) {
            frame.release();
        }
    }

    /** {@code frame} in the form the egress port wants; consumes {@code frame}. */
    private ByteBuf egressForm(ByteBuf frame, int tagVid, int vid, boolean wantTagged) {
        if (wantTagged) {
            if (tagVid == vid) {
                return frame;
            }
            ByteBuf out = retag(frame, tagVid, vid);
            frame.release();
            return out;
        }
        if (tagVid < 0) {
            return frame;
        }
        ByteBuf out = untag(frame);
        frame.release();
        return out;
    }

    /** A new buffer holding {@code frame} without its outer tag. Does not consume {@code frame}. */
    private ByteBuf untag(ByteBuf frame) {
        int off = frame.readerIndex();
        int len = frame.readableBytes();
        ByteBuf out = channel.alloc().buffer(len - 4);
        Buffers.copy(frame, off, out, 0, 12); // not writeBytes: see Buffers.copy (no NIO views per copy)
        Buffers.copy(frame, off + 16, out, 12, len - 16);
        return out.writerIndex(len - 4);
    }

    /**
     * A new buffer holding {@code frame} tagged with {@code vid}: the outer tag replaced if there is one (keeping
     * its priority bits), inserted otherwise. Does not consume {@code frame}.
     */
    private ByteBuf retag(ByteBuf frame, int tagVid, int vid) {
        int off = frame.readerIndex();
        int len = frame.readableBytes();
        int pcpDei = 0;
        int rest = off + 12;
        if (tagVid >= 0) {
            pcpDei = frame.getUnsignedShort(off + 14) & 0xF000;
            rest = off + 16;
        }
        ByteBuf out = channel.alloc().buffer(len + 4);
        Buffers.copy(frame, off, out, 0, 12);
        out.setShort(12, TPID);
        out.setShort(14, pcpDei | vid);
        Buffers.copy(frame, rest, out, 16, off + len - rest);
        return out.writerIndex(len + 4);
    }
}

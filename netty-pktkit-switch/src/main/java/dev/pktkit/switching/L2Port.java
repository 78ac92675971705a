package dev.pktkit.switching;

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
            mirror.send(this, frame.retainedDuplicate());
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
                    out.send(this, egressForm(frame, tagVid, vid, out.options.egressTagged(vid)));
                    return;
                }
            }
        }
        flood(frame, tagVid, vid);
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
    private void flood(ByteBuf frame, int tagVid, int vid) {
        ByteBuf untagged = null; // the form for untagged egress, once made: frame itself, or an untagged copy
        ByteBuf tagged = null;
        HubPort untaggedPending = null; // the latest destination of each form, not yet sent to
        HubPort taggedPending = null;
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
                    taggedPending.send(this, tagged.retainedDuplicate());
                }
                taggedPending = p;
            } else {
                if (untagged == null) {
                    untagged = tagVid < 0 ? frame : untag(frame);
                }
                if (untaggedPending != null) {
                    untaggedPending.send(this, untagged.retainedDuplicate());
                }
                untaggedPending = p;
            }
        }
        // The last destination of each form takes the form itself; frame is ours until then (copies are made from
        // it inside the loop), and after it is sent it is not touched again.
        boolean frameSent = false;
        if (taggedPending != null) {
            frameSent = tagged == frame;
            taggedPending.send(this, tagged);
        }
        if (untaggedPending != null) {
            frameSent |= untagged == frame;
            untaggedPending.send(this, untagged);
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
        out.writeBytes(frame, off, 12);
        out.writeBytes(frame, off + 16, len - 16);
        return out;
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
        out.writeBytes(frame, off, 12);
        out.writeShort(TPID);
        out.writeShort(pcpDei | vid);
        out.writeBytes(frame, rest, off + len - rest);
        return out;
    }
}

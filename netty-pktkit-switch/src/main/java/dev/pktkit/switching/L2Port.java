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

    /** Sends a copy to every member of {@code vid} except this port; consumes {@code frame}. */
    private void flood(ByteBuf frame, int tagVid, int vid) {
        ByteBuf untagged = null;
        ByteBuf tagged = null;
        HubPort[] ports = hub.portArray();
        for (HubPort hp : ports) {
            L2Port p = (L2Port) hp;
            if (p == this || !p.options.member(vid)) {
                continue;
            }
            ByteBuf form;
            if (p.options.egressTagged(vid)) {
                if (tagged == null) {
                    tagged = tagVid == vid ? frame.retain() : retag(frame, tagVid, vid);
                }
                form = tagged;
            } else {
                if (untagged == null) {
                    untagged = tagVid < 0 ? frame.retain() : untag(frame);
                }
                form = untagged;
            }
            p.send(this, form.retainedDuplicate());
        }
        if (tagged != null) {
            tagged.release();
        }
        if (untagged != null) {
            untagged.release();
        }
        frame.release();
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

package dev.pktkit.tuntap.vnet;

import dev.pktkit.codec.offload.OffloadPacket;
import io.netty.buffer.ByteBuf;

/**
 * A packet (TUN: an IP packet; TAP: an Ethernet frame) with the offload state of its virtio-net header: a large
 * TCP segment the receiver may cut into {@link #gsoSize()}-byte pieces, and/or a transport checksum that holds
 * only the pseudo-header sum ({@link #needsChecksum()}).
 *
 * <p>The state itself is codec's neutral {@link OffloadPacket} (whose field values are virtio-net's), so hubs and
 * routers forward these as they are; this class adds the virtio-net header's wire form ({@link #writeHeader}).
 *
 * <p>A TUN/TAP channel with {@code OffloadMode.LARGE} reads these for packets that carry offload state (and plain
 * {@code ByteBuf}s for those that do not), and a channel with virtio-net headers on writes them (and any other
 * {@link OffloadPacket}, see {@link #of}) with their header as given. Offsets ({@link #checksumStart()}) count from
 * the content's {@code readerIndex()}. {@link GsoSegmenter} cuts one into ordinary packets;
 * {@link dev.pktkit.tuntap.VirtioNetCodec} turns them into plain {@code ByteBuf}s and back for handlers that read
 * only {@code ByteBuf}s, or, in forwarding mode, lets them through to a hub.
 *
 * <p>Reference counting is the content's: whoever receives one owns it and releases it (or passes it on).
 */
public final class VirtioNetPacket extends OffloadPacket {
    /**
     * A packet with the given header fields (see {@link VirtioNetHeader}); takes ownership of {@code content}.
     * Fields are 8-bit ({@code flags}, {@code gsoType}) and 16-bit unsigned values.
     */
    public VirtioNetPacket(ByteBuf content, int flags, int gsoType, int headerLength, int gsoSize,
                           int checksumStart, int checksumOffset) {
        super(content, flags, gsoType, headerLength, gsoSize, checksumStart, checksumOffset);
    }

    /** {@code p} as a virtio-net packet (itself if it is one); takes over {@code p}'s content reference. */
    public static VirtioNetPacket of(OffloadPacket p) {
        if (p instanceof VirtioNetPacket v) {
            return v;
        }
        return new VirtioNetPacket(p.content(), p.flags(), p.gsoType(), p.headerLength(), p.gsoSize(),
                p.checksumStart(), p.checksumOffset());
    }

    /** Writes this packet's header at {@code off} of {@code out} (absolute; no index moves). */
    public void writeHeader(ByteBuf out, int off) {
        VirtioNetHeader.set(out, off, flags(), gsoType(), headerLength(), gsoSize(), checksumStart(),
                checksumOffset());
    }

    @Override
    public VirtioNetPacket replace(ByteBuf content) {
        return new VirtioNetPacket(content, flags(), gsoType(), headerLength(), gsoSize(), checksumStart(),
                checksumOffset());
    }

    @Override
    public VirtioNetPacket replace(ByteBuf content, int shift) {
        return of(super.replace(content, shift));
    }

    @Override
    public VirtioNetPacket copy() {
        return (VirtioNetPacket) super.copy();
    }

    @Override
    public VirtioNetPacket duplicate() {
        return (VirtioNetPacket) super.duplicate();
    }

    @Override
    public VirtioNetPacket retainedDuplicate() {
        return (VirtioNetPacket) super.retainedDuplicate();
    }

    @Override
    public VirtioNetPacket retain() {
        super.retain();
        return this;
    }

    @Override
    public VirtioNetPacket retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public VirtioNetPacket touch() {
        super.touch();
        return this;
    }

    @Override
    public VirtioNetPacket touch(Object hint) {
        super.touch(hint);
        return this;
    }
}

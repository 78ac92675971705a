package dev.pktkit.tuntap.vnet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * A packet (TUN: an IP packet; TAP: an Ethernet frame) with the offload state of its virtio-net header: a large
 * TCP segment the receiver may cut into {@link #gsoSize()}-byte pieces, and/or a transport checksum that holds
 * only the pseudo-header sum ({@link #needsChecksum()}).
 *
 * <p>A TUN/TAP channel with {@code OffloadMode.LARGE} reads these for packets that carry offload state (and plain
 * {@code ByteBuf}s for those that do not), and a channel with virtio-net headers on writes them with their header
 * as given. Offsets ({@link #checksumStart()}) count from the content's {@code readerIndex()}.
 * {@link GsoSegmenter} cuts one into ordinary packets; {@link dev.pktkit.tuntap.VirtioNetCodec} turns them into plain
 * {@code ByteBuf}s and back for handlers (hubs) that read only {@code ByteBuf}s.
 *
 * <p>Reference counting is the content's: whoever receives one owns it and releases it (or passes it on).
 */
public final class VirtioNetPacket extends DefaultByteBufHolder {
    private final int flags;
    private final int gsoType;
    private final int headerLength;
    private final int gsoSize;
    private final int checksumStart;
    private final int checksumOffset;

    /**
     * A packet with the given header fields (see {@link VirtioNetHeader}); takes ownership of {@code content}.
     * Fields are 8-bit ({@code flags}, {@code gsoType}) and 16-bit unsigned values.
     */
    public VirtioNetPacket(ByteBuf content, int flags, int gsoType, int headerLength, int gsoSize,
                           int checksumStart, int checksumOffset) {
        super(content);
        this.flags = flags & 0xFF;
        this.gsoType = gsoType & 0xFF;
        this.headerLength = headerLength & 0xFFFF;
        this.gsoSize = gsoSize & 0xFFFF;
        this.checksumStart = checksumStart & 0xFFFF;
        this.checksumOffset = checksumOffset & 0xFFFF;
    }

    /** {@code VIRTIO_NET_HDR_F_*} bits. */
    public int flags() {
        return flags;
    }

    /** {@code VIRTIO_NET_HDR_GSO_*}, including the {@link VirtioNetHeader#GSO_ECN} bit. */
    public int gsoType() {
        return gsoType;
    }

    /** Bytes of headers before the payload as the sender stated them (a hint; Linux sends its linear length). */
    public int headerLength() {
        return headerLength;
    }

    /** Payload bytes per segment (the MSS), for a GSO packet. */
    public int gsoSize() {
        return gsoSize;
    }

    /** Where checksumming starts (the transport header), from the content's reader index. */
    public int checksumStart() {
        return checksumStart;
    }

    /** Where the checksum field is, from {@link #checksumStart()} (16 for TCP, 6 for UDP). */
    public int checksumOffset() {
        return checksumOffset;
    }

    /** Whether the transport checksum holds only the pseudo-header sum and must be completed. */
    public boolean needsChecksum() {
        return (flags & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0;
    }

    /** Whether this is a large segment to be cut into {@link #gsoSize()}-byte pieces. */
    public boolean isGso() {
        return VirtioNetHeader.baseGsoType(gsoType) != VirtioNetHeader.GSO_NONE;
    }

    /** Writes this packet's header at {@code off} of {@code out} (absolute; no index moves). */
    public void writeHeader(ByteBuf out, int off) {
        VirtioNetHeader.set(out, off, flags, gsoType, headerLength, gsoSize, checksumStart, checksumOffset);
    }

    @Override
    public VirtioNetPacket replace(ByteBuf content) {
        return new VirtioNetPacket(content, flags, gsoType, headerLength, gsoSize, checksumStart, checksumOffset);
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

    @Override
    public String toString() {
        return "VirtioNetPacket(" + content().readableBytes() + " B, flags=" + flags + ", gso="
                + VirtioNetHeader.gsoTypeName(gsoType) + ", gsoSize=" + gsoSize + ", hdrLen=" + headerLength
                + ", csum=" + checksumStart + "+" + checksumOffset + ")";
    }
}

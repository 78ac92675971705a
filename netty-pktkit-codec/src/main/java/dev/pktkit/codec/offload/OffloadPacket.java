package dev.pktkit.codec.offload;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * A packet (an IP packet, or an Ethernet frame) with offload state: its transport checksum may hold only the
 * pseudo-header sum ({@link #needsChecksum()}, to be completed over the bytes from {@link #checksumStart()} to the
 * end), and it may be a large TCP segment to be cut into {@link #gsoSize()}-byte pieces ({@link #isGso()}).
 * Offsets count from the content's {@code readerIndex()}.
 *
 * <p>The field values are those of Linux's {@code struct virtio_net_hdr} (flags, GSO types), which is what Linux
 * itself uses to hand this state to and from user space, so a TUN/TAP transport converts for free; nothing here
 * depends on a transport. A forwarder that does not change the bytes a partial checksum covers (a router that
 * decrements the TTL: the TTL is not in the pseudo-header) passes the packet on with its state; one that must
 * see complete checksums calls {@link Offloads#complete}. A channel whose pipeline takes these packets as they
 * are says so with {@link #ACCEPTS}; a hub sends plain {@code ByteBuf}s (state completed) to every other port.
 *
 * <p>Reference counting is the content's: whoever receives one owns it and releases it (or passes it on).
 */
public class OffloadPacket extends DefaultByteBufHolder {
    /** {@link #flags()}: the transport checksum is partial (holds the pseudo-header sum) and must be completed. */
    public static final int FLAG_NEEDS_CSUM = 1;
    /** {@link #flags()}: the sender checked the checksum already. */
    public static final int FLAG_DATA_VALID = 2;
    /** {@link #gsoType()}: not a large segment. */
    public static final int GSO_NONE = 0;
    /** {@link #gsoType()}: a large IPv4 TCP segment. */
    public static final int GSO_TCPV4 = 1;
    /** {@link #gsoType()}: IPv4 UDP fragmentation offload (not used by this project). */
    public static final int GSO_UDP = 3;
    /** {@link #gsoType()}: a large IPv6 TCP segment. */
    public static final int GSO_TCPV6 = 4;
    /** {@link #gsoType()}: UDP segmentation offload (not used by this project). */
    public static final int GSO_UDP_L4 = 5;
    /** {@link #gsoType()} bit: the segment carries ECN (CWR goes on the first piece only). */
    public static final int GSO_ECN = 0x80;

    /**
     * Set to {@code TRUE} on a channel whose pipeline accepts {@code OffloadPacket}s as they are (for a TUN/TAP
     * channel: its codec in forwarding mode); forwarders send such a channel packets with their state kept.
     */
    public static final AttributeKey<Boolean> ACCEPTS = AttributeKey.valueOf(OffloadPacket.class, "ACCEPTS");

    private final int flags;
    private final int gsoType;
    private final int headerLength;
    private final int gsoSize;
    private final int checksumStart;
    private final int checksumOffset;

    /**
     * A packet with the given offload state; takes ownership of {@code content}. {@code flags} and
     * {@code gsoType} are 8-bit, the other fields 16-bit unsigned values.
     */
    public OffloadPacket(ByteBuf content, int flags, int gsoType, int headerLength, int gsoSize, int checksumStart,
                         int checksumOffset) {
        super(content);
        this.flags = flags & 0xFF;
        this.gsoType = gsoType & 0xFF;
        this.headerLength = headerLength & 0xFFFF;
        this.gsoSize = gsoSize & 0xFFFF;
        this.checksumStart = checksumStart & 0xFFFF;
        this.checksumOffset = checksumOffset & 0xFFFF;
    }

    /** Whether {@code channel} said it takes {@code OffloadPacket}s as they are ({@link #ACCEPTS}). */
    public static boolean acceptedBy(Channel channel) {
        return channel.hasAttr(ACCEPTS) && Boolean.TRUE.equals(channel.attr(ACCEPTS).get());
    }

    /** {@link #FLAG_NEEDS_CSUM} and {@link #FLAG_DATA_VALID} bits. */
    public int flags() {
        return flags;
    }

    /** {@link #GSO_NONE}, {@link #GSO_TCPV4}, {@link #GSO_TCPV6}, ..., possibly with the {@link #GSO_ECN} bit. */
    public int gsoType() {
        return gsoType;
    }

    /** The GSO type without the {@link #GSO_ECN} bit. */
    public static int baseGsoType(int gsoType) {
        return gsoType & ~GSO_ECN;
    }

    /** Bytes of headers before the payload as the sender stated them (a hint; Linux sends its linear length). */
    public int headerLength() {
        return headerLength;
    }

    /** Payload bytes per segment (the MSS), for a large segment. */
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
        return (flags & FLAG_NEEDS_CSUM) != 0;
    }

    /** Whether this is a large segment to be cut into {@link #gsoSize()}-byte pieces. */
    public boolean isGso() {
        return baseGsoType(gsoType) != GSO_NONE;
    }

    /**
     * The same offload state on other content whose headers start {@code shift} bytes later (positive) or earlier
     * (negative) than this packet's did, e.g. after a VLAN tag was inserted (+4) or removed (-4) in front of the IP
     * header. Takes ownership of {@code content}; does not touch this packet.
     */
    public OffloadPacket replace(ByteBuf content, int shift) {
        return new OffloadPacket(content, flags, gsoType, headerLength == 0 ? 0 : headerLength + shift, gsoSize,
                checksumStart == 0 ? 0 : checksumStart + shift, checksumOffset);
    }

    @Override
    public OffloadPacket replace(ByteBuf content) {
        return new OffloadPacket(content, flags, gsoType, headerLength, gsoSize, checksumStart, checksumOffset);
    }

    @Override
    public OffloadPacket copy() {
        return (OffloadPacket) super.copy();
    }

    @Override
    public OffloadPacket duplicate() {
        return (OffloadPacket) super.duplicate();
    }

    @Override
    public OffloadPacket retainedDuplicate() {
        return (OffloadPacket) super.retainedDuplicate();
    }

    @Override
    public OffloadPacket retain() {
        super.retain();
        return this;
    }

    @Override
    public OffloadPacket retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public OffloadPacket touch() {
        super.touch();
        return this;
    }

    @Override
    public OffloadPacket touch(Object hint) {
        super.touch(hint);
        return this;
    }

    /** A name for a GSO type, for messages. */
    public static String gsoTypeName(int gsoType) {
        String base = switch (baseGsoType(gsoType)) {
            case GSO_NONE -> "none";
            case GSO_TCPV4 -> "tcpv4";
            case GSO_UDP -> "udp";
            case GSO_TCPV6 -> "tcpv6";
            case GSO_UDP_L4 -> "udp_l4";
            default -> "type " + baseGsoType(gsoType);
        };
        return (gsoType & GSO_ECN) != 0 ? base + "+ecn" : base;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + content().readableBytes() + " B, flags=" + flags + ", gso="
                + gsoTypeName(gsoType) + ", gsoSize=" + gsoSize + ", hdrLen=" + headerLength + ", csum="
                + checksumStart + "+" + checksumOffset + ")";
    }
}

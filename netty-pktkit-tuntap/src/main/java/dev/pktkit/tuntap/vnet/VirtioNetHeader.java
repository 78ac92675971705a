package dev.pktkit.tuntap.vnet;

import dev.pktkit.codec.offload.OffloadPacket;

import io.netty.buffer.ByteBuf;

/**
 * The virtio-net header ({@code struct virtio_net_hdr}, virtio 1.x §5.1.6) that a TUN/TAP device with
 * {@code IFF_VNET_HDR} puts before every packet: whether the packet is a large TCP (or UDP) segment the reader
 * must cut into {@link #gsoSize}-byte pieces (GSO), and whether its transport checksum is still to be completed.
 *
 * <pre>
 *  offset  size  field
 *  0       1     flags          NEEDS_CSUM (1), DATA_VALID (2)
 *  1       1     gso_type       NONE (0), TCPV4 (1), UDP (3), TCPV6 (4), UDP_L4 (5); | ECN (0x80)
 *  2       2     hdr_len        bytes of headers before the payload (a hint)
 *  4       2     gso_size       payload bytes per segment (the MSS for TCP)
 *  6       2     csum_start     where checksumming starts, from the start of the packet
 *  8       2     csum_offset    where the checksum goes, from csum_start
 * </pre>
 *
 * The 16-bit fields are little-endian (virtio 1.x; the channel asks the kernel for little-endian headers on
 * big-endian hosts). Offsets ({@code csum_start}) count from the first byte after the header: the IP header
 * for TUN, the Ethernet header for TAP. Static accessors over {@code (ByteBuf, offset)}; they move no index.
 */
public final class VirtioNetHeader {
    /** Bytes of {@code struct virtio_net_hdr} without {@code num_buffers}: what the channels use. */
    public static final int LENGTH = 10;

    /** {@code VIRTIO_NET_HDR_F_NEEDS_CSUM}: the checksum at csum_start + csum_offset is only the pseudo-header sum. */
    public static final int FLAG_NEEDS_CSUM = OffloadPacket.FLAG_NEEDS_CSUM;
    /** {@code VIRTIO_NET_HDR_F_DATA_VALID}: the sender vouches for the checksums (receive side only). */
    public static final int FLAG_DATA_VALID = OffloadPacket.FLAG_DATA_VALID;

    /** {@code VIRTIO_NET_HDR_GSO_NONE}: one ordinary packet. */
    public static final int GSO_NONE = OffloadPacket.GSO_NONE;
    /** {@code VIRTIO_NET_HDR_GSO_TCPV4}: a large IPv4 TCP segment (TSO). */
    public static final int GSO_TCPV4 = OffloadPacket.GSO_TCPV4;
    /** {@code VIRTIO_NET_HDR_GSO_UDP}: a large IPv4 UDP datagram to fragment (UFO; never enabled here). */
    public static final int GSO_UDP = OffloadPacket.GSO_UDP;
    /** {@code VIRTIO_NET_HDR_GSO_TCPV6}: a large IPv6 TCP segment (TSO). */
    public static final int GSO_TCPV6 = OffloadPacket.GSO_TCPV6;
    /** {@code VIRTIO_NET_HDR_GSO_UDP_L4}: UDP segmentation (USO; never enabled here). */
    public static final int GSO_UDP_L4 = OffloadPacket.GSO_UDP_L4;
    /** {@code VIRTIO_NET_HDR_GSO_ECN}: or-ed into the type when the segment carries CWR (RFC 3168). */
    public static final int GSO_ECN = OffloadPacket.GSO_ECN;

    static final int FLAGS_OFFSET = 0;
    static final int GSO_TYPE_OFFSET = 1;
    static final int HDR_LEN_OFFSET = 2;
    static final int GSO_SIZE_OFFSET = 4;
    static final int CSUM_START_OFFSET = 6;
    static final int CSUM_OFFSET_OFFSET = 8;

    private VirtioNetHeader() {
    }

    public static int flags(ByteBuf buf, int off) {
        return buf.getUnsignedByte(off + FLAGS_OFFSET);
    }

    /** The GSO type including the {@link #GSO_ECN} bit. */
    public static int gsoType(ByteBuf buf, int off) {
        return buf.getUnsignedByte(off + GSO_TYPE_OFFSET);
    }

    public static int headerLength(ByteBuf buf, int off) {
        return buf.getUnsignedShortLE(off + HDR_LEN_OFFSET);
    }

    public static int gsoSize(ByteBuf buf, int off) {
        return buf.getUnsignedShortLE(off + GSO_SIZE_OFFSET);
    }

    public static int checksumStart(ByteBuf buf, int off) {
        return buf.getUnsignedShortLE(off + CSUM_START_OFFSET);
    }

    public static int checksumOffset(ByteBuf buf, int off) {
        return buf.getUnsignedShortLE(off + CSUM_OFFSET_OFFSET);
    }

    /** Whether the header at {@code off} says "an ordinary packet, checksums complete": all offload fields zero. */
    public static boolean isPlain(ByteBuf buf, int off) {
        return (buf.getUnsignedByte(off + FLAGS_OFFSET) & FLAG_NEEDS_CSUM) == 0
                && buf.getUnsignedByte(off + GSO_TYPE_OFFSET) == GSO_NONE;
    }

    /** Writes a header at {@code off} (absolute; no index moves). */
    public static void set(ByteBuf buf, int off, int flags, int gsoType, int headerLength, int gsoSize,
                           int checksumStart, int checksumOffset) {
        buf.setByte(off + FLAGS_OFFSET, flags);
        buf.setByte(off + GSO_TYPE_OFFSET, gsoType);
        buf.setShortLE(off + HDR_LEN_OFFSET, headerLength);
        buf.setShortLE(off + GSO_SIZE_OFFSET, gsoSize);
        buf.setShortLE(off + CSUM_START_OFFSET, checksumStart);
        buf.setShortLE(off + CSUM_OFFSET_OFFSET, checksumOffset);
    }

    /** Writes an all-zero header ("an ordinary packet") at {@code off}. */
    public static void setPlain(ByteBuf buf, int off) {
        buf.setLong(off, 0);
        buf.setShort(off + 8, 0);
    }

    /** The GSO type without the ECN bit. */
    public static int baseGsoType(int gsoType) {
        return OffloadPacket.baseGsoType(gsoType);
    }

    /** A readable name for a GSO type, for messages. */
    public static String gsoTypeName(int gsoType) {
        return OffloadPacket.gsoTypeName(gsoType);
    }
}

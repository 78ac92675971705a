package dev.pktkit.switching.vxlan;

import io.netty.buffer.ByteBuf;

/**
 * The VXLAN header (RFC 7348 §5): constants and static accessors over {@code (ByteBuf, offset)}.
 *
 * <pre>
 *  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * The inner Ethernet frame (no FCS) follows the 8 header bytes. The I flag must be set; the reserved bits are
 * written as zero and, as the RFC says, ignored on receipt. Nothing here allocates.
 */
public final class Vxlan {
    /** Bytes of the VXLAN header. */
    public static final int HEADER_LENGTH = 8;
    /** The IANA-assigned UDP destination port (RFC 7348 §5). */
    public static final int DEFAULT_PORT = 4789;
    /** The I flag in the first byte: the VNI is valid. */
    public static final int FLAG_VNI = 0x08;
    /** Largest VNI (24 bits). */
    public static final int MAX_VNI = 0xFF_FFFF;
    /** Underlay bytes a VXLAN datagram adds to an inner frame over IPv4: IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
    public static final int IPV4_OVERHEAD = 50;
    /** The same over IPv6: IPv6 40 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
    public static final int IPV6_OVERHEAD = 70;

    private Vxlan() {
    }

    /** Whether the I flag is set in the header at {@code off}. */
    public static boolean hasVni(ByteBuf buf, int off) {
        return (buf.getByte(off) & FLAG_VNI) != 0;
    }

    /** The 24-bit VNI of the header at {@code off}. */
    public static int vni(ByteBuf buf, int off) {
        return buf.getInt(off + 4) >>> 8;
    }

    /** Writes a header for {@code vni} at the writer index (8 bytes). */
    public static void writeHeader(ByteBuf out, int vni) {
        out.writeInt(FLAG_VNI << 24);
        out.writeInt(vni << 8);
    }

    /** Sets a header for {@code vni} at {@code off} (8 bytes), leaving the indexes alone. */
    public static void setHeader(ByteBuf buf, int off, int vni) {
        buf.setInt(off, FLAG_VNI << 24);
        buf.setInt(off + 4, vni << 8);
    }

    /**
     * Returns {@code vni} if it fits 24 bits.
     *
     * @throws IllegalArgumentException unless {@code vni} fits 24 bits
     */
    public static int checkVni(int vni) {
        if (vni < 0 || vni > MAX_VNI) {
            throw new IllegalArgumentException("VNI out of range 0.." + MAX_VNI + ": " + vni);
        }
        return vni;
    }
}

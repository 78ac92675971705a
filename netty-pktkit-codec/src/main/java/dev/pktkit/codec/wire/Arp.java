package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * View and builder for ARP over Ethernet for IPv4 (RFC 826), the only kind this toolkit speaks.
 *
 * <pre>
 *  0       2       4    5    6       8            14       18           24       28
 * | htype | ptype | hl | pl | oper  | sender MAC | sender | target MAC | target |
 * |   1   | 0800  | 6  | 4  | 1 / 2 |            |  IPv4  |            |  IPv4  |
 * </pre>
 *
 * <p>{@code off} is the absolute index of the ARP header (the Ethernet payload offset). Accessors never move
 * indices or throw; they return -1 (fields, MACs) or 0 (IPv4 addresses) when the 28 bytes are not all within
 * {@code [0, writerIndex())}. Call {@link #check} first to know the packet is Ethernet/IPv4 ARP.
 */
public final class Arp {
    private Arp() {
    }

    /** Length of an Ethernet/IPv4 ARP packet. */
    public static final int LENGTH = 28;
    /** Hardware type Ethernet. */
    public static final int HTYPE_ETHERNET = 1;
    /** Operation: request. */
    public static final int OP_REQUEST = 1;
    /** Operation: reply. */
    public static final int OP_REPLY = 2;

    /**
     * Validates the packet at {@code off}: {@link #LENGTH} on success, else {@link WireError#TRUNCATED} (fewer than
     * 28 bytes) or {@link WireError#BAD_TYPE} (not Ethernet/IPv4 with address lengths 6 and 4, or an operation
     * other than request and reply). Ethernet padding after the 28 bytes is allowed.
     */
    public static int check(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, LENGTH)) {
            return WireError.TRUNCATED;
        }
        // htype 1 and ptype 0x0800 in one int, then hlen 6 and plen 4
        if (buf.getInt(off) != 0x0001_0800 || buf.getUnsignedShort(off + 4) != 0x0604) {
            return WireError.BAD_TYPE;
        }
        int op = buf.getUnsignedShort(off + 6);
        if (op != OP_REQUEST && op != OP_REPLY) {
            return WireError.BAD_TYPE;
        }
        return LENGTH;
    }

    /** Hardware type; -1 if short. */
    public static int hardwareType(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) ? buf.getUnsignedShort(off) : -1;
    }

    /** Protocol type (an EtherType); -1 if short. */
    public static int protocolType(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) ? buf.getUnsignedShort(off + 2) : -1;
    }

    /** Hardware address length in octets; -1 if short. */
    public static int hardwareLength(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) ? buf.getUnsignedByte(off + 4) : -1;
    }

    /** Protocol address length in octets; -1 if short. */
    public static int protocolLength(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) ? buf.getUnsignedByte(off + 5) : -1;
    }

    /** Operation ({@link #OP_REQUEST}, {@link #OP_REPLY}); -1 if short. */
    public static int operation(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) ? buf.getUnsignedShort(off + 6) : -1;
    }

    /** Sender hardware address; -1 if short. */
    public static long senderMac(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) ? mac(buf, off + 8) : -1;
    }

    /** Sender protocol address; 0 if short. */
    public static int senderIp(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) ? buf.getInt(off + 14) : 0;
    }

    /** Target hardware address (zero in requests); -1 if short. */
    public static long targetMac(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) ? mac(buf, off + 18) : -1;
    }

    /** Target protocol address; 0 if short. */
    public static int targetIp(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) ? buf.getInt(off + 24) : 0;
    }

    /**
     * Whether the packet is a gratuitous ARP (sender and target protocol addresses equal, RFC 5227 §3); false if
     * short.
     */
    public static boolean isGratuitous(ByteBuf buf, int off) {
        return Bounds.has(buf, off, LENGTH) && buf.getInt(off + 14) == buf.getInt(off + 24);
    }

    private static long mac(ByteBuf buf, int at) {
        return ((long) buf.getUnsignedShort(at) << 32) | buf.getUnsignedInt(at + 2);
    }

    /**
     * Appends a 28-byte Ethernet/IPv4 ARP packet at {@code out.writerIndex()}.
     *
     * @return {@link #LENGTH}
     */
    public static int write(ByteBuf out, int operation, long senderMac, int senderIp, long targetMac, int targetIp) {
        out.ensureWritable(LENGTH);
        int w = out.writerIndex();
        out.setInt(w, 0x0001_0800);
        out.setShort(w + 4, 0x0604);
        out.setShort(w + 6, operation);
        out.setShort(w + 8, (int) (senderMac >>> 32));
        out.setInt(w + 10, (int) senderMac);
        out.setInt(w + 14, senderIp);
        out.setShort(w + 18, (int) (targetMac >>> 32));
        out.setInt(w + 20, (int) targetMac);
        out.setInt(w + 24, targetIp);
        out.writerIndex(w + LENGTH);
        return LENGTH;
    }

    /**
     * Appends a broadcast Ethernet frame carrying an ARP request for {@code targetIp} (42 bytes, not padded to the
     * 60-byte minimum; pad if the transport needs it).
     *
     * @return the number of bytes written, 42
     */
    public static int writeRequestFrame(ByteBuf out, long senderMac, int senderIp, int targetIp) {
        Ethernet.writeHeader(out, MacAddress.BROADCAST, senderMac, Ethernet.ARP);
        write(out, OP_REQUEST, senderMac, senderIp, MacAddress.ZERO, targetIp);
        return Ethernet.HEADER_LENGTH + LENGTH;
    }

    /**
     * Appends a unicast Ethernet frame carrying an ARP reply to {@code targetMac}/{@code targetIp} saying
     * {@code senderIp} is at {@code senderMac} (42 bytes, not padded).
     *
     * @return the number of bytes written, 42
     */
    public static int writeReplyFrame(ByteBuf out, long senderMac, int senderIp, long targetMac, int targetIp) {
        Ethernet.writeHeader(out, targetMac, senderMac, Ethernet.ARP);
        write(out, OP_REPLY, senderMac, senderIp, targetMac, targetIp);
        return Ethernet.HEADER_LENGTH + LENGTH;
    }
}

package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * View and builder for an Ethernet II frame header (IEEE 802.3 with EtherType), including stacked 802.1Q /
 * 802.1ad tags.
 *
 * <pre>
 *  0                   6                  12        14
 * +-------------------+-------------------+---------+---------
 * | destination (6)   | source (6)        | type (2)| payload...
 * +-------------------+-------------------+---------+---------
 * tagged: ... source | TPID 0x8100/0x88a8 (2) | TCI (2) | [more tags] | type (2) | payload
 * </pre>
 *
 * <p>A frame starts at an absolute index {@code off} (usually {@code readerIndex()}); no preamble, no FCS. All
 * fields are big-endian. Accessors never move indices, never allocate and never throw: they return -1 when the
 * bytes they need do not lie within {@code [0, writerIndex())} or, for the tag-walking methods, when there are
 * more than {@link #MAX_TAGS} tags.
 */
public final class Ethernet {
    private Ethernet() {
    }

    /** Length of an untagged header: two addresses and the type. */
    public static final int HEADER_LENGTH = 14;
    /** Offset of the destination address. */
    public static final int DST_OFFSET = 0;
    /** Offset of the source address. */
    public static final int SRC_OFFSET = 6;
    /** Offset of the outer type / TPID field. */
    public static final int TYPE_OFFSET = 12;
    /** Minimum frame length without FCS; shorter frames are padded by senders (802.3 §4.2.3.3). */
    public static final int MIN_FRAME_LENGTH = 60;
    /**
     * Most VLAN tags {@link #payloadOffset} and friends walk past; a frame with more is malformed for them.
     * 802.1ad stacks two; four leaves room for provider backbone setups without letting a frame of tags cost more.
     */
    public static final int MAX_TAGS = 4;
    /** Values below this in the type field are 802.3 lengths (LLC frames), not EtherTypes. */
    public static final int MIN_ETHER_TYPE = 0x0600;

    // ---- EtherTypes ----
    /** IPv4. */
    public static final int IPV4 = 0x0800;
    /** ARP. */
    public static final int ARP = 0x0806;
    /** IEEE 802.1Q customer VLAN tag (C-TAG). */
    public static final int VLAN_8021Q = 0x8100;
    /** IEEE 802.1ad service VLAN tag (S-TAG, "QinQ"). */
    public static final int QINQ_8021AD = 0x88A8;
    /** IPv6. */
    public static final int IPV6 = 0x86DD;

    /** Same as {@link #IPV4} (both spellings exist because early callers use the {@code TYPE_} names). */
    public static final int TYPE_IPV4 = IPV4;
    /** Same as {@link #ARP}. */
    public static final int TYPE_ARP = ARP;
    /** Same as {@link #VLAN_8021Q}. */
    public static final int TYPE_VLAN = VLAN_8021Q;
    /** Same as {@link #QINQ_8021AD}. */
    public static final int TYPE_QINQ = QINQ_8021AD;
    /** Same as {@link #IPV6}. */
    public static final int TYPE_IPV6 = IPV6;

    /** Whether {@code type} is a VLAN tag protocol identifier this view walks past (0x8100 or 0x88a8). */
    public static boolean isTagType(int type) {
        return type == VLAN_8021Q || type == QINQ_8021AD;
    }

    /** Destination address (low 48 bits) of the frame at {@code off}; -1 if the header is short. */
    public static long dst(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, HEADER_LENGTH)) {
            return -1;
        }
        return Peek.i64(buf, off) >>> 16; // one read: the header is at least 14 bytes
    }

    /** Source address (low 48 bits) of the frame at {@code off}; -1 if the header is short. */
    public static long src(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, HEADER_LENGTH)) {
            return -1;
        }
        return Peek.i64(buf, off + 4) & 0xFFFF_FFFF_FFFFL;
    }

    /** The outer type field (an EtherType, or a TPID if tagged); -1 if the header is short. */
    public static int etherType(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, HEADER_LENGTH)) {
            return -1;
        }
        return Peek.u16(buf, off + TYPE_OFFSET);
    }

    /**
     * Absolute offset of the L3 payload of the frame at {@code off}, after all VLAN tags: {@code off + 14} untagged,
     * {@code off + 18} with one tag. -1 if the header or a tag is short or there are more than {@link #MAX_TAGS}
     * tags. The payload itself may be empty (the result may equal {@code writerIndex()}).
     */
    public static int payloadOffset(ByteBuf buf, int off) {
        int typeAt = innerTypeOffset(buf, off);
        return typeAt < 0 ? -1 : typeAt + 2;
    }

    /** The type field after all VLAN tags; -1 when {@link #payloadOffset} would be -1. */
    public static int innerEtherType(ByteBuf buf, int off) {
        int typeAt = innerTypeOffset(buf, off);
        return typeAt < 0 ? -1 : buf.getUnsignedShort(typeAt);
    }

    /** Number of VLAN tags (0 untagged); -1 when {@link #payloadOffset} would be -1. */
    public static int vlanCount(ByteBuf buf, int off) {
        int typeAt = innerTypeOffset(buf, off);
        return typeAt < 0 ? -1 : (typeAt - off - TYPE_OFFSET) / Vlan.TAG_LENGTH;
    }

    /**
     * Validates the header of the frame at {@code off}.
     *
     * @return the header length (14, plus 4 per VLAN tag), or {@link WireError#TRUNCATED} if the buffer ends inside
     *         the header or a tag, or {@link WireError#TOO_MANY_HEADERS} if there are more than {@link #MAX_TAGS}
     *         tags
     */
    public static int check(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, HEADER_LENGTH)) {
            return WireError.TRUNCATED;
        }
        int at = off + TYPE_OFFSET;
        for (int tags = 0; ; tags++) {
            if (!isTagType(buf.getUnsignedShort(at))) {
                return at + 2 - off;
            }
            if (tags == MAX_TAGS) {
                return WireError.TOO_MANY_HEADERS;
            }
            if (at > buf.writerIndex() - (Vlan.TAG_LENGTH + 2)) {
                return WireError.TRUNCATED;
            }
            at += Vlan.TAG_LENGTH;
        }
    }

    /** Absolute offset of the last type field (the one not holding a TPID), or -1. */
    private static int innerTypeOffset(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, HEADER_LENGTH)) {
            return -1;
        }
        int at = off + TYPE_OFFSET;
        int wi = buf.writerIndex();
        for (int tags = 0; ; tags++) {
            int type = buf.getUnsignedShort(at);
            if (!isTagType(type)) {
                return at;
            }
            if (tags == MAX_TAGS || at > wi - (Vlan.TAG_LENGTH + 2)) {
                return -1;
            }
            at += Vlan.TAG_LENGTH;
        }
    }

    /**
     * Appends an untagged header at {@code out.writerIndex()}.
     *
     * @param dst       destination address, low 48 bits
     * @param src       source address, low 48 bits
     * @param etherType type of the payload that the caller writes next
     * @return the number of bytes written, {@link #HEADER_LENGTH}
     */
    public static int writeHeader(ByteBuf out, long dst, long src, int etherType) {
        out.ensureWritable(HEADER_LENGTH);
        int w = out.writerIndex();
        out.setShort(w, (int) (dst >>> 32));
        out.setInt(w + 2, (int) dst);
        out.setShort(w + 6, (int) (src >>> 32));
        out.setInt(w + 8, (int) src);
        out.setShort(w + 12, etherType);
        out.writerIndex(w + HEADER_LENGTH);
        return HEADER_LENGTH;
    }

    /**
     * Appends a header with one 802.1Q tag ({@code TPID 0x8100}); see {@link Vlan#writeTaggedHeader} for other
     * TPIDs and priority bits.
     *
     * @param vid       VLAN id 0..4095 (only the low 12 bits are used); PCP and DEI are 0
     * @return the number of bytes written, 18
     */
    public static int writeHeader(ByteBuf out, long dst, long src, int vid, int etherType) {
        return Vlan.writeTaggedHeader(out, dst, src, VLAN_8021Q, vid & Vlan.VID_MASK, etherType);
    }

    /** Overwrites the destination address of the frame at {@code off} in place; the caller owns the bytes. */
    public static void setDst(ByteBuf buf, int off, long mac) {
        MacAddress.set(buf, off, mac);
    }

    /** Overwrites the source address of the frame at {@code off} in place; the caller owns the bytes. */
    public static void setSrc(ByteBuf buf, int off, long mac) {
        MacAddress.set(buf, off + SRC_OFFSET, mac);
    }
}

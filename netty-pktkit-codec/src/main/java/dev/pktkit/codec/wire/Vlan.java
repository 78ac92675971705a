package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * View and builder for IEEE 802.1Q / 802.1ad VLAN tags.
 *
 * <p>A tag is four octets: the TPID (0x8100 or 0x88a8) and the TCI, which holds the priority code point (PCP,
 * 3 bits), the drop eligible indicator (DEI, 1 bit) and the VLAN id (VID, 12 bits). Methods named with
 * {@code tagOffset} take the absolute index of the TPID; the outermost tag of a frame at {@code off} is at
 * {@code off + 12}. All accessors return -1 when the bytes are not within {@code [0, writerIndex())}.
 */
public final class Vlan {
    private Vlan() {
    }

    /** Length of a tag: TPID and TCI. */
    public static final int TAG_LENGTH = 4;
    /** Mask of the VID in a TCI. */
    public static final int VID_MASK = 0x0FFF;
    /** Highest usable VID; 4095 is reserved. */
    public static final int MAX_VID = 4094;
    /** Length of a header with one tag. */
    public static final int TAGGED_HEADER_LENGTH = Ethernet.HEADER_LENGTH + TAG_LENGTH;

    /** The TPID of the tag at {@code tagOffset}; -1 if short. */
    public static int tpid(ByteBuf buf, int tagOffset) {
        return Bounds.has(buf, tagOffset, TAG_LENGTH) ? buf.getUnsignedShort(tagOffset) : -1;
    }

    /** The TCI of the tag at {@code tagOffset}; -1 if short. */
    public static int tci(ByteBuf buf, int tagOffset) {
        return Bounds.has(buf, tagOffset, TAG_LENGTH) ? buf.getUnsignedShort(tagOffset + 2) : -1;
    }

    /** The VLAN id (0..4095) of the tag at {@code tagOffset}; -1 if short. */
    public static int vid(ByteBuf buf, int tagOffset) {
        int tci = tci(buf, tagOffset);
        return tci < 0 ? -1 : tci & VID_MASK;
    }

    /** The priority code point (0..7) of the tag at {@code tagOffset}; -1 if short. */
    public static int pcp(ByteBuf buf, int tagOffset) {
        int tci = tci(buf, tagOffset);
        return tci < 0 ? -1 : tci >>> 13;
    }

    /** The drop eligible indicator (0 or 1) of the tag at {@code tagOffset}; -1 if short. */
    public static int dei(ByteBuf buf, int tagOffset) {
        int tci = tci(buf, tagOffset);
        return tci < 0 ? -1 : (tci >>> 12) & 1;
    }

    /**
     * The VID of the outermost tag of the frame at {@code frameOff}; -1 if the frame is untagged or shorter than
     * a tagged header (14 + 4 octets).
     */
    public static int outerVid(ByteBuf buf, int frameOff) {
        if (!Bounds.has(buf, frameOff, TAGGED_HEADER_LENGTH)) {
            return -1;
        }
        if (!Ethernet.isTagType(buf.getUnsignedShort(frameOff + Ethernet.TYPE_OFFSET))) {
            return -1;
        }
        return buf.getUnsignedShort(frameOff + Ethernet.TYPE_OFFSET + 2) & VID_MASK;
    }

    /** The TCI of the outermost tag of the frame at {@code frameOff}; -1 if untagged or short. */
    public static int outerTci(ByteBuf buf, int frameOff) {
        if (!Bounds.has(buf, frameOff, TAGGED_HEADER_LENGTH)) {
            return -1;
        }
        if (!Ethernet.isTagType(buf.getUnsignedShort(frameOff + Ethernet.TYPE_OFFSET))) {
            return -1;
        }
        return buf.getUnsignedShort(frameOff + Ethernet.TYPE_OFFSET + 2);
    }

    /**
     * A TCI from its parts.
     *
     * @param pcp priority 0..7
     * @param dei drop eligible 0 or 1
     * @param vid VLAN id 0..4095
     * @throws IllegalArgumentException if a part is out of range
     */
    public static int tci(int pcp, int dei, int vid) {
        if ((pcp & ~7) != 0 || (dei & ~1) != 0 || (vid & ~VID_MASK) != 0) {
            throw new IllegalArgumentException("pcp " + pcp + " dei " + dei + " vid " + vid);
        }
        return (pcp << 13) | (dei << 12) | vid;
    }

    /**
     * Appends a header with one tag at {@code out.writerIndex()}: destination, source, {@code tpid},
     * {@code tci}, {@code etherType}.
     *
     * @param tpid      {@link Ethernet#VLAN_8021Q} or {@link Ethernet#QINQ_8021AD} (not checked)
     * @param tci       the tag control information (see {@link #tci(int, int, int)})
     * @param etherType type of the payload that the caller writes next
     * @return the number of bytes written, {@link #TAGGED_HEADER_LENGTH}
     */
    public static int writeTaggedHeader(ByteBuf out, long dst, long src, int tpid, int tci, int etherType) {
        out.ensureWritable(TAGGED_HEADER_LENGTH);
        int w = out.writerIndex();
        out.setShort(w, (int) (dst >>> 32));
        out.setInt(w + 2, (int) dst);
        out.setShort(w + 6, (int) (src >>> 32));
        out.setInt(w + 8, (int) src);
        out.setShort(w + 12, tpid);
        out.setShort(w + 14, tci);
        out.setShort(w + 16, etherType);
        out.writerIndex(w + TAGGED_HEADER_LENGTH);
        return TAGGED_HEADER_LENGTH;
    }

    /**
     * Appends a header with an 802.1ad S-tag ({@code 0x88a8}, {@code outerTci}) and an 802.1Q C-tag
     * ({@code 0x8100}, {@code innerTci}).
     *
     * @return the number of bytes written, 22
     */
    public static int writeDoubleTaggedHeader(ByteBuf out, long dst, long src, int outerTci, int innerTci,
                                              int etherType) {
        out.ensureWritable(TAGGED_HEADER_LENGTH + TAG_LENGTH);
        int w = out.writerIndex();
        out.setShort(w, (int) (dst >>> 32));
        out.setInt(w + 2, (int) dst);
        out.setShort(w + 6, (int) (src >>> 32));
        out.setInt(w + 8, (int) src);
        out.setShort(w + 12, Ethernet.QINQ_8021AD);
        out.setShort(w + 14, outerTci);
        out.setShort(w + 16, Ethernet.VLAN_8021Q);
        out.setShort(w + 18, innerTci);
        out.setShort(w + 20, etherType);
        out.writerIndex(w + TAGGED_HEADER_LENGTH + TAG_LENGTH);
        return TAGGED_HEADER_LENGTH + TAG_LENGTH;
    }

    /** A tag as a value, for {@link EthernetRepr}: {@code tpid} and {@code tci}, each 16 bits. */
    public record Tag(int tpid, int tci) {
        /** The VID of this tag. */
        public int vid() {
            return tci & VID_MASK;
        }
    }
}

package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * View, validator and builder for IPv6 headers (RFC 8200) and the extension header chain.
 *
 * <pre>
 *  0       4               12                              31
 * | ver=6 | traffic class  | flow label                     |
 * | payload length                 | next header | hop limit |
 * | source address (16)                                      |
 * | destination address (16)                                 |
 * </pre>
 *
 * <p>{@code off} is the absolute index of the header. Fixed-header accessors need the 40 bytes within
 * {@code [0, writerIndex())} and otherwise return -1 (fields) or 0 (address halves).
 *
 * <p>The extension header walk ({@link #check}, {@link #upperLayerOffset}, {@link #upperLayerProtocol},
 * {@link #fragmentHeaderOffset}) passes hop-by-hop options (0, first only), routing (43), fragment (44),
 * destination options (60), mobility (135) — all in 8-octet units — and AH (51, in 4-octet units), at most
 * {@link #MAX_EXTENSION_HEADERS} of them, each inside the payload length. It stops at any other next-header
 * value; ESP (50) and No Next Header (59) are reported as the upper-layer protocol since nothing after them can
 * be parsed. Options inside hop-by-hop and destination options headers must tile the header exactly. Jumbograms
 * (RFC 2675, payload length 0) are not supported: their chain runs past the payload and is rejected.
 *
 * <p>The walk stops at a fragment header whose offset is not zero: what follows it is the middle of the original
 * packet, so {@link #upperLayerProtocol} is the fragment header's next header and {@link #upperLayerOffset} points
 * at fragment data. Callers test {@link #fragmentHeaderOffset} before parsing the upper layer.
 */
public final class Ipv6 {
    private Ipv6() {
    }

    /** Length of the fixed header. */
    public static final int HEADER_LENGTH = 40;
    /** Most extension headers the walk accepts before answering {@link WireError#TOO_MANY_HEADERS}. */
    public static final int MAX_EXTENSION_HEADERS = 8;
    /** Length of a fragment header. */
    public static final int FRAGMENT_HEADER_LENGTH = 8;
    /** The IPv6 minimum link MTU (RFC 8200 §5). */
    public static final int MIN_MTU = 1280;
    /** Default hop limit for packets this toolkit originates. */
    public static final int DEFAULT_HOP_LIMIT = 64;

    private static boolean fixed(ByteBuf buf, int off) {
        return Bounds.has(buf, off, HEADER_LENGTH);
    }

    /** Version nibble (6 for IPv6); -1 if short. */
    public static int version(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u8(buf, off) >>> 4 : -1;
    }

    /** Traffic class (8 bits); -1 if short. */
    public static int trafficClass(ByteBuf buf, int off) {
        return fixed(buf, off) ? (Peek.i32(buf, off) >>> 20) & 0xFF : -1;
    }

    /** Flow label (20 bits); -1 if short. */
    public static int flowLabel(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.i32(buf, off) & 0xF_FFFF : -1;
    }

    /** Payload length in bytes (everything after the fixed header); -1 if short. */
    public static int payloadLength(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u16(buf, off + 4) : -1;
    }

    /** Next header of the fixed header; -1 if short. */
    public static int nextHeader(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u8(buf, off + 6) : -1;
    }

    /** Hop limit; -1 if short. */
    public static int hopLimit(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u8(buf, off + 7) : -1;
    }

    /** Source address, octets 0-7; 0 if short. */
    public static long srcHi(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.i64(buf, off + 8) : 0;
    }

    /** Source address, octets 8-15; 0 if short. */
    public static long srcLo(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.i64(buf, off + 16) : 0;
    }

    /** Destination address, octets 0-7; 0 if short. */
    public static long dstHi(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.i64(buf, off + 24) : 0;
    }

    /** Destination address, octets 8-15; 0 if short. */
    public static long dstLo(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.i64(buf, off + 32) : 0;
    }

    // ---- extension header chain ----

    /**
     * Walks the chain. Returns the absolute offset of the upper-layer header in the low 32 bits, its protocol in
     * bits 32-39 and the fragment header's offset relative to {@code off}, plus one, in bits 40-63 (0 if none):
     * packed so that one walk answers every question without allocating. Or a negative {@link WireError} code.
     */
    private static long walk(ByteBuf buf, int off) {
        if (!fixed(buf, off)) {
            return WireError.TRUNCATED;
        }
        if (buf.getUnsignedByte(off) >>> 4 != 6) {
            return WireError.BAD_VERSION;
        }
        int end = off + HEADER_LENGTH + buf.getUnsignedShort(off + 4);
        if (end > buf.writerIndex()) {
            return WireError.TRUNCATED;
        }
        int next = buf.getUnsignedByte(off + 6);
        int at = off + HEADER_LENGTH;
        long fragmentPlusOne = 0;
        for (int count = 0; ; count++) {
            if (!IpProtocol.isIpv6ExtensionHeader(next)) {
                return (fragmentPlusOne << 40) | ((long) next << 32) | (at & 0xFFFF_FFFFL);
            }
            if (count == MAX_EXTENSION_HEADERS) {
                return WireError.TOO_MANY_HEADERS;
            }
            if (next == IpProtocol.HOPOPT && count != 0) {
                return WireError.BAD_TYPE; // hop-by-hop must come first (RFC 8200 §4.3)
            }
            if (at + 8 > end) {
                return WireError.BAD_HEADER_LENGTH;
            }
            int len;
            switch (next) {
                case IpProtocol.IPV6_FRAG -> {
                    len = FRAGMENT_HEADER_LENGTH;
                    if (fragmentPlusOne == 0) {
                        fragmentPlusOne = (at - off) + 1L; // relative, so it fits in 24 bits
                    }
                    if ((buf.getUnsignedShort(at + 2) & 0xFFF8) != 0) {
                        // a later fragment: what follows is data, not headers; report the fragment's next header
                        return (fragmentPlusOne << 40) | ((long) buf.getUnsignedByte(at) << 32)
                                | ((at + len) & 0xFFFF_FFFFL);
                    }
                }
                case IpProtocol.AH -> len = (buf.getUnsignedByte(at + 1) + 2) << 2;
                default -> len = (buf.getUnsignedByte(at + 1) + 1) << 3;
            }
            if (at + len > end) {
                return WireError.BAD_HEADER_LENGTH;
            }
            if (next == IpProtocol.HOPOPT || next == IpProtocol.IPV6_OPTS) {
                if (!optionsTile(buf, at + 2, at + len)) {
                    return WireError.BAD_OPTION;
                }
            }
            next = buf.getUnsignedByte(at);
            at += len;
        }
    }

    /** Whether TLV options (Pad1 = one zero octet, others type/length/data) exactly fill {@code [from, to)}. */
    private static boolean optionsTile(ByteBuf buf, int from, int to) {
        int i = from;
        while (i < to) {
            if (buf.getUnsignedByte(i) == 0) {
                i++;
                continue;
            }
            if (i + 2 > to) {
                return false;
            }
            i += 2 + buf.getUnsignedByte(i + 1);
        }
        return i == to;
    }

    /**
     * Validates the packet at {@code off}: version, payload length against the buffer (Ethernet padding after it
     * is allowed), and the extension header chain.
     *
     * @return the length of the fixed header plus extension headers (so the upper layer starts at
     *         {@code off + result}), or {@link WireError#TRUNCATED} (the buffer ends before the fixed header or
     *         before the payload length), {@link WireError#BAD_VERSION}, {@link WireError#BAD_HEADER_LENGTH} (an
     *         extension header runs past the payload length), {@link WireError#BAD_TYPE} (hop-by-hop not first),
     *         {@link WireError#BAD_OPTION} (options that do not tile their header) or
     *         {@link WireError#TOO_MANY_HEADERS}
     */
    public static int check(ByteBuf buf, int off) {
        long w = walk(buf, off);
        return w < 0 ? (int) w : (int) w - off;
    }

    /**
     * Absolute offset of the upper-layer header (after all extension headers); -1 if {@link #check} would fail.
     * Fast when there are no extension headers.
     */
    public static int upperLayerOffset(ByteBuf buf, int off) {
        long w = walk(buf, off);
        return w < 0 ? -1 : (int) w;
    }

    /**
     * Protocol of the upper-layer header ({@link IpProtocol#TCP}, {@link IpProtocol#UDP},
     * {@link IpProtocol#ICMPV6}, ..., or {@link IpProtocol#ESP} / {@link IpProtocol#IPV6_NONXT} where the walk
     * stops); -1 if {@link #check} would fail.
     */
    public static int upperLayerProtocol(ByteBuf buf, int off) {
        long w = walk(buf, off);
        return w < 0 ? -1 : (int) (w >>> 32) & 0xFF;
    }

    /** Length of the upper-layer data in bytes (payload end minus {@link #upperLayerOffset}); -1 if invalid. */
    public static int upperLayerLength(ByteBuf buf, int off) {
        long w = walk(buf, off);
        return w < 0 ? -1 : off + HEADER_LENGTH + buf.getUnsignedShort(off + 4) - (int) w;
    }

    /** Absolute offset of the first fragment header; -1 if there is none or {@link #check} would fail. */
    public static int fragmentHeaderOffset(ByteBuf buf, int off) {
        long w = walk(buf, off);
        if (w < 0 || (w >>> 40) == 0) {
            return -1;
        }
        return off + (int) (w >>> 40) - 1;
    }

    /** Whether the packet carries a fragment header; false if invalid. */
    public static boolean isFragment(ByteBuf buf, int off) {
        return fragmentHeaderOffset(buf, off) >= 0;
    }

    /** Fragment offset in bytes of the fragment header at {@code fragOff}; -1 if short. */
    public static int fragmentOffset(ByteBuf buf, int fragOff) {
        return Bounds.has(buf, fragOff, FRAGMENT_HEADER_LENGTH) ? buf.getUnsignedShort(fragOff + 2) & 0xFFF8 : -1;
    }

    /** Whether the M (more fragments) flag of the fragment header at {@code fragOff} is set; false if short. */
    public static boolean moreFragments(ByteBuf buf, int fragOff) {
        return Bounds.has(buf, fragOff, FRAGMENT_HEADER_LENGTH) && (buf.getUnsignedShort(fragOff + 2) & 1) != 0;
    }

    /** Identification (32 bits) of the fragment header at {@code fragOff}; -1 if short. */
    public static long fragmentIdentification(ByteBuf buf, int fragOff) {
        return Bounds.has(buf, fragOff, FRAGMENT_HEADER_LENGTH) ? buf.getUnsignedInt(fragOff + 4) : -1;
    }

    /** Next header field of the fragment header at {@code fragOff}; -1 if short. */
    public static int fragmentNextHeader(ByteBuf buf, int fragOff) {
        return Bounds.has(buf, fragOff, FRAGMENT_HEADER_LENGTH) ? buf.getUnsignedByte(fragOff) : -1;
    }

    /**
     * The running checksum sum of the pseudo-header for an upper-layer message of {@code upperLength} bytes and
     * protocol {@code nextHeader} in the packet at {@code off} (addresses from the fixed header; a routing header's
     * final destination is not looked up). The caller validated the header.
     */
    public static long pseudoHeaderSum(ByteBuf buf, int off, int nextHeader, int upperLength) {
        return Checksums.pseudoHeaderV6(buf.getLong(off + 8), buf.getLong(off + 16), buf.getLong(off + 24),
                buf.getLong(off + 32), nextHeader, upperLength);
    }

    // ---- in-place updates ----

    /** Decrements the hop limit; returns the new value, or -1 (nothing changed) if short or already 0. */
    public static int decrementHopLimit(ByteBuf buf, int off) {
        if (!fixed(buf, off)) {
            return -1;
        }
        int h = buf.getUnsignedByte(off + 7);
        if (h == 0) {
            return -1;
        }
        buf.setByte(off + 7, h - 1);
        return h - 1;
    }

    // ---- builders ----

    /**
     * Appends a 40-byte fixed header at {@code out.writerIndex()}.
     *
     * @param trafficClass  8 bits
     * @param flowLabel     20 bits
     * @param payloadLength bytes after the fixed header (extension headers included), 0..65535
     * @param nextHeader    protocol or first extension header
     * @param hopLimit      0..255
     * @return {@link #HEADER_LENGTH}
     * @throws IllegalArgumentException if {@code payloadLength} is out of range
     */
    public static int writeHeader(ByteBuf out, int trafficClass, int flowLabel, int payloadLength, int nextHeader,
                                  int hopLimit, long srcHi, long srcLo, long dstHi, long dstLo) {
        if (payloadLength < 0 || payloadLength > 0xFFFF) {
            throw new IllegalArgumentException("payload length " + payloadLength);
        }
        out.ensureWritable(HEADER_LENGTH);
        int w = out.writerIndex();
        out.setInt(w, 0x6000_0000 | ((trafficClass & 0xFF) << 20) | (flowLabel & 0xF_FFFF));
        out.setShort(w + 4, payloadLength);
        out.setByte(w + 6, nextHeader);
        out.setByte(w + 7, hopLimit);
        out.setLong(w + 8, srcHi);
        out.setLong(w + 16, srcLo);
        out.setLong(w + 24, dstHi);
        out.setLong(w + 32, dstLo);
        out.writerIndex(w + HEADER_LENGTH);
        return HEADER_LENGTH;
    }

    /**
     * Appends an 8-byte fragment header.
     *
     * @param nextHeader     protocol of the fragmentable part
     * @param offsetBytes    fragment offset in bytes, a multiple of 8
     * @param more           M flag
     * @param identification 32-bit identification
     * @return {@link #FRAGMENT_HEADER_LENGTH}
     */
    public static int writeFragmentHeader(ByteBuf out, int nextHeader, int offsetBytes, boolean more,
                                          long identification) {
        out.writeByte(nextHeader);
        out.writeByte(0);
        out.writeShort((offsetBytes & 0xFFF8) | (more ? 1 : 0));
        out.writeInt((int) identification);
        return FRAGMENT_HEADER_LENGTH;
    }
}

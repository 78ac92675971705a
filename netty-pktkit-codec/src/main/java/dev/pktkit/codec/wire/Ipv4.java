package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * View, validator and builder for IPv4 headers (RFC 791), options included.
 *
 * <pre>
 *  0       4       8              16    19                 31
 * | ver=4 | IHL   | DSCP | ECN    | total length             |
 * | identification                | flags | fragment offset  |
 * | TTL           | protocol      | header checksum          |
 * | source address                                           |
 * | destination address                                      |
 * | options (IHL*4 - 20 bytes)                               |
 * </pre>
 *
 * <p>{@code off} is the absolute index of the header. Accessors never move indices or throw: they need the
 * 20-byte fixed header within {@code [0, writerIndex())} and otherwise return -1 (fields), 0 (addresses) or false
 * (flags). They do not validate; {@link #check} does, and returns the header length or a {@link WireError} code.
 * The buffer may extend past the total length (Ethernet padding): {@link #payloadLength} follows the header, not
 * the buffer.
 */
public final class Ipv4 {
    private Ipv4() {
    }

    /** Length of a header without options. */
    public static final int MIN_HEADER_LENGTH = 20;
    /** Length of a header with the most options (IHL 15). */
    public static final int MAX_HEADER_LENGTH = 60;
    /** Flags field bit: Don't Fragment (in the 16-bit flags/offset word). */
    public static final int FLAG_DF = 0x4000;
    /** Flags field bit: More Fragments. */
    public static final int FLAG_MF = 0x2000;
    /** Mask of the fragment offset (8-octet units) in the flags/offset word. */
    public static final int FRAGMENT_OFFSET_MASK = 0x1FFF;
    /** Default TTL for packets this toolkit originates (Linux's default). */
    public static final int DEFAULT_TTL = 64;
    /** Option type: End of Option List. */
    public static final int OPT_EOL = 0;
    /** Option type: No Operation. */
    public static final int OPT_NOP = 1;
    /** Option type: Record Route. */
    public static final int OPT_RECORD_ROUTE = 7;
    /** Option type: Router Alert (RFC 2113). */
    public static final int OPT_ROUTER_ALERT = 148;

    static final int CHECKSUM_OFFSET = 10;

    private static boolean fixed(ByteBuf buf, int off) {
        return Bounds.has(buf, off, MIN_HEADER_LENGTH);
    }

    /** Version nibble (4 for IPv4); -1 if short. */
    public static int version(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u8(buf, off) >>> 4 : -1;
    }

    /** Header length in bytes from the IHL field (IHL * 4, not validated); -1 if short. */
    public static int headerLength(ByteBuf buf, int off) {
        return fixed(buf, off) ? (Peek.u8(buf, off) & 0x0F) << 2 : -1;
    }

    /** Type of service octet (DSCP and ECN); -1 if short. */
    public static int tos(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u8(buf, off + 1) : -1;
    }

    /** Differentiated services code point (6 bits); -1 if short. */
    public static int dscp(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u8(buf, off + 1) >>> 2 : -1;
    }

    /** Explicit congestion notification (2 bits); -1 if short. */
    public static int ecn(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u8(buf, off + 1) & 3 : -1;
    }

    /** Total length of header and payload in bytes; -1 if short. */
    public static int totalLength(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u16(buf, off + 2) : -1;
    }

    /** Identification; -1 if short. */
    public static int identification(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u16(buf, off + 4) : -1;
    }

    /** The 16-bit flags and fragment offset word; -1 if short. */
    public static int flagsAndFragmentOffset(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u16(buf, off + 6) : -1;
    }

    /** Whether DF is set; false if short. */
    public static boolean dontFragment(ByteBuf buf, int off) {
        return fixed(buf, off) && (Peek.u16(buf, off + 6) & FLAG_DF) != 0;
    }

    /** Whether MF is set; false if short. */
    public static boolean moreFragments(ByteBuf buf, int off) {
        return fixed(buf, off) && (Peek.u16(buf, off + 6) & FLAG_MF) != 0;
    }

    /** Fragment offset in bytes (the field times 8); -1 if short. */
    public static int fragmentOffset(ByteBuf buf, int off) {
        return fixed(buf, off) ? (Peek.u16(buf, off + 6) & FRAGMENT_OFFSET_MASK) << 3 : -1;
    }

    /** Whether the packet is a fragment (MF set or offset non-zero); false if short. */
    public static boolean isFragment(ByteBuf buf, int off) {
        return fixed(buf, off) && (Peek.u16(buf, off + 6) & (FLAG_MF | FRAGMENT_OFFSET_MASK)) != 0;
    }

    /** Time to live; -1 if short. */
    public static int ttl(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u8(buf, off + 8) : -1;
    }

    /** Protocol ({@link IpProtocol}); -1 if short. */
    public static int protocol(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u8(buf, off + 9) : -1;
    }

    /** Header checksum field; -1 if short. */
    public static int headerChecksum(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.u16(buf, off + CHECKSUM_OFFSET) : -1;
    }

    /** Source address; 0 if short. */
    public static int src(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.i32(buf, off + 12) : 0;
    }

    /** Destination address; 0 if short. */
    public static int dst(ByteBuf buf, int off) {
        return fixed(buf, off) ? Peek.i32(buf, off + 16) : 0;
    }

    /**
     * Absolute offset of the payload ({@code off + IHL*4}); -1 if the fixed header is short, IHL &lt; 5, or the
     * options run past {@code writerIndex()}.
     */
    public static int payloadOffset(ByteBuf buf, int off) {
        if (!fixed(buf, off)) {
            return -1;
        }
        int hl = (buf.getUnsignedByte(off) & 0x0F) << 2;
        if (hl < MIN_HEADER_LENGTH || !Bounds.has(buf, off, hl)) {
            return -1;
        }
        return off + hl;
    }

    /**
     * Payload length in bytes from the header: total length minus IHL*4; -1 if short, IHL &lt; 5 or total length
     * smaller than the header. Does not look at how many bytes the buffer holds ({@link #check} does).
     */
    public static int payloadLength(ByteBuf buf, int off) {
        if (!fixed(buf, off)) {
            return -1;
        }
        int hl = (buf.getUnsignedByte(off) & 0x0F) << 2;
        int total = buf.getUnsignedShort(off + 2);
        if (hl < MIN_HEADER_LENGTH || total < hl) {
            return -1;
        }
        return total - hl;
    }

    /** Whether the header checksum verifies; false if the header (options included) is short. */
    public static boolean verifyChecksum(ByteBuf buf, int off) {
        int p = payloadOffset(buf, off);
        return p >= 0 && Checksums.verify(buf, off, p - off, 0);
    }

    /**
     * Validates the packet at {@code off}, checksum included.
     *
     * @return the header length (20..60) on success, else {@link WireError#TRUNCATED} (the fixed header, the
     *         options or the total length run past {@code writerIndex()}), {@link WireError#BAD_VERSION},
     *         {@link WireError#BAD_HEADER_LENGTH} (IHL &lt; 5), {@link WireError#BAD_TOTAL_LENGTH} (total length
     *         below the header length), {@link WireError#BAD_OPTION} (an option with length &lt; 2 or running past
     *         the header) or {@link WireError#BAD_CHECKSUM}
     */
    public static int check(ByteBuf buf, int off) {
        return check(buf, off, true);
    }

    /**
     * {@link #check(ByteBuf, int)}, skipping the checksum when {@code verifyChecksum} is false (for packets whose
     * checksum a trusted source vouches for, such as a local TUN device).
     */
    public static int check(ByteBuf buf, int off, boolean verifyChecksum) {
        if (!fixed(buf, off)) {
            return WireError.TRUNCATED;
        }
        int b0 = buf.getUnsignedByte(off);
        if (b0 >>> 4 != 4) {
            return WireError.BAD_VERSION;
        }
        int hl = (b0 & 0x0F) << 2;
        if (hl < MIN_HEADER_LENGTH) {
            return WireError.BAD_HEADER_LENGTH;
        }
        int total = buf.getUnsignedShort(off + 2);
        if (total < hl) {
            return WireError.BAD_TOTAL_LENGTH;
        }
        if (!Bounds.has(buf, off, total)) {
            return WireError.TRUNCATED;
        }
        if (hl > MIN_HEADER_LENGTH) {
            int r = checkOptions(buf, off + MIN_HEADER_LENGTH, off + hl);
            if (r < 0) {
                return r;
            }
        }
        if (verifyChecksum && !Checksums.verify(buf, off, hl, 0)) {
            return WireError.BAD_CHECKSUM;
        }
        return hl;
    }

    /**
     * Walks the options in {@code [from, to)}: EOL ends the list, NOP is one byte, every other option has a
     * length octet of at least 2 that must stay inside the range. Returns the number of options before EOL, or
     * {@link WireError#BAD_OPTION}. The caller ensures the range is readable.
     */
    static int checkOptions(ByteBuf buf, int from, int to) {
        int count = 0;
        int i = from;
        while (i < to) {
            int type = buf.getUnsignedByte(i);
            if (type == OPT_EOL) {
                return count;
            }
            if (type == OPT_NOP) {
                i++;
            } else {
                if (i + 1 >= to) {
                    return WireError.BAD_OPTION;
                }
                int len = buf.getUnsignedByte(i + 1);
                if (len < 2 || i + len > to) {
                    return WireError.BAD_OPTION;
                }
                i += len;
            }
            count++;
        }
        return count;
    }

    /**
     * Absolute offset of the first option of {@code type} in the header at {@code off}, or -1 if there is none,
     * the header is short, or the options are malformed.
     */
    public static int findOption(ByteBuf buf, int off, int type) {
        int p = payloadOffset(buf, off);
        if (p < 0 || checkOptions(buf, off + MIN_HEADER_LENGTH, p) < 0) {
            return -1;
        }
        int i = off + MIN_HEADER_LENGTH;
        while (i < p) {
            int t = buf.getUnsignedByte(i);
            if (t == type) {
                return i;
            }
            if (t == OPT_EOL) {
                return -1;
            }
            i += t == OPT_NOP ? 1 : buf.getUnsignedByte(i + 1);
        }
        return -1;
    }

    // ---- in-place updates (the caller must own the bytes) ----

    /**
     * Recomputes and stores the header checksum of the header at {@code off}, whose IHL must be valid and whose
     * bytes must be readable; returns the stored value.
     */
    public static int fillChecksum(ByteBuf buf, int off) {
        int hl = (buf.getUnsignedByte(off) & 0x0F) << 2;
        buf.setShort(off + CHECKSUM_OFFSET, 0);
        int ck = Checksums.internet(buf, off, hl);
        buf.setShort(off + CHECKSUM_OFFSET, ck);
        return ck;
    }

    /**
     * Decrements the TTL and updates the checksum incrementally (RFC 1624). Returns the new TTL, or -1 (nothing
     * changed) if the header is short or the TTL is already 0. A router drops the packet (and may send Time
     * Exceeded) when the result is 0.
     */
    public static int decrementTtl(ByteBuf buf, int off) {
        if (!fixed(buf, off)) {
            return -1;
        }
        int word = buf.getUnsignedShort(off + 8); // TTL | protocol
        if (word < 0x0100) {
            return -1;
        }
        int next = word - 0x0100;
        buf.setShort(off + 8, next);
        buf.setShort(off + CHECKSUM_OFFSET,
                Checksums.incrementalUpdate16(buf.getUnsignedShort(off + CHECKSUM_OFFSET), word, next));
        return next >>> 8;
    }

    /**
     * Rewrites the source address and updates the header checksum incrementally. Transport checksums cover the
     * address too (pseudo-header); NAT must update them with {@link Checksums#incrementalUpdate32}. No-op if short.
     */
    public static void rewriteSrc(ByteBuf buf, int off, int addr) {
        rewriteAddress(buf, off, off + 12, addr);
    }

    /** Rewrites the destination address; see {@link #rewriteSrc}. */
    public static void rewriteDst(ByteBuf buf, int off, int addr) {
        rewriteAddress(buf, off, off + 16, addr);
    }

    private static void rewriteAddress(ByteBuf buf, int off, int at, int addr) {
        if (!fixed(buf, off)) {
            return;
        }
        int old = buf.getInt(at);
        buf.setInt(at, addr);
        buf.setShort(off + CHECKSUM_OFFSET,
                Checksums.incrementalUpdate32(buf.getUnsignedShort(off + CHECKSUM_OFFSET), old, addr));
    }

    // ---- builders ----

    /**
     * Appends a 20-byte header without options at {@code out.writerIndex()}, checksum filled in; the caller
     * appends {@code payloadLength} bytes of payload after it.
     *
     * @param identification 16-bit identification
     * @param dontFragment   whether to set DF
     * @param ttl            time to live 0..255
     * @param protocol       {@link IpProtocol} number
     * @return {@link #MIN_HEADER_LENGTH}
     * @throws IllegalArgumentException if the total length would exceed 65535
     */
    public static int writeHeader(ByteBuf out, int src, int dst, int protocol, int ttl, int payloadLength,
                                  int identification, boolean dontFragment) {
        return writeHeader(out, 0, identification, dontFragment ? FLAG_DF : 0, ttl, protocol, src, dst,
                null, 0, 0, payloadLength);
    }

    /**
     * Appends a header with every field chosen, checksum filled in.
     *
     * @param tos                    DSCP/ECN octet
     * @param flagsAndFragmentOffset the 16-bit flags/offset word (e.g. {@code FLAG_MF | (offsetBytes >>> 3)})
     * @param options                buffer holding the options, or null; its {@code optionsLength} bytes at
     *                               {@code optionsOff} are copied and padded with EOL to a multiple of 4
     * @return the header length written (20..60)
     * @throws IllegalArgumentException if options exceed 40 bytes or the total length exceeds 65535
     */
    public static int writeHeader(ByteBuf out, int tos, int identification, int flagsAndFragmentOffset, int ttl,
                                  int protocol, int src, int dst, ByteBuf options, int optionsOff,
                                  int optionsLength, int payloadLength) {
        int optLen = options == null ? 0 : optionsLength;
        int padded = (optLen + 3) & ~3;
        int hl = MIN_HEADER_LENGTH + padded;
        if (hl > MAX_HEADER_LENGTH || payloadLength < 0 || hl + payloadLength > 0xFFFF) {
            throw new IllegalArgumentException("header " + hl + " + payload " + payloadLength);
        }
        out.ensureWritable(hl);
        int w = out.writerIndex();
        out.setByte(w, 0x40 | (hl >>> 2));
        out.setByte(w + 1, tos);
        out.setShort(w + 2, hl + payloadLength);
        out.setShort(w + 4, identification);
        out.setShort(w + 6, flagsAndFragmentOffset);
        out.setByte(w + 8, ttl);
        out.setByte(w + 9, protocol);
        out.setShort(w + 10, 0);
        out.setInt(w + 12, src);
        out.setInt(w + 16, dst);
        if (optLen > 0) {
            out.setBytes(w + 20, options, optionsOff, optLen);
            out.setZero(w + 20 + optLen, padded - optLen);
        }
        out.setShort(w + CHECKSUM_OFFSET, Checksums.internet(out, w, hl));
        out.writerIndex(w + hl);
        return hl;
    }
}

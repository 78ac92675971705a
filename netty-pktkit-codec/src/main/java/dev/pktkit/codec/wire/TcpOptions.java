package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * Allocation-free reader and writer for TCP options (RFC 9293 §3.2, RFC 7323 window scale and timestamps,
 * RFC 2018 SACK).
 *
 * <p>The options of the header at {@code tcpOff} occupy {@code [tcpOff + 20, tcpOff + dataOffset)}. The walk is
 * total: End of Option List (kind 0) ends it and the rest of the area is padding; No-Operation (kind 1) is one
 * byte; every other option has a length octet of at least 2 that must stay inside the area. The kinds read here
 * must also have their RFC length (MSS 4, window scale 3, SACK-permitted 2, SACK 10/18/26/34, timestamps 10);
 * other kinds are skipped by their length. A length of 0 or 1, a length running past the area, or a wrong length
 * for a known kind makes the whole list malformed: {@link #check} returns {@link WireError#BAD_OPTION}, and the
 * accessors answer "absent".
 *
 * <p>Accessors take the absolute offset of the TCP header, never move indices, never throw, and return -1
 * (or false, or 0 for {@link #sackBlockCount}) when the option is absent, the header is short or its data offset
 * invalid, or the list is malformed. When an option appears twice, the first one counts.
 *
 * <p>To visit every option:
 * <pre>{@code
 * int end = TcpOptions.optionsEnd(buf, tcpOff);
 * for (int p = tcpOff + Tcp.MIN_HEADER_LENGTH; p < end; ) {
 *     int n = TcpOptions.length(buf, p, end);
 *     if (n < 0) { drop(); break; }
 *     int kind = TcpOptions.kind(buf, p);
 *     ...  // value at p + 2, n - 2 bytes (kinds other than EOL and NOP)
 *     p += n;
 * }
 * }</pre>
 *
 * <p>The {@code write...} methods append one option at {@code out.writerIndex()}; {@link #writePadding} ends the
 * list at a multiple of 4. No method retains or releases a buffer.
 */
public final class TcpOptions {
    private TcpOptions() {
    }

    /** End of Option List. */
    public static final int KIND_EOL = 0;
    /** No-Operation (alignment padding). */
    public static final int KIND_NOP = 1;
    /** Maximum Segment Size (SYN only), 4 bytes. */
    public static final int KIND_MSS = 2;
    /** Window Scale (SYN only, RFC 7323), 3 bytes. */
    public static final int KIND_WINDOW_SCALE = 3;
    /** SACK-Permitted (SYN only, RFC 2018), 2 bytes. */
    public static final int KIND_SACK_PERMITTED = 4;
    /** SACK blocks (RFC 2018), 2 + 8 * n bytes, n = 1..4. */
    public static final int KIND_SACK = 5;
    /** Timestamps (RFC 7323), 10 bytes. */
    public static final int KIND_TIMESTAMPS = 8;

    /** Length of the MSS option. */
    public static final int MSS_LENGTH = 4;
    /** Length of the window scale option. */
    public static final int WINDOW_SCALE_LENGTH = 3;
    /** Length of the SACK-permitted option. */
    public static final int SACK_PERMITTED_LENGTH = 2;
    /** Length of the timestamps option. */
    public static final int TIMESTAMPS_LENGTH = 10;
    /** Most SACK blocks an option can hold (40 bytes of option space). */
    public static final int MAX_SACK_BLOCKS = 4;
    /** Most bytes of options a header can hold. */
    public static final int MAX_LENGTH = 40;
    /** Largest shift count RFC 7323 allows; larger received values are to be treated as this. */
    public static final int MAX_WINDOW_SCALE = 14;

    /**
     * Absolute end of the options of the header at {@code tcpOff} ({@code tcpOff + dataOffset}); -1 if the fixed
     * header is short, the data offset is below 5, or the options run past {@code writerIndex()}.
     */
    public static int optionsEnd(ByteBuf buf, int tcpOff) {
        return Tcp.payloadOffset(buf, tcpOff);
    }

    /** Kind of the option at absolute {@code pos}; -1 if {@code pos} is not readable. */
    public static int kind(ByteBuf buf, int pos) {
        return Bounds.has(buf, pos, 1) ? buf.getUnsignedByte(pos) : -1;
    }

    /**
     * Length in bytes of the option at {@code pos} in an area ending at {@code end}: 1 for NOP, {@code end - pos}
     * for EOL (the rest is padding), the validated length octet otherwise.
     *
     * @return the length (at least 1), or {@link WireError#TRUNCATED} if {@code pos} is outside
     *         {@code [0, end)} or {@code end} is past {@code writerIndex()}, or {@link WireError#BAD_OPTION}
     */
    public static int length(ByteBuf buf, int pos, int end) {
        if (pos < 0 || pos >= end || end > buf.writerIndex()) {
            return WireError.TRUNCATED;
        }
        return optionLength(buf, pos, end);
    }

    /** {@link #length} for a readable {@code pos < end}. */
    private static int optionLength(ByteBuf buf, int pos, int end) {
        int kind = buf.getUnsignedByte(pos);
        if (kind == KIND_EOL) {
            return end - pos;
        }
        if (kind == KIND_NOP) {
            return 1;
        }
        if (end - pos < 2) {
            return WireError.BAD_OPTION;
        }
        int len = buf.getUnsignedByte(pos + 1);
        if (len < 2 || len > end - pos) {
            return WireError.BAD_OPTION;
        }
        boolean ok = switch (kind) {
            case KIND_MSS -> len == MSS_LENGTH;
            case KIND_WINDOW_SCALE -> len == WINDOW_SCALE_LENGTH;
            case KIND_SACK_PERMITTED -> len == SACK_PERMITTED_LENGTH;
            case KIND_SACK -> len >= 10 && len <= 2 + 8 * MAX_SACK_BLOCKS && ((len - 2) & 7) == 0;
            case KIND_TIMESTAMPS -> len == TIMESTAMPS_LENGTH;
            default -> true;
        };
        return ok ? len : WireError.BAD_OPTION;
    }

    /**
     * Walks the whole list in {@code [from, to)} (readable). Returns the position of the first option of
     * {@code kind} (pass -1 to find none), -1 if the list is well formed and has no such option, or
     * {@link WireError#BAD_OPTION}.
     */
    static int walk(ByteBuf buf, int from, int to, int kind) {
        int found = -1;
        int p = from;
        while (p < to) {
            int n = optionLength(buf, p, to);
            if (n < 0) {
                return WireError.BAD_OPTION;
            }
            if (found < 0 && buf.getUnsignedByte(p) == kind && kind > KIND_NOP) {
                found = p;
            }
            p += n;
        }
        return found;
    }

    /**
     * Validates the options of the header at {@code tcpOff}.
     *
     * @return the number of options other than EOL and NOP, or {@link WireError#TRUNCATED} (the fixed header or
     *         the options run past {@code writerIndex()}), {@link WireError#BAD_HEADER_LENGTH} (data offset below
     *         5) or {@link WireError#BAD_OPTION}
     */
    public static int check(ByteBuf buf, int tcpOff) {
        if (!Bounds.has(buf, tcpOff, Tcp.MIN_HEADER_LENGTH)) {
            return WireError.TRUNCATED;
        }
        int hl = Tcp.dataOffset(buf, tcpOff);
        if (hl < Tcp.MIN_HEADER_LENGTH) {
            return WireError.BAD_HEADER_LENGTH;
        }
        if (!Bounds.has(buf, tcpOff, hl)) {
            return WireError.TRUNCATED;
        }
        int count = 0;
        int end = tcpOff + hl;
        for (int p = tcpOff + Tcp.MIN_HEADER_LENGTH; p < end; ) {
            int n = optionLength(buf, p, end);
            if (n < 0) {
                return n;
            }
            if (buf.getUnsignedByte(p) > KIND_NOP) {
                count++;
            }
            p += n;
        }
        return count;
    }

    /**
     * Absolute position of the first option of {@code kind} (2..255) in the header at {@code tcpOff}; -1 if
     * absent, if the header is short or its data offset invalid, or if the list is malformed.
     */
    public static int find(ByteBuf buf, int tcpOff, int kind) {
        int end = Tcp.payloadOffset(buf, tcpOff);
        if (end < 0) {
            return -1;
        }
        int r = walk(buf, tcpOff + Tcp.MIN_HEADER_LENGTH, end, kind);
        return r < 0 ? -1 : r;
    }

    /** Maximum segment size from the MSS option; -1 if absent. */
    public static int mss(ByteBuf buf, int tcpOff) {
        int p = find(buf, tcpOff, KIND_MSS);
        return p < 0 ? -1 : buf.getUnsignedShort(p + 2);
    }

    /**
     * Shift count from the window scale option as sent (0..255; RFC 7323 says to use 14 for larger values, see
     * {@link #MAX_WINDOW_SCALE}); -1 if absent.
     */
    public static int windowScale(ByteBuf buf, int tcpOff) {
        int p = find(buf, tcpOff, KIND_WINDOW_SCALE);
        return p < 0 ? -1 : buf.getUnsignedByte(p + 2);
    }

    /** Whether the SACK-permitted option is present; false if absent or malformed. */
    public static boolean sackPermitted(ByteBuf buf, int tcpOff) {
        return find(buf, tcpOff, KIND_SACK_PERMITTED) >= 0;
    }

    /** TSval of the timestamps option, 0..2^32-1; -1 if absent. */
    public static long tsVal(ByteBuf buf, int tcpOff) {
        int p = find(buf, tcpOff, KIND_TIMESTAMPS);
        return p < 0 ? -1 : buf.getUnsignedInt(p + 2);
    }

    /** TSecr of the timestamps option, 0..2^32-1; -1 if absent. */
    public static long tsEcr(ByteBuf buf, int tcpOff) {
        int p = find(buf, tcpOff, KIND_TIMESTAMPS);
        return p < 0 ? -1 : buf.getUnsignedInt(p + 6);
    }

    /** Number of blocks (1..4) in the SACK option; 0 if absent or malformed. */
    public static int sackBlockCount(ByteBuf buf, int tcpOff) {
        int p = find(buf, tcpOff, KIND_SACK);
        return p < 0 ? 0 : (buf.getUnsignedByte(p + 1) - 2) >>> 3;
    }

    /** Left edge of SACK block {@code i} (0-based), 0..2^32-1; -1 if absent or {@code i} out of range. */
    public static long sackLeft(ByteBuf buf, int tcpOff, int i) {
        return sackEdge(buf, tcpOff, i, 0);
    }

    /** Right edge of SACK block {@code i} (0-based), 0..2^32-1; -1 if absent or {@code i} out of range. */
    public static long sackRight(ByteBuf buf, int tcpOff, int i) {
        return sackEdge(buf, tcpOff, i, 4);
    }

    private static long sackEdge(ByteBuf buf, int tcpOff, int i, int which) {
        int p = find(buf, tcpOff, KIND_SACK);
        if (p < 0 || i < 0 || i >= (buf.getUnsignedByte(p + 1) - 2) >>> 3) {
            return -1;
        }
        return buf.getUnsignedInt(p + 2 + 8 * i + which);
    }

    // ---- writers: each appends one option at out.writerIndex() and returns its length ----

    /** Appends a NOP. */
    public static int writeNop(ByteBuf out) {
        out.writeByte(KIND_NOP);
        return 1;
    }

    /** Appends an MSS option. @throws IllegalArgumentException if {@code mss} is outside 0..65535 */
    public static int writeMss(ByteBuf out, int mss) {
        if ((mss & ~0xFFFF) != 0) {
            throw new IllegalArgumentException("mss " + mss);
        }
        out.ensureWritable(MSS_LENGTH);
        out.writeByte(KIND_MSS).writeByte(MSS_LENGTH).writeShort(mss);
        return MSS_LENGTH;
    }

    /** Appends a window scale option. @throws IllegalArgumentException if {@code shift} is outside 0..255 */
    public static int writeWindowScale(ByteBuf out, int shift) {
        if ((shift & ~0xFF) != 0) {
            throw new IllegalArgumentException("window scale " + shift);
        }
        out.ensureWritable(WINDOW_SCALE_LENGTH);
        out.writeByte(KIND_WINDOW_SCALE).writeByte(WINDOW_SCALE_LENGTH).writeByte(shift);
        return WINDOW_SCALE_LENGTH;
    }

    /** Appends a SACK-permitted option. */
    public static int writeSackPermitted(ByteBuf out) {
        out.ensureWritable(SACK_PERMITTED_LENGTH);
        out.writeByte(KIND_SACK_PERMITTED).writeByte(SACK_PERMITTED_LENGTH);
        return SACK_PERMITTED_LENGTH;
    }

    /** Appends a timestamps option; the low 32 bits of each value are used. */
    public static int writeTimestamps(ByteBuf out, long tsVal, long tsEcr) {
        out.ensureWritable(TIMESTAMPS_LENGTH);
        out.writeByte(KIND_TIMESTAMPS).writeByte(TIMESTAMPS_LENGTH).writeInt((int) tsVal).writeInt((int) tsEcr);
        return TIMESTAMPS_LENGTH;
    }

    /**
     * Appends the kind and length of a SACK option of {@code blocks} blocks; follow with that many
     * {@link #writeSackBlock} calls.
     *
     * @throws IllegalArgumentException if {@code blocks} is outside 1..4
     */
    public static int writeSackHeader(ByteBuf out, int blocks) {
        if (blocks < 1 || blocks > MAX_SACK_BLOCKS) {
            throw new IllegalArgumentException("sack blocks " + blocks);
        }
        out.ensureWritable(2 + 8 * blocks);
        out.writeByte(KIND_SACK).writeByte(2 + 8 * blocks);
        return 2;
    }

    /** Appends one SACK block (left and right edge, low 32 bits of each). */
    public static int writeSackBlock(ByteBuf out, long left, long right) {
        out.ensureWritable(8);
        out.writeInt((int) left).writeInt((int) right);
        return 8;
    }

    /**
     * Appends a whole SACK option from {@code edges} = left0, right0, left1, right1, ...
     *
     * @throws IllegalArgumentException if {@code edges} does not hold 1 to 4 pairs
     */
    public static int writeSack(ByteBuf out, long... edges) {
        if ((edges.length & 1) != 0) {
            throw new IllegalArgumentException("odd number of SACK edges");
        }
        int blocks = edges.length >>> 1;
        writeSackHeader(out, blocks);
        for (int i = 0; i < blocks; i++) {
            writeSackBlock(out, edges[2 * i], edges[2 * i + 1]);
        }
        return 2 + 8 * blocks;
    }

    /**
     * Ends an option list that started at absolute {@code optionsStart} by appending EOL (zero) octets up to a
     * multiple of 4 bytes from there; returns the number appended (0..3).
     */
    public static int writePadding(ByteBuf out, int optionsStart) {
        int pad = (4 - ((out.writerIndex() - optionsStart) & 3)) & 3;
        out.writeZero(pad);
        return pad;
    }
}

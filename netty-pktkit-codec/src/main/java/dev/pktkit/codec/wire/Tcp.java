package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * View, validator and builder for TCP segment headers (RFC 9293), with the checksum over the IPv4 or IPv6
 * pseudo-header. Options are read by {@link TcpOptions}.
 *
 * <pre>
 *  0               16              31
 * | source port    | dest port     |
 * | sequence number                |
 * | acknowledgment number          |
 * |doff|rsv|flags  | window        |
 * | checksum       | urgent pointer|
 * | options (doff*4 - 20 bytes)    |
 * | payload ...                    |
 * </pre>
 *
 * <p>{@code off} is the absolute index of the TCP header; all fields are big-endian. Accessors never move indices
 * or throw: they need the 20-byte fixed header within {@code [0, writerIndex())} and otherwise return -1 (fields,
 * sequence numbers) or false. They do not validate; {@link #check}, {@link #checkV4}, {@link #checkV6} and
 * {@link #checkInPacket} do. The segment length (header plus payload) is not in the TCP header: it comes from the
 * IP layer, so methods that need it take a {@code len} argument.
 *
 * <p>No method retains or releases a buffer it is given.
 */
public final class Tcp {
    private Tcp() {
    }

    /** Length of a header without options. */
    public static final int MIN_HEADER_LENGTH = 20;
    /** Length of a header with the most options (data offset 15). */
    public static final int MAX_HEADER_LENGTH = 60;

    /** Flag: no more data from sender. */
    public static final int FIN = 0x01;
    /** Flag: synchronize sequence numbers. */
    public static final int SYN = 0x02;
    /** Flag: reset the connection. */
    public static final int RST = 0x04;
    /** Flag: push function. */
    public static final int PSH = 0x08;
    /** Flag: the acknowledgment field is significant. */
    public static final int ACK = 0x10;
    /** Flag: the urgent pointer field is significant. */
    public static final int URG = 0x20;
    /** Flag: ECN-Echo (RFC 3168). */
    public static final int ECE = 0x40;
    /** Flag: Congestion Window Reduced (RFC 3168). */
    public static final int CWR = 0x80;
    /** Flag: Accurate ECN (the bit once called NS, RFC 3540, now historic). */
    public static final int AE = 0x100;

    static final int CHECKSUM_OFFSET = 16;

    private static boolean fixed(ByteBuf buf, int off) {
        return Bounds.has(buf, off, MIN_HEADER_LENGTH);
    }

    /** Source port; -1 if short. */
    public static int srcPort(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedShort(off) : -1;
    }

    /** Destination port; -1 if short. */
    public static int dstPort(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedShort(off + 2) : -1;
    }

    /** Sequence number, 0..2^32-1; -1 if short. */
    public static long seq(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedInt(off + 4) : -1;
    }

    /** Acknowledgment number, 0..2^32-1 (meaningful only with {@link #ACK}); -1 if short. */
    public static long ack(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedInt(off + 8) : -1;
    }

    /** Header length in bytes from the data offset field (field * 4, 0..60, not validated); -1 if short. */
    public static int dataOffset(ByteBuf buf, int off) {
        return fixed(buf, off) ? (buf.getUnsignedByte(off + 12) >>> 4) << 2 : -1;
    }

    /**
     * The flag bits: {@link #FIN} to {@link #CWR} in bits 0-7 and {@link #AE} in bit 8 (the three reserved bits
     * are not included); -1 if short.
     */
    public static int flags(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedShort(off + 12) & 0x1FF : -1;
    }

    /** Whether every flag in {@code mask} is set; false if short. */
    public static boolean hasFlags(ByteBuf buf, int off, int mask) {
        return fixed(buf, off) && (buf.getUnsignedShort(off + 12) & mask & 0x1FF) == mask;
    }

    /** Window field (unscaled); -1 if short. */
    public static int window(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedShort(off + 14) : -1;
    }

    /** Checksum field; -1 if short. */
    public static int checksum(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedShort(off + CHECKSUM_OFFSET) : -1;
    }

    /** Urgent pointer field; -1 if short. */
    public static int urgentPointer(ByteBuf buf, int off) {
        return fixed(buf, off) ? buf.getUnsignedShort(off + 18) : -1;
    }

    /**
     * Absolute offset of the payload ({@code off + dataOffset}); -1 if the fixed header is short, the data offset
     * is below 5 or the options run past {@code writerIndex()}.
     */
    public static int payloadOffset(ByteBuf buf, int off) {
        if (!fixed(buf, off)) {
            return -1;
        }
        int hl = (buf.getUnsignedByte(off + 12) >>> 4) << 2;
        return hl >= MIN_HEADER_LENGTH && Bounds.has(buf, off, hl) ? off + hl : -1;
    }

    /**
     * Payload length of a segment of {@code len} bytes (header included): {@code len - dataOffset}; -1 if the
     * fixed header is short or the data offset is below 5 or above {@code len}.
     */
    public static int payloadLength(ByteBuf buf, int off, int len) {
        if (!fixed(buf, off)) {
            return -1;
        }
        int hl = (buf.getUnsignedByte(off + 12) >>> 4) << 2;
        return hl >= MIN_HEADER_LENGTH && hl <= len ? len - hl : -1;
    }

    /**
     * Sequence space the segment of {@code len} bytes occupies: payload length plus one for SYN and one for FIN;
     * -1 as {@link #payloadLength}.
     */
    public static int sequenceLength(ByteBuf buf, int off, int len) {
        int p = payloadLength(buf, off, len);
        if (p < 0) {
            return -1;
        }
        int f = buf.getUnsignedByte(off + 13);
        return p + (f & SYN) / SYN + (f & FIN);
    }

    /**
     * Validates the segment of {@code len} bytes at {@code off} (the IP payload length or IPv6 upper-layer
     * length): the data offset and the options ({@link TcpOptions#check}). The checksum is not verified.
     *
     * @return the header length (20..60), or {@link WireError#TRUNCATED} ({@code len} below 20, or
     *         {@code [off, off + len)} not within {@code writerIndex()}), {@link WireError#BAD_HEADER_LENGTH}
     *         (data offset below 5 or past {@code len}) or {@link WireError#BAD_OPTION}
     */
    public static int check(ByteBuf buf, int off, int len) {
        if (len < MIN_HEADER_LENGTH || !Bounds.has(buf, off, len)) {
            return WireError.TRUNCATED;
        }
        int hl = (buf.getUnsignedByte(off + 12) >>> 4) << 2;
        if (hl < MIN_HEADER_LENGTH || hl > len) {
            return WireError.BAD_HEADER_LENGTH;
        }
        if (hl > MIN_HEADER_LENGTH
                && TcpOptions.walk(buf, off + MIN_HEADER_LENGTH, off + hl, -1) == WireError.BAD_OPTION) {
            return WireError.BAD_OPTION;
        }
        return hl;
    }

    /**
     * {@link #check} and the checksum over the IPv4 pseudo-header of {@code src} and {@code dst}.
     *
     * @return the header length, or a code from {@link #check}, or {@link WireError#BAD_CHECKSUM}
     */
    public static int checkV4(ByteBuf buf, int off, int len, int src, int dst) {
        int hl = check(buf, off, len);
        if (hl < 0) {
            return hl;
        }
        return Checksums.verify(buf, off, len, Checksums.pseudoHeaderV4(src, dst, IpProtocol.TCP, len))
                ? hl : WireError.BAD_CHECKSUM;
    }

    /** {@link #check} and the checksum over the IPv6 pseudo-header; codes as {@link #checkV4}. */
    public static int checkV6(ByteBuf buf, int off, int len, long srcHi, long srcLo, long dstHi, long dstLo) {
        int hl = check(buf, off, len);
        if (hl < 0) {
            return hl;
        }
        return Checksums.verify(buf, off, len,
                Checksums.pseudoHeaderV6(srcHi, srcLo, dstHi, dstLo, IpProtocol.TCP, len))
                ? hl : WireError.BAD_CHECKSUM;
    }

    /**
     * Validates the IPv4 or IPv6 packet at {@code ipOff} (by its version nibble) and the TCP segment it carries,
     * checksum included.
     *
     * @return the segment length, header included (the segment starts at the IP payload / upper-layer offset;
     *         its header length is {@link #dataOffset}), or a negative {@link WireError} code from the IP check or
     *         {@link #checkV4} / {@link #checkV6}, or {@link WireError#BAD_TYPE} when the packet does not carry
     *         TCP or is a fragment, or {@link WireError#BAD_VERSION} when the version is neither 4 nor 6
     */
    public static int checkInPacket(ByteBuf buf, int ipOff) {
        int hl = TransportChecksum.ipHeaderFor(buf, ipOff, IpProtocol.TCP);
        if (hl < 0) {
            return hl;
        }
        int r;
        int len;
        if (Ipv4.version(buf, ipOff) == 4) {
            len = Ipv4.payloadLength(buf, ipOff);
            r = checkV4(buf, ipOff + hl, len, Ipv4.src(buf, ipOff), Ipv4.dst(buf, ipOff));
        } else {
            len = Ipv6.upperLayerLength(buf, ipOff);
            r = checkV6(buf, ipOff + hl, len, Ipv6.srcHi(buf, ipOff), Ipv6.srcLo(buf, ipOff),
                    Ipv6.dstHi(buf, ipOff), Ipv6.dstLo(buf, ipOff));
        }
        return r < 0 ? r : len;
    }

    /**
     * Whether the checksum of the {@code len}-byte segment at {@code off} verifies over the IPv4 pseudo-header;
     * false if the range is not readable or {@code len} is below 20.
     */
    public static boolean verifyChecksumV4(ByteBuf buf, int off, int len, int src, int dst) {
        return TransportChecksum.verify(buf, off, len, MIN_HEADER_LENGTH,
                Checksums.pseudoHeaderV4(src, dst, IpProtocol.TCP, len));
    }

    /** {@link #verifyChecksumV4} over the IPv6 pseudo-header. */
    public static boolean verifyChecksumV6(ByteBuf buf, int off, int len, long srcHi, long srcLo, long dstHi,
                                           long dstLo) {
        return TransportChecksum.verify(buf, off, len, MIN_HEADER_LENGTH,
                Checksums.pseudoHeaderV6(srcHi, srcLo, dstHi, dstLo, IpProtocol.TCP, len));
    }

    /**
     * The checksum field value for the {@code len}-byte segment at {@code off} over the IPv4 pseudo-header,
     * computed as if the checksum field were zero (the buffer is not modified); -1 if the range is not readable
     * or {@code len} is below 20.
     */
    public static int computeChecksumV4(ByteBuf buf, int off, int len, int src, int dst) {
        return compute(buf, off, len, Checksums.pseudoHeaderV4(src, dst, IpProtocol.TCP, len));
    }

    /** {@link #computeChecksumV4} over the IPv6 pseudo-header. */
    public static int computeChecksumV6(ByteBuf buf, int off, int len, long srcHi, long srcLo, long dstHi,
                                        long dstLo) {
        return compute(buf, off, len, Checksums.pseudoHeaderV6(srcHi, srcLo, dstHi, dstLo, IpProtocol.TCP, len));
    }

    private static int compute(ByteBuf buf, int off, int len, long pseudo) {
        return TransportChecksum.compute(buf, off, len, MIN_HEADER_LENGTH, CHECKSUM_OFFSET, pseudo, false);
    }

    // ---- in-place updates (the caller must own the bytes) ----

    /**
     * Computes and stores the IPv4 checksum of the {@code len}-byte segment at {@code off}; returns the stored
     * value, or -1 (nothing written) if the range is not readable or {@code len} is below 20.
     */
    public static int fillChecksumV4(ByteBuf buf, int off, int len, int src, int dst) {
        return TransportChecksum.store(buf, off, CHECKSUM_OFFSET, computeChecksumV4(buf, off, len, src, dst));
    }

    /** {@link #fillChecksumV4} over the IPv6 pseudo-header. */
    public static int fillChecksumV6(ByteBuf buf, int off, int len, long srcHi, long srcLo, long dstHi,
                                     long dstLo) {
        return TransportChecksum.store(buf, off, CHECKSUM_OFFSET,
                computeChecksumV6(buf, off, len, srcHi, srcLo, dstHi, dstLo));
    }

    /**
     * Rewrites the source port and updates the checksum incrementally (RFC 1624). No-op if the header is short.
     * For NAT, also account for rewritten addresses with {@link #updateChecksumForAddress}.
     */
    public static void rewriteSrcPort(ByteBuf buf, int off, int port) {
        rewritePort(buf, off, off, port);
    }

    /** Rewrites the destination port; see {@link #rewriteSrcPort}. */
    public static void rewriteDstPort(ByteBuf buf, int off, int port) {
        rewritePort(buf, off, off + 2, port);
    }

    private static void rewritePort(ByteBuf buf, int off, int at, int port) {
        if (!fixed(buf, off)) {
            return;
        }
        TransportChecksum.rewrite16(buf, at, port, off + CHECKSUM_OFFSET, false);
    }

    /**
     * Updates the checksum for an IPv4 pseudo-header address that NAT changed from {@code oldAddress} to
     * {@code newAddress}. No-op if the header is short.
     */
    public static void updateChecksumForAddress(ByteBuf buf, int off, int oldAddress, int newAddress) {
        if (!fixed(buf, off)) {
            return;
        }
        TransportChecksum.adjust32(buf, off + CHECKSUM_OFFSET, oldAddress, newAddress, false);
    }

    // ---- builders ----

    /**
     * Appends a header at {@code out.writerIndex()} with a zero checksum. Options, if any, are copied from
     * {@code options} ({@code optionsLength} bytes at {@code optionsOff}, indices not moved; build them with the
     * {@link TcpOptions} writers) and padded with EOL (zero) octets to a multiple of 4. Append the payload
     * afterwards and call {@link #fillChecksumV4} / {@link #fillChecksumV6} over header plus payload.
     *
     * @param seq    sequence number (low 32 bits used)
     * @param ack    acknowledgment number (low 32 bits used)
     * @param flags  flag bits ({@link #FIN} ... {@link #AE})
     * @param window window field 0..65535
     * @param urgent urgent pointer 0..65535
     * @return the header length written (20..60)
     * @throws IllegalArgumentException if options exceed 40 bytes or a field is out of range
     */
    public static int writeHeader(ByteBuf out, int srcPort, int dstPort, long seq, long ack, int flags, int window,
                                  int urgent, ByteBuf options, int optionsOff, int optionsLength) {
        int optLen = options == null ? 0 : optionsLength;
        int padded = (optLen + 3) & ~3;
        int hl = MIN_HEADER_LENGTH + padded;
        if (optLen < 0 || hl > MAX_HEADER_LENGTH || ((srcPort | dstPort | window | urgent) & ~0xFFFF) != 0
                || (flags & ~0x1FF) != 0) {
            throw new IllegalArgumentException("header " + hl + " ports " + srcPort + "/" + dstPort + " window "
                    + window + " urgent " + urgent + " flags " + flags);
        }
        out.ensureWritable(hl);
        int w = out.writerIndex();
        out.setShort(w, srcPort);
        out.setShort(w + 2, dstPort);
        out.setInt(w + 4, (int) seq);
        out.setInt(w + 8, (int) ack);
        out.setShort(w + 12, (hl << 10) | flags);
        out.setShort(w + 14, window);
        out.setShort(w + CHECKSUM_OFFSET, 0);
        out.setShort(w + 18, urgent);
        if (optLen > 0) {
            out.setBytes(w + MIN_HEADER_LENGTH, options, optionsOff, optLen);
            out.setZero(w + MIN_HEADER_LENGTH + optLen, padded - optLen);
        }
        out.writerIndex(w + hl);
        return hl;
    }
}

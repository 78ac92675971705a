package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * View, validator and builder for UDP datagrams (RFC 768), with the checksum over the IPv4 (RFC 768) or IPv6
 * (RFC 8200 §8.1) pseudo-header.
 *
 * <pre>
 *  0               16              31
 * | source port    | dest port     |
 * | length         | checksum      |
 * | payload ...                    |
 * </pre>
 *
 * <p>{@code off} is the absolute index of the UDP header; all fields are big-endian. Accessors never move indices
 * or throw: they need the 8-byte header within {@code [0, writerIndex())} and otherwise return -1. They do not
 * validate; {@link #check}, {@link #checkV4}, {@link #checkV6} and {@link #checkInPacket} do, and return the
 * datagram length from the header or a negative code ({@link WireError}).
 *
 * <p>Checksum rules: over IPv4 a checksum field of 0 means "no checksum" and is accepted; a computed checksum of
 * 0 is transmitted as {@code 0xFFFF}. Over IPv6 the checksum is mandatory, so a zero field is
 * {@link WireError#BAD_CHECKSUM}.
 *
 * <p>No method retains or releases a buffer it is given.
 */
public final class Udp {
    private Udp() {
    }

    /** Length of the UDP header in bytes. */
    public static final int HEADER_LENGTH = 8;
    /** Offset of the checksum field within the header. */
    static final int CHECKSUM_OFFSET = 6;

    private static boolean header(ByteBuf buf, int off) {
        return Bounds.has(buf, off, HEADER_LENGTH);
    }

    /** Source port; -1 if short. */
    public static int srcPort(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off) : -1;
    }

    /** Destination port; -1 if short. */
    public static int dstPort(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off + 2) : -1;
    }

    /** Length field: header plus payload in bytes, not validated; -1 if short. */
    public static int length(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off + 4) : -1;
    }

    /** Checksum field; -1 if short. */
    public static int checksum(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off + CHECKSUM_OFFSET) : -1;
    }

    /** Absolute offset of the payload ({@code off + 8}); -1 if the header is short. */
    public static int payloadOffset(ByteBuf buf, int off) {
        return header(buf, off) ? off + HEADER_LENGTH : -1;
    }

    /**
     * Payload length from the length field (length minus 8); -1 if the header is short or the length field is
     * below 8. Does not look at how many bytes the buffer holds ({@link #check} does).
     */
    public static int payloadLength(ByteBuf buf, int off) {
        if (!header(buf, off)) {
            return -1;
        }
        int len = buf.getUnsignedShort(off + 4);
        return len < HEADER_LENGTH ? -1 : len - HEADER_LENGTH;
    }

    /**
     * Validates the lengths of a datagram that the IP layer says occupies {@code len} bytes at {@code off} (the
     * IPv4 payload length or IPv6 upper-layer length). The UDP length field may be smaller than {@code len}
     * (trailing bytes are ignored) but not larger. The checksum is not verified.
     *
     * @return the UDP length field (8..len), or {@link WireError#TRUNCATED} ({@code len} below 8, or
     *         {@code [off, off + len)} not within {@code writerIndex()}) or {@link WireError#BAD_TOTAL_LENGTH}
     *         (length field below 8 or above {@code len})
     */
    public static int check(ByteBuf buf, int off, int len) {
        if (len < HEADER_LENGTH || !Bounds.has(buf, off, len)) {
            return WireError.TRUNCATED;
        }
        int udpLen = buf.getUnsignedShort(off + 4);
        if (udpLen < HEADER_LENGTH || udpLen > len) {
            return WireError.BAD_TOTAL_LENGTH;
        }
        return udpLen;
    }

    /**
     * {@link #check} and the checksum over the IPv4 pseudo-header of {@code src} and {@code dst}; a zero
     * checksum field (no checksum) is accepted.
     *
     * @return the UDP length, or a code from {@link #check}, or {@link WireError#BAD_CHECKSUM}
     */
    public static int checkV4(ByteBuf buf, int off, int len, int src, int dst) {
        int udpLen = check(buf, off, len);
        if (udpLen < 0) {
            return udpLen;
        }
        if (buf.getUnsignedShort(off + CHECKSUM_OFFSET) == 0) {
            return udpLen;
        }
        long pseudo = Checksums.pseudoHeaderV4(src, dst, IpProtocol.UDP, udpLen);
        return Checksums.verify(buf, off, udpLen, pseudo) ? udpLen : WireError.BAD_CHECKSUM;
    }

    /**
     * {@link #check} and the checksum over the IPv6 pseudo-header; a zero checksum field is
     * {@link WireError#BAD_CHECKSUM} (RFC 8200 §8.1).
     *
     * @return the UDP length, or a code from {@link #check}, or {@link WireError#BAD_CHECKSUM}
     */
    public static int checkV6(ByteBuf buf, int off, int len, long srcHi, long srcLo, long dstHi, long dstLo) {
        int udpLen = check(buf, off, len);
        if (udpLen < 0) {
            return udpLen;
        }
        if (buf.getUnsignedShort(off + CHECKSUM_OFFSET) == 0) {
            return WireError.BAD_CHECKSUM;
        }
        long pseudo = Checksums.pseudoHeaderV6(srcHi, srcLo, dstHi, dstLo, IpProtocol.UDP, udpLen);
        return Checksums.verify(buf, off, udpLen, pseudo) ? udpLen : WireError.BAD_CHECKSUM;
    }

    /**
     * Validates the IPv4 or IPv6 packet at {@code ipOff} (by its version nibble, with {@link Ipv4#check} or
     * {@link Ipv6#check}) and the UDP datagram it carries, checksum included.
     *
     * @return the UDP length (the datagram starts at the IP payload / upper-layer offset), or a negative
     *         {@link WireError} code from the IP check or from {@link #checkV4} / {@link #checkV6}, or
     *         {@link WireError#BAD_TYPE} when the packet does not carry UDP or is a fragment (reassemble first),
     *         or {@link WireError#BAD_VERSION} when the version is neither 4 nor 6
     */
    public static int checkInPacket(ByteBuf buf, int ipOff) {
        int hl = TransportChecksum.ipHeaderFor(buf, ipOff, IpProtocol.UDP);
        if (hl < 0) {
            return hl;
        }
        if (Ipv4.version(buf, ipOff) == 4) {
            return checkV4(buf, ipOff + hl, Ipv4.payloadLength(buf, ipOff), Ipv4.src(buf, ipOff),
                    Ipv4.dst(buf, ipOff));
        }
        return checkV6(buf, ipOff + hl, Ipv6.upperLayerLength(buf, ipOff), Ipv6.srcHi(buf, ipOff),
                Ipv6.srcLo(buf, ipOff), Ipv6.dstHi(buf, ipOff), Ipv6.dstLo(buf, ipOff));
    }

    /**
     * Whether the checksum of the {@code udpLen}-byte datagram at {@code off} verifies over the IPv4
     * pseudo-header; true for a zero checksum field (none), false if the range is not readable or
     * {@code udpLen} is below 8.
     */
    public static boolean verifyChecksumV4(ByteBuf buf, int off, int udpLen, int src, int dst) {
        if (udpLen < HEADER_LENGTH || !Bounds.has(buf, off, udpLen)) {
            return false;
        }
        return buf.getUnsignedShort(off + CHECKSUM_OFFSET) == 0 || TransportChecksum.verify(buf, off, udpLen,
                HEADER_LENGTH, Checksums.pseudoHeaderV4(src, dst, IpProtocol.UDP, udpLen));
    }

    /**
     * Whether the checksum of the {@code udpLen}-byte datagram at {@code off} verifies over the IPv6
     * pseudo-header; false for a zero checksum field, an unreadable range or {@code udpLen} below 8.
     */
    public static boolean verifyChecksumV6(ByteBuf buf, int off, int udpLen, long srcHi, long srcLo, long dstHi,
                                           long dstLo) {
        if (udpLen < HEADER_LENGTH || !Bounds.has(buf, off, udpLen)
                || buf.getUnsignedShort(off + CHECKSUM_OFFSET) == 0) {
            return false;
        }
        return TransportChecksum.verify(buf, off, udpLen, HEADER_LENGTH,
                Checksums.pseudoHeaderV6(srcHi, srcLo, dstHi, dstLo, IpProtocol.UDP, udpLen));
    }

    /**
     * The checksum field value for the {@code udpLen}-byte datagram at {@code off} over the IPv4 pseudo-header,
     * computed as if the checksum field were zero (the buffer is not modified); a computed 0 is returned as
     * {@code 0xFFFF}. -1 if the range is not readable or {@code udpLen} is below 8.
     */
    public static int computeChecksumV4(ByteBuf buf, int off, int udpLen, int src, int dst) {
        return compute(buf, off, udpLen, Checksums.pseudoHeaderV4(src, dst, IpProtocol.UDP, udpLen));
    }

    /** {@link #computeChecksumV4} over the IPv6 pseudo-header. */
    public static int computeChecksumV6(ByteBuf buf, int off, int udpLen, long srcHi, long srcLo, long dstHi,
                                        long dstLo) {
        return compute(buf, off, udpLen,
                Checksums.pseudoHeaderV6(srcHi, srcLo, dstHi, dstLo, IpProtocol.UDP, udpLen));
    }

    private static int compute(ByteBuf buf, int off, int udpLen, long pseudo) {
        return TransportChecksum.compute(buf, off, udpLen, HEADER_LENGTH, CHECKSUM_OFFSET, pseudo, true);
    }

    // ---- in-place updates (the caller must own the bytes) ----

    /**
     * Computes and stores the IPv4 checksum of the {@code udpLen}-byte datagram at {@code off}; returns the stored
     * value, or -1 (nothing written) if the range is not readable or {@code udpLen} is below 8.
     */
    public static int fillChecksumV4(ByteBuf buf, int off, int udpLen, int src, int dst) {
        return TransportChecksum.store(buf, off, CHECKSUM_OFFSET, computeChecksumV4(buf, off, udpLen, src, dst));
    }

    /** {@link #fillChecksumV4} over the IPv6 pseudo-header. */
    public static int fillChecksumV6(ByteBuf buf, int off, int udpLen, long srcHi, long srcLo, long dstHi,
                                     long dstLo) {
        return TransportChecksum.store(buf, off, CHECKSUM_OFFSET,
                computeChecksumV6(buf, off, udpLen, srcHi, srcLo, dstHi, dstLo));
    }

    /**
     * Rewrites the source port and updates a non-zero checksum incrementally (RFC 1624); a zero checksum (none,
     * IPv4) stays zero, and a result of 0 is stored as {@code 0xFFFF}. No-op if the header is short. For NAT,
     * also account for rewritten addresses with {@link #updateChecksumForAddress}.
     */
    public static void rewriteSrcPort(ByteBuf buf, int off, int port) {
        rewritePort(buf, off, off, port);
    }

    /** Rewrites the destination port; see {@link #rewriteSrcPort}. */
    public static void rewriteDstPort(ByteBuf buf, int off, int port) {
        rewritePort(buf, off, off + 2, port);
    }

    private static void rewritePort(ByteBuf buf, int off, int at, int port) {
        if (!header(buf, off)) {
            return;
        }
        TransportChecksum.rewrite16(buf, at, port, off + CHECKSUM_OFFSET, true);
    }

    /**
     * Updates a non-zero checksum for an IPv4 pseudo-header address that NAT changed from {@code oldAddress} to
     * {@code newAddress} (the IP header itself is rewritten by {@link Ipv4#rewriteSrc}); a zero checksum stays
     * zero. No-op if the header is short.
     */
    public static void updateChecksumForAddress(ByteBuf buf, int off, int oldAddress, int newAddress) {
        if (!header(buf, off)) {
            return;
        }
        TransportChecksum.adjust32(buf, off + CHECKSUM_OFFSET, oldAddress, newAddress, true);
    }

    // ---- builders ----

    /**
     * Appends an 8-byte header for a payload of {@code payloadLength} bytes at {@code out.writerIndex()}, with a
     * zero checksum (over IPv4: none). Append the payload and call {@link #fillChecksumV4} /
     * {@link #fillChecksumV6} to add a checksum.
     *
     * @return {@link #HEADER_LENGTH}
     * @throws IllegalArgumentException if the length would exceed 65535 or a port is outside 0..65535
     */
    public static int writeHeader(ByteBuf out, int srcPort, int dstPort, int payloadLength) {
        if (payloadLength < 0 || payloadLength > 0xFFFF - HEADER_LENGTH || (srcPort & ~0xFFFF) != 0
                || (dstPort & ~0xFFFF) != 0) {
            throw new IllegalArgumentException("ports " + srcPort + "/" + dstPort + " payload " + payloadLength);
        }
        out.ensureWritable(HEADER_LENGTH);
        int w = out.writerIndex();
        out.setShort(w, srcPort);
        out.setShort(w + 2, dstPort);
        out.setShort(w + 4, HEADER_LENGTH + payloadLength);
        out.setShort(w + CHECKSUM_OFFSET, 0);
        out.writerIndex(w + HEADER_LENGTH);
        return HEADER_LENGTH;
    }

    /**
     * Appends a whole datagram (header, {@code payloadLength} bytes of {@code payload} from {@code payloadOff},
     * IPv4 checksum) at {@code out.writerIndex()}. {@code payload} may be null when {@code payloadLength} is 0;
     * its indices are not moved and it is not released.
     *
     * @return the datagram length written
     * @throws IllegalArgumentException as {@link #writeHeader}
     */
    public static int writeDatagramV4(ByteBuf out, int src, int dst, int srcPort, int dstPort, ByteBuf payload,
                                      int payloadOff, int payloadLength) {
        int start = out.writerIndex();
        writeHeader(out, srcPort, dstPort, payloadLength);
        if (payloadLength > 0) {
            dev.pktkit.codec.buffer.Buffers.append(payload, payloadOff, out, payloadLength);
        }
        fillChecksumV4(out, start, HEADER_LENGTH + payloadLength, src, dst);
        return HEADER_LENGTH + payloadLength;
    }

    /** {@link #writeDatagramV4} with the IPv6 pseudo-header. */
    public static int writeDatagramV6(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo, int srcPort,
                                      int dstPort, ByteBuf payload, int payloadOff, int payloadLength) {
        int start = out.writerIndex();
        writeHeader(out, srcPort, dstPort, payloadLength);
        if (payloadLength > 0) {
            dev.pktkit.codec.buffer.Buffers.append(payload, payloadOff, out, payloadLength);
        }
        fillChecksumV6(out, start, HEADER_LENGTH + payloadLength, srcHi, srcLo, dstHi, dstLo);
        return HEADER_LENGTH + payloadLength;
    }
}

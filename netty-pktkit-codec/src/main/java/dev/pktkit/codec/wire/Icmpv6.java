package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * View, validator and builders for ICMPv6 (RFC 4443). Neighbor Discovery bodies are in {@link Ndp}.
 *
 * <pre>
 *  0        1        2                 4
 * | type   | code   | checksum        |
 * | rest of header (echo: identifier, sequence; packet too big: MTU; parameter problem: pointer) |
 * | data (echo payload, or as much of the invoking packet as fits in 1280 bytes) ...           |
 * </pre>
 *
 * <p>The checksum covers the IPv6 pseudo-header (RFC 8200 §8.1), so validation needs the addresses:
 * {@link #checkInPacket} takes them from the IPv6 header. Accessors need the 8-byte header within
 * {@code [0, writerIndex())} and return -1 otherwise.
 */
public final class Icmpv6 {
    private Icmpv6() {
    }

    /** Length of the ICMPv6 header (type, code, checksum, 32 bits of message body). */
    public static final int HEADER_LENGTH = 8;

    /** ICMPv6 type 1: destination unreachable. */
    public static final int TYPE_DESTINATION_UNREACHABLE = 1;
    /** ICMPv6 type 2: packet too big. */
    public static final int TYPE_PACKET_TOO_BIG = 2;
    /** ICMPv6 type 3: time exceeded. */
    public static final int TYPE_TIME_EXCEEDED = 3;
    /** ICMPv6 type 4: parameter problem. */
    public static final int TYPE_PARAMETER_PROBLEM = 4;
    /** ICMPv6 type 128: echo request. */
    public static final int TYPE_ECHO_REQUEST = 128;
    /** ICMPv6 type 129: echo reply. */
    public static final int TYPE_ECHO_REPLY = 129;
    /** ICMPv6 type 130: mld query. */
    public static final int TYPE_MLD_QUERY = 130;
    /** ICMPv6 type 131: mld report. */
    public static final int TYPE_MLD_REPORT = 131;
    /** ICMPv6 type 132: mld done. */
    public static final int TYPE_MLD_DONE = 132;
    /** ICMPv6 type 133: router solicitation. */
    public static final int TYPE_ROUTER_SOLICITATION = 133;
    /** ICMPv6 type 134: router advertisement. */
    public static final int TYPE_ROUTER_ADVERTISEMENT = 134;
    /** ICMPv6 type 135: neighbor solicitation. */
    public static final int TYPE_NEIGHBOR_SOLICITATION = 135;
    /** ICMPv6 type 136: neighbor advertisement. */
    public static final int TYPE_NEIGHBOR_ADVERTISEMENT = 136;
    /** ICMPv6 type 137: redirect. */
    public static final int TYPE_REDIRECT = 137;
    /** ICMPv6 type 143: mldv2 report. */
    public static final int TYPE_MLDV2_REPORT = 143;

    /** Destination unreachable code 0: no route. */
    public static final int CODE_NO_ROUTE = 0;
    /** Destination unreachable code 1: administratively prohibited. */
    public static final int CODE_ADMINISTRATIVELY_PROHIBITED = 1;
    /** Destination unreachable code 2: beyond scope. */
    public static final int CODE_BEYOND_SCOPE = 2;
    /** Destination unreachable code 3: address unreachable. */
    public static final int CODE_ADDRESS_UNREACHABLE = 3;
    /** Destination unreachable code 4: port unreachable. */
    public static final int CODE_PORT_UNREACHABLE = 4;
    /** Destination unreachable code 5: source policy failed. */
    public static final int CODE_SOURCE_POLICY_FAILED = 5;
    /** Destination unreachable code 6: reject route. */
    public static final int CODE_REJECT_ROUTE = 6;
    /** Time exceeded code 0: hop limit exceeded. */
    public static final int CODE_HOP_LIMIT_EXCEEDED = 0;
    /** Time exceeded code 1: reassembly time exceeded. */
    public static final int CODE_REASSEMBLY_TIME_EXCEEDED = 1;
    /** Parameter problem code 0: erroneous header field. */
    public static final int CODE_ERRONEOUS_HEADER_FIELD = 0;
    /** Parameter problem code 1: unrecognized next header. */
    public static final int CODE_UNRECOGNIZED_NEXT_HEADER = 1;
    /** Parameter problem code 2: unrecognized option. */
    public static final int CODE_UNRECOGNIZED_OPTION = 2;

    /** Most bytes of the invoking packet an error quotes: the minimum MTU less the IPv6 and ICMPv6 headers. */
    public static final int MAX_QUOTE = Ipv6.MIN_MTU - Ipv6.HEADER_LENGTH - HEADER_LENGTH;

    private static boolean header(ByteBuf buf, int off) {
        return Bounds.has(buf, off, HEADER_LENGTH);
    }

    /** Type; -1 if short. */
    public static int type(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedByte(off) : -1;
    }

    /** Code; -1 if short. */
    public static int code(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedByte(off + 1) : -1;
    }

    /** Checksum field; -1 if short. */
    public static int checksum(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off + 2) : -1;
    }

    /** The 32 bits after the checksum, unsigned; -1 if short. */
    public static long restOfHeader(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedInt(off + 4) : -1;
    }

    /** Echo identifier; -1 if short. */
    public static int echoIdentifier(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off + 4) : -1;
    }

    /** Echo sequence number; -1 if short. */
    public static int echoSequence(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off + 6) : -1;
    }

    /** MTU of a Packet Too Big message; -1 if short. */
    public static long mtu(ByteBuf buf, int off) {
        return restOfHeader(buf, off);
    }

    /** Pointer of a Parameter Problem message (offset into the invoking packet); -1 if short. */
    public static long pointer(ByteBuf buf, int off) {
        return restOfHeader(buf, off);
    }

    /** Whether {@code type} is an error message (types 0-127). */
    public static boolean isError(int type) {
        return type >= 0 && type < 128;
    }

    /** Absolute offset of the quoted invoking packet of an error at {@code off}; -1 if short or not an error. */
    public static int invokingPacketOffset(ByteBuf buf, int off) {
        return header(buf, off) && isError(buf.getUnsignedByte(off)) ? off + HEADER_LENGTH : -1;
    }

    /**
     * Validates an ICMPv6 message of {@code len} bytes at {@code off} against a pseudo-header sum
     * ({@link Checksums#pseudoHeaderV6} or {@link Ipv6#pseudoHeaderSum}).
     *
     * @return {@code len}, {@link WireError#TRUNCATED} (below 8 bytes or past {@code writerIndex()}) or
     *         {@link WireError#BAD_CHECKSUM}
     */
    public static int check(ByteBuf buf, int off, int len, long pseudoHeaderSum) {
        if (len < HEADER_LENGTH || !Bounds.has(buf, off, len)) {
            return WireError.TRUNCATED;
        }
        return Checksums.verify(buf, off, len, pseudoHeaderSum) ? len : WireError.BAD_CHECKSUM;
    }

    /**
     * Validates the IPv6 packet at {@code ipOff} ({@link Ipv6#check}) and the ICMPv6 message it carries.
     *
     * @return the ICMPv6 message length (the message starts at {@link Ipv6#upperLayerOffset}), a negative
     *         {@link WireError} from the checks, or {@link WireError#BAD_TYPE} if the upper layer is not ICMPv6 or
     *         the packet is a fragment (reassemble first)
     */
    public static int checkInPacket(ByteBuf buf, int ipOff) {
        int hl = Ipv6.check(buf, ipOff);
        if (hl < 0) {
            return hl;
        }
        if (Ipv6.upperLayerProtocol(buf, ipOff) != IpProtocol.ICMPV6 || Ipv6.fragmentHeaderOffset(buf, ipOff) >= 0) {
            return WireError.BAD_TYPE;
        }
        int len = Ipv6.HEADER_LENGTH + Ipv6.payloadLength(buf, ipOff) - hl;
        return check(buf, ipOff + hl, len, Ipv6.pseudoHeaderSum(buf, ipOff, IpProtocol.ICMPV6, len));
    }

    /**
     * Whether an ICMPv6 error of {@code type}/{@code code} may be sent about the packet at {@code ipOff}
     * (RFC 4443 §2.4(e)): never about an ICMPv6 error or a Redirect; not to a multicast destination except Packet
     * Too Big and Parameter Problem code 2; not when the source is unspecified, multicast or loopback. Link-layer
     * multicast/broadcast and rate limiting (§2.4(f)) are the caller's. When the extension header chain is
     * malformed the upper layer cannot be known and only the address rules apply (so a Parameter Problem can be
     * sent). False if the fixed header is short.
     */
    public static boolean isErrorAllowed(ByteBuf buf, int ipOff, int type, int code) {
        if (Ipv6.version(buf, ipOff) != 6) {
            return false;
        }
        long srcHi = Ipv6.srcHi(buf, ipOff);
        long srcLo = Ipv6.srcLo(buf, ipOff);
        if (Ip6.isUnspecified(srcHi, srcLo) || Ip6.isMulticast(srcHi) || Ip6.isLoopback(srcHi, srcLo)) {
            return false;
        }
        if (Ip6.isMulticast(Ipv6.dstHi(buf, ipOff))
                && type != TYPE_PACKET_TOO_BIG
                && !(type == TYPE_PARAMETER_PROBLEM && code == CODE_UNRECOGNIZED_OPTION)) {
            return false;
        }
        if (Ipv6.upperLayerProtocol(buf, ipOff) == IpProtocol.ICMPV6 && Ipv6.fragmentHeaderOffset(buf, ipOff) < 0) {
            int t = type(buf, Ipv6.upperLayerOffset(buf, ipOff));
            return t >= 0 && !isError(t) && t != TYPE_REDIRECT;
        }
        return true;
    }

    // ---- builders ----

    /**
     * Appends an ICMPv6 message at {@code out.writerIndex()} with its checksum computed over the pseudo-header of
     * the given addresses: type, code, the 32-bit {@code restOfHeader}, then {@code dataLen} bytes copied from
     * {@code data} (null for none; not released, indices not moved).
     *
     * @return the number of bytes written
     */
    public static int writeMessage(ByteBuf out, int type, int code, long restOfHeader, ByteBuf data, int dataOff,
                                   int dataLen, long srcHi, long srcLo, long dstHi, long dstLo) {
        int len = HEADER_LENGTH + (data == null ? 0 : dataLen);
        out.ensureWritable(len);
        int w = out.writerIndex();
        out.setByte(w, type);
        out.setByte(w + 1, code);
        out.setShort(w + 2, 0);
        out.setInt(w + 4, (int) restOfHeader);
        if (data != null && dataLen > 0) {
            out.setBytes(w + HEADER_LENGTH, data, dataOff, dataLen);
        }
        long ph = Checksums.pseudoHeaderV6(srcHi, srcLo, dstHi, dstLo, IpProtocol.ICMPV6, len);
        out.setShort(w + 2, Checksums.finish(Checksums.partial(out, w, len, ph)));
        out.writerIndex(w + len);
        return len;
    }

    /**
     * Fills in the checksum of an ICMPv6 message of {@code len} bytes at {@code off} in place, for builders that
     * write a body field by field (such as {@link Ndp}); returns the stored value.
     */
    public static int fillChecksum(ByteBuf buf, int off, int len, long srcHi, long srcLo, long dstHi, long dstLo) {
        buf.setShort(off + 2, 0);
        long ph = Checksums.pseudoHeaderV6(srcHi, srcLo, dstHi, dstLo, IpProtocol.ICMPV6, len);
        int ck = Checksums.finish(Checksums.partial(buf, off, len, ph));
        buf.setShort(off + 2, ck);
        return ck;
    }

    /**
     * Appends a complete IPv6 packet answering the echo request at {@code requestIpOff}: addresses swapped, hop
     * limit {@link Ipv6#DEFAULT_HOP_LIMIT}, traffic class and flow label 0, no extension headers, same identifier,
     * sequence and data. Replying to a multicast destination is the caller's decision: the reply's source is the
     * request's destination, so pass only requests to a unicast address of this node.
     *
     * @return bytes written, or a negative {@link WireError} (nothing written) if the request fails
     *         {@link #checkInPacket} or is not an echo request
     */
    public static int writeEchoReplyPacket(ByteBuf out, ByteBuf request, int requestIpOff) {
        int len = checkInPacket(request, requestIpOff);
        if (len < 0) {
            return len;
        }
        int icmp = Ipv6.upperLayerOffset(request, requestIpOff);
        if (request.getUnsignedByte(icmp) != TYPE_ECHO_REQUEST) {
            return WireError.BAD_TYPE;
        }
        long sHi = Ipv6.dstHi(request, requestIpOff);
        long sLo = Ipv6.dstLo(request, requestIpOff);
        long dHi = Ipv6.srcHi(request, requestIpOff);
        long dLo = Ipv6.srcLo(request, requestIpOff);
        Ipv6.writeHeader(out, 0, 0, len, IpProtocol.ICMPV6, Ipv6.DEFAULT_HOP_LIMIT, sHi, sLo, dHi, dLo);
        writeMessage(out, TYPE_ECHO_REPLY, 0, request.getUnsignedInt(icmp + 4), request, icmp + HEADER_LENGTH,
                len - HEADER_LENGTH, sHi, sLo, dHi, dLo);
        return Ipv6.HEADER_LENGTH + len;
    }

    /**
     * How many bytes of the invoking packet at {@code ipOff} an error quotes: what is present (bounded by
     * 40 + payload length and by {@code writerIndex()}) up to {@link #MAX_QUOTE}; -1 if its fixed header is short
     * or not version 6.
     */
    public static int quoteLength(ByteBuf invoking, int ipOff) {
        if (Ipv6.version(invoking, ipOff) != 6) {
            return -1;
        }
        int present = Math.min(Ipv6.HEADER_LENGTH + Ipv6.payloadLength(invoking, ipOff),
                invoking.writerIndex() - ipOff);
        return Math.min(present, MAX_QUOTE);
    }

    /**
     * Appends a complete IPv6 packet carrying an ICMPv6 error about the packet at {@code invokingIpOff}: to its
     * source, quoting as much of it as fits in the minimum MTU of 1280 bytes (RFC 4443 §2.4(c)). Call
     * {@link #isErrorAllowed} first.
     *
     * @param srcHi        source of the error (this node's address), high half
     * @param srcLo        low half
     * @param type         an error type (1-4)
     * @param code         the code
     * @param restOfHeader MTU for Packet Too Big, pointer for Parameter Problem, else 0
     * @param hopLimit     hop limit of the error packet
     * @return bytes written, or {@link WireError#TRUNCATED} with nothing written if the invoking fixed header is
     *         short or not IPv6
     */
    public static int writeErrorPacket(ByteBuf out, long srcHi, long srcLo, int type, int code, long restOfHeader,
                                       ByteBuf invoking, int invokingIpOff, int hopLimit) {
        int quote = quoteLength(invoking, invokingIpOff);
        if (quote < 0) {
            return WireError.TRUNCATED;
        }
        long dHi = Ipv6.srcHi(invoking, invokingIpOff);
        long dLo = Ipv6.srcLo(invoking, invokingIpOff);
        int len = HEADER_LENGTH + quote;
        Ipv6.writeHeader(out, 0, 0, len, IpProtocol.ICMPV6, hopLimit, srcHi, srcLo, dHi, dLo);
        writeMessage(out, type, code, restOfHeader, invoking, invokingIpOff, quote, srcHi, srcLo, dHi, dLo);
        return Ipv6.HEADER_LENGTH + len;
    }

    /** {@link #writeErrorPacket} for Time Exceeded, hop limit exceeded in transit, hop limit 64. */
    public static int writeTimeExceededPacket(ByteBuf out, long srcHi, long srcLo, ByteBuf invoking,
                                              int invokingIpOff) {
        return writeErrorPacket(out, srcHi, srcLo, TYPE_TIME_EXCEEDED, CODE_HOP_LIMIT_EXCEEDED, 0, invoking,
                invokingIpOff, Ipv6.DEFAULT_HOP_LIMIT);
    }

    /** {@link #writeErrorPacket} for Destination Unreachable with {@code code}, hop limit 64. */
    public static int writeDestinationUnreachablePacket(ByteBuf out, long srcHi, long srcLo, int code,
                                                        ByteBuf invoking, int invokingIpOff) {
        return writeErrorPacket(out, srcHi, srcLo, TYPE_DESTINATION_UNREACHABLE, code, 0, invoking, invokingIpOff,
                Ipv6.DEFAULT_HOP_LIMIT);
    }

    /** {@link #writeErrorPacket} for Packet Too Big with the next-hop {@code mtu}, hop limit 64. */
    public static int writePacketTooBigPacket(ByteBuf out, long srcHi, long srcLo, long mtu, ByteBuf invoking,
                                              int invokingIpOff) {
        return writeErrorPacket(out, srcHi, srcLo, TYPE_PACKET_TOO_BIG, 0, mtu, invoking, invokingIpOff,
                Ipv6.DEFAULT_HOP_LIMIT);
    }
}

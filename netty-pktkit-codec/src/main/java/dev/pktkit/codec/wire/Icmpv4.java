package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * View, validator and builders for ICMP for IPv4 (RFC 792, with RFC 1812 §4.3 for routers).
 *
 * <pre>
 *  0        1        2                 4
 * | type   | code   | checksum        |
 * | rest of header (echo: identifier, sequence; unreachable/4: unused, next-hop MTU; ...) |
 * | data (echo payload, or the invoking packet of an error) ...                            |
 * </pre>
 *
 * <p>{@code off} is the absolute index of the ICMP header; the message length comes from the IPv4 header
 * ({@link Ipv4#payloadLength}). Accessors need the 8-byte header within {@code [0, writerIndex())} and return -1
 * otherwise.
 */
public final class Icmpv4 {
    private Icmpv4() {
    }

    /** Length of the ICMP header (type, code, checksum, rest of header). */
    public static final int HEADER_LENGTH = 8;
    /**
     * Largest IPv4 datagram an error message may be (RFC 1812 §4.3.2.3: quote as much of the invoking packet as
     * fits without the ICMP datagram exceeding 576 bytes).
     */
    public static final int MAX_ERROR_DATAGRAM = 576;
    /** TOS of error messages: precedence 6, internetwork control (RFC 1812 §4.3.2.5), as Linux sends them. */
    public static final int ERROR_TOS = 0xC0;

    /** ICMP type 0: echo reply. */
    public static final int TYPE_ECHO_REPLY = 0;
    /** ICMP type 3: destination unreachable. */
    public static final int TYPE_DESTINATION_UNREACHABLE = 3;
    /** ICMP type 4: source quench. */
    public static final int TYPE_SOURCE_QUENCH = 4;
    /** ICMP type 5: redirect. */
    public static final int TYPE_REDIRECT = 5;
    /** ICMP type 8: echo request. */
    public static final int TYPE_ECHO_REQUEST = 8;
    /** ICMP type 9: router advertisement. */
    public static final int TYPE_ROUTER_ADVERTISEMENT = 9;
    /** ICMP type 10: router solicitation. */
    public static final int TYPE_ROUTER_SOLICITATION = 10;
    /** ICMP type 11: time exceeded. */
    public static final int TYPE_TIME_EXCEEDED = 11;
    /** ICMP type 12: parameter problem. */
    public static final int TYPE_PARAMETER_PROBLEM = 12;
    /** ICMP type 13: timestamp. */
    public static final int TYPE_TIMESTAMP = 13;
    /** ICMP type 14: timestamp reply. */
    public static final int TYPE_TIMESTAMP_REPLY = 14;

    /** Destination unreachable code 0: net unreachable. */
    public static final int CODE_NET_UNREACHABLE = 0;
    /** Destination unreachable code 1: host unreachable. */
    public static final int CODE_HOST_UNREACHABLE = 1;
    /** Destination unreachable code 2: protocol unreachable. */
    public static final int CODE_PROTOCOL_UNREACHABLE = 2;
    /** Destination unreachable code 3: port unreachable. */
    public static final int CODE_PORT_UNREACHABLE = 3;
    /**
     * Destination unreachable code 4: fragmentation needed and DF set; the rest of header carries the next-hop MTU
     * (RFC 1191).
     */
    public static final int CODE_FRAGMENTATION_NEEDED = 4;
    /** Destination unreachable code 5: source route failed. */
    public static final int CODE_SOURCE_ROUTE_FAILED = 5;
    /** Destination unreachable code 6: net unknown. */
    public static final int CODE_NET_UNKNOWN = 6;
    /** Destination unreachable code 7: host unknown. */
    public static final int CODE_HOST_UNKNOWN = 7;
    /** Destination unreachable code 9: net prohibited. */
    public static final int CODE_NET_PROHIBITED = 9;
    /** Destination unreachable code 10: host prohibited. */
    public static final int CODE_HOST_PROHIBITED = 10;
    /** Destination unreachable code 13: communication prohibited. */
    public static final int CODE_COMMUNICATION_PROHIBITED = 13;
    /** Time exceeded code 0: ttl exceeded. */
    public static final int CODE_TTL_EXCEEDED = 0;
    /** Time exceeded code 1: reassembly time exceeded. */
    public static final int CODE_REASSEMBLY_TIME_EXCEEDED = 1;

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

    /** The 32-bit rest of header; -1 if short. */
    public static long restOfHeader(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedInt(off + 4) : -1;
    }

    /** Echo identifier (echo request/reply); -1 if short. */
    public static int echoIdentifier(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off + 4) : -1;
    }

    /** Echo sequence number (echo request/reply); -1 if short. */
    public static int echoSequence(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off + 6) : -1;
    }

    /** Next-hop MTU of a "fragmentation needed" message (RFC 1191); -1 if short. */
    public static int nextHopMtu(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedShort(off + 6) : -1;
    }

    /** Pointer octet of a parameter problem message; -1 if short. */
    public static int pointer(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getUnsignedByte(off + 4) : -1;
    }

    /** Gateway address of a redirect message; 0 if short. */
    public static int gateway(ByteBuf buf, int off) {
        return header(buf, off) ? buf.getInt(off + 4) : 0;
    }

    /** Whether {@code type} is an error message type (3, 4, 5, 11, 12), which quotes an invoking packet. */
    public static boolean isError(int type) {
        return type == TYPE_DESTINATION_UNREACHABLE || type == TYPE_SOURCE_QUENCH || type == TYPE_REDIRECT
                || type == TYPE_TIME_EXCEEDED || type == TYPE_PARAMETER_PROBLEM;
    }

    /**
     * Absolute offset of the invoking packet's IPv4 header quoted by an error message at {@code off}; -1 if the
     * message is short or not an error.
     */
    public static int invokingPacketOffset(ByteBuf buf, int off) {
        return header(buf, off) && isError(buf.getUnsignedByte(off)) ? off + HEADER_LENGTH : -1;
    }

    /**
     * Validates an ICMP message of {@code len} bytes at {@code off}.
     *
     * @return {@code len}, or {@link WireError#TRUNCATED} (len below 8 or past {@code writerIndex()}) or
     *         {@link WireError#BAD_CHECKSUM}
     */
    public static int check(ByteBuf buf, int off, int len) {
        if (len < HEADER_LENGTH || !Bounds.has(buf, off, len)) {
            return WireError.TRUNCATED;
        }
        return Checksums.verify(buf, off, len, 0) ? len : WireError.BAD_CHECKSUM;
    }

    /**
     * Validates the IPv4 packet at {@code ipOff} ({@link Ipv4#check}) and the ICMP message it carries.
     *
     * @return the ICMP message length (the message starts at {@link Ipv4#payloadOffset}), or a negative
     *         {@link WireError} from {@link Ipv4#check} or {@link #check}, or {@link WireError#BAD_TYPE} when the
     *         protocol is not ICMP or the packet is a fragment (reassemble first: a fragment's checksum cannot be
     *         verified)
     */
    public static int checkInPacket(ByteBuf buf, int ipOff) {
        int hl = Ipv4.check(buf, ipOff);
        if (hl < 0) {
            return hl;
        }
        if (Ipv4.protocol(buf, ipOff) != IpProtocol.ICMP || Ipv4.isFragment(buf, ipOff)) {
            return WireError.BAD_TYPE;
        }
        return check(buf, ipOff + hl, Ipv4.totalLength(buf, ipOff) - hl);
    }

    /**
     * Whether a router or host may send an ICMP error about the IPv4 packet at {@code ipOff} (RFC 1812 §4.3.2.7,
     * RFC 1122 §3.2.2): not about an ICMP error message, not about a fragment other than the first, not when the
     * packet went to a multicast or limited broadcast address, and not when its source is not a unicast host
     * (0/8, 127/8, multicast, class E or broadcast). Directed broadcasts and link-layer broadcasts are for the
     * caller to rule out. False if the header is short or malformed. Rate limiting is also the caller's.
     */
    public static boolean isErrorAllowed(ByteBuf buf, int ipOff) {
        int p = Ipv4.payloadOffset(buf, ipOff);
        if (p < 0 || Ipv4.version(buf, ipOff) != 4) {
            return false;
        }
        if (Ipv4.fragmentOffset(buf, ipOff) != 0) {
            return false;
        }
        int dst = Ipv4.dst(buf, ipOff);
        if (Ip4.isMulticast(dst) || dst == Ip4.BROADCAST) {
            return false;
        }
        int src = Ipv4.src(buf, ipOff);
        if ((src >>> 24) == 0 || Ip4.isLoopback(src) || (src >>> 28) >= 0xE) {
            return false; // "this network" 0/8, loopback, multicast (224/4), class E (240/4, 255.255.255.255 too)
        }
        if (Ipv4.protocol(buf, ipOff) == IpProtocol.ICMP) {
            int t = type(buf, p);
            if (t < 0 || isError(t)) {
                return false; // short ICMP header: cannot tell, so stay quiet
            }
        }
        return true;
    }

    // ---- builders ----

    /**
     * Appends an ICMP echo request or reply with checksum at {@code out.writerIndex()}.
     *
     * @param type      {@link #TYPE_ECHO_REQUEST} or {@link #TYPE_ECHO_REPLY}
     * @param data      buffer holding the echo data, or null for none; {@code dataLen} bytes at {@code dataOff}
     *                  are copied, its indices are not moved and it is not released
     * @return the number of bytes written, 8 + {@code dataLen}
     */
    public static int writeEcho(ByteBuf out, int type, int identifier, int sequence, ByteBuf data, int dataOff,
                                int dataLen) {
        return writeMessage(out, type, 0, ((long) identifier & 0xFFFF) << 16 | (sequence & 0xFFFF), data, dataOff,
                data == null ? 0 : dataLen);
    }

    /**
     * Appends an ICMP message of any type with checksum at {@code out.writerIndex()}: type, code, the 32-bit
     * {@code restOfHeader}, then {@code dataLen} bytes copied from {@code data} (null for none).
     *
     * @return the number of bytes written
     */
    public static int writeMessage(ByteBuf out, int type, int code, long restOfHeader, ByteBuf data, int dataOff,
                                   int dataLen) {
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
        out.setShort(w + 2, Checksums.internet(out, w, len));
        out.writerIndex(w + len);
        return len;
    }

    /**
     * Appends a complete IPv4 packet answering the echo request at {@code requestIpOff}: addresses swapped, TTL
     * {@link Ipv4#DEFAULT_TTL}, no IP options, same identifier, sequence and data.
     *
     * @param identification IPv4 identification of the reply
     * @return bytes written, or a negative {@link WireError} if the request does not pass {@link #checkInPacket}
     *         or is not an echo request (then nothing is written)
     */
    public static int writeEchoReplyPacket(ByteBuf out, ByteBuf request, int requestIpOff, int identification) {
        int len = checkInPacket(request, requestIpOff);
        if (len < 0) {
            return len;
        }
        int icmp = Ipv4.payloadOffset(request, requestIpOff);
        if (request.getUnsignedByte(icmp) != TYPE_ECHO_REQUEST) {
            return WireError.BAD_TYPE;
        }
        Ipv4.writeHeader(out, Ipv4.dst(request, requestIpOff), Ipv4.src(request, requestIpOff), IpProtocol.ICMP,
                Ipv4.DEFAULT_TTL, len, identification, false);
        writeMessage(out, TYPE_ECHO_REPLY, 0, request.getUnsignedInt(icmp + 4), request, icmp + HEADER_LENGTH,
                len - HEADER_LENGTH);
        return Ipv4.MIN_HEADER_LENGTH + len;
    }

    /**
     * How many bytes of the invoking packet at {@code ipOff} an error message quotes: as much as is present
     * (bounded by its total length and by {@code writerIndex()}) up to {@code max}, or -1 if its header is short
     * or malformed (IHL &lt; 5, version not 4).
     */
    public static int quoteLength(ByteBuf invoking, int ipOff, int max) {
        int p = Ipv4.payloadOffset(invoking, ipOff);
        if (p < 0 || Ipv4.version(invoking, ipOff) != 4) {
            return -1;
        }
        int present = Math.min(Ipv4.totalLength(invoking, ipOff), invoking.writerIndex() - ipOff);
        present = Math.max(present, p - ipOff); // a bogus total length below IHL: still quote the header
        return Math.min(present, max);
    }

    /**
     * Appends a complete IPv4 packet carrying an ICMP error about the packet at {@code invokingIpOff}: to its
     * source, TOS {@link #ERROR_TOS}, TTL {@link Ipv4#DEFAULT_TTL}, quoting the invoking packet's header and as much
     * of its data as keeps the datagram within {@link #MAX_ERROR_DATAGRAM} bytes (RFC 1812 §4.3.2.3; at least
     * the 8 bytes RFC 792 asks for when they exist). Call {@link #isErrorAllowed} first.
     *
     * @param src            source address of the error (the router's or host's address)
     * @param type           an error type
     * @param code           the code
     * @param restOfHeader   32 bits after the checksum (next-hop MTU for {@link #CODE_FRAGMENTATION_NEEDED},
     *                       pointer &lt;&lt; 24 for parameter problem, gateway for redirect, else 0)
     * @param identification IPv4 identification of the error datagram
     * @return bytes written, or -1 ({@link WireError#TRUNCATED}) with nothing written if the invoking header is
     *         short or malformed
     */
    public static int writeErrorPacket(ByteBuf out, int src, int type, int code, long restOfHeader,
                                       ByteBuf invoking, int invokingIpOff, int identification) {
        int quote = quoteLength(invoking, invokingIpOff,
                MAX_ERROR_DATAGRAM - Ipv4.MIN_HEADER_LENGTH - HEADER_LENGTH);
        if (quote < 0) {
            return WireError.TRUNCATED;
        }
        int icmpLen = HEADER_LENGTH + quote;
        Ipv4.writeHeader(out, ERROR_TOS, identification, 0, Ipv4.DEFAULT_TTL, IpProtocol.ICMP, src,
                Ipv4.src(invoking, invokingIpOff), null, 0, 0, icmpLen);
        writeMessage(out, type, code, restOfHeader, invoking, invokingIpOff, quote);
        return Ipv4.MIN_HEADER_LENGTH + icmpLen;
    }

    /** {@link #writeErrorPacket} for Time Exceeded, TTL exceeded in transit. */
    public static int writeTimeExceededPacket(ByteBuf out, int src, ByteBuf invoking, int invokingIpOff,
                                              int identification) {
        return writeErrorPacket(out, src, TYPE_TIME_EXCEEDED, CODE_TTL_EXCEEDED, 0, invoking, invokingIpOff,
                identification);
    }

    /**
     * {@link #writeErrorPacket} for Destination Unreachable with {@code code}; {@code nextHopMtu} is used only
     * with {@link #CODE_FRAGMENTATION_NEEDED}.
     */
    public static int writeDestinationUnreachablePacket(ByteBuf out, int src, int code, int nextHopMtu,
                                                        ByteBuf invoking, int invokingIpOff, int identification) {
        long rest = code == CODE_FRAGMENTATION_NEEDED ? nextHopMtu & 0xFFFF : 0;
        return writeErrorPacket(out, src, TYPE_DESTINATION_UNREACHABLE, code, rest, invoking, invokingIpOff,
                identification);
    }
}

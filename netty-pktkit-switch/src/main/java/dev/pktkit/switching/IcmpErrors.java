package dev.pktkit.switching;

import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * The ICMP and ICMPv6 errors an {@link L3Hub} in router mode sends: Time Exceeded (in transit) and Destination
 * Unreachable (no route), sourced from the configured router addresses. Whether an error may be sent at all (not
 * about an error, a non-first fragment, a multicast destination or a non-unicast source) is the wire layer's
 * {@link Icmpv4#isErrorAllowed} / {@link Icmpv6#isErrorAllowed}; rate limiting is the port's.
 */
final class IcmpErrors {
    private final boolean hasV4;
    private final int routerV4;
    private final boolean hasV6;
    private final long routerV6Hi;
    private final long routerV6Lo;

    IcmpErrors(Inet4Address v4, Inet6Address v6) {
        hasV4 = v4 != null;
        routerV4 = v4 == null ? 0 : Ip4.of(v4);
        hasV6 = v6 != null;
        routerV6Hi = v6 == null ? 0 : Ip6.hi(v6);
        routerV6Lo = v6 == null ? 0 : Ip6.lo(v6);
    }

    /**
     * Time Exceeded about {@code invoking} (not consumed), or null when none may be sent.
     *
     * @param id IPv4 identification for the error datagram (the ingress port counts them)
     */
    ByteBuf timeExceeded(ByteBuf invoking, ByteBufAllocator alloc, int id) {
        return error(invoking, alloc, Icmpv4.TYPE_TIME_EXCEEDED, Icmpv6.TYPE_TIME_EXCEEDED, id);
    }

    /** Destination Unreachable (no route) about {@code invoking} (not consumed), or null. */
    ByteBuf destinationUnreachable(ByteBuf invoking, ByteBufAllocator alloc, int id) {
        return error(invoking, alloc, Icmpv4.TYPE_DESTINATION_UNREACHABLE, Icmpv6.TYPE_DESTINATION_UNREACHABLE, id);
    }

    /**
     * ICMP Destination Unreachable "fragmentation needed and DF set" (IPv4, next-hop MTU {@code mtu}, RFC 1191
     * §4) or ICMPv6 Packet Too Big (RFC 4443 §3.2) about {@code invoking} (not consumed), or null.
     */
    ByteBuf packetTooBig(ByteBuf in, ByteBufAllocator alloc, int id, int mtu) {
        int off = in.readerIndex();
        if ((in.getUnsignedByte(off) >>> 4) == 4) {
            if (!hasV4 || !Icmpv4.isErrorAllowed(in, off)) {
                return null;
            }
            ByteBuf out = alloc.buffer(Icmpv4.MAX_ERROR_DATAGRAM);
            return written(out, Icmpv4.writeDestinationUnreachablePacket(out, routerV4,
                    Icmpv4.CODE_FRAGMENTATION_NEEDED, mtu, in, off, id));
        }
        if (!hasV6 || !Icmpv6.isErrorAllowed(in, off, Icmpv6.TYPE_PACKET_TOO_BIG, 0)) {
            return null;
        }
        ByteBuf out = alloc.buffer(1280);
        return written(out, Icmpv6.writePacketTooBigPacket(out, routerV6Hi, routerV6Lo, mtu, in, off));
    }

    private ByteBuf error(ByteBuf in, ByteBufAllocator alloc, int type4, int type6, int id) {
        int off = in.readerIndex();
        int version = in.getUnsignedByte(off) >>> 4;
        if (version == 4) {
            if (!hasV4 || !Icmpv4.isErrorAllowed(in, off)) {
                return null;
            }
            ByteBuf out = alloc.buffer(Icmpv4.MAX_ERROR_DATAGRAM);
            int n = type4 == Icmpv4.TYPE_TIME_EXCEEDED
                    ? Icmpv4.writeTimeExceededPacket(out, routerV4, in, off, id)
                    : Icmpv4.writeDestinationUnreachablePacket(out, routerV4, Icmpv4.CODE_NET_UNREACHABLE, 0,
                    in, off, id);
            return written(out, n);
        }
        int code6 = type6 == Icmpv6.TYPE_TIME_EXCEEDED ? Icmpv6.CODE_HOP_LIMIT_EXCEEDED : Icmpv6.CODE_NO_ROUTE;
        if (!hasV6 || !Icmpv6.isErrorAllowed(in, off, type6, code6)) {
            return null;
        }
        ByteBuf out = alloc.buffer(1280);
        int n = type6 == Icmpv6.TYPE_TIME_EXCEEDED
                ? Icmpv6.writeTimeExceededPacket(out, routerV6Hi, routerV6Lo, in, off)
                : Icmpv6.writeDestinationUnreachablePacket(out, routerV6Hi, routerV6Lo, Icmpv6.CODE_NO_ROUTE, in, off);
        return written(out, n);
    }

    private static ByteBuf written(ByteBuf out, int n) {
        if (n < 0) {
            out.release();
            return null;
        }
        return out;
    }
}

package dev.pktkit.switching;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * Builds the ICMP and ICMPv6 errors an {@link L3Hub} in router mode sends: Time Exceeded (in transit) and
 * Destination Unreachable (no route). Follows the rules that keep errors from multiplying:
 * no error about an ICMP error, about a non-first fragment, about a broadcast/multicast destination or source, or
 * about an unspecified source (RFC 1812 §4.3.2.7, RFC 4443 §2.4 (e)).
 */
final class IcmpErrors {
    /** IPv4 errors quote up to this much of the invoking packet (RFC 1812: as much as fits in 576 bytes). */
    private static final int V4_QUOTE_MAX = 576 - 20 - 8;
    /** IPv6 errors quote as much as fits in the minimum MTU (RFC 4443 §2.4 (c)). */
    private static final int V6_QUOTE_MAX = 1280 - 40 - 8;

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

    ByteBuf timeExceeded(ByteBuf invoking, ByteBufAllocator alloc) {
        return error(invoking, alloc, 11, 0, 3, 0);
    }

    ByteBuf destinationUnreachable(ByteBuf invoking, ByteBufAllocator alloc) {
        return error(invoking, alloc, 3, 0, 1, 0);
    }

    /** The error for {@code invoking} (not consumed), or null when none may be sent. */
    private ByteBuf error(ByteBuf invoking, ByteBufAllocator alloc, int type4, int code4, int type6, int code6) {
        int off = invoking.readerIndex();
        int version = invoking.getUnsignedByte(off) >>> 4;
        return version == 4 ? error4(invoking, off, alloc, type4, code4) : error6(invoking, off, alloc, type6, code6);
    }

    private ByteBuf error4(ByteBuf in, int off, ByteBufAllocator alloc, int type, int code) {
        if (!hasV4) {
            return null;
        }
        int ihl = (in.getUnsignedByte(off) & 0x0F) << 2;
        int total = Math.min(in.getUnsignedShort(off + 2), in.readableBytes());
        int src = in.getInt(off + 12);
        int dst = in.getInt(off + 16);
        if (src == 0 || src == -1 || (src >>> 28) == 0xE || (src >>> 24) == 127
                || dst == -1 || (dst >>> 28) == 0xE) {
            return null;
        }
        if ((in.getUnsignedShort(off + 6) & 0x1FFF) != 0) {
            return null; // not the first fragment
        }
        if (in.getUnsignedByte(off + 9) == 1 && total >= ihl + 1) {
            int t = in.getUnsignedByte(off + ihl);
            if (t != 0 && t != 8 && t != 13 && t != 15 && t != 17) {
                return null; // an ICMP error (or unknown type): never answer with another error
            }
        }
        int quote = Math.min(total, V4_QUOTE_MAX);
        int length = 20 + 8 + quote;
        ByteBuf out = alloc.buffer(length);
        int ip = out.writerIndex();
        out.writeByte(0x45).writeByte(0xC0) // internetwork control precedence, as routers send errors
                .writeShort(length).writeShort(0).writeShort(0)
                .writeByte(64).writeByte(1).writeShort(0)
                .writeInt(routerV4).writeInt(src);
        out.setShort(ip + 10, Checksums.internet(out, ip, 20));
        int icmp = out.writerIndex();
        out.writeByte(type).writeByte(code).writeShort(0).writeInt(0);
        out.writeBytes(in, off, quote);
        out.setShort(icmp + 2, Checksums.internet(out, icmp, 8 + quote));
        return out;
    }

    private ByteBuf error6(ByteBuf in, int off, ByteBufAllocator alloc, int type, int code) {
        if (!hasV6) {
            return null;
        }
        long srcHi = in.getLong(off + 8);
        long srcLo = in.getLong(off + 16);
        long dstHi = in.getLong(off + 24);
        if ((srcHi == 0 && srcLo == 0) || (srcHi >>> 56) == 0xFF || (dstHi >>> 56) == 0xFF) {
            return null;
        }
        int next = in.getUnsignedByte(off + 6);
        if (next == 58 && in.readableBytes() > 40 && in.getUnsignedByte(off + 40) < 128) {
            return null; // an ICMPv6 error message (types 0..127)
        }
        int quote = Math.min(in.readableBytes(), V6_QUOTE_MAX);
        int upper = 8 + quote;
        ByteBuf out = alloc.buffer(40 + upper);
        out.writeInt(0x6000_0000).writeShort(upper).writeByte(58).writeByte(64)
                .writeLong(routerV6Hi).writeLong(routerV6Lo).writeLong(srcHi).writeLong(srcLo);
        int icmp = out.writerIndex();
        out.writeByte(type).writeByte(code).writeShort(0).writeInt(0);
        out.writeBytes(in, off, quote);
        long sum = Checksums.pseudoHeaderV6(routerV6Hi, routerV6Lo, srcHi, srcLo, 58, upper);
        out.setShort(icmp + 2, Checksums.finish(Checksums.partial(out, icmp, upper, sum)));
        return out;
    }
}

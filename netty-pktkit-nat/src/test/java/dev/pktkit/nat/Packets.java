package dev.pktkit.nat;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** Test packets built with the codec's builders, and checks over them. */
public final class Packets {
    private Packets() {
    }

    public static int ip(String s) {
        return Ip4.parse(s);
    }

    public static ByteBuf udp(String src, int sport, String dst, int dport, int payloadLength) {
        return udp(ip(src), sport, ip(dst), dport, payloadLength, false);
    }

    public static ByteBuf udp(int src, int sport, int dst, int dport, int payloadLength, boolean df) {
        ByteBuf payload = Unpooled.buffer(payloadLength);
        for (int i = 0; i < payloadLength; i++) {
            payload.writeByte(i * 7 + 3);
        }
        ByteBuf b = Unpooled.buffer(28 + payloadLength);
        Ipv4.writeHeader(b, src, dst, IpProtocol.UDP, 64, 8 + payloadLength, 0x1234, df);
        Udp.writeDatagramV4(b, src, dst, sport, dport, payload, 0, payloadLength);
        payload.release();
        return b;
    }

    public static ByteBuf tcp(String src, int sport, String dst, int dport, int flags) {
        return tcp(ip(src), sport, ip(dst), dport, flags, 0);
    }

    public static ByteBuf tcp(int src, int sport, int dst, int dport, int flags, int payloadLength) {
        ByteBuf b = Unpooled.buffer(40 + payloadLength);
        Ipv4.writeHeader(b, src, dst, IpProtocol.TCP, 64, 20 + payloadLength, 1, true);
        int t = b.writerIndex();
        Tcp.writeHeader(b, sport, dport, 1000, (flags & Tcp.ACK) != 0 ? 2000 : 0, flags, 65535, 0, null, 0, 0);
        for (int i = 0; i < payloadLength; i++) {
            b.writeByte(i);
        }
        Tcp.fillChecksumV4(b, t, 20 + payloadLength, src, dst);
        return b;
    }

    public static ByteBuf echo(String src, String dst, int type, int id, int seq) {
        ByteBuf b = Unpooled.buffer(64);
        Ipv4.writeHeader(b, ip(src), ip(dst), IpProtocol.ICMP, 64, 8 + 16, 7, false);
        ByteBuf data = Unpooled.buffer(16).writeZero(16);
        Icmpv4.writeEcho(b, type, id, seq, data, 0, 16);
        data.release();
        return b;
    }

    /** An ICMP error from {@code src} about {@code invoking} (not released), quoting it whole. */
    public static ByteBuf icmpError(String src, int type, int code, ByteBuf invoking) {
        return icmpError(src, type, code, 0, invoking);
    }

    /** {@link #icmpError(String, int, int, ByteBuf)} with the ICMP header's second word {@code rest}. */
    public static ByteBuf icmpError(String src, int type, int code, int rest, ByteBuf invoking) {
        ByteBuf b = Unpooled.buffer(64 + invoking.readableBytes());
        int n = invoking.readableBytes();
        Ipv4.writeHeader(b, ip(src), Ipv4.src(invoking, invoking.readerIndex()), IpProtocol.ICMP, 64, 8 + n, 9,
                false);
        Icmpv4.writeMessage(b, type, code, rest, invoking, invoking.readerIndex(), n);
        return b;
    }

    public static int src(ByteBuf b) {
        return Ipv4.src(b, b.readerIndex());
    }

    public static int dst(ByteBuf b) {
        return Ipv4.dst(b, b.readerIndex());
    }

    public static int l4(ByteBuf b) {
        return Ipv4.payloadOffset(b, b.readerIndex());
    }

    public static int sport(ByteBuf b) {
        return b.getUnsignedShort(l4(b));
    }

    public static int dport(ByteBuf b) {
        return b.getUnsignedShort(l4(b) + 2);
    }

    public static int icmpId(ByteBuf b) {
        return b.getUnsignedShort(l4(b) + 4);
    }

    /** Whether the IPv4 header checksum and the TCP/UDP/ICMP checksum of the whole packet verify. */
    public static boolean checksumsOk(ByteBuf b) {
        int off = b.readerIndex();
        if (Ipv4.check(b, off, true) < 0) {
            return false;
        }
        return switch (Ipv4.protocol(b, off)) {
            case IpProtocol.TCP -> Tcp.checkInPacket(b, off) >= 0;
            case IpProtocol.UDP -> Udp.checkInPacket(b, off) >= 0;
            case IpProtocol.ICMP -> Icmpv4.checkInPacket(b, off) >= 0;
            default -> true;
        };
    }

    /** Whether the embedded packet of an ICMP error has a valid IP header checksum and, if UDP, a valid UDP one. */
    public static boolean embeddedOk(ByteBuf b) {
        int e = l4(b) + 8;
        if (!Checksums.verify(b, e, 20, 0)) {
            return false;
        }
        if (b.getUnsignedByte(e + 9) == IpProtocol.UDP) {
            int len = b.getUnsignedShort(e + 2) - 20;
            long ph = Checksums.pseudoHeaderV4(b.getInt(e + 12), b.getInt(e + 16), IpProtocol.UDP, len);
            return Checksums.verify(b, e + 20, len, ph);
        }
        return true;
    }
}

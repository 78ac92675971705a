package dev.pktkit.vtcp.host;

import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

/** Test packets built with the codec's writers. */
final class Packets {
    private Packets() {
    }

    static int v4(String a) {
        return Ip4.parse(a);
    }

    static ByteBuf udp4(String src, int sport, String dst, int dport, String payload) {
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        ByteBuf data = Unpooled.wrappedBuffer(p);
        ByteBuf b = Unpooled.buffer();
        Ipv4.writeHeader(b, v4(src), v4(dst), IpProtocol.UDP, 64, Udp.HEADER_LENGTH + p.length, 1, false);
        Udp.writeDatagramV4(b, v4(src), v4(dst), sport, dport, data, 0, p.length);
        data.release();
        return b;
    }

    static ByteBuf udp6(String src, int sport, String dst, int dport, String payload) {
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        ByteBuf data = Unpooled.wrappedBuffer(p);
        ByteBuf b = Unpooled.buffer();
        long sh = Ip6.parseHi(src);
        long sl = Ip6.parseLo(src);
        long dh = Ip6.parseHi(dst);
        long dl = Ip6.parseLo(dst);
        Ipv6.writeHeader(b, 0, 0, Udp.HEADER_LENGTH + p.length, IpProtocol.UDP, 64, sh, sl, dh, dl);
        Udp.writeDatagramV6(b, sh, sl, dh, dl, sport, dport, data, 0, p.length);
        data.release();
        return b;
    }

    static ByteBuf ping4(String src, String dst, int id, int seq) {
        ByteBuf data = Unpooled.buffer(8).writeLong(0x0102030405060708L);
        ByteBuf b = Unpooled.buffer();
        Ipv4.writeHeader(b, v4(src), v4(dst), IpProtocol.ICMP, 64, Icmpv4.HEADER_LENGTH + 8, 2, false);
        Icmpv4.writeEcho(b, Icmpv4.TYPE_ECHO_REQUEST, id, seq, data, 0, 8);
        data.release();
        return b;
    }

    static ByteBuf ping6(String src, String dst, int id, int seq) {
        long sh = Ip6.parseHi(src);
        long sl = Ip6.parseLo(src);
        long dh = Ip6.parseHi(dst);
        long dl = Ip6.parseLo(dst);
        ByteBuf b = Unpooled.buffer();
        Ipv6.writeHeader(b, 0, 0, 16, IpProtocol.ICMPV6, 64, sh, sl, dh, dl);
        int icmp = b.writerIndex();
        b.writeByte(Icmpv6.TYPE_ECHO_REQUEST).writeByte(0).writeShort(0).writeShort(id).writeShort(seq)
                .writeLong(0x1122334455667788L);
        Icmpv6.fillChecksum(b, icmp, 16, sh, sl, dh, dl);
        return b;
    }

    static ByteBuf tcp4(String src, int sport, String dst, int dport, long seq, long ack, int flags) {
        ByteBuf b = Unpooled.buffer();
        Ipv4.writeHeader(b, v4(src), v4(dst), IpProtocol.TCP, 64, Tcp.MIN_HEADER_LENGTH, 3, true);
        int t = b.writerIndex();
        Tcp.writeHeader(b, sport, dport, seq, ack, flags, 65535, 0, null, 0, 0);
        Tcp.fillChecksumV4(b, t, Tcp.MIN_HEADER_LENGTH, v4(src), v4(dst));
        return b;
    }

    static ByteBuf rawIp4(String src, String dst, int protocol, int payloadLen) {
        ByteBuf b = Unpooled.buffer();
        Ipv4.writeHeader(b, v4(src), v4(dst), protocol, 64, payloadLen, 4, false);
        b.writeZero(payloadLen);
        return b;
    }
}

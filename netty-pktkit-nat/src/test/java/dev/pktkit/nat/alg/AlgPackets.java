package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

/** Test packets with payload for the ALG tests, and checks over them. */
final class AlgPackets {
    private AlgPackets() {
    }

    static int ip(String s) {
        return Ip4.parse(s);
    }

    static ByteBuf tcp(String src, int sport, String dst, int dport, long seq, long ack, int flags, byte[] options,
                       String payload) {
        return tcp(src, sport, dst, dport, seq, ack, flags, options, payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    static ByteBuf tcp(String src, int sport, String dst, int dport, long seq, long ack, int flags, byte[] options,
                       byte[] payload) {
        int optLen = options == null ? 0 : (options.length + 3) & ~3;
        ByteBuf b = Unpooled.buffer(60 + optLen + payload.length);
        Ipv4.writeHeader(b, ip(src), ip(dst), IpProtocol.TCP, 64, 20 + optLen + payload.length, 1, true);
        int t = b.writerIndex();
        ByteBuf opts = options == null ? null : Unpooled.wrappedBuffer(options);
        Tcp.writeHeader(b, sport, dport, seq, ack, flags, 65535, 0, opts, 0, options == null ? 0 : options.length);
        b.writeBytes(payload);
        Tcp.fillChecksumV4(b, t, 20 + optLen + payload.length, ip(src), ip(dst));
        return b;
    }

    static ByteBuf udp(String src, int sport, String dst, int dport, byte[] payload) {
        ByteBuf p = Unpooled.wrappedBuffer(payload);
        ByteBuf b = Unpooled.buffer(28 + payload.length);
        Ipv4.writeHeader(b, ip(src), ip(dst), IpProtocol.UDP, 64, 8 + payload.length, 0x1234, false);
        Udp.writeDatagramV4(b, ip(src), ip(dst), sport, dport, p, 0, payload.length);
        p.release();
        return b;
    }

    /** A SACK option (kind 5) with the given (left, right) edges. */
    static byte[] sack(long... edges) {
        byte[] o = new byte[2 + 2 + edges.length * 4];
        o[0] = 1;
        o[1] = 1;
        o[2] = 5;
        o[3] = (byte) (2 + edges.length * 4);
        for (int i = 0; i < edges.length; i++) {
            long e = edges[i];
            o[4 + 4 * i] = (byte) (e >>> 24);
            o[5 + 4 * i] = (byte) (e >>> 16);
            o[6 + 4 * i] = (byte) (e >>> 8);
            o[7 + 4 * i] = (byte) e;
        }
        return o;
    }

    static int l4(ByteBuf b) {
        return b.readerIndex() + Ipv4.headerLength(b, b.readerIndex());
    }

    static String tcpPayload(ByteBuf b) {
        int l4 = l4(b);
        int from = Tcp.payloadOffset(b, l4);
        int end = b.readerIndex() + Ipv4.totalLength(b, b.readerIndex());
        return b.toString(from, end - from, StandardCharsets.ISO_8859_1);
    }

    static long seq(ByteBuf b) {
        return Tcp.seq(b, l4(b));
    }

    static long ack(ByteBuf b) {
        return Tcp.ack(b, l4(b));
    }

    /** The edges of the first SACK option. */
    static long[] sackEdges(ByteBuf b) {
        int l4 = l4(b);
        int end = Tcp.payloadOffset(b, l4);
        for (int o = l4 + 20; o < end; ) {
            int k = b.getUnsignedByte(o);
            if (k == 0) {
                break;
            }
            if (k == 1) {
                o++;
                continue;
            }
            int len = b.getUnsignedByte(o + 1);
            if (k == 5) {
                long[] e = new long[(len - 2) / 4];
                for (int i = 0; i < e.length; i++) {
                    e[i] = b.getUnsignedInt(o + 2 + 4 * i);
                }
                return e;
            }
            o += len;
        }
        return new long[0];
    }

    /** Whether the IPv4 header and TCP/UDP checksums verify and the lengths agree with the buffer. */
    static boolean valid(ByteBuf b) {
        int off = b.readerIndex();
        if (Ipv4.check(b, off, true) < 0 || Ipv4.totalLength(b, off) != b.readableBytes()) {
            return false;
        }
        if (Ipv4.protocol(b, off) == IpProtocol.TCP) {
            return Tcp.checkInPacket(b, off) >= 0;
        }
        int l4 = l4(b);
        int len = Ipv4.totalLength(b, off) - (l4 - off);
        return Udp.length(b, l4) == len && Udp.verifyChecksumV4(b, l4, len, Ipv4.src(b, off), Ipv4.dst(b, off));
    }
}

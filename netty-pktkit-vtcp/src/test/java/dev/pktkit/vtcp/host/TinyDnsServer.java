package dev.pktkit.vtcp.host;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DefaultDnsResponse;
import io.netty.handler.codec.dns.DnsQuery;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.handler.codec.dns.TcpDnsQueryDecoder;
import io.netty.handler.codec.dns.TcpDnsResponseEncoder;

import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny authoritative DNS server for tests, on Netty's DNS codec: A and AAAA answers from a map, NXDOMAIN for
 * the rest. Over UDP an answer that would exceed 512 bytes (no EDNS) is sent empty with TC set, so a client falls
 * back to TCP, where the same server answers in full.
 */
final class TinyDnsServer {
    final Map<String, InetAddress[]> names;
    final Map<String, String> txt;
    final AtomicInteger udpQueries = new AtomicInteger();
    final AtomicInteger tcpQueries = new AtomicInteger();

    TinyDnsServer(Map<String, InetAddress[]> names, Map<String, String> txt) {
        this.names = names;
        this.txt = txt;
    }

    ChannelInitializer<Channel> udp() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                        new SimpleChannelInboundHandler<DatagramDnsQuery>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery q) {
                                udpQueries.incrementAndGet();
                                DatagramDnsResponse r = new DatagramDnsResponse(q.recipient(), q.sender(), q.id());
                                if (!answer(q, r, true)) {
                                    r.release();
                                    r = new DatagramDnsResponse(q.recipient(), q.sender(), q.id());
                                    r.setTruncated(true);
                                    r.addRecord(DnsSection.QUESTION, q.recordAt(DnsSection.QUESTION));
                                }
                                ctx.writeAndFlush(r);
                            }
                        });
            }
        };
    }

    ChannelInitializer<Channel> tcp() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new TcpDnsQueryDecoder(), new TcpDnsResponseEncoder(),
                        new SimpleChannelInboundHandler<DnsQuery>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, DnsQuery q) {
                                tcpQueries.incrementAndGet();
                                DefaultDnsResponse r = new DefaultDnsResponse(q.id());
                                answer(q, r, false);
                                ctx.writeAndFlush(r);
                            }
                        });
            }
        };
    }

    /** Fills {@code r}; false when over UDP the answer would not fit 512 bytes. */
    private boolean answer(DnsQuery q, DnsResponse r, boolean udp) {
        DnsQuestion question = q.recordAt(DnsSection.QUESTION);
        r.addRecord(DnsSection.QUESTION, question);
        r.setAuthoritativeAnswer(true);
        String name = question.name().endsWith(".") ? question.name().substring(0, question.name().length() - 1)
                : question.name();
        int size = 12 + name.length() + 6;
        if (question.type() == DnsRecordType.TXT && txt.containsKey(name)) {
            byte[] t = txt.get(name).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            io.netty.buffer.ByteBuf rd = Unpooled.buffer();
            for (int i = 0; i < t.length; i += 255) {
                int n = Math.min(255, t.length - i);
                rd.writeByte(n).writeBytes(t, i, n);
            }
            size += name.length() + 12 + rd.readableBytes();
            if (udp && size > 512) {
                rd.release();
                return false;
            }
            r.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(), DnsRecordType.TXT, 60, rd));
            return true;
        }
        InetAddress[] addrs = names.get(name);
        if (addrs == null) {
            r.setCode(DnsResponseCode.NXDOMAIN);
            return true;
        }
        for (InetAddress a : addrs) {
            boolean v4 = a instanceof java.net.Inet4Address;
            if (v4 && question.type() == DnsRecordType.A || !v4 && question.type() == DnsRecordType.AAAA) {
                r.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(), question.type(), 60,
                        Unpooled.wrappedBuffer(a.getAddress())));
            }
        }
        return true;
    }
}

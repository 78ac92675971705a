package dev.pktkit.examples;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Promise;

import java.util.HashMap;
import java.util.Map;

/**
 * An L3 device that sends ICMP echo requests and matches the replies: what {@code ping} does, as a handler
 * after an {@link L2Adapter}. Replies it matched are consumed; every other packet is passed on.
 */
final class Pinger extends ChannelInboundHandlerAdapter {
    private final int identifier;
    private final Map<Integer, Promise<Long>> waiting = new HashMap<>();
    private final Map<Integer, Long> sentAt = new HashMap<>();
    private ChannelHandlerContext ctx;
    private int nextSeq;

    Pinger(int identifier) {
        this.identifier = identifier & 0xFFFF;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /**
     * Sends one echo request from {@code src} to {@code dst}; {@code done} gets the round trip in nanoseconds.
     * Call on the channel's event loop. The adapter resolves the next hop (ARP) on the way out.
     */
    void ping(int src, int dst, Promise<Long> done) {
        int seq = ++nextSeq & 0xFFFF;
        waiting.put(seq, done);
        sentAt.put(seq, System.nanoTime());
        ByteBuf pkt = ctx.alloc().buffer(L2Adapter.HEADROOM + 28 + 8);
        pkt.writerIndex(L2Adapter.HEADROOM).readerIndex(L2Adapter.HEADROOM); // room for the Ethernet header
        Ipv4.writeHeader(pkt, src, dst, IpProtocol.ICMP, Ipv4.DEFAULT_TTL, Icmpv4.HEADER_LENGTH + 8, seq, false);
        ByteBuf data = ctx.alloc().buffer(8).writeLong(System.nanoTime());
        Icmpv4.writeEcho(pkt, Icmpv4.TYPE_ECHO_REQUEST, identifier, seq, data, 0, 8);
        data.release();
        ctx.writeAndFlush(pkt).addListener(f -> {
            if (!f.isSuccess()) {
                sentAt.remove(seq);
                Promise<Long> p = waiting.remove(seq);
                if (p != null) {
                    p.tryFailure(f.cause());
                }
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf pkt = (ByteBuf) msg;
        int off = pkt.readerIndex();
        if (Ipv4.version(pkt, off) == 4 && Ipv4.protocol(pkt, off) == IpProtocol.ICMP
                && Icmpv4.checkInPacket(pkt, off) >= 0) {
            int icmp = Ipv4.payloadOffset(pkt, off);
            if (Icmpv4.type(pkt, icmp) == Icmpv4.TYPE_ECHO_REPLY && Icmpv4.echoIdentifier(pkt, icmp) == identifier) {
                int seq = Icmpv4.echoSequence(pkt, icmp);
                Promise<Long> p = waiting.remove(seq);
                Long t0 = sentAt.remove(seq);
                pkt.release();
                if (p != null && t0 != null) {
                    p.trySuccess(System.nanoTime() - t0);
                }
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }
}

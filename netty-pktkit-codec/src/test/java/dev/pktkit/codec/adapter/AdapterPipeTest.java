package dev.pktkit.codec.adapter;

import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.testkit.TestLoops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.Channel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.pktkit.codec.adapter.AdapterHarness.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two hosts (adapter + echo responder) on a {@link PacketPipe}, on real event loops: ping over ARP and NDP. */
class AdapterPipeTest {
    private MultiThreadIoEventLoopGroup group;

    @AfterEach
    void shutdown() {
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Every loop kind, with both hosts on one loop (synchronous, re-entrant delivery) and on two. */
    static Stream<Arguments> kinds() {
        return TestLoops.available().stream().flatMap(k -> Stream.of(Arguments.of(k, true), Arguments.of(k, false)));
    }

    static ChannelInitializer<Channel> host(L2Adapter adapter, BlockingQueue<Object> seen) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(adapter, new EchoResponder(adapter), new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        seen.add(msg);
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        seen.add(evt);
                    }
                });
            }
        };
    }

    static <T> T await(BlockingQueue<Object> q, Class<T> type) throws InterruptedException {
        while (true) {
            Object o = q.poll(10, TimeUnit.SECONDS);
            assertNotNull(o, "timed out waiting for " + type.getSimpleName());
            if (type.isInstance(o)) {
                return type.cast(o);
            }
            io.netty.util.ReferenceCountUtil.release(o);
        }
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void pingOverIpv4AndIpv6(String kind, boolean sameLoop) throws Exception {
        group = TestLoops.group(kind, 2);
        io.netty.channel.EventLoop loopA = group.next();
        io.netty.channel.EventLoop loopB = sameLoop ? loopA : group.next();
        L2Adapter a = L2Adapter.builder().mac(mac("02:00:00:00:00:0a")).ipv4("192.168.9.1/24").build();
        L2Adapter b = L2Adapter.builder().mac(mac("02:00:00:00:00:0b")).ipv4("192.168.9.2/24").build();
        BlockingQueue<Object> seenA = new LinkedBlockingQueue<>();
        BlockingQueue<Object> seenB = new LinkedBlockingQueue<>();
        PacketPipe pipe = PacketPipe.open(loopA, host(a, seenA), loopB, host(b, seenB))
                .get(10, TimeUnit.SECONDS);
        try {
            // IPv4: A pings B; A resolves B by ARP, B answers from its echo responder.
            ByteBuf ping = Unpooled.directBuffer(64);
            ping.writerIndex(L2Adapter.HEADROOM).readerIndex(L2Adapter.HEADROOM);
            ByteBuf data = Unpooled.buffer(4).writeInt(0xC0FFEE);
            Ipv4.writeHeader(ping, Ip4.parse("192.168.9.1"), Ip4.parse("192.168.9.2"), IpProtocol.ICMP, 64, 12, 1,
                    false);
            Icmpv4.writeEcho(ping, Icmpv4.TYPE_ECHO_REQUEST, 77, 1, data, 0, 4);
            data.release();
            pipe.a().writeAndFlush(ping).sync();
            ByteBuf reply = await(seenA, ByteBuf.class);
            int off = reply.readerIndex();
            assertEquals(Ip4.parse("192.168.9.2"), Ipv4.src(reply, off));
            assertEquals(Icmpv4.TYPE_ECHO_REPLY, Icmpv4.type(reply, off + 20));
            assertEquals(77, Icmpv4.echoIdentifier(reply, off + 20));
            reply.release();

            // IPv6: wait until both link-local addresses passed DAD, then A pings B's link-local address.
            await(seenA, AdapterEvent.Ipv6AddressAdded.class);
            await(seenB, AdapterEvent.Ipv6AddressAdded.class);
            long aLo = Ip6.linkLocalLoFromMac(a.mac());
            long bLo = Ip6.linkLocalLoFromMac(b.mac());
            ByteBuf ping6 = Unpooled.directBuffer(80);
            ping6.writerIndex(L2Adapter.HEADROOM).readerIndex(L2Adapter.HEADROOM);
            Ipv6.writeHeader(ping6, 0, 0, 12, IpProtocol.ICMPV6, 64, Ip6.LINK_LOCAL_PREFIX_HI, aLo,
                    Ip6.LINK_LOCAL_PREFIX_HI, bLo);
            int icmp = ping6.writerIndex();
            ping6.writeByte(Icmpv6.TYPE_ECHO_REQUEST).writeByte(0).writeShort(0).writeShort(5).writeShort(1)
                    .writeInt(42);
            Icmpv6.fillChecksum(ping6, icmp, 12, Ip6.LINK_LOCAL_PREFIX_HI, aLo, Ip6.LINK_LOCAL_PREFIX_HI, bLo);
            pipe.a().writeAndFlush(ping6).sync();
            ByteBuf reply6 = await(seenA, ByteBuf.class);
            off = reply6.readerIndex();
            assertEquals(bLo, Ipv6.srcLo(reply6, off));
            assertEquals(Icmpv6.TYPE_ECHO_REPLY, Icmpv6.type(reply6, off + 40));
            assertTrue(Icmpv6.checkInPacket(reply6, off) >= 0);
            reply6.release();
            assertEquals(a.mac(), pipe.b().eventLoop().submit(() -> b.ndpCache().lookup(Ip6.LINK_LOCAL_PREFIX_HI,
                    aLo)).get(5, TimeUnit.SECONDS));
        } finally {
            pipe.close();
            pipe.a().closeFuture().await(5, TimeUnit.SECONDS);
            pipe.b().closeFuture().await(5, TimeUnit.SECONDS);
            for (Object o; (o = seenA.poll()) != null; ) {
                io.netty.util.ReferenceCountUtil.release(o);
            }
            for (Object o; (o = seenB.poll()) != null; ) {
                io.netty.util.ReferenceCountUtil.release(o);
            }
        }
    }
}

package dev.pktkit.vtcp.host;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.switching.DropReason;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3Port;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.vtcp.engine.TcpConnectionStats;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Path MTU discovery (RFC 1191 / RFC 8201) through a router: two virtual hosts on different subnets behind an
 * {@link L3Hub} in router mode whose port towards the server has a 1280-byte egress MTU
 * ({@link L3PortOptions#mtu}). The router answers a larger packet (DF set: vtcp always sets it) with ICMP
 * "fragmentation needed" / ICMPv6 "packet too big" carrying 1280; the client's TCP lowers its segment size and the
 * transfer completes, SHA-256 checked, IPv4 and IPv6. Deterministic: the handshake's MSS is read before any data
 * is written (the sender is added to the pipeline afterwards), the lowered MSS when the last byte enters the send
 * buffer (most of the data has passed the router by then, which it could only do in segments that fit).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PmtuThroughRouterTest {
    static final int PORT_MTU = 1280;

    /** Records the largest packet the router writes towards the server. */
    static final class Largest extends ChannelOutboundHandlerAdapter {
        volatile int largest;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf p) {
                largest = Math.max(largest, p.readableBytes());
            }
            ctx.write(msg, promise);
        }
    }

    @Test
    void icmpTooBigShrinksTheSegmentsAndTheTransferCompletes() throws Exception {
        MultiThreadIoEventLoopGroup group = TestLoops.group(TestLoops.NIO, 2);
        L3Hub router = L3Hub.builder().name("pmtu-router").routerMode(true)
                .routerAddresses((Inet4Address) InetAddress.getByName("10.0.2.1"),
                        (Inet6Address) InetAddress.getByName("fd02::1")).build();
        VirtualHost client = VirtualHost.builder().address("10.0.1.2").address("fd01::2").build();
        VirtualHost server = VirtualHost.builder().address("10.0.2.2").address("fd02::2").build();
        Largest towardsServer = new Largest();
        PacketPipe a = new PacketPipe();
        PacketPipe b = new PacketPipe();
        try {
            a.a().pipeline().addLast(client);
            b.a().pipeline().addLast(server);
            b.b().pipeline().addLast(towardsServer);
            a.register(group.next(), group.next()).sync();
            b.register(group.next(), group.next()).sync();
            L3Port clientSide = router.attach(a.b(), L3PortOptions.prefixes("10.0.1.0/24", "fd01::/64"));
            router.attach(b.b(), L3PortOptions.prefixes("10.0.2.0/24", "fd02::/64").mtu(PORT_MTU));
            Channel listener = new ServerBootstrap().group(group).channelFactory(server.serverSocketChannels())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) throws Exception {
                            ch.pipeline().addLast(new LossyHostTransferTest.HashReply());
                        }
                    })
                    .childOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true).bind(9).sync().channel();
            int seed = 1;
            for (String dst : new String[] {"10.0.2.2", "fd02::2"}) {
                long before = clientSide.counters().drops(DropReason.PACKET_TOO_BIG);
                long size = 2_000_000;
                Transfers.Sender s = new Transfers.Sender(size, seed++, false);
                Transfers.Reply reply = new Transfers.Reply();
                Channel c = new Bootstrap().group(group).channelFactory(client.socketChannels())
                        .option(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true)
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(reply);
                            }
                        }).connect(new InetSocketAddress(dst, 9)).sync().channel();
                // nothing written yet: no packet has met the router's MTU
                TcpConnectionStats start = ((VirtualSocketChannel) c).connectionStats().get(5, TimeUnit.SECONDS);
                int ipHeader = dst.contains(":") ? Ipv6.HEADER_LENGTH : Ipv4.MIN_HEADER_LENGTH;
                assertEquals(1500 - ipHeader - 20 - 12, start.mss(), "the handshake's MSS: " + start);
                assertEquals(0, start.retransmits(), start.toString());
                // when the last byte enters the send buffer, at least 2 MB less the 256 KiB send buffer were
                // acknowledged, so they passed the router: the MSS was lowered before. The stats are asked for right
                // there, on the channel's loop, before the sender shuts the output down (the connection is open)
                java.util.concurrent.CompletableFuture<io.netty.util.concurrent.Future<TcpConnectionStats>> atDone =
                        s.done.thenApply(h -> ((VirtualSocketChannel) c).connectionStats());
                c.pipeline().addFirst(s); // starts sending
                String sent = s.done.get(30, TimeUnit.SECONDS);
                assertEquals(sent + ":" + size, reply.text.get(30, TimeUnit.SECONDS), dst);
                TcpConnectionStats end = atDone.get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
                assertEquals(PORT_MTU - ipHeader - 20 - 12, end.mss(), "segments shrank to the path MTU: " + end);
                assertTrue(clientSide.counters().drops(DropReason.PACKET_TOO_BIG) > before,
                        "the router refused too-big packets and said so");
            }
            assertTrue(towardsServer.largest <= PORT_MTU, "largest packet past the router: " + towardsServer.largest);
            assertTrue(client.counters().icmpErrorsDelivered() >= 2, client.counters().toString());
            listener.close().sync();
        } finally {
            router.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            a.close();
            b.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}

package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.TestLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtualDatagramChannelTest {
    static List<String> loops() {
        return TestLoops.available();
    }

    static InetSocketAddress addr(String host, int port) {
        return new InetSocketAddress(host, port);
    }

    /** A handler that echoes every datagram back to its sender. */
    static final class Echo extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
            ctx.writeAndFlush(new DatagramPacket(p.content().retain(), p.sender()));
        }
    }

    /** Collects what a channel reads (content copied to strings) and the errors it sees. */
    static final class Collect extends SimpleChannelInboundHandler<DatagramPacket> {
        final BlockingQueue<Object> got = new LinkedBlockingQueue<>();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
            got.add(new Got(p.content().toString(StandardCharsets.UTF_8), p.sender(), p.recipient()));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            got.add(cause);
        }

        Object next() throws InterruptedException {
            Object o = got.poll(10, TimeUnit.SECONDS);
            assertNotNull(o, "nothing arrived");
            return o;
        }
    }

    record Got(String text, InetSocketAddress sender, InetSocketAddress recipient) {
    }

    static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @MethodSource("loops")
    void echoOverIpv4AndIpv6(String kind) throws Exception {
        try (TwoHosts n = new TwoHosts(kind, 2)) {
            Channel server = new Bootstrap().group(n.group).channelFactory(n.b.datagramChannels())
                    .handler(new Echo()).bind(7).sync().channel();
            Collect c = new Collect();
            Channel client = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                    .handler(c).bind(0).sync().channel();
            int port = ((InetSocketAddress) client.localAddress()).getPort();
            assertTrue(port >= VirtualHost.DEFAULT_EPHEMERAL_LOW, "ephemeral port " + port);
            client.writeAndFlush(new DatagramPacket(text("over v4"), addr("10.0.0.2", 7))).sync();
            Got g = (Got) c.next();
            assertEquals("over v4", g.text());
            assertEquals(addr("10.0.0.2", 7), g.sender());
            client.writeAndFlush(new DatagramPacket(text("over v6"), addr("fd00::2", 7))).sync();
            Got g6 = (Got) c.next();
            assertEquals("over v6", g6.text());
            assertEquals(addr("fd00::2", 7), g6.sender());
            assertEquals(addr("fd00::1", port), g6.recipient());
            client.close().sync();
            server.close().sync();
            assertEquals(2, n.b.counters().udpDelivered());
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void connectedChannelSeesPortUnreachable(String kind) throws Exception {
        try (TwoHosts n = new TwoHosts(kind, 1)) {
            Collect c = new Collect();
            Channel client = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                    .handler(c).connect(addr("10.0.0.2", 9999)).sync().channel();
            assertTrue(client.isActive());
            assertEquals(addr("10.0.0.2", 9999), client.remoteAddress());
            client.writeAndFlush(text("anyone?")).sync();
            assertInstanceOf(PortUnreachableException.class, c.next());
            assertTrue(client.isOpen(), "an ICMP error does not close a datagram channel");
            assertEquals(1, n.a.counters().icmpErrorsDelivered());

            client.writeAndFlush(new DatagramPacket(text("v6?"), addr("fd00::2", 9999))).sync();
            // not connected to that peer: nothing is reported, as on Linux
            assertNull(c.got.poll(200, TimeUnit.MILLISECONDS));
            client.close().sync();
        }
    }

    @Test
    void connectedChannelReceivesOnlyFromItsPeer() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            Collect c = new Collect();
            Channel client = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                    .handler(c).connect(addr("10.0.0.2", 53), addr("0.0.0.0", 5353)).sync().channel();
            Channel other = new Bootstrap().group(n.group).channelFactory(n.b.datagramChannels())
                    .handler(new Collect()).bind(54).sync().channel();
            Channel peer = new Bootstrap().group(n.group).channelFactory(n.b.datagramChannels())
                    .handler(new Collect()).bind(53).sync().channel();
            other.writeAndFlush(new DatagramPacket(text("wrong port"), addr("10.0.0.1", 5353))).sync();
            peer.writeAndFlush(new DatagramPacket(text("right"), addr("10.0.0.1", 5353))).sync();
            assertEquals("right", ((Got) c.next()).text());
            assertNull(c.got.poll(100, TimeUnit.MILLISECONDS));
            client.close().sync();
            other.close().sync();
            peer.close().sync();
        }
    }

    @Test
    void anyAddressListenerSeesTheOriginalDestinationAndRepliesFromIt() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            Collect gw = new Collect();
            Channel gateway = new Bootstrap().group(n.group).channelFactory(n.b.datagramChannels())
                    .option(VirtualChannelOption.TRANSPARENT, true).handler(gw).bind(0).sync().channel();
            Collect c = new Collect();
            // 198.51.100.7 is nobody's address: it reaches b only because the pipe is b's cable
            Channel client = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                    .handler(c).connect(addr("198.51.100.7", 4242)).sync().channel();
            client.writeAndFlush(text("to the internet")).sync();
            Got g = (Got) gw.next();
            assertEquals("to the internet", g.text());
            assertEquals(addr("198.51.100.7", 4242), g.recipient(), "original destination");
            assertEquals("10.0.0.1", g.sender().getAddress().getHostAddress());
            gateway.writeAndFlush(new DatagramPacket(text("from the internet"), g.sender(), g.recipient())).sync();
            Got back = (Got) c.next();
            assertEquals("from the internet", back.text());
            assertEquals(addr("198.51.100.7", 4242), back.sender());
            // an ordinary socket of the gateway host still gets its own traffic
            Collect own = new Collect();
            Channel ownCh = new Bootstrap().group(n.group).channelFactory(n.b.datagramChannels())
                    .handler(own).bind(4242).sync().channel();
            Channel c2 = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                    .handler(new Collect()).bind(0).sync().channel();
            c2.writeAndFlush(new DatagramPacket(text("mine"), addr("10.0.0.2", 4242))).sync();
            assertEquals("mine", ((Got) own.next()).text());
            assertNull(gw.got.poll(100, TimeUnit.MILLISECONDS));
            for (Channel ch : new Channel[] {gateway, client, ownCh, c2}) {
                ch.close().sync();
            }
        }
    }

    @Test
    void bindRulesAndEphemeralPorts() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            Bootstrap bs = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                    .handler(new io.netty.channel.ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Collect());
                        }
                    });
            Channel one = bs.bind(5000).sync().channel();
            Throwable dup = bs.bind(5000).await().cause();
            assertInstanceOf(BindException.class, dup);
            Throwable dupSpecific = bs.bind(addr("10.0.0.1", 5000)).await().cause();
            assertInstanceOf(BindException.class, dupSpecific, "the wildcard covers every address");
            Throwable foreign = bs.bind(addr("10.0.0.99", 6000)).await().cause();
            assertInstanceOf(BindException.class, foreign, "not an address of the host");
            one.close().sync();
            Channel again = bs.bind(5000).sync().channel();
            again.close().sync();

            Set<Integer> ports = new HashSet<>();
            for (int i = 0; i < 50; i++) {
                Channel e = bs.bind(0).sync().channel();
                int p = ((InetSocketAddress) e.localAddress()).getPort();
                assertTrue(p >= 49152 && p <= 65535);
                assertTrue(ports.add(p), "distinct ephemeral ports");
            }
            assertEquals(50, n.a.udpPorts.size());
        }
    }

    @Test
    void boundOnChannelsPerHost() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.group(TestLoops.NIO, 1),
                VirtualHost.builder().address("10.0.0.1").maxDatagramChannels(3),
                VirtualHost.builder().address("10.0.0.2"), null)) {
            Bootstrap bs = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                    .handler(new io.netty.channel.ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Collect());
                        }
                    });
            for (int i = 0; i < 3; i++) {
                bs.bind(0).sync();
            }
            assertInstanceOf(BindException.class, bs.bind(0).await().cause());
        }
    }

    @Test
    void receiveQueueIsBoundedWhileNotReading() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.group(TestLoops.NIO, 1),
                VirtualHost.builder().address("10.0.0.1"),
                VirtualHost.builder().address("10.0.0.2").maxQueuedDatagrams(5), null)) {
            Collect c = new Collect();
            Channel server = new Bootstrap().group(n.group).channelFactory(n.b.datagramChannels())
                    .option(ChannelOption.AUTO_READ, false).handler(c).bind(7).sync().channel();
            Channel client = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                    .handler(new Collect()).bind(0).sync().channel();
            for (int i = 0; i < 20; i++) {
                client.write(new DatagramPacket(text("d" + i), addr("10.0.0.2", 7)));
            }
            client.flush();
            CompletableFuture<Long> drops = new CompletableFuture<>();
            n.loopOfB().execute(() -> drops.complete(n.b.counters().dropped(HostDropReason.RECEIVE_QUEUE_FULL)));
            // the pipe delivers in order on the loop; once counted, all 20 went through host b
            long dropped = drops.get(5, TimeUnit.SECONDS);
            while (n.b.counters().udpDelivered() + n.b.counters().dropped(HostDropReason.RECEIVE_QUEUE_FULL) < 20) {
                Thread.onSpinWait();
            }
            assertEquals(5, n.b.counters().udpDelivered());
            assertEquals(15, n.b.counters().dropped(HostDropReason.RECEIVE_QUEUE_FULL));
            assertTrue(dropped <= 15);
            assertTrue(c.got.isEmpty(), "nothing read before read()");
            server.config().setAutoRead(true);
            for (int i = 0; i < 5; i++) {
                assertEquals("d" + i, ((Got) c.next()).text());
            }
            assertNull(c.got.poll(100, TimeUnit.MILLISECONDS));
            server.close().sync();
            client.close().sync();
        }
    }

    @Test
    void oversizedDatagramFailsItsWrite() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            Channel client = new Bootstrap().group(n.group).channelFactory(n.a.datagramChannels())
                    .handler(new Collect()).bind(0).sync().channel();
            Throwable t = client.writeAndFlush(new DatagramPacket(Unpooled.buffer(2000).writeZero(2000),
                    addr("10.0.0.2", 7))).await().cause();
            assertNotNull(t);
            assertTrue(t.getMessage().contains("MTU"), t.getMessage());
            assertTrue(client.writeAndFlush(new DatagramPacket(Unpooled.buffer(1472).writeZero(1472),
                    addr("10.0.0.2", 7))).await().isSuccess(), "1472 bytes fit in 1500");
            client.close().sync();
        }
    }

    @Test
    void multicastMembershipIsRefused() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            VirtualDatagramChannel ch = (VirtualDatagramChannel) new Bootstrap().group(n.group)
                    .channelFactory(n.a.datagramChannels()).handler(new Collect()).bind(0).sync().channel();
            assertInstanceOf(UnsupportedOperationException.class,
                    ch.joinGroup(java.net.InetAddress.getByName("239.1.1.1")).await().cause());
            assertThrows(UnsupportedOperationException.class, () -> ch.writeAndFlush("text").sync());
            assertNotEquals(0, ch.config().getReceiveBufferSize());
            ch.close().sync();
        }
    }
}

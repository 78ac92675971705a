package dev.pktkit.slirp;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.transport.TransportKind;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.vtcp.host.VirtualHost;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bounded state: a guest that opens thousands of connections and then vanishes (no FIN, no RST: its link goes
 * silent) leaves nothing behind once the TCP idle timeout passed — every table that could hold a connection is
 * empty, on the slirp side and on the host; and the total bounds over several namespaces refuse and count.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SlirpBoundsTest {
    private MultiThreadIoEventLoopGroup group;
    private Slirp slirp;
    private final List<PacketPipe> pipes = new ArrayList<>();
    private Channel server;

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close().sync();
        }
        pipes.forEach(PacketPipe::close);
        if (slirp != null) {
            slirp.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** Drops everything in both directions once {@link #silent} is set: the guest's link went away. */
    static final class Link extends ChannelDuplexHandler {
        volatile boolean silent;
        final AtomicInteger dropped = new AtomicInteger();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (silent) {
                dropped.incrementAndGet();
                ReferenceCountUtil.release(msg);
                return;
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (silent) {
                dropped.incrementAndGet();
                ReferenceCountUtil.release(msg);
                promise.trySuccess();
                return;
            }
            ctx.write(msg, promise);
        }
    }

    /** Ends of connections this test abandons or times out are expected: not logged. */
    static final class Quiet extends ChannelInboundHandlerAdapter {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private record Guest(VirtualHost host, SlirpNamespace ns, Link link) {
    }

    private Guest guest() throws Exception {
        VirtualHost g = VirtualHost.builder().address("10.0.2.15").address("fec0::15").build();
        Link link = new Link();
        PacketPipe pipe = new PacketPipe();
        pipes.add(pipe);
        pipe.a().pipeline().addLast(link, g);
        pipe.register(group.next(), group.next()).sync();
        return new Guest(g, slirp.attach(pipe.b()).sync().getNow(), link);
    }

    /** A host server on loopback that accepts and holds connections; {@code closed} counts their ends. */
    private int holdingServer(AtomicInteger open, CountDownLatch closed) throws Exception {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Quiet());
                        open.incrementAndGet();
                        ch.closeFuture().addListener(f -> {
                            open.decrementAndGet();
                            closed.countDown();
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    private static <T> T onLoop(SlirpNamespace ns, java.util.concurrent.Callable<T> c) throws Exception {
        return ns.loop.submit(c).get(5, TimeUnit.SECONDS);
    }

    @Test
    void abandonedConnectionsLeaveNothingBehindAfterTheIdleTimeout() throws Exception {
        int n = 2000;
        group = TestLoops.group(TestLoops.NIO, 2);
        slirp = Slirp.builder().hostLoopback(true).hostTransport(group, TransportKind.NIO)
                .tcpIdleTimeout(2, TimeUnit.SECONDS).build();
        Guest g = guest();
        AtomicInteger open = new AtomicInteger();
        CountDownLatch closed = new CountDownLatch(n);
        int port = holdingServer(open, closed);
        Semaphore inFlight = new Semaphore(128); // under maxPendingConnects (256): none refused by that bound
        List<Channel> guestSide = new ArrayList<>();
        AtomicInteger failed = new AtomicInteger();
        CountDownLatch connected = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            inFlight.acquire();
            ChannelFuture f = new Bootstrap().group(group).channelFactory(g.host().socketChannels())
                        .handler(new Quiet()).connect(new InetSocketAddress("10.0.2.2", port));
            guestSide.add(f.channel());
            f.addListener(r -> {
                if (!r.isSuccess()) {
                    failed.incrementAndGet();
                }
                inFlight.release();
                connected.countDown();
            });
        }
        assertTrue(connected.await(30, TimeUnit.SECONDS));
        assertEquals(0, failed.get());
        // every connection was established; the first ones may already be idle (the timeout is short), so the
        // namespace's count is not asserted here
        assertEquals(n, slirp.counters().tcpEstablished());

        g.link().silent = true; // the guest is gone: no FIN, no RST, nothing more from it
        assertTrue(closed.await(20, TimeUnit.SECONDS), "the idle timeout closed every host connection: "
                + closed.getCount() + " left; " + slirp.counters());
        assertEquals(0, open.get());
        assertEquals(n, slirp.counters().tcpIdleClosed());
        assertEquals(0, onLoop(g.ns(), g.ns()::tcpConnections), "the namespace's connection count");
        assertEquals(0, onLoop(g.ns(), g.ns()::relayedConnections), "the idle sweep's table");
        assertEquals(0, onLoop(g.ns(), g.ns().virtualHost()::tcpConnectionCount), "the slirp side's TCP engine");
        assertEquals(0, slirp.totalConnections(), "the slirp's total");
        assertEquals(0, slirp.counters().tcpResetsRelayed(), "closed by the timeout, not by a reset");
        for (Channel c : guestSide) {
            c.close(); // the test's own guest: its engine would go on retransmitting into the silent link
        }
    }

    @Test
    void theTotalConnectionBoundHoldsOverNamespaces() throws Exception {
        group = TestLoops.group(TestLoops.NIO, 2);
        slirp = Slirp.builder().hostLoopback(true).hostTransport(group, TransportKind.NIO)
                .maxConnections(2).maxTotalConnections(3).build();
        Guest a = guest();
        Guest b = guest();
        int port = holdingServer(new AtomicInteger(), new CountDownLatch(0));
        List<Channel> held = new ArrayList<>();
        for (Guest g : new Guest[] {a, a, b}) {
            held.add(new Bootstrap().group(group).channelFactory(g.host().socketChannels())
                    .handler(new Quiet()).connect(new InetSocketAddress("10.0.2.2", port))
                    .sync().channel());
        }
        ChannelFuture refused = new Bootstrap().group(group).channelFactory(b.host().socketChannels())
                .handler(new Quiet()).connect(new InetSocketAddress("10.0.2.2", port)).await();
        assertInstanceOf(ConnectException.class, refused.cause(), "b has one of its own 2, but the total is 3");
        assertEquals(1, slirp.counters().tcpRefusedByLimit());
        assertEquals(3, slirp.totalConnections());
        for (Channel c : held) {
            c.close().sync();
        }
    }

    @Test
    void theTotalUdpFlowBoundHoldsOverNamespaces() throws Exception {
        group = TestLoops.group(TestLoops.NIO, 2);
        slirp = Slirp.builder().hostLoopback(true).hostTransport(group, TransportKind.NIO)
                .maxUdpFlows(2).maxTotalUdpFlows(3).build();
        Guest a = guest();
        Guest b = guest();
        CountDownLatch two = new CountDownLatch(2);
        CountDownLatch four = new CountDownLatch(4);
        Channel sink = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        two.countDown();
                        four.countDown();
                        ReferenceCountUtil.release(msg);
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        try {
            int port = ((InetSocketAddress) sink.localAddress()).getPort();
            InetSocketAddress to = new InetSocketAddress("10.0.2.2", port);
            List<Channel> socks = new ArrayList<>();
            // a: two flows (its own bound); b: one flow (the total's third), a fourth (dropped: over the total,
            // though under b's own bound), then again on its first flow — processed after the dropped one, so
            // once the sink has four datagrams the drop has been counted
            for (Guest g : new Guest[] {a, a, b, b}) {
                Channel s = new Bootstrap().group(group).channelFactory(g.host().datagramChannels())
                        .handler(new ChannelInboundHandlerAdapter()).bind(0).sync().channel();
                socks.add(s);
                s.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(new byte[] {1}), to)).sync();
                if (socks.size() == 2) {
                    assertTrue(two.await(10, TimeUnit.SECONDS), "a's two flows first");
                }
            }
            socks.get(2).writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(new byte[] {2}), to)).sync();
            assertTrue(four.await(10, TimeUnit.SECONDS), slirp.counters().toString());
            assertEquals(3, slirp.counters().udpFlowsOpened());
            assertEquals(1, slirp.counters().udpDroppedByLimit(), "b's second flow: under its own 2, over the total 3");
            assertEquals(3, slirp.totalUdpFlows());
            for (Channel s : socks) {
                s.close().sync();
            }
        } finally {
            sink.close().sync();
        }
    }
}

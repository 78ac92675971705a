package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.TestLoops;
import dev.pktkit.vtcp.engine.TcpEngineConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A gateway's listener: any address, any port, the SYN-ACK deferred until the application decides. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AnyAddressTcpTest {
    record Pending(VirtualSocketChannel child, boolean activeAtInit, InetSocketAddress local) {
    }

    static Channel gateway(TwoHosts n, BlockingQueue<Pending> pending, CompletableFuture<String> activeLocal)
            throws InterruptedException {
        return new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                .option(VirtualChannelOption.TRANSPARENT, true)
                .option(VirtualChannelOption.DEFERRED_ACCEPT, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        VirtualSocketChannel c = (VirtualSocketChannel) ch;
                        pending.add(new Pending(c, c.isActive(), c.localAddress()));
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                activeLocal.complete(ctx.channel().localAddress().toString());
                                ctx.writeAndFlush(Unpooled.copiedBuffer("hello from " + ctx.channel().localAddress(),
                                        StandardCharsets.US_ASCII));
                            }
                        });
                    }
                }).bind(0).sync().channel();
    }

    @Test
    void deferredAcceptForAnyAddressAndPort() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 2)) {
            BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
            CompletableFuture<String> activeLocal = new CompletableFuture<>();
            Channel gw = gateway(n, pending, activeLocal);
            VirtualSocketChannelTest.Sink sink = new VirtualSocketChannelTest.Sink(10);
            ChannelFuture cf = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels()).handler(sink)
                    .connect(new InetSocketAddress("203.0.113.9", 8080));
            Pending p = pending.poll(10, TimeUnit.SECONDS);
            assertNotNull(p, "the child is handed over before the handshake");
            assertFalse(p.activeAtInit());
            assertTrue(p.child().isPending());
            assertEquals(new InetSocketAddress("203.0.113.9", 8080), p.local(), "original destination");
            assertEquals("10.0.0.1", p.child().remoteAddress().getAddress().getHostAddress());
            assertFalse(cf.isDone(), "no SYN-ACK before the application accepts");
            p.child().acceptConnection();
            Channel c = cf.sync().channel();
            assertTrue(activeLocal.get(10, TimeUnit.SECONDS).contains("203.0.113.9:8080"));
            assertTrue(new String(sink.done.get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII)
                    .startsWith("hello from /203.0.113.9:8080"));
            c.close().sync();
            gw.close().sync();
        }
    }

    @Test
    void refusalWithResetOrIcmp() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
            Channel gw = gateway(n, pending, new CompletableFuture<>());
            for (Refusal how : new Refusal[] {Refusal.RESET, Refusal.ICMP_UNREACHABLE}) {
                ChannelFuture cf = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                        .handler(new VirtualSocketChannelTest.Sink(1))
                        .connect(new InetSocketAddress("198.51.100.20", 443));
                Pending p = pending.poll(10, TimeUnit.SECONDS);
                assertNotNull(p);
                p.child().refuseConnection(how);
                Throwable t = cf.await().cause();
                assertInstanceOf(ConnectException.class, t, how + ": " + t);
                assertFalse(p.child().isOpen() && p.child().isActive());
            }
            // The host counts the delivery after the engine has failed the connect (which woke this thread):
            // read the counter on the host's loop, behind that task.
            long icmp = n.group.next().submit(() -> n.a.counters().icmpErrorsDelivered()).get(10, TimeUnit.SECONDS);
            assertTrue(icmp >= 1, "the ICMP refusal reached the connecting side's TCP");
            gw.close().sync();
        }
    }

    @Test
    void pendingChildThatNobodyDecidesIsDroppedWhenTheEngineGivesUp() throws Exception {
        VirtualHost.Builder gwHost = VirtualHost.builder().address("10.0.0.2").address("fd00::2")
                .tcp(new TcpEngineConfig().deferredTimeoutNanos(300_000_000L));
        try (TwoHosts n = new TwoHosts(TestLoops.group(TestLoops.NIO, 1),
                VirtualHost.builder().address("10.0.0.1").address("fd00::1"), gwHost, null)) {
            BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
            Channel gw = gateway(n, pending, new CompletableFuture<>());
            ChannelFuture cf = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .handler(new VirtualSocketChannelTest.Sink(1)).connect(new InetSocketAddress("203.0.113.7", 25));
            Pending p = pending.poll(10, TimeUnit.SECONDS);
            assertNotNull(p);
            assertTrue(p.child().isPending());
            // nobody accepts or refuses: after deferredTimeoutNanos the engine forgets the SYN, and the host
            // closes the pending child (TcpListener.onDeferredAborted) instead of keeping it forever
            assertTrue(p.child().closeFuture().await(10, TimeUnit.SECONDS), "the pending child is closed");
            assertFalse(p.child().isPending());
            assertInstanceOf(java.io.IOException.class, p.child().pendingAbortCause());
            assertTrue(p.child().pendingAbortCause().getMessage().contains("not accepted"),
                    p.child().pendingAbortCause().getMessage());
            assertFalse(cf.isDone(), "no SYN-ACK was sent: the client is still trying");
            p.child().acceptConnection(); // too late: no effect
            cf.channel().close().sync();
            gw.close().sync();
        }
    }

    @Test
    void ordinaryListenerIgnoresForeignAddresses() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            Channel server = new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                    .childHandler(VirtualSocketChannelTest.Echo.INSTANCE).bind(80).sync().channel();
            ChannelFuture f = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .option(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS, 300)
                    .handler(new VirtualSocketChannelTest.Sink(1)).connect(new InetSocketAddress("203.0.113.1", 80))
                    .await();
            assertInstanceOf(io.netty.channel.ConnectTimeoutException.class, f.cause());
            server.close().sync();
        }
    }
}

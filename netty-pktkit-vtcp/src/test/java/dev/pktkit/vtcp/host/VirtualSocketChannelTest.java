package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.TestLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VirtualSocketChannelTest {
    static List<String> loops() {
        return TestLoops.available();
    }

    static InetSocketAddress addr(String h, int p) {
        return new InetSocketAddress(h, p);
    }

    /** Echoes every byte. */
    @ChannelHandler.Sharable
    static final class Echo extends ChannelInboundHandlerAdapter {
        static final Echo INSTANCE = new Echo();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /** Collects bytes into one buffer and completes when {@code expected} bytes arrived. */
    static final class Sink extends ChannelInboundHandlerAdapter {
        final int expected;
        final ByteBuf got = Unpooled.buffer();
        final CompletableFuture<byte[]> done = new CompletableFuture<>();
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();

        Sink(int expected) {
            this.expected = expected;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            got.writeBytes(b);
            b.release();
            if (got.readableBytes() >= expected && !done.isDone()) {
                byte[] a = new byte[got.readableBytes()];
                got.getBytes(0, a);
                done.complete(a);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            events.add(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            events.add(cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            events.add("inactive");
            got.release();
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static Channel echoServer(TwoHosts n, int port) throws InterruptedException {
        return new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                .childHandler(Echo.INSTANCE).bind(port).sync().channel();
    }

    @ParameterizedTest
    @MethodSource("loops")
    void echoOverIpv4AndIpv6(String kind) throws Exception {
        try (TwoHosts n = new TwoHosts(kind, 2)) {
            Channel server = echoServer(n, 7);
            for (String dst : new String[] {"10.0.0.2", "fd00::2"}) {
                byte[] data = random(300_000, dst.length());
                Sink sink = new Sink(data.length);
                Channel c = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels()).handler(sink)
                        .connect(addr(dst, 7)).sync().channel();
                assertTrue(c.isActive());
                assertEquals(addr(dst, 7), c.remoteAddress());
                int lport = ((InetSocketAddress) c.localAddress()).getPort();
                assertTrue(lport >= 49152, "ephemeral " + lport);
                c.writeAndFlush(Unpooled.wrappedBuffer(data)).sync();
                assertArrayEquals(data, sink.done.get(30, TimeUnit.SECONDS));
                c.close().sync();
            }
            server.close().sync();
        }
    }

    @Test
    void connectionRefusedByRst() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            ChannelFuture f = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .handler(new Sink(1)).connect(addr("10.0.0.2", 81)).await();
            assertInstanceOf(ConnectException.class, f.cause(), String.valueOf(f.cause()));
            assertFalse(f.channel().isOpen());
        }
    }

    @Test
    void connectTimeout() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            // 10.0.0.99 is nobody's: host b drops the SYN as not local
            ChannelFuture f = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 300)
                    .handler(new Sink(1)).connect(addr("10.0.0.99", 80)).await();
            assertInstanceOf(ConnectTimeoutException.class, f.cause());
            assertFalse(f.channel().isOpen());
        }
    }

    @Test
    void lingerZeroResetsThePeer() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            Sink serverSide = new Sink(Integer.MAX_VALUE);
            Channel server = new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                    .childHandler(serverSide).bind(80).sync().channel();
            Channel c = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .option(ChannelOption.SO_LINGER, 0).handler(new Sink(1)).connect(addr("10.0.0.2", 80))
                    .sync().channel();
            c.writeAndFlush(Unpooled.copiedBuffer("hi", StandardCharsets.US_ASCII)).sync();
            c.close().sync();
            Object e = serverSide.events.poll(10, TimeUnit.SECONDS);
            assertInstanceOf(IOException.class, e, String.valueOf(e));
            assertTrue(((IOException) e).getMessage().toLowerCase().contains("reset"), ((IOException) e).getMessage());
            assertEquals("inactive", serverSide.events.poll(10, TimeUnit.SECONDS));
            server.close().sync();
        }
    }

    @Test
    void halfClosure() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            CompletableFuture<String> serverGot = new CompletableFuture<>();
            Channel server = new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        final StringBuilder sb = new StringBuilder();

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            sb.append(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
                            ((ByteBuf) msg).release();
                        }

                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof ChannelInputShutdownEvent) {
                                serverGot.complete(sb.toString());
                                // still writable after the peer's FIN
                                ctx.writeAndFlush(Unpooled.copiedBuffer("reply:" + sb, StandardCharsets.US_ASCII))
                                        .addListener(f -> ctx.close());
                            }
                        }
                    }).bind(80).sync().channel();
            Sink sink = new Sink("reply:request".length());
            SocketChannel c = (SocketChannel) new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .handler(sink).connect(addr("10.0.0.2", 80)).sync().channel();
            c.writeAndFlush(Unpooled.copiedBuffer("request", StandardCharsets.US_ASCII));
            c.shutdownOutput().sync();
            assertTrue(c.isOutputShutdown());
            assertEquals("request", serverGot.get(10, TimeUnit.SECONDS));
            assertEquals("reply:request", new String(sink.done.get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
            Object e;
            do {
                e = sink.events.poll(10, TimeUnit.SECONDS);
            } while (e instanceof io.netty.channel.socket.ChannelOutputShutdownEvent);
            assertEquals("inactive", e, "closed after the server's FIN");
            server.close().sync();
        }
    }

    @Test
    void writabilityFollowsTheSendBuffer() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            BlockingQueue<Channel> children = new LinkedBlockingQueue<>();
            Channel server = new ServerBootstrap().group(n.group).channelFactory(n.b.serverSocketChannels())
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            children.add(ch);
                        }
                    }).bind(80).sync().channel();
            Channel c = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .option(ChannelOption.SO_SNDBUF, 64 * 1024)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(16 * 1024, 32 * 1024))
                    .handler(new Sink(1)).connect(addr("10.0.0.2", 80)).sync().channel();
            Channel child = children.poll(10, TimeUnit.SECONDS);
            assertNotNull(child);
            // the peer does not read: its window (256 KiB) and our send buffer (64 KiB) fill, then Netty's buffer
            byte[] chunk = random(16 * 1024, 1);
            int[] chunks = new int[1];
            CompletableFuture<Boolean> unwritable = new CompletableFuture<>();
            c.eventLoop().submit(() -> {
                for (int i = 0; i < 100 && c.isWritable(); i++) {
                    c.writeAndFlush(Unpooled.wrappedBuffer(chunk));
                    chunks[0]++;
                }
                unwritable.complete(!c.isWritable());
            }).sync();
            assertTrue(unwritable.get(10, TimeUnit.SECONDS), "unwritable once the send buffer is full");
            // reading on the other side drains it all
            CompletableFuture<Long> total = new CompletableFuture<>();
            child.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                long n0;

                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    n0 += ((ByteBuf) msg).readableBytes();
                    ((ByteBuf) msg).release();
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    total.complete(n0);
                }
            });
            CompletableFuture<Boolean> writableAgain = new CompletableFuture<>();
            c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                    if (ctx.channel().isWritable()) {
                        writableAgain.complete(true);
                    }
                }
            });
            child.config().setAutoRead(true);
            assertTrue(writableAgain.get(10, TimeUnit.SECONDS));
            // the reader drains everything; the close's FIN follows the data at once (it used to wait for a 60 s RTO
            // after the zero-window phase: the engine re-entered through the same-loop pipe, see SynchronousSinkTest)
            long sent = (long) chunks[0] * chunk.length;
            assertTrue(sent > 64 * 1024, "more than the send buffer was written: " + sent);
            c.close().sync();
            assertEquals(sent, (long) total.get(20, TimeUnit.SECONDS), "every byte read before the FIN");
            child.close().sync();
            server.close().sync();
        }
    }

    /**
     * Both hosts on one loop: the handshake completes inside the engine's connect() (the peer answers
     * synchronously), so channelActive fires before connect() returns; what it writes must still go out (it was
     * released unsent because the channel did not know its connection yet).
     */
    @Test
    void writeFromChannelActiveWhenBothHostsShareOneLoop() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 1)) {
            Channel server = echoServer(n, 7);
            byte[] data = random(100_000, 3);
            Sink sink = new Sink(data.length);
            new Bootstrap().group(n.group).channelFactory(n.a.socketChannels())
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    ctx.writeAndFlush(Unpooled.wrappedBuffer(data));
                                    ctx.fireChannelActive();
                                }
                            }, sink);
                        }
                    }).connect(addr("10.0.0.2", 7)).sync();
            assertArrayEquals(data, sink.done.get(20, TimeUnit.SECONDS));
            server.close().sync();
        }
    }

    @Test
    void manyConnectionsSha256Checked() throws Exception {
        try (TwoHosts n = new TwoHosts(TestLoops.NIO, 2)) {
            Channel server = echoServer(n, 9);
            for (int i = 0; i < 20; i++) {
                byte[] data = random(1000 + i * 5000, i);
                Sink sink = new Sink(data.length);
                Channel c = new Bootstrap().group(n.group).channelFactory(n.a.socketChannels()).handler(sink)
                        .connect(addr(i % 2 == 0 ? "10.0.0.2" : "fd00::2", 9)).sync().channel();
                c.writeAndFlush(Unpooled.wrappedBuffer(data));
                assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data),
                        MessageDigest.getInstance("SHA-256").digest(sink.done.get(20, TimeUnit.SECONDS)));
                c.close().sync();
            }
            server.close().sync();
        }
    }
}

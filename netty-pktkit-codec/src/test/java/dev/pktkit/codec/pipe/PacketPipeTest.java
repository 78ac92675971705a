package dev.pktkit.codec.pipe;

import dev.pktkit.testkit.TestLoops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketPipeTest {
    private final List<MultiThreadIoEventLoopGroup> groups = new ArrayList<>();

    @AfterEach
    void shutdown() {
        for (MultiThreadIoEventLoopGroup g : groups) {
            g.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private EventLoop loop(String kind) {
        MultiThreadIoEventLoopGroup g = TestLoops.group(kind, 1);
        groups.add(g);
        return g.next();
    }

    static Stream<String> kinds() {
        return TestLoops.available().stream();
    }

    static Stream<String[]> kindPairs() {
        List<String[]> pairs = new ArrayList<>();
        for (String x : TestLoops.available()) {
            for (String y : TestLoops.available()) {
                pairs.add(new String[] {x, y});
            }
        }
        return pairs.stream();
    }

    /** Collects the payload of each read as a string and counts read-complete events. */
    static final class Recorder extends ChannelInboundHandlerAdapter {
        final List<String> reads = new ArrayList<>();
        final AtomicInteger readCompletes = new AtomicInteger();
        final CountDownLatch expected;
        final CountDownLatch closed = new CountDownLatch(1);

        Recorder(int expected) {
            this.expected = new CountDownLatch(expected);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                ByteBuf buf = (ByteBuf) msg;
                synchronized (reads) {
                    reads.add(buf.toString(java.nio.charset.StandardCharsets.US_ASCII));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
            expected.countDown();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readCompletes.incrementAndGet();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed.countDown();
        }

        List<String> snapshot() {
            synchronized (reads) {
                return new ArrayList<>(reads);
            }
        }
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, java.nio.charset.StandardCharsets.US_ASCII);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void sameLoopDeliversSynchronouslyAndKeepsBoundaries(String kind) throws Exception {
        EventLoop loop = loop(kind);
        Recorder rb = new Recorder(3);
        PacketPipe pipe = PacketPipe.open(loop, null, loop, rb).get(5, TimeUnit.SECONDS);
        // Three writes, one flush: inside the loop the reads have happened by the time flush() returns.
        List<String> seenRightAfterFlush = loop.submit(() -> {
            pipe.a().write(ascii("one"));
            pipe.a().write(ascii("two"));
            pipe.a().write(ascii("three"));
            pipe.a().flush();
            return rb.snapshot();
        }).get(5, TimeUnit.SECONDS);
        assertEquals(List.of("one", "two", "three"), seenRightAfterFlush);
        assertEquals(1, rb.readCompletes.get(), "one read-complete per flushed batch");
        pipe.close();
        assertTrue(rb.closed.await(5, TimeUnit.SECONDS));
    }

    @ParameterizedTest
    @MethodSource("kindPairs")
    void acrossTwoLoopsKeepsOrderAndBatches(String kindA, String kindB) throws Exception {
        EventLoop la = loop(kindA);
        EventLoop lb = loop(kindB);
        int n = 2000;
        Recorder rb = new Recorder(n);
        Recorder ra = new Recorder(n);
        // Room for every message, so that hand-overs are exactly the flushes below (no back-pressure resumes),
        // and b reads up to 128 per read batch, more than one flush holds.
        PacketPipe pipe = new PacketPipe(PacketPipe.DEFAULT_IN_FLIGHT_LIMIT, 2 * n);
        pipe.a().pipeline().addLast(ra);
        pipe.b().pipeline().addLast(rb);
        ((io.netty.channel.MaxMessagesRecvByteBufAllocator) pipe.b().config().getRecvByteBufAllocator())
                .maxMessagesPerRead(128);
        pipe.register(la, lb).get(5, TimeUnit.SECONDS);
        int flushes = n / 100;
        la.submit(() -> {
            for (int i = 0; i < n; i++) {
                pipe.a().write(ascii("a" + i));
                if (i % 100 == 99) {
                    pipe.a().flush();
                }
            }
            pipe.a().flush();
        });
        lb.submit(() -> {
            for (int i = 0; i < n; i++) {
                pipe.b().writeAndFlush(ascii("b" + i));
            }
        });
        assertTrue(rb.expected.await(10, TimeUnit.SECONDS), "b got " + rb.snapshot().size());
        assertTrue(ra.expected.await(10, TimeUnit.SECONDS), "a got " + ra.snapshot().size());
        List<String> atB = rb.snapshot();
        List<String> atA = ra.snapshot();
        for (int i = 0; i < n; i++) {
            assertEquals("a" + i, atB.get(i));
            assertEquals("b" + i, atA.get(i));
        }
        // A flush is published to the reader at once, so no read batch ends inside one: with at most 100 messages
        // per flush and 128 per read batch, b sees at most one read-complete per flush.
        assertTrue(rb.readCompletes.get() <= flushes,
                "read-completes " + rb.readCompletes.get() + " for " + flushes + " flushes");
        pipe.close();
        assertTrue(ra.closed.await(5, TimeUnit.SECONDS));
        assertTrue(rb.closed.await(5, TimeUnit.SECONDS));
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void backPressureTurnsWriterUnwritableUntilPeerReads(String kind) throws Exception {
        EventLoop la = loop(kind);
        EventLoop lb = loop(TestLoops.NIO);
        Recorder rb = new Recorder(1);
        PacketPipe pipe = new PacketPipe(4096);
        pipe.b().config().setAutoRead(false);
        pipe.b().pipeline().addLast(rb);
        pipe.register(la, lb).get(5, TimeUnit.SECONDS);
        pipe.a().config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(1024, 8192));

        CountDownLatch writableAgain = new CountDownLatch(1);
        pipe.a().pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                if (ctx.channel().isWritable()) {
                    writableAgain.countDown();
                }
            }
        });

        int written = la.submit(() -> {
            int count = 0;
            while (pipe.a().isWritable() && count < 10_000) {
                pipe.a().writeAndFlush(io.netty.buffer.PooledByteBufAllocator.DEFAULT.buffer(512).writeZero(512));
                count++;
            }
            return count;
        }).get(5, TimeUnit.SECONDS);
        assertFalse(la.submit(() -> pipe.a().isWritable()).get(5, TimeUnit.SECONDS),
                "writer must turn unwritable while the reader does not read");
        assertTrue(written < 10_000);
        assertTrue(pipe.b().pendingBytes() <= 4096 + 512, "in-flight bounded: " + pipe.b().pendingBytes());
        assertEquals(0, rb.snapshot().size(), "auto-read off: nothing delivered yet");

        pipe.b().config().setAutoRead(true); // starts reading
        assertTrue(writableAgain.await(5, TimeUnit.SECONDS), "writer writable again once the reader reads");
        pipe.close();
        assertTrue(rb.closed.await(5, TimeUnit.SECONDS));
        // every message was delivered or released on close; LeakGuard checks the latter
        assertTrue(rb.snapshot().size() > 0);
    }

    @Test
    void closeOfOneEndClosesTheOtherAfterDeliveringWhatWasSent() throws Exception {
        EventLoop la = loop(TestLoops.NIO);
        EventLoop lb = loop(TestLoops.NIO);
        Recorder rb = new Recorder(2);
        PacketPipe pipe = PacketPipe.open(la, null, lb, rb).get(5, TimeUnit.SECONDS);
        la.submit(() -> {
            pipe.a().write(ascii("x"));
            pipe.a().writeAndFlush(ascii("y"));
            pipe.a().close();
        }).get(5, TimeUnit.SECONDS);
        assertTrue(rb.closed.await(5, TimeUnit.SECONDS));
        assertEquals(List.of("x", "y"), rb.snapshot());
        assertFalse(pipe.b().isOpen());
    }

    @Test
    void closeDeliversEverythingAlreadyHandedOverNotOnlyOneBatch() throws Exception {
        EventLoop la = loop(TestLoops.NIO);
        EventLoop lb = loop(TestLoops.NIO);
        int n = 1000; // far more than one drain task delivers (4 batches of 16)
        Recorder rb = new Recorder(n);
        PacketPipe pipe = PacketPipe.open(la, null, lb, rb).get(5, TimeUnit.SECONDS);
        // Hold b's loop so that all writes and the close are queued before b reads anything.
        CountDownLatch hold = new CountDownLatch(1);
        lb.execute(() -> {
            try {
                hold.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        la.submit(() -> {
            for (int i = 0; i < n; i++) {
                pipe.a().write(ascii("m" + i));
            }
            pipe.a().flush();
            pipe.a().close();
        }).get(5, TimeUnit.SECONDS);
        hold.countDown();
        assertTrue(rb.closed.await(5, TimeUnit.SECONDS));
        assertEquals(n, rb.snapshot().size(), "every message handed over before the close is delivered");
    }

    @Test
    void writeAfterPeerClosedFailsAndReleases() throws Exception {
        EventLoop la = loop(TestLoops.NIO);
        Recorder rb = new Recorder(0);
        PacketPipe pipe = PacketPipe.open(la, null, la, rb).get(5, TimeUnit.SECONDS);
        pipe.b().close().sync();
        ByteBuf msg = ascii("late");
        io.netty.channel.ChannelFuture f = pipe.a().writeAndFlush(msg);
        f.await(5, TimeUnit.SECONDS);
        assertFalse(f.isSuccess());
        assertEquals(0, msg.refCnt(), "failed write released the message");
    }

    @Test
    void messagesWrittenBeforePeerRegistersArriveAfterwards() throws Exception {
        EventLoop la = loop(TestLoops.NIO);
        EventLoop lb = loop(TestLoops.NIO);
        Recorder rb = new Recorder(1);
        PacketPipe pipe = new PacketPipe();
        pipe.b().pipeline().addLast(rb);
        la.register(pipe.a()).sync();
        pipe.a().writeAndFlush(ascii("early")).sync();
        assertEquals(0, rb.snapshot().size());
        lb.register(pipe.b()).sync();
        assertTrue(rb.expected.await(5, TimeUnit.SECONDS));
        assertEquals(List.of("early"), rb.snapshot());
        pipe.close();
    }

    @Test
    void deepSameLoopPingPongDoesNotOverflowTheStack() throws Exception {
        EventLoop loop = loop(TestLoops.NIO);
        int bounces = 10_000;
        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger seen = new AtomicInteger();
        PacketPipe pipe = PacketPipe.connect(loop, new Echo(seen, bounces, done),
                loop, new Echo(seen, bounces, done)).get(5, TimeUnit.SECONDS);
        pipe.a().writeAndFlush(ascii("ball"));
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertEquals(bounces, seen.get());
        pipe.close();
    }

    private static final class Echo extends ChannelInboundHandlerAdapter {
        private final AtomicInteger seen;
        private final int bounces;
        private final CountDownLatch done;

        Echo(AtomicInteger seen, int bounces, CountDownLatch done) {
            this.seen = seen;
            this.bounces = bounces;
            this.done = done;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (seen.incrementAndGet() >= bounces) {
                ReferenceCountUtil.release(msg);
                done.countDown();
            } else {
                ctx.writeAndFlush(msg);
            }
        }
    }
}

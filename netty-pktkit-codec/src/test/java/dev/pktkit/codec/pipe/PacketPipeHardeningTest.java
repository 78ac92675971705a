package dev.pktkit.codec.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pipe's edges: close racing registration, a dead peer loop, empty messages, exact byte accounting. */
class PacketPipeHardeningTest {
    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());

    @AfterEach
    void shutdown() {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    static ByteBuf pooled(int n) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(Math.max(n, 1)).writeZero(n);
    }

    /** Counts reads and releases them. */
    static final class Sink extends ChannelInboundHandlerAdapter {
        final AtomicInteger reads = new AtomicInteger();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            reads.incrementAndGet();
        }
    }

    /**
     * End a closes itself as soon as it is registered, while b registers on another loop. Whichever way the race
     * goes, b ends closed (its close future done, not active), and what a wrote before closing is released.
     */
    @Test
    void closeWhileThePeerRegistersAlwaysClosesThePeer() throws Exception {
        EventLoop la = group.next();
        EventLoop lb = group.next();
        for (int i = 0; i < 300; i++) {
            PacketPipe pipe = new PacketPipe();
            pipe.a().pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelActive(ChannelHandlerContext ctx) {
                    ctx.writeAndFlush(pooled(64));
                    ctx.close();
                }
            });
            pipe.register(la, lb).await(5, TimeUnit.SECONDS);
            assertTrue(pipe.b().closeFuture().await(5, TimeUnit.SECONDS), "b closed in round " + i);
            assertFalse(pipe.b().isOpen());
            assertFalse(pipe.b().isActive(), "b must not come back to life after the close");
            assertTrue(pipe.a().closeFuture().await(5, TimeUnit.SECONDS));
            assertEquals(0, pipe.b().pendingMessages(), "what a handed over was released");
        }
    }

    /**
     * The peer's loop has terminated: the wake-up flag is not left set, what was handed over is released, and
     * later writes fail instead of piling up.
     */
    @Test
    void terminatedPeerLoopClearsTheWakeupAndReleases() throws Exception {
        EventLoop la = group.next();
        DefaultEventLoop lb = new DefaultEventLoop(); // does not close its channels when it shuts down
        Sink sink = new Sink();
        PacketPipe pipe = PacketPipe.open(la, null, lb, sink).sync().getNow();
        lb.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
        assertTrue(lb.isTerminated());

        ByteBuf first = pooled(100);
        first.retain(); // to look at it after the write
        ChannelFuture w = la.submit(() -> pipe.a().writeAndFlush(first)).get(5, TimeUnit.SECONDS);
        w.await(5, TimeUnit.SECONDS);
        assertEquals(1, first.refCnt(), "the pipe's reference was released (ours remains)");
        first.release();
        assertFalse(pipe.b().wakeupPending(), "no wake-up flag left set for a loop that is gone");
        assertFalse(pipe.b().isOpen(), "an end whose loop is gone counts as closed");
        assertEquals(0, pipe.b().pendingBytes());

        ByteBuf second = pooled(100);
        ChannelFuture w2 = la.submit(() -> pipe.a().writeAndFlush(second)).get(5, TimeUnit.SECONDS);
        assertTrue(w2.await(5, TimeUnit.SECONDS));
        assertInstanceOf(ClosedChannelException.class, w2.cause());
        assertEquals(0, second.refCnt());
        assertEquals(0, sink.reads.get());
        la.submit(() -> pipe.a().close()).get(5, TimeUnit.SECONDS).sync();
    }

    /** Empty messages cost a slot each: a reader that does not read cannot be buried in them. */
    @Test
    void emptyMessagesAreBoundedBySlots() throws Exception {
        EventLoop loop = group.next();
        Sink sink = new Sink();
        PacketPipe pipe = new PacketPipe(PacketPipe.DEFAULT_IN_FLIGHT_LIMIT, 64);
        pipe.b().config().setAutoRead(false);
        pipe.b().pipeline().addLast(sink);
        pipe.register(loop, loop).sync();
        int written = loop.submit(() -> {
            int n = 0;
            while (pipe.a().isWritable() && n < 100_000) {
                pipe.a().writeAndFlush(PooledByteBufAllocator.DEFAULT.buffer(0));
                n++;
            }
            return n;
        }).get(5, TimeUnit.SECONDS);
        assertTrue(written < 100_000, "the writer turned unwritable");
        assertEquals(64, pipe.b().pendingMessages(), "no more than the pipe's slots wait at the reader");
        assertEquals(0, pipe.b().pendingBytes());
        loop.submit(() -> pipe.b().config().setAutoRead(true)).sync();
        CountDownLatch drained = new CountDownLatch(1);
        loop.execute(() -> pollUntil(loop, () -> sink.reads.get() == written, drained));
        assertTrue(drained.await(10, TimeUnit.SECONDS), "read " + sink.reads.get() + " of " + written);
        pipe.close();
        pipe.b().closeFuture().sync();
    }

    /** Re-checks {@code done} on the loop (a task per turn, no sleeping) until it holds. */
    private static void pollUntil(EventLoop loop, java.util.function.BooleanSupplier done, CountDownLatch latch) {
        if (done.getAsBoolean()) {
            latch.countDown();
        } else {
            loop.execute(() -> pollUntil(loop, done, latch));
        }
    }

    /**
     * The size a message is counted with is taken once, at hand-over: a writer that (wrongly) changes a buffer
     * after writing it cannot make the reader's accounting drift.
     */
    @Test
    void byteAccountingUsesTheSizeTakenAtHandOver() throws Exception {
        EventLoop loop = group.next();
        Sink sink = new Sink();
        PacketPipe pipe = new PacketPipe();
        pipe.b().config().setAutoRead(false);
        pipe.b().pipeline().addLast(sink);
        pipe.register(loop, loop).sync();
        ByteBuf msg = PooledByteBufAllocator.DEFAULT.buffer(256).writeZero(10);
        loop.submit(() -> pipe.a().writeAndFlush(msg.retain())).sync();
        assertEquals(10, pipe.b().pendingBytes());
        msg.writeZero(200); // a misbehaving writer: 210 readable bytes now
        msg.release();
        loop.submit(() -> pipe.b().read()).sync();
        assertEquals(1, loop.submit(sink.reads::get).get());
        assertEquals(0, pipe.b().pendingBytes(), "exactly what was added is subtracted");
        assertEquals(0, pipe.b().pendingMessages());
        pipe.close();
        pipe.b().closeFuture().sync();
    }
}

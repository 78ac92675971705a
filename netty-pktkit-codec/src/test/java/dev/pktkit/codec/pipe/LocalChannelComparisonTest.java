package dev.pktkit.codec.pipe;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Netty's {@link LocalChannel} really does, next to {@link PacketPipe}: the reasons PacketPipe exists, checked
 * against the Netty on the class path rather than assumed.
 */
class LocalChannelComparisonTest {
    private final MultiThreadIoEventLoopGroup local = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    private final MultiThreadIoEventLoopGroup nio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @AfterEach
    void shutdown() {
        local.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        nio.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Records the size of each read until {@code bytes} bytes arrived; holds nothing. */
    static final class Reads extends ChannelInboundHandlerAdapter {
        final List<Integer> sizes = new ArrayList<>();
        final CountDownLatch got = new CountDownLatch(1);
        private final long bytes;
        private long seen;

        Reads(long bytes) {
            this.bytes = bytes;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            int n = ((ByteBuf) msg).readableBytes();
            synchronized (sizes) {
                sizes.add(n);
            }
            ReferenceCountUtil.release(msg);
            if ((seen += n) >= bytes) {
                got.countDown();
            }
        }
    }

    private Channel[] localPair(LocalAddress address, Reads serverReads, boolean serverAutoRead) throws Exception {
        Channel[] child = new Channel[1];
        CountDownLatch accepted = new CountDownLatch(1);
        Channel server = new ServerBootstrap().group(local).channel(LocalServerChannel.class)
                .childOption(ChannelOption.AUTO_READ, serverAutoRead)
                .childHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void handlerAdded(ChannelHandlerContext ctx) {
                        child[0] = ctx.channel();
                        ctx.pipeline().addLast(serverReads);
                        accepted.countDown();
                    }
                }).bind(address).sync().channel();
        Channel client = new Bootstrap().group(local).channel(LocalChannel.class)
                .handler(new ChannelInboundHandlerAdapter()).connect(address).sync().channel();
        assertTrue(accepted.await(5, TimeUnit.SECONDS));
        return new Channel[] {server, client, child[0]};
    }

    /**
     * Reason 1: LocalChannel (Netty 4.2) merges the {@code ByteBuf}s of one flush into one read — right for a byte
     * stream, wrong for frames. A pipe gives one read per write.
     */
    @Test
    void localChannelMergesTheBuffersOfAFlushAPipeKeepsThem() throws Exception {
        Reads reads = new Reads(60);
        Channel[] c = localPair(new LocalAddress("pktkit-boundaries"), reads, true);
        try {
            c[1].write(PooledByteBufAllocator.DEFAULT.buffer().writeZero(10));
            c[1].write(PooledByteBufAllocator.DEFAULT.buffer().writeZero(20));
            c[1].writeAndFlush(PooledByteBufAllocator.DEFAULT.buffer().writeZero(30)).sync();
            assertTrue(reads.got.await(5, TimeUnit.SECONDS));
            synchronized (reads.sizes) {
                assertEquals(List.of(60), reads.sizes, "three writes, one flush: one merged read");
            }
        } finally {
            c[1].close().sync();
            c[0].close().sync();
        }
        Reads pipeReads = new Reads(60);
        PacketPipe pipe = PacketPipe.open(nio.next(), null, nio.next(), pipeReads).sync().getNow();
        pipe.a().write(PooledByteBufAllocator.DEFAULT.buffer().writeZero(10));
        pipe.a().write(PooledByteBufAllocator.DEFAULT.buffer().writeZero(20));
        pipe.a().writeAndFlush(PooledByteBufAllocator.DEFAULT.buffer().writeZero(30)).sync();
        assertTrue(pipeReads.got.await(5, TimeUnit.SECONDS));
        synchronized (pipeReads.sizes) {
            assertEquals(List.of(10, 20, 30), pipeReads.sizes, "a pipe: one read per write");
        }
        pipe.close();
        pipe.b().closeFuture().sync();
    }

    /**
     * Reason 2: a LocalChannel pair needs a bound {@link LocalServerChannel} (a JVM-wide address registry) and a
     * connect through it; and it registers only with loops that accept its {@code LocalIoHandle} — not with a
     * NIO (or epoll, io_uring) loop that the rest of a server runs on. A pipe is two channels, no address, any loop.
     */
    @Test
    void localChannelDoesNotRegisterWithAnIoTransportLoop() throws Exception {
        ChannelFuture f = nio.next().register(new LocalChannel()).await();
        assertFalse(f.isSuccess(), "LocalChannel on a NIO loop");
        PacketPipe pipe = PacketPipe.open(nio.next(), null, nio.next(), null).sync().getNow();
        assertTrue(pipe.a().isActive() && pipe.b().isActive(), "a pipe needs no server and no address");
        pipe.close();
        pipe.b().closeFuture().sync();
    }

    /**
     * Reason 3: no bound on what waits unread. A reader with auto-read off lets the LocalChannel peer queue
     * everything; the writer never turns unwritable. A pipe stops at its in-flight limit and its writer turns
     * unwritable (see {@link PacketPipeTest#backPressureTurnsWriterUnwritableUntilPeerReads}).
     */
    @Test
    void localChannelHasNoInFlightBoundForASlowReader() throws Exception {
        Reads reads = new Reads(4000 * 512L);
        Channel[] c = localPair(new LocalAddress("pktkit-unbounded"), reads, false);
        try {
            Channel client = c[1];
            client.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(1024, 8192));
            boolean alwaysWritable = client.eventLoop().submit(() -> {
                boolean writable = true;
                for (int i = 0; i < 4000; i++) {
                    client.writeAndFlush(PooledByteBufAllocator.DEFAULT.buffer(512).writeZero(512));
                    writable &= client.isWritable();
                }
                return writable;
            }).get(5, TimeUnit.SECONDS);
            assertTrue(alwaysWritable, "2 MB waiting unread and the writer is still writable");
            synchronized (reads.sizes) {
                assertTrue(reads.sizes.isEmpty(), "nothing read yet");
            }
            c[2].config().setAutoRead(true); // read it all, so nothing leaks
            assertTrue(reads.got.await(10, TimeUnit.SECONDS));
        } finally {
            c[1].close().sync();
            c[0].close().sync();
        }
    }
}

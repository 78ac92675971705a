package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ManualIoEventLoop;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.util.concurrent.TimeUnit;

/**
 * An event loop driven by the benchmark thread itself ({@link ManualIoEventLoop}), so that hub and pipe code runs
 * as it does on a real loop — same-loop paths, no task hand-offs — and the measured thread does all the work.
 */
final class BenchLoop implements AutoCloseable {
    final ManualIoEventLoop loop = new ManualIoEventLoop(Thread.currentThread(), NioIoHandler.newFactory());

    <T> T await(Future<T> f) {
        while (!f.isDone()) {
            loop.runNow();
        }
        return f.getNow();
    }

    /** A registered pipe; its b end is meant to be a hub port. */
    PacketPipe pipe() {
        return await(new PacketPipe().register(loop, loop));
    }

    @Override
    public void close() {
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        while (!loop.isTerminated()) {
            loop.runNow();
        }
    }

    /** First outbound handler of a port: takes every write and releases it; a sink port. */
    @ChannelHandler.Sharable
    static final class DiscardingSink extends ChannelOutboundHandlerAdapter {
        long frames;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            frames++;
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            // nothing buffered
        }
    }
}

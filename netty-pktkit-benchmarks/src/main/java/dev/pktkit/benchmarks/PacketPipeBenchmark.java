package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ManualIoEventLoop;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.ReferenceCountUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * One-way delivery through a {@link PacketPipe} whose ends share one event loop: write + flush on end a, read
 * (and release) on end b. The benchmark thread owns a {@link ManualIoEventLoop}, so it runs as the loop and the
 * delivery is the synchronous same-loop path.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class PacketPipeBenchmark {
    private ManualIoEventLoop loop;
    private PacketPipe pipe;
    private ByteBuf frame;
    private Sink sink;

    /** Counts and releases what arrives. */
    @ChannelHandler.Sharable
    static final class Sink extends ChannelInboundHandlerAdapter {
        long received;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            received++;
            ReferenceCountUtil.release(msg);
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        loop = new ManualIoEventLoop(Thread.currentThread(), NioIoHandler.newFactory());
        sink = new Sink();
        pipe = new PacketPipe();
        pipe.b().pipeline().addLast(sink);
        var f = pipe.register(loop, loop);
        while (!f.isDone()) {
            loop.runNow();
        }
        f.getNow();
        frame = PooledByteBufAllocator.DEFAULT.directBuffer(1514).writeZero(1514);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (sink.received == 0) {
            throw new IllegalStateException("nothing was delivered");
        }
        pipe.close();
        loop.runNow();
        frame.release();
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        while (!loop.isTerminated()) {
            loop.runNow();
        }
    }

    /** One frame, one flush. */
    @Benchmark
    public void writeAndFlush() {
        pipe.a().write(frame.retain(), pipe.a().voidPromise());
        pipe.a().flush();
    }

    /** Sixteen frames per flush, reported per frame. */
    @Benchmark
    @OperationsPerInvocation(16)
    public void batchOf16() {
        var a = pipe.a();
        for (int i = 0; i < 16; i++) {
            a.write(frame.retain(), a.voidPromise());
        }
        a.flush();
    }
}

package dev.pktkit.benchmarks;

import dev.pktkit.codec.buffer.Buffers;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * A packet copy as the data paths make it: a new direct buffer from the allocator (recycled, as every packet
 * buffer is), {@code len} bytes copied into it from a long-lived direct source, released. {@code source}
 * {@code whole} copies from the source buffer itself (a datagram read into its own buffer), {@code slice} from a
 * retained partial slice of it (vtcp's payload: a slice of the application's write). {@code nettySetBytes} is
 * {@code dst.setBytes(0, src, off, len)} (what {@code Buffers.copy} did above 2048 bytes before),
 * {@code buffersCopy} is codec's {@link Buffers#copy}. {@code alloc}: Netty 4.2's default adaptive allocator, or
 * the classic pooled one.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class CopyBenchmark {
    @Param({"adaptive", "pooled"})
    public String alloc;

    @Param({"whole", "slice"})
    public String source;

    @Param({"1500", "65000"})
    public int len;

    private ByteBufAllocator allocator;
    private ByteBuf backing;
    private ByteBuf src;
    private int off;

    @Setup(Level.Trial)
    public void setUp() {
        allocator = "adaptive".equals(alloc) ? new AdaptiveByteBufAllocator() : PooledByteBufAllocator.DEFAULT;
        backing = allocator.directBuffer(len + 100);
        for (int i = 0; i < len + 100; i++) {
            backing.writeByte(i * 31);
        }
        if ("slice".equals(source)) {
            src = backing.retainedSlice(40, len);
            off = 0;
        } else {
            src = backing.retain();
            off = 40;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        src.release();
        backing.release();
    }

    @Benchmark
    public int nettySetBytes() {
        ByteBuf dst = allocator.directBuffer(len);
        dst.setBytes(0, src, off, len);
        int b = dst.getByte(len - 1);
        dst.release();
        return b;
    }

    @Benchmark
    public int buffersCopy() {
        ByteBuf dst = allocator.directBuffer(len);
        Buffers.copy(src, off, dst, 0, len);
        int b = dst.getByte(len - 1);
        dst.release();
        return b;
    }

    /** Direct source into a heap destination: Netty's {@code getBytes} into the array (the route before codec9). */
    @Benchmark
    public int nettyGetBytesToHeap() {
        ByteBuf dst = allocator.heapBuffer(len);
        src.getBytes(off, dst.array(), dst.arrayOffset(), len);
        int b = dst.getByte(len - 1);
        dst.release();
        return b;
    }

    /** Direct source into a heap destination through {@link Buffers#copy}. */
    @Benchmark
    public int buffersCopyToHeap() {
        ByteBuf dst = allocator.heapBuffer(len);
        Buffers.copy(src, off, dst, 0, len);
        int b = dst.getByte(len - 1);
        dst.release();
        return b;
    }
}

package dev.pktkit.benchmarks;

import dev.pktkit.afxdp.XdpRing;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * The AF_XDP ring operations on one thread, over rings in plain memory laid out as the kernel maps them: a batch
 * of 64 descriptors produced (reserve, write, release-store of the producer index) and consumed (acquire-load,
 * read, release-store of the consumer index) on a 16-byte RX/TX ring, and the same for 8-byte fill/completion
 * addresses. Per descriptor; expected 0 B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.NO_LEAK_DETECTION})
public class XdpRingBenchmark {
    static final int SIZE = 2048;
    static final int BATCH = 64;

    private Arena arena;
    private XdpRing descProducer;
    private XdpRing descConsumer;
    private XdpRing addrProducer;
    private XdpRing addrConsumer;
    private long next;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        MemorySegment d = arena.allocate(256 + SIZE * 16L, 4096);
        MemorySegment a = arena.allocate(256 + SIZE * 8L, 4096);
        descProducer = new XdpRing(d, 0, 64, 128, 256, SIZE, 16, true);
        descConsumer = new XdpRing(d, 0, 64, 128, 256, SIZE, 16, false);
        addrProducer = new XdpRing(a, 0, 64, 128, 256, SIZE, 8, true);
        addrConsumer = new XdpRing(a, 0, 64, 128, 256, SIZE, 8, false);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long descriptorBatch() {
        int n = descProducer.free(BATCH);
        for (int i = 0; i < n; i++) {
            descProducer.putDescriptor(i, (next + i) << 11, 60);
        }
        descProducer.submit(n);
        int m = descConsumer.available(BATCH);
        long sum = 0;
        for (int i = 0; i < m; i++) {
            sum += descConsumer.address(i) + descConsumer.length(i);
        }
        descConsumer.release(m);
        next += n;
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long addressBatch() {
        int n = addrProducer.free(BATCH);
        for (int i = 0; i < n; i++) {
            addrProducer.putAddress(i, (next + i) << 11);
        }
        addrProducer.submit(n);
        int m = addrConsumer.available(BATCH);
        long sum = 0;
        for (int i = 0; i < m; i++) {
            sum += addrConsumer.address(i);
        }
        addrConsumer.release(m);
        next += n;
        return sum;
    }
}

package dev.pktkit.benchmarks;

import dev.pktkit.codec.adapter.NeighborCache;
import dev.pktkit.codec.wire.Ip4;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * ARP and NDP cache lookups ({@link NeighborCache#lookup}) in a cache holding {@code entries} resolved neighbours.
 * Each invocation looks up 1024 addresses that are all present, in random order, reported per lookup (throughput
 * of a batch: the CPU overlaps independent lookups).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class NeighborCacheBenchmark {
    private static final int LOOKUPS = 1024;

    @Param({"16", "1024"})
    public int entries;

    private NeighborCache arp;
    private NeighborCache ndp;
    private final int[] v4 = new int[LOOKUPS];
    private final long[] v6hi = new long[LOOKUPS];
    private final long[] v6lo = new long[LOOKUPS];

    @Setup(Level.Trial)
    public void setUp() {
        arp = new NeighborCache(entries, 16, 256);
        ndp = new NeighborCache(entries, 16, 256);
        int[] a4 = new int[entries];
        long[] a6 = new long[entries];
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < entries; i++) {
            a4[i] = Ip4.parse("10.0.0.0") + i + 1;
            a6[i] = 0x0200_0000_0000_0000L | (rnd.nextLong() & 0x00FF_FFFF_FFFF_FFFFL);
            arp.put(0, a4[i] & 0xFFFF_FFFFL, 0x0200_0000_0000L + i, Long.MAX_VALUE);
            ndp.put(0xFE80_0000_0000_0000L, a6[i], 0x0200_0000_0000L + i, Long.MAX_VALUE);
        }
        for (int i = 0; i < LOOKUPS; i++) {
            int k = rnd.nextInt(entries);
            v4[i] = a4[k];
            v6hi[i] = 0xFE80_0000_0000_0000L;
            v6lo[i] = a6[k];
        }
        if (arp.lookup(v4[0]) < 0 || ndp.lookup(v6hi[0], v6lo[0]) < 0) {
            throw new IllegalStateException("cache not filled");
        }
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long arpLookup() {
        long x = 0;
        NeighborCache c = arp;
        for (int i = 0; i < LOOKUPS; i++) {
            x += c.lookup(v4[i]);
        }
        return x;
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public long ndpLookup() {
        long x = 0;
        NeighborCache c = ndp;
        for (int i = 0; i < LOOKUPS; i++) {
            x += c.lookup(v6hi[i], v6lo[i]);
        }
        return x;
    }
}

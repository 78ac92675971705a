package dev.pktkit.benchmarks;

import dev.pktkit.switching.lpm.Ipv4RouteTable;
import dev.pktkit.switching.lpm.Ipv6RouteTable;
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
import org.openjdk.jmh.infra.Blackhole;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The L3Hub's route lookup: longest-prefix match over {@code prefixes} routes (4, or 10,000 random prefixes of
 * lengths 8..32 for IPv4, 32..64 plus /128 hosts for IPv6). Each invocation looks up 1024 destinations, most of
 * them covered by some route, spread over the table so that caches see realistic misses.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class L3RouteBenchmark {
    private static final int LOOKUPS = 1024;

    @Param({"4", "10000"})
    public int prefixes;

    private final Ipv4RouteTable<Object> v4 = new Ipv4RouteTable<>();
    private final Ipv6RouteTable<Object> v6 = new Ipv6RouteTable<>();
    private final int[] dst4 = new int[LOOKUPS];
    private final long[] dst6hi = new long[LOOKUPS];
    private final long[] dst6lo = new long[LOOKUPS];

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rnd = new SplittableRandom(42);
        Object[] ports = {"p1", "p2", "p3", "p4"};
        int[] pfx4 = new int[prefixes];
        long[] pfx6 = new long[prefixes];
        if (prefixes == 4) {
            int[][] fixed = {{0x0A000100, 24}, {0x0A000200, 24}, {0xC0A80000, 16}, {0, 0}};
            for (int i = 0; i < 4; i++) {
                v4.put(fixed[i][0], fixed[i][1], ports[i]);
                pfx4[i] = fixed[i][0];
                long hi = 0x2001_0db8_0000_0000L | ((long) i << 16);
                v6.put(hi, 0, i == 3 ? 0 : 48, ports[i]);
                pfx6[i] = hi;
            }
        } else {
            for (int i = 0; i < prefixes; i++) {
                int len = 8 + rnd.nextInt(25);
                int addr = rnd.nextInt();
                v4.put(addr, len, ports[i & 3]);
                pfx4[i] = addr;
                long hi = 0x2000_0000_0000_0000L | (rnd.nextLong() >>> 4);
                if (i % 10 == 0) {
                    v6.put(hi, rnd.nextLong(), 128, ports[i & 3]);
                } else {
                    v6.put(hi, 0, 32 + rnd.nextInt(33), ports[i & 3]);
                }
                pfx6[i] = hi;
            }
        }
        for (int i = 0; i < LOOKUPS; i++) {
            int p = rnd.nextInt(prefixes);
            dst4[i] = pfx4[p] ^ (rnd.nextInt() & 0xFF); // inside or near a prefix
            dst6hi[i] = pfx6[p] ^ (rnd.nextInt() & 0xFFFF);
            dst6lo[i] = rnd.nextLong();
        }
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public void ipv4Lookup(Blackhole bh) {
        Ipv4RouteTable<Object> t = v4;
        int[] d = dst4;
        for (int i = 0; i < LOOKUPS; i++) {
            bh.consume(t.lookup(d[i]));
        }
    }

    @Benchmark
    @OperationsPerInvocation(LOOKUPS)
    public void ipv6Lookup(Blackhole bh) {
        Ipv6RouteTable<Object> t = v6;
        for (int i = 0; i < LOOKUPS; i++) {
            bh.consume(t.lookup(dst6hi[i], dst6lo[i]));
        }
    }
}

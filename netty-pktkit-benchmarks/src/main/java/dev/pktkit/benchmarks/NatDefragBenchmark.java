package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.defrag.DefragConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPipeline;
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
 * What the defragmenter costs a packet that is not a fragment inside the NAT (issue 12's "non-fragment fast path
 * ≤ 1.4 ns"), as an A/B/A' comparison of three NATs that differ in nothing but that: the same config, the same
 * one UDP flow (1440-byte payload, established before measuring), the same pipes and restoring sink as
 * {@link NatBenchmark#natOutboundUdp}, 16 packets per read batch, reported per packet.
 * <ul>
 *   <li>{@code withDefrag}: {@code Nat.create(loop, config)} (the default {@link DefragConfig} in front);</li>
 *   <li>{@code withoutDefrag}: {@code Nat.create(loop, config, null)} (no defragmenter; fragments dropped);</li>
 *   <li>{@code withDefragAgain}: a second NAT built exactly as {@code withDefrag}: the control, whose difference
 *   to {@code withDefrag} is what "identical" looks like in the same run (forks, code layout, machine).</li>
 * </ul>
 * All three NATs exist in every fork (each method drives its own); run with many forks (each fork's JIT and
 * layout differ) and compare the differences, not the single figures.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(value = 8, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class NatDefragBenchmark {
    private static final int BATCH = 16;
    private static final int INSIDE = 0x0A00_0002;   // 10.0.0.2
    private static final int REMOTE = 0xC633_6407;   // 198.51.100.7

    private BenchLoop bench;
    private final Nat[] nats = new Nat[3];
    private final ChannelPipeline[] inside = new ChannelPipeline[3];
    private final ByteBuf[][] packets = new ByteBuf[3][BATCH];

    private static NatConfig config() {
        return NatConfig.builder().outsideAddresses("203.0.113.1").filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT)
                .build();
    }

    @Setup(Level.Trial)
    public void setUp() {
        bench = new BenchLoop();
        // -Dnat.defrag.order=1,0,2 builds the NATs in another order (memory placement follows it)
        String[] order = System.getProperty("nat.defrag.order", "0,1,2").split(",");
        for (String o : order) {
            int n = Integer.parseInt(o.trim());
            Nat nat = n == 1 ? Nat.create(bench.loop, config(), null) : Nat.create(bench.loop, config());
            if ((nat.defragmenter() == null) != (n == 1)) {
                throw new IllegalStateException("defragmenter of NAT " + n);
            }
            PacketPipe in = bench.pipe();
            PacketPipe out = bench.pipe();
            nat.attach(in.b(), "bench");
            nat.attachOutside(out.b());
            out.b().pipeline().addFirst(new NatBenchmark.RestoringSink());
            bench.loop.runNow();
            nats[n] = nat;
            inside[n] = in.b().pipeline();
            for (int i = 0; i < BATCH; i++) {
                packets[n][i] = NatBenchmark.udp(INSIDE, 40001, REMOTE, 53);
            }
            burst(n); // the flow's mapping and session exist before measuring
            if (nat.counters().outbound() != BATCH) {
                throw new IllegalStateException("setup: " + nat.counters());
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (int n = 0; n < 3; n++) {
            if (nats[n].counters().droppedTotal() != 0) {
                throw new IllegalStateException("drops: " + nats[n].counters());
            }
            nats[n].close();
        }
        bench.loop.runNow();
        for (ByteBuf[] a : packets) {
            for (ByteBuf b : a) {
                b.release();
            }
        }
        bench.close();
    }

    private void burst(int n) {
        ChannelPipeline p = inside[n];
        ByteBuf[] a = packets[n];
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(a[i]);
        }
        p.fireChannelReadComplete();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void withDefrag() {
        burst(0);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void withoutDefrag() {
        burst(1);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void withDefragAgain() {
        burst(2);
    }
}

package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.switching.lpm.Prefix;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * L3Hub forwarding of an IPv4 packet through real pipelines (as {@link L2HubBenchmark}): four ports, plus
 * {@code routes} extra random routes to them, packet from port 1 routed to port 2's sink. Plain hub mode
 * (forward unchanged) and router mode (TTL decrement with incremental checksum update).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class L3HubBenchmark {
    private static final int BATCH = 16;

    /** Routes beyond the ports' own four prefixes. */
    @Param({"0", "10000"})
    public int routes;

    private BenchLoop bench;
    private L3Hub hub;
    private L3Hub router;
    private ChannelPipeline hubIngress;
    private ChannelPipeline routerIngress;
    private ByteBuf packet;
    private BenchLoop.DiscardingSink sink;
    private final TtlRestoringSink restoringSink = new TtlRestoringSink();
    private final ByteBuf[] routerPackets = new ByteBuf[BATCH];

    @Setup(Level.Trial)
    public void setUp() {
        bench = new BenchLoop();
        sink = new BenchLoop.DiscardingSink();
        hub = L3Hub.builder().build();
        router = L3Hub.builder().routerMode(true).build();
        hubIngress = ports(hub, sink);
        routerIngress = ports(router, restoringSink);
        packet = newPacket();
        for (int i = 0; i < BATCH; i++) {
            routerPackets[i] = newPacket();
        }
    }

    private static ByteBuf newPacket() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        Ipv4.writeHeader(b, 0x0A00_010A, 0x0A00_020A, IpProtocol.UDP, 64, 8, 1, true); // 10.0.1.10 -> 10.0.2.10
        b.writeZero(8);
        return b;
    }

    /** Takes routed packets back: restores TTL 64 (and the checksum) and keeps the buffer for the next round. */
    @io.netty.channel.ChannelHandler.Sharable
    static final class TtlRestoringSink extends io.netty.channel.ChannelOutboundHandlerAdapter {
        long frames;

        @Override
        public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg,
                          io.netty.channel.ChannelPromise promise) {
            ByteBuf b = (ByteBuf) msg;
            b.setByte(b.readerIndex() + 8, 64);
            Ipv4.fillChecksum(b, b.readerIndex());
            frames++;
        }

        @Override
        public void flush(io.netty.channel.ChannelHandlerContext ctx) {
        }
    }

    private ChannelPipeline ports(L3Hub h, io.netty.channel.ChannelHandler sinkHandler) {
        Channel[] ch = new Channel[5];
        for (int i = 1; i <= 4; i++) {
            PacketPipe p = bench.pipe();
            ch[i] = p.b();
            h.attach(p.b(), L3PortOptions.prefixes("10.0." + i + ".0/24"));
            if (i > 1) {
                p.b().pipeline().addFirst(sinkHandler);
            }
        }
        SplittableRandom rnd = new SplittableRandom(3);
        for (int r = 0; r < routes; r++) {
            int addr = 0x4000_0000 | (rnd.nextInt() >>> 2); // outside 10/8
            h.addRoute(Prefix.ipv4(addr, 8 + rnd.nextInt(25)), ch[2 + rnd.nextInt(3)]);
        }
        bench.loop.runNow();
        return ch[1].pipeline();
    }

    /**
     * Checks that packets arrived and releases them, but leaves the hubs, their routes and the loop to the fork's
     * exit. JMH runs a {@code Level.Trial} teardown inside the last measured iteration, so {@code -prof gc} counts
     * what it allocates as the benchmark's: closing the hubs removes their 10,000 routes (nodes copied, prefixes
     * built), and that alone was the 0.5–2.7 B/op reported for {@code routes=10000} (all of it in the last
     * iteration, 0 in the others). The fork ends right after, so nothing outlives it.
     */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (sink.frames + restoringSink.frames == 0) {
            throw new IllegalStateException("nothing reached the sinks");
        }
        packet.release();
        for (ByteBuf b : routerPackets) {
            b.release();
        }
    }

    /** Forward unchanged. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void forward() {
        ChannelPipeline p = hubIngress;
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(packet.retainedDuplicate());
        }
        p.fireChannelReadComplete();
    }

    /**
     * Router mode: the hub decrements the TTL in place (the packets are exclusively owned, so nothing is copied).
     * The sink restores TTL 64 and hands the buffer back instead of releasing it, so the same sixteen packets go
     * round without allocation.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void routeWithTtlDecrement() {
        ChannelPipeline p = routerIngress;
        ByteBuf[] batch = routerPackets;
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(batch[i]);
        }
        p.fireChannelReadComplete();
    }
}

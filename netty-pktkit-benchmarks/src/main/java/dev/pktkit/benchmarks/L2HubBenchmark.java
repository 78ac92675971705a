package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.switching.L2Hub;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * L2Hub forwarding through real Netty pipelines. Each port is a {@link PacketPipe} end registered on a loop that
 * the benchmark thread drives; a frame enters the ingress port's pipeline as a read, the hub's handler forwards it,
 * and the egress write travels the egress port's pipeline to a sink handler that releases it. Sixteen frames per
 * read batch (one {@code channelReadComplete}, one flush per destination), reported per frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class L2HubBenchmark {
    private static final int BATCH = 16;

    private BenchLoop bench;
    private L2Hub unicastHub;
    private L2Hub floodHub;
    private ChannelPipeline ingress;
    private ChannelPipeline floodIngress;
    private ByteBuf unicast;
    private ByteBuf broadcast;
    private BenchLoop.DiscardingSink sink;

    @Setup(Level.Trial)
    public void setUp() {
        bench = new BenchLoop();
        sink = new BenchLoop.DiscardingSink();
        // Unicast: a 4-port hub, frames from port 1 to the learned address behind port 2.
        unicastHub = L2Hub.builder().tickInterval(Duration.ZERO).build();
        Channel[] u = ports(unicastHub, 4);
        learn(u[2], 0x0200_0000_0002L);
        if (unicastHub.lookup(0x0200_0000_0002L, 1) == null) {
            throw new IllegalStateException("port 2 not learned");
        }
        ingress = u[1].pipeline();
        // Flood: a 5-port hub, broadcast from port 1 reaches the four others.
        floodHub = L2Hub.builder().tickInterval(Duration.ZERO).build();
        floodIngress = ports(floodHub, 5)[1].pipeline();
        unicast = frame(0x0200_0000_0002L, 0x0200_0000_0001L);
        broadcast = frame(0xFFFF_FFFF_FFFFL, 0x0200_0000_0001L);
    }

    /** Ports 1..n of {@code hub}; every port but 1 ends in a sink. */
    private Channel[] ports(L2Hub hub, int n) {
        Channel[] ports = new Channel[n + 1];
        for (int i = 1; i <= n; i++) {
            PacketPipe p = bench.pipe();
            ports[i] = p.b();
            hub.add(p.b());
            if (i > 1) {
                p.b().pipeline().addFirst(sink);
            }
        }
        bench.loop.runNow();
        return ports;
    }

    private void learn(Channel port, long mac) {
        port.pipeline().fireChannelRead(frame(0xFFFF_FFFF_FFFFL, mac));
        port.pipeline().fireChannelReadComplete();
        bench.loop.runNow();
    }

    private static ByteBuf frame(long dst, long src) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        b.writeShort((int) (dst >>> 32)).writeInt((int) dst);
        b.writeShort((int) (src >>> 32)).writeInt((int) src);
        b.writeShort(0x0800);
        b.writeZero(46);
        return b;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (sink.frames == 0) {
            throw new IllegalStateException("nothing reached the sinks");
        }
        unicastHub.close();
        floodHub.close();
        bench.loop.runNow();
        unicast.release();
        broadcast.release();
        bench.close();
    }

    /** Unicast to a learned port of a 4-port hub. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void unicastForward() {
        ChannelPipeline p = ingress;
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(unicast.retain());
        }
        p.fireChannelReadComplete();
    }

    /** Broadcast from port 1 to the four other ports. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void floodToFourPorts() {
        ChannelPipeline p = floodIngress;
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(broadcast.retain());
        }
        p.fireChannelReadComplete();
    }
}

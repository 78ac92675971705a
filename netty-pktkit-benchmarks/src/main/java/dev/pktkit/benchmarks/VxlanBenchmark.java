package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.vxlan.Vxlan;
import dev.pktkit.switching.vxlan.VxlanTraffic;
import dev.pktkit.switching.vxlan.VxlanTunnel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
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

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * VXLAN encapsulation and decapsulation through real pipelines, next to the plain hub forward they add to (the
 * anchor, same run, same loop). A {@link VxlanTunnel} sits on a bound {@link NioDatagramChannel} whose first
 * outbound handler is a sink (datagrams stop there instead of reaching the socket); VNI 42 is a port of a hub that
 * also has a station port ending in a sink.
 * <ul>
 *   <li>{@code encapsulate}: a frame enters the hub at the station port, goes to the VNI port (its destination
 *       learned behind a remote VTEP), is encapsulated into a pooled buffer and written as a datagram.</li>
 *   <li>{@code decapsulate}: a datagram from the remote VTEP enters the UDP channel's pipeline (as the transport
 *       would fire it; one reused envelope, since the transport's own allocation is not the tunnel's), is checked,
 *       learned from, and handed (same buffer) through the VNI port and the hub to the station.</li>
 *   <li>{@code hubForward}: the anchor, station port to a second sink port of a plain hub.</li>
 * </ul>
 * Sixteen frames per read batch, reported per frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class VxlanBenchmark {
    private static final int BATCH = 16;
    private static final long STATION = 0x0200_0000_0001L;
    private static final long REMOTE = 0x0200_0000_0002L;
    private static final long OTHER = 0x0200_0000_0003L;

    @Param({"64", "1514"})
    public int frameSize;

    private BenchLoop bench;
    private L2Hub hub;
    private L2Hub plainHub;
    private VxlanTunnel tunnel;
    private Channel udp;
    private ChannelPipeline station;
    private ChannelPipeline plainStation;
    private ByteBuf toRemote;
    private ByteBuf toOther;
    private ByteBuf datagram;
    private DatagramPacket envelope;
    private BenchLoop.DiscardingSink stationSink;
    private BenchLoop.DiscardingSink udpSink;
    private BenchLoop.DiscardingSink plainSink;

    @Setup(Level.Trial)
    public void setUp() {
        bench = new BenchLoop();
        stationSink = new BenchLoop.DiscardingSink();
        udpSink = new BenchLoop.DiscardingSink();
        plainSink = new BenchLoop.DiscardingSink();
        hub = L2Hub.builder().tickInterval(Duration.ZERO).build();
        tunnel = VxlanTunnel.builder().vni(42, hub).peer(42, "127.0.0.1").mtu(1500).tickInterval(Duration.ZERO)
                .build();
        udp = new NioDatagramChannel();
        udp.pipeline().addLast(udpSink, tunnel);
        bench.await(bench.loop.register(udp));
        bench.await(udp.bind(new InetSocketAddress("127.0.0.1", 0)));
        bench.await(tunnel.ready());
        bench.loop.runNow();
        PacketPipe p = bench.pipe();
        hub.add(p.b());
        p.b().pipeline().addFirst(stationSink);
        station = p.b().pipeline();
        bench.loop.runNow();

        // the station's address, learned by the hub; the remote's, learned by the tunnel from a datagram
        station.fireChannelRead(frame(0xFFFF_FFFF_FFFFL, STATION, 64));
        station.fireChannelReadComplete();
        datagram = PooledByteBufAllocator.DEFAULT.directBuffer(Vxlan.HEADER_LENGTH + frameSize);
        Vxlan.writeHeader(datagram, 42);
        ByteBuf inner = frame(STATION, REMOTE, frameSize);
        datagram.writeBytes(inner);
        inner.release();
        envelope = new DatagramPacket(datagram, (InetSocketAddress) udp.localAddress(),
                new InetSocketAddress("127.0.0.1", 40000));
        decapsulate();
        bench.loop.runNow();
        if (tunnel.traffic().get(VxlanTraffic.LEARNED) != 1 || hub.lookup(STATION, 1) == null) {
            throw new IllegalStateException("not learned: " + tunnel.traffic() + " drops " + tunnel.drops());
        }
        toRemote = frame(REMOTE, STATION, frameSize);

        plainHub = L2Hub.builder().tickInterval(Duration.ZERO).build();
        PacketPipe s = bench.pipe();
        PacketPipe o = bench.pipe();
        plainHub.add(s.b());
        plainHub.add(o.b());
        o.b().pipeline().addFirst(plainSink);
        bench.loop.runNow();
        o.b().pipeline().fireChannelRead(frame(0xFFFF_FFFF_FFFFL, OTHER, 64));
        o.b().pipeline().fireChannelReadComplete();
        plainStation = s.b().pipeline();
        toOther = frame(OTHER, STATION, frameSize);
        bench.loop.runNow();
    }

    private static ByteBuf frame(long dst, long src, int size) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(size);
        b.writeShort((int) (dst >>> 32)).writeInt((int) dst);
        b.writeShort((int) (src >>> 32)).writeInt((int) src);
        b.writeShort(0x0800);
        b.writeZero(size - 14);
        return b;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (udpSink.frames == 0 || stationSink.frames == 0 || plainSink.frames == 0) {
            throw new IllegalStateException("nothing reached a sink");
        }
        if (tunnel.drops().sum() != 0) {
            throw new IllegalStateException("drops: " + tunnel.drops());
        }
        udp.close();
        bench.loop.runNow();
        toRemote.release();
        toOther.release();
        datagram.release();
        bench.close();
    }

    /** Hub → VNI port → VXLAN datagram (pooled copy behind the header, recycled envelope) → UDP sink. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void encapsulate() {
        ChannelPipeline p = station;
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(toRemote.retain());
        }
        p.fireChannelReadComplete();
    }

    /** Datagram → checks, learning → VNI port → hub → station sink (the received buffer, no copy). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void decapsulate() {
        ChannelPipeline p = udp.pipeline();
        ByteBuf d = datagram;
        DatagramPacket e = envelope;
        for (int i = 0; i < BATCH; i++) {
            d.retain().readerIndex(0);
            p.fireChannelRead(e);
        }
        p.fireChannelReadComplete();
    }

    /** The anchor: the same hub forward with no tunnel, station port to a sink port. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void hubForward() {
        ChannelPipeline p = plainStation;
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(toOther.retain());
        }
        p.fireChannelReadComplete();
    }
}

package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.transport.TransportKind;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.slirp.Slirp;
import dev.pktkit.slirp.SlirpNamespace;
import dev.pktkit.vtcp.host.VirtualHost;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
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

import java.io.InputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * slirp's per-packet path (issue 11: "per-packet flow-table cost, 0 B/op"), everything on one loop the benchmark
 * thread drives ({@link BenchLoop}, NIO host transport, {@code hostSocketsOnDeviceLoop}), host sockets real ones on
 * the loopback. The guest side is a {@link PacketPipe} end that slirp is attached to; what slirp sends to guests
 * is released by a sink on the other end.
 *
 * <ul>
 *   <li>{@code udpGuestToHost}: a 64-byte UDP/IPv4 datagram from the guest (10.0.2.15:40000 → 10.0.2.2, mapped
 *       to the host's loopback) enters the device: vtcp's demux, slirp's flow table, the flow's connected host
 *       datagram channel, and its {@code write(2)} to a socket nobody reads (the kernel drops at its full
 *       receive buffer); 16 per read batch, reported per datagram.</li>
 *   <li>{@code udpHostToGuest}: a 64-byte reply fired into that flow's host channel (as Netty's transport would
 *       after its read, without the transport's own read and its allocations): the flow, a pooled
 *       {@code UdpDatagram}, vtcp's datagram build and checksum, the device write; 16 per batch.</li>
 *   <li>{@code tcpGuestToHost}: a 1448-byte write on a guest vtcp connection through slirp to a host TCP socket
 *       (a thread reads and discards): the guest's engine, the pipe, slirp's vtcp engine and relay, the host
 *       socket's {@code write(2)}, the ACKs back; per write.</li>
 *   <li>{@code udpChecksumAnchor}: vtcp's UDP datagram build alone ({@code Udp.writeDatagramV4} of the same 64
 *       bytes into a pooled buffer): the floor under both UDP paths.</li>
 * </ul>
 * The host channel of the UDP flow is found reflectively (slirp keeps its flows private); the benchmark fails if it
 * is not.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class SlirpBenchmark {
    private static final int BATCH = 16;
    private static final int GUEST = Ip4.parse("10.0.2.15");
    private static final int GATEWAY = Ip4.parse("10.0.2.2");
    private static final int PAYLOAD = 64;
    private static final int TCP_WRITE = 1448;

    private BenchLoop bench;
    private Slirp slirp;
    private PacketPipe udpPipe;
    private ChannelPipeline device;
    private ByteBuf datagram;
    private ByteBuf payload;
    private ByteBuf scratch;
    private Channel flowChannel;
    private DatagramSocket udpSink;
    private Sink toGuest;

    private PacketPipe tcpPipe;
    private Channel guestConnection;
    private ServerSocket tcpServer;
    private Thread tcpReader;
    private ByteBuf tcpChunk;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        bench = new BenchLoop();
        slirp = Slirp.builder().hostLoopback(true).hostTransport(bench.loop, TransportKind.NIO)
                .hostSocketsOnDeviceLoop(true).build();

        // UDP: slirp on end a, the sink on end b
        udpPipe = bench.pipe();
        toGuest = new Sink();
        udpPipe.b().pipeline().addLast(toGuest);
        SlirpNamespace ns = bench.await(slirp.attach(udpPipe.a()));
        device = udpPipe.a().pipeline();
        udpSink = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        udpSink.setReceiveBufferSize(4096);
        datagram = PooledByteBufAllocator.DEFAULT.directBuffer(128);
        payload = PooledByteBufAllocator.DEFAULT.directBuffer(PAYLOAD).writeZero(PAYLOAD);
        scratch = PooledByteBufAllocator.DEFAULT.directBuffer(128);
        Ipv4.writeHeader(datagram, 0, 1, 0, 64, IpProtocol.UDP, GUEST, GATEWAY, null, 0, 0,
                Udp.HEADER_LENGTH + PAYLOAD);
        Udp.writeDatagramV4(datagram, GUEST, GATEWAY, 40000, udpSink.getLocalPort(), payload, 0, PAYLOAD);
        device.fireChannelRead(datagram.retainedDuplicate());
        device.fireChannelReadComplete();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while ((flowChannel = flowChannel(ns)) == null || !flowChannel.isActive()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the UDP flow did not open");
            }
            bench.loop.runNow();
        }

        // TCP: a vtcp guest on end b, slirp on end a, a discarding server on the host's loopback
        tcpServer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        tcpReader = new Thread(() -> {
            try (Socket s = tcpServer.accept(); InputStream in = s.getInputStream()) {
                byte[] buf = new byte[1 << 16];
                while (in.read(buf) >= 0) {
                    // discard
                }
            } catch (java.io.IOException e) {
                // closed at tear-down
            }
        }, "slirp-bench-tcp-reader");
        tcpReader.setDaemon(true);
        tcpReader.start();
        VirtualHost guest = VirtualHost.builder().address("10.0.2.15").build();
        tcpPipe = new PacketPipe();
        tcpPipe.b().pipeline().addLast(guest);
        bench.await(tcpPipe.register(bench.loop, bench.loop));
        bench.await(slirp.attach(tcpPipe.a()));
        io.netty.channel.ChannelFuture cf = new Bootstrap().group(bench.loop).channelFactory(guest.socketChannels())
                .handler(new Sink()).connect(new InetSocketAddress("10.0.2.2", tcpServer.getLocalPort()));
        bench.await(cf);
        if (!cf.isSuccess()) {
            throw new IllegalStateException("guest connect failed", cf.cause());
        }
        guestConnection = cf.channel();
        tcpChunk = PooledByteBufAllocator.DEFAULT.directBuffer(TCP_WRITE).writeZero(TCP_WRITE);
    }

    /** The host channel of the namespace's only UDP flow, or null (reflection: slirp keeps flows private). */
    private static Channel flowChannel(SlirpNamespace ns) throws ReflectiveOperationException {
        java.lang.reflect.Field udpField = SlirpNamespace.class.getDeclaredField("udp");
        udpField.setAccessible(true);
        Object udp = udpField.get(ns);
        if (udp == null) {
            return null;
        }
        java.lang.reflect.Field flowsField = udp.getClass().getDeclaredField("flows");
        flowsField.setAccessible(true);
        Object table = flowsField.get(udp);
        java.lang.reflect.Method snapshot = table.getClass().getDeclaredMethod("snapshot");
        snapshot.setAccessible(true);
        List<?> flows = (List<?>) snapshot.invoke(table);
        if (flows.isEmpty()) {
            return null;
        }
        java.lang.reflect.Field ch = flows.get(0).getClass().getDeclaredField("hostChannel");
        ch.setAccessible(true);
        return (Channel) ch.get(flows.get(0));
    }

    @TearDown(Level.Trial)
    public void tearDown(org.openjdk.jmh.infra.BenchmarkParams params) throws Exception {
        // only udpHostToGuest sends to the UDP guest (this check failed the other benchmarks' last iteration, and
        // with it their results)
        if (params.getBenchmark().endsWith(".udpHostToGuest") && toGuest.messages == 0) {
            throw new IllegalStateException("nothing reached the guest");
        }
        if (guestConnection != null) {
            guestConnection.close();
        }
        udpPipe.close();
        tcpPipe.close();
        slirp.close();
        bench.loop.runNow();
        udpSink.close();
        tcpServer.close();
        datagram.release();
        payload.release();
        scratch.release();
        tcpChunk.release();
        bench.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void udpGuestToHost() {
        ChannelPipeline p = device;
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(datagram.retainedDuplicate());
        }
        p.fireChannelReadComplete();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void udpHostToGuest() {
        ChannelPipeline p = flowChannel.pipeline();
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(payload.retainedDuplicate());
        }
        p.fireChannelReadComplete();
    }

    @Benchmark
    public void tcpGuestToHost() {
        Channel c = guestConnection;
        while (!c.isWritable()) {
            bench.loop.runNow(); // the host socket drains; ACKs come back
        }
        c.writeAndFlush(tcpChunk.retainedDuplicate(), c.voidPromise());
        bench.loop.runNow();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int udpChecksumAnchor() {
        int sum = 0;
        for (int i = 0; i < BATCH; i++) {
            ByteBuf s = scratch.clear();
            Udp.writeDatagramV4(s, GATEWAY, GUEST, 1234, 40000, payload, 0, PAYLOAD);
            sum += s.writerIndex();
        }
        return sum;
    }

    /** Releases what reaches it; counts. */
    @ChannelHandler.Sharable
    static final class Sink extends ChannelInboundHandlerAdapter {
        long messages;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            messages++;
            ReferenceCountUtil.release(msg);
        }
    }
}

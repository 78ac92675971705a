package dev.pktkit.benchmarks;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.vtcp.engine.SegmentSink;
import dev.pktkit.vtcp.engine.TcpConnection;
import dev.pktkit.vtcp.engine.TcpConnectionHandler;
import dev.pktkit.vtcp.engine.TcpEngine;
import dev.pktkit.vtcp.engine.TcpEngineConfig;
import dev.pktkit.vtcp.engine.TcpFlow;
import dev.pktkit.vtcp.engine.TcpListener;
import dev.pktkit.vtcp.engine.TcpSocketOptions;
import dev.pktkit.vtcp.engine.TcpState;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
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

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * vtcp engine ↔ engine on one thread, no channels: the client engine's segments are handed to the server engine
 * and back through a FIFO (the sink must not re-enter an engine), each segment assembled into one pooled direct
 * buffer as a host would (header copy + payload copy), checksums computed on send and verified on receive.
 *
 * <ul>
 *   <li>{@code bulk}: one connection moves {@value #CHUNK} bytes per invocation, written as 64 KiB buffers;
 *       reported per 64 KiB write, so throughput in Gbit/s is {@code 524288 / ns/op} and the cost of one
 *       MSS-sized segment through both engines (send, checksum, receive, deliver, ACK) is
 *       {@code ns/op × MSS / 65536}.</li>
 *   <li>{@code connectTransferClose}: SYN → established → 1 KiB each way → FIN/FIN → closed (client TIME-WAIT
 *       entries recycled by the table bound), per connection.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class VtcpBenchmark {
    static final int CHUNK = 4 << 20;
    static final int WRITE = 64 * 1024;

    @Param({"1500", "65520"})
    public int mtu;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private Link link;
    private TcpEngine client;
    private TcpEngine server;
    private TcpConnection conn;
    private ByteBuf data;
    private final long[] received = new long[1];
    private int segmentsPerChunk;
    private int nextPort = 10000;

    /** The wire: a FIFO of (destination, segment) with the sending flow's addresses. */
    final class Link {
        private final Object[] dst = new Object[65536];
        private final ByteBuf[] seg = new ByteBuf[65536];
        private final int[] src = new int[65536];
        private final int[] dstAddr = new int[65536];
        private int head;
        private int tail;

        void push(TcpEngine to, ByteBuf b, int s, int d) {
            int i = tail++ & 0xFFFF;
            dst[i] = to;
            seg[i] = b;
            src[i] = s;
            dstAddr[i] = d;
        }

        boolean drain() {
            boolean any = false;
            while (head != tail) {
                int i = head++ & 0xFFFF;
                TcpEngine e = (TcpEngine) dst[i];
                ByteBuf b = seg[i];
                dst[i] = null;
                seg[i] = null;
                e.input4(b, src[i], dstAddr[i], 0, false);
                any = true;
            }
            return any;
        }
    }

    private SegmentSink sinkTo(java.util.function.Supplier<TcpEngine> peer) {
        return new SegmentSink() {
            @Override
            public void send(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn) {
                ByteBuf b;
                if (payload == null) {
                    b = header;
                } else {
                    b = alloc.directBuffer(header.readableBytes() + payload.readableBytes());
                    // word-wise into direct memory: Netty's bulk copy allocates a ByteBuffer view without Unsafe
                    Buffers.append(header, header.readerIndex(), b, header.readableBytes());
                    Buffers.append(payload, payload.readerIndex(), b, payload.readableBytes());
                    header.release();
                    payload.release();
                }
                link.push(peer.get(), b, flow.localV4(), flow.remoteV4());
            }
        };
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        link = new Link();
        TcpEngineConfig cfg = new TcpEngineConfig().mtu(mtu).maxTimeWait(1024);
        client = new TcpEngine(cfg, System::nanoTime, d -> { }, sinkTo(() -> server), alloc);
        server = new TcpEngine(cfg, System::nanoTime, d -> { }, sinkTo(() -> client), alloc);
        TcpSocketOptions opts = new TcpSocketOptions().autoConsume(true).noDelay(true)
                .receiveBuffer(4 << 20).sendBuffer(8 << 20);
        server.listen(InetAddress.getByName("10.0.0.2"), 80, 1024, opts, new TcpListener() {
            @Override
            public TcpConnectionHandler onAccepted(TcpConnection c) {
                return new TcpConnectionHandler() {
                    @Override
                    public void onData(TcpConnection c, ByteBuf d) {
                        received[0] += d.readableBytes();
                        d.release();
                    }

                    @Override
                    public void onPeerFin(TcpConnection c) {
                        c.close();
                    }
                };
            }
        });
        conn = client.connect(new InetSocketAddress("10.0.0.1", 9999), new InetSocketAddress("10.0.0.2", 80), opts,
                new TcpConnectionHandler() {
                });
        while (link.drain()) {
            // handshake
        }
        data = alloc.directBuffer(WRITE);
        data.writeZero(WRITE);
        int mss = conn.stats().mss();
        segmentsPerChunk = (CHUNK + mss - 1) / mss;
        // warm the windows up
        bulk();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        client.close();
        server.close();
        link.drain();
        data.release();
    }

    @Benchmark
    @OperationsPerInvocation(CHUNK / WRITE)
    public long bulk() {
        long target = received[0] + CHUNK;
        for (int off = 0; off < CHUNK; off += WRITE) {
            conn.write(data.retainedSlice(0, WRITE));
            conn.flush();
            link.drain();
        }
        while (received[0] < target) {
            if (!link.drain()) {
                client.onTimer();
                server.onTimer();
            }
        }
        return received[0];
    }

    @Benchmark
    public TcpState connectTransferClose() {
        int port = nextPort++;
        if (nextPort > 60000) {
            nextPort = 10000;
        }
        TcpConnection c = client.connect(new InetSocketAddress("10.0.0.1", port),
                new InetSocketAddress("10.0.0.2", 80), null, new TcpConnectionHandler() {
                });
        link.drain();
        c.write(data.retainedSlice(0, 1024));
        c.flush();
        c.close();
        while (link.drain()) {
            // FIN exchange
        }
        return c.state();
    }
}

package dev.pktkit.benchmarks;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatEngine;
import dev.pktkit.nat.alg.AlgConfig;
import dev.pktkit.nat.alg.Algs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The ALG paths of the NAT engine next to their anchor in the same run. Each operation copies a saved packet
 * into the buffer (the engine rewrites in place) and translates it outbound on an established flow:
 * <ul>
 *   <li>{@code plainTcp} (anchor): a 60-byte-payload segment of an unhelped flow to port 80;</li>
 *   <li>{@code ftpControlNoCommand}: the same segment on an FTP control connection (helped: its payload goes to
 *   the FTP ALG, which finds no PORT/EPRT): the ALG's fast path;</li>
 *   <li>{@code ftpPortRewrite}: a {@code PORT} command on another FTP connection, rewritten 4 bytes longer (the
 *   expectation it announces is found pending and reused each time).</li>
 * </ul>
 * {@code *Direct}: the first two in a pooled direct buffer instead of a heap buffer.
 *
 * <p>The FTP ALG's fast check alone, on the no-command segment already in a buffer (no copy, no translation):
 * {@code ftpWants} / {@code ftpWantsDirect} call {@code FtpAlg.wants} (line starts found eight bytes at a time);
 * {@code lineScanIndexOf} / {@code lineScanIndexOfDirect} run the check it replaced (a byte-wise
 * {@code ByteBuf.indexOf} per line), as the same-run reference.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.NO_LEAK_DETECTION})
public class NatAlgBenchmark {
    private static final int INSIDE = 0x0A00_0002;   // 10.0.0.2
    private static final int REMOTE = 0xC633_6407;   // 198.51.100.7
    private NatEngine engine;
    private int port;
    private ByteBuf buf;
    private ByteBuf direct;
    private byte[] plain;
    private byte[] noCommand;
    private byte[] portCommand;
    private ByteBuf wantsHeap;
    private ByteBuf wantsDirect;
    private java.nio.ByteBuffer wantsView;
    private int wantsViewAt;
    private dev.pktkit.nat.alg.FtpAlg ftp;

    private static byte[] segment(int sport, int dport, int flags, long seq, byte[] payload) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.heapBuffer(128);
        Ipv4.writeHeader(b, INSIDE, REMOTE, IpProtocol.TCP, 64, 20 + payload.length, 1, true);
        int t = b.writerIndex();
        Tcp.writeHeader(b, sport, dport, seq, 1, flags, 65535, 0, null, 0, 0);
        b.writeBytes(payload);
        Tcp.fillChecksumV4(b, t, 20 + payload.length, INSIDE, REMOTE);
        byte[] a = new byte[b.readableBytes()];
        b.readBytes(a);
        b.release();
        return a;
    }

    private void open(int sport, int dport) {
        ByteBuf syn = PooledByteBufAllocator.DEFAULT.heapBuffer(64).writeBytes(segment(sport, dport, Tcp.SYN, 0,
                new byte[0]));
        if (engine.outbound(syn, port) != NatEngine.TO_OUTSIDE) {
            throw new IllegalStateException("setup refused: " + engine.counters());
        }
        syn.release();
    }

    @Setup(Level.Trial)
    public void setUp() {
        engine = new NatEngine(NatConfig.builder().outsideAddresses("203.0.113.1").insideAddress("10.0.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).build());
        ftp = Algs.install(engine, AlgConfig.defaults()).ftp();
        port = engine.addPort(engine.openNamespace());
        open(40000, 80);
        open(40001, 21);
        open(40002, 21); // the PORT rewrite's own connection: its sequence offset stays off 40001
        byte[] text = "RETR some/file/name/that/is/long/enough/for/sixty/bytes.bin\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        plain = segment(40000, 80, Tcp.ACK | Tcp.PSH, 1, text);
        noCommand = segment(40001, 21, Tcp.ACK | Tcp.PSH, 1, text);
        portCommand = segment(40002, 21, Tcp.ACK | Tcp.PSH, 1,
                "PORT 10,0,0,2,156,64\r\n".getBytes(StandardCharsets.US_ASCII));
        buf = PooledByteBufAllocator.DEFAULT.heapBuffer(256);
        direct = PooledByteBufAllocator.DEFAULT.directBuffer(256);
        wantsHeap = PooledByteBufAllocator.DEFAULT.heapBuffer(256).writeBytes(noCommand);
        wantsDirect = PooledByteBufAllocator.DEFAULT.directBuffer(256).writeBytes(noCommand);
        wantsView = wantsDirect.internalNioBuffer(0, wantsDirect.writerIndex());
        wantsViewAt = wantsView.position();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        buf.release();
        direct.release();
        wantsHeap.release();
        wantsDirect.release();
    }

    private int translate(byte[] packet) {
        buf.clear().writeBytes(packet);
        return engine.outbound(buf, port);
    }

    @Benchmark
    public int plainTcp() {
        return translate(plain);
    }

    @Benchmark
    public int ftpControlNoCommand() {
        return translate(noCommand);
    }

    @Benchmark
    public int ftpPortRewrite() {
        return translate(portCommand);
    }

    private int translateDirect(byte[] packet) {
        direct.clear().writeBytes(packet);
        return engine.outbound(direct, port);
    }

    /** {@link #plainTcp} in a pooled direct buffer (the NAT's own buffers; JDK 25 defaults: the NIO fast path). */
    @Benchmark
    public int plainTcpDirect() {
        return translateDirect(plain);
    }

    /** {@link #ftpControlNoCommand} in a pooled direct buffer. */
    @Benchmark
    public int ftpControlNoCommandDirect() {
        return translateDirect(noCommand);
    }

    private static final int PAYLOAD_AT = 40;

    @Benchmark
    public boolean ftpWants() {
        return ftp.wants(wantsHeap, PAYLOAD_AT, wantsHeap.writerIndex() - PAYLOAD_AT, true);
    }

    @Benchmark
    public boolean ftpWantsDirect() {
        return ftp.wants(wantsDirect, PAYLOAD_AT, wantsDirect.writerIndex() - PAYLOAD_AT, true);
    }

    /** The check as the engine's fast path makes it on a pooled direct buffer: through the buffer's NIO view. */
    @Benchmark
    public boolean ftpWantsView() {
        return ftp.wants(wantsDirect, wantsView, wantsViewAt + PAYLOAD_AT, PAYLOAD_AT,
                wantsDirect.writerIndex() - PAYLOAD_AT, true);
    }

    /** The check {@code FtpAlg.wants} had before (one byte-wise {@code indexOf} per line), for reference. */
    private static boolean lineScan(ByteBuf b, int at, int length) {
        int limit = at + length;
        while (true) {
            int c = b.getByte(at) | 0x20;
            if (c == 'p' || c == 'e' || c == '2') {
                return true;
            }
            int nl = b.indexOf(at, limit, (byte) '\n');
            if (nl < 0 || nl + 1 >= limit) {
                return false;
            }
            at = nl + 1;
        }
    }

    @Benchmark
    public boolean lineScanIndexOf() {
        return lineScan(wantsHeap, PAYLOAD_AT, wantsHeap.writerIndex() - PAYLOAD_AT);
    }

    @Benchmark
    public boolean lineScanIndexOfDirect() {
        return lineScan(wantsDirect, PAYLOAD_AT, wantsDirect.writerIndex() - PAYLOAD_AT);
    }
}

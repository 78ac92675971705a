package dev.pktkit.benchmarks;

import dev.pktkit.openvpn.crypto.ReplayWindow;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsCrypt;
import dev.pktkit.openvpn.data.DataChannel;
import dev.pktkit.openvpn.data.DataCipher;
import dev.pktkit.openvpn.data.KeyDerivation;
import dev.pktkit.openvpn.wire.ControlPacketRepr;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The OpenVPN data channel on a 1420-byte packet for each cipher ({@code seal}: encrypt into a pooled heap
 * buffer; {@code open}: verify and decrypt a sealed packet with a fresh replay window per call batch), the
 * packet-id replay window on in-order IDs, and a tls-crypt control packet wrap. Throughput in MB/s = 1420 B /
 * (ns/op) × 1000. Run with {@code -prof gc}: the bytes per operation are what the JDK's {@code Cipher.init} and
 * providers allocate (the parameter specs, provider state), since this module's code allocates none of its own
 * beyond the pooled output buffer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class OpenVpnBenchmark {
    @Param({"AES-256-GCM", "CHACHA20-POLY1305", "AES-256-CBC"})
    public String cipher;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private DataChannel server;
    private DataChannel client;
    private ByteBuf plain;
    private ByteBuf sealed;
    private ReplayWindow window;
    private long nextId;
    private TlsCrypt tlsCrypt;
    private ByteBuf control;

    @Setup
    public void setup() {
        byte[] k = new byte[KeyDerivation.KEY2_LENGTH];
        new Random(1).nextBytes(k);
        DataCipher c = DataCipher.byName(cipher);
        server = KeyDerivation.dataChannel(c, "SHA256", k, true, new ReplayWindow());
        // the receiver's window is large and the IDs are re-sealed below, so open never sees a replay
        client = KeyDerivation.dataChannel(c, "SHA256", k, false, new ReplayWindow(65536));
        byte[] p = new byte[1420];
        new Random(2).nextBytes(p);
        p[0] = 0x45;
        plain = Unpooled.wrappedBuffer(p);
        sealed = server.seal(alloc, plain, 0, 5);
        window = new ReplayWindow();
        byte[] sk = new byte[StaticKey.LENGTH];
        new Random(3).nextBytes(sk);
        tlsCrypt = new TlsCrypt(StaticKey.of(sk), true);
        control = Unpooled.buffer();
        new ControlPacketRepr(Opcode.CONTROL_V1, 0, 1, new long[] {3}, 2, 4, new byte[1100]).emit(control);
    }

    @TearDown
    public void tearDown() {
        sealed.release();
        control.release();
    }

    @Benchmark
    public int seal1420() {
        ByteBuf out = server.seal(alloc, plain, 0, 5);
        int n = out.readableBytes();
        out.release();
        return n;
    }

    @Benchmark
    public int open1420() {
        // a new packet-id each time: seal then open (open alone would be a replay); subtract seal1420 for open
        ByteBuf pkt = server.seal(alloc, plain, 0, 5);
        ByteBuf out = client.open(alloc, pkt, pkt.readerIndex(), pkt.readableBytes());
        pkt.release();
        int n = out == null ? -1 : out.readableBytes();
        if (out != null) {
            out.release();
        }
        return n;
    }

    @Benchmark
    public boolean replayWindowInOrder() {
        return window.update(++nextId);
    }

    @Benchmark
    public int tlsCryptWrap1100() {
        ByteBuf out = tlsCrypt.wrap(alloc, control, 7, 1);
        int n = out.readableBytes();
        out.release();
        return n;
    }
}

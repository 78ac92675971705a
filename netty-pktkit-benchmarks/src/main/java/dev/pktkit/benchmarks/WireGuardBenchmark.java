package dev.pktkit.benchmarks;

import dev.pktkit.switching.lpm.Ipv4RouteTable;
import dev.pktkit.wireguard.WireGuardEndpoint;
import dev.pktkit.wireguard.WireGuardKey;
import dev.pktkit.wireguard.WireGuardPeerChannel;
import dev.pktkit.wireguard.WireGuardPeerConfig;
import dev.pktkit.wireguard.crypto.Curve25519;
import dev.pktkit.wireguard.crypto.TransportCipher;
import dev.pktkit.wireguard.noise.CookieGenerator;
import dev.pktkit.wireguard.noise.Handshake;
import dev.pktkit.wireguard.noise.Keypair;
import dev.pktkit.wireguard.noise.ReplayWindow;
import dev.pktkit.wireguard.noise.StaticIdentity;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
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
import org.openjdk.jmh.infra.Blackhole;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * WireGuard's hot paths. {@code seal1420}/{@code open1420}: {@link TransportCipher} (the JDK's ChaCha20-Poly1305,
 * one reused {@code Cipher}) on a 1420-byte packet, in place on a heap array; anchors in the same run: Bouncy
 * Castle's ChaCha20-Poly1305 ({@code sealBouncyCastle1420}) and the JDK's AES-256-GCM ({@code sealJdkAesGcm1420}).
 * {@code tunnel1420}: one packet written on a peer channel of endpoint A, sealed, carried as a datagram to endpoint
 * B, opened, replay-checked, routed and read on B's peer channel (EmbeddedChannels; everything but the socket).
 * {@code handshake}: a full Noise_IKpsk2 exchange (initiation, response, both keypairs, macs). {@code replay}: the
 * RFC 6479 filter on in-order counters. {@code peerLookup}: allowed-IP lookup among 1,000 peers' /32s.
 * Throughput in MB/s = 1420 B / (ns/op) × 1000. Run with {@code -prof gc} for allocations per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class WireGuardBenchmark {
    private static final int LEN = 1420;
    private final byte[] buf = new byte[LEN + 16];
    private TransportCipher seal;
    private TransportCipher open;
    private byte[] sealed;
    private long counter = 1; // 0 was used in setUp: the JDK refuses a key+nonce pair twice in a row
    private ChaCha20Poly1305 bc;
    private KeyParameter bcKey;
    private Cipher gcm;
    private SecretKeySpec gcmKey;
    private final byte[] nonce = new byte[12];
    private final ReplayWindow window = new ReplayWindow();
    private long replayCounter;
    private final Ipv4RouteTable<Object> routes = new Ipv4RouteTable<>();
    private int lookupIndex;
    private StaticIdentity idA;
    private StaticIdentity idB;
    private byte[] pubA;
    private byte[] pubB;

    private EmbeddedChannel chA;
    private EmbeddedChannel chB;
    private WireGuardPeerChannel peerA;
    private ByteBuf packet;
    private long received;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        byte[] key = new byte[32];
        key[3] = 9;
        seal = new TransportCipher(key, true);
        open = new TransportCipher(key, false);
        sealed = new byte[LEN + 16];
        seal.seal(0, sealed, 0, LEN);
        bc = new ChaCha20Poly1305();
        bcKey = new KeyParameter(key);
        gcm = Cipher.getInstance("AES/GCM/NoPadding");
        gcmKey = new SecretKeySpec(key, "AES");
        for (int i = 0; i < 1000; i++) {
            routes.put(0x0A000000 | i, 32, "peer" + i);
        }
        idA = new StaticIdentity(Curve25519.generatePrivateKey());
        idB = new StaticIdentity(Curve25519.generatePrivateKey());
        pubA = idA.publicKey();
        pubB = idB.publicKey();
        setUpTunnel();
    }

    private void setUpTunnel() {
        WireGuardKey a = WireGuardKey.generatePrivate();
        WireGuardKey b = WireGuardKey.generatePrivate();
        InetSocketAddress addrA = new InetSocketAddress("192.0.2.1", 1);
        InetSocketAddress addrB = new InetSocketAddress("192.0.2.2", 2);
        WireGuardEndpoint ea = WireGuardEndpoint.builder().privateKey(a)
                .peer(WireGuardPeerConfig.of(b.publicKey(), "10.0.0.2/32").withEndpoint(addrB)).build();
        WireGuardEndpoint eb = WireGuardEndpoint.builder().privateKey(b)
                .peer(WireGuardPeerConfig.of(a.publicKey(), "10.0.0.1/32")).build();
        chA = new EmbeddedChannel(ea);
        chB = new EmbeddedChannel(eb);
        peerA = ea.peer(b.publicKey());
        eb.peer(a.publicKey()).pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                received++;
                ReferenceCountUtil.release(msg);
            }
        });
        packet = Unpooled.directBuffer(LEN);
        packet.writeByte(0x45).writeByte(0).writeShort(LEN).writeInt(0).writeByte(64).writeByte(17).writeShort(0)
                .writeInt(0x0A000001).writeInt(0x0A000002).writeZero(LEN - 20);
        ea.connect(b.publicKey());
        for (int i = 0; i < 4; i++) {
            shuttle(chA, chB, addrA, addrB);
            shuttle(chB, chA, addrB, addrA);
        }
    }

    private static void shuttle(EmbeddedChannel from, EmbeddedChannel to, InetSocketAddress src,
                                InetSocketAddress dst) {
        Object o;
        while ((o = from.readOutbound()) != null) {
            DatagramPacket d = (DatagramPacket) o;
            to.writeInbound(new DatagramPacket(d.content(), dst, src));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        packet.release();
        chA.finishAndReleaseAll();
        chB.finishAndReleaseAll();
    }

    @Benchmark
    public int seal1420() {
        seal.seal(counter++, buf, 0, LEN);
        return buf[7];
    }

    @Benchmark
    public int open1420() {
        System.arraycopy(sealed, 0, buf, 0, sealed.length);
        return open.open(0, buf, 0, sealed.length);
    }

    @Benchmark
    public int sealBouncyCastle1420() throws Exception {
        long c = counter++;
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (c >>> (8 * i));
        }
        bc.init(true, new AEADParameters(bcKey, 128, nonce));
        int n = bc.processBytes(buf, 0, LEN, buf, 0);
        return n + bc.doFinal(buf, n);
    }

    @Benchmark
    public int sealJdkAesGcm1420() throws Exception {
        long c = counter++;
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (c >>> (8 * i));
        }
        gcm.init(Cipher.ENCRYPT_MODE, gcmKey, new javax.crypto.spec.GCMParameterSpec(128, nonce));
        return gcm.doFinal(buf, 0, LEN, buf, 0);
    }

    /** Seal on A, datagram, open on B, delivered to B's peer channel. */
    @Benchmark
    public long tunnel1420() {
        peerA.writeAndFlush(packet.retainedDuplicate());
        DatagramPacket d = chA.readOutbound();
        chB.writeInbound(new DatagramPacket(d.content(), d.recipient(), d.recipient()));
        return received;
    }

    @Benchmark
    public Keypair handshake() {
        Handshake hi = new Handshake(idA, pubB, null);
        Handshake hr = new Handshake(idB, pubA, null);
        byte[] init = hi.createInitiation(1, System.nanoTime());
        new CookieGenerator(pubB, 1).addMacs(init, 0);
        Handshake.ConsumedInitiation ci = Handshake.decryptInitiation(idB, init, k -> hr.staticStatic());
        hr.acceptInitiation(ci);
        byte[] resp = hr.createResponse(2);
        new CookieGenerator(pubA, 1).addMacs(resp, 0);
        hi.consumeResponse(resp);
        hr.deriveKeypair(0);
        return hi.deriveKeypair(0);
    }

    @Benchmark
    @OperationsPerInvocation(1024)
    public void replay(Blackhole bh) {
        for (int i = 0; i < 1024; i++) {
            bh.consume(window.accept(replayCounter++, -1L - (1L << 13)));
        }
    }

    @Benchmark
    public Object peerLookup() {
        lookupIndex = (lookupIndex + 7) % 1000;
        return routes.lookup(0x0A000000 | lookupIndex);
    }
}

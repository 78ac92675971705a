package dev.pktkit.benchmarks;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.EthernetHeader;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv4Header;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Ipv6Header;
import io.netty.buffer.ByteBuf;
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
import org.openjdk.jmh.infra.Blackhole;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Wire views over pooled direct buffers (what transports deliver): header accessors and the RFC 1071 checksum.
 * Accessor benchmarks read all fields a forwarding decision needs and report per-field time. The frames are
 * pooled direct or pooled heap buffers ({@code memory}); {@code raw*} read the same fields with plain
 * {@code ByteBuf} getters (the baseline the accessors are compared with), {@code nio*} with absolute
 * {@code ByteBuffer} getters on a view taken once (the floor for direct memory without {@code Unsafe}), and
 * {@code *View} with the header-at-a-time views ({@link EthernetHeader}, {@link Ipv4Header}, {@link Ipv6Header}):
 * one bounds test and two to five 8-byte reads per header, then every field from registers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class WireBenchmark {
    @Param({"direct", "heap"})
    public String memory;

    private ByteBuf frame;
    private ByteBuf frame6;
    private ByteBuffer frameNio;
    private ByteBuffer frame6Nio;
    private final EthernetHeader ethernetView = new EthernetHeader();
    private final Ipv4Header ipv4View = new Ipv4Header();
    private final Ipv6Header ipv6View = new Ipv6Header();
    private ByteBuf payload1500;
    private ByteBuf heap1500;
    private io.netty.buffer.CompositeByteBuf composite1500;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rnd = new SplittableRandom(7);
        boolean heap = "heap".equals(memory);
        frame = heap ? PooledByteBufAllocator.DEFAULT.heapBuffer(1514) : PooledByteBufAllocator.DEFAULT.directBuffer(1514);
        for (int i = 0; i < 1514; i++) {
            frame.writeByte(rnd.nextInt(256));
        }
        frame.setShort(12, Ethernet.IPV4);
        frame.setByte(14, 0x45);
        frameNio = frame.nioBuffer(0, 1514);
        frame6 = heap ? PooledByteBufAllocator.DEFAULT.heapBuffer(1514) : PooledByteBufAllocator.DEFAULT.directBuffer(1514);
        frame6.writeBytes(frame, 0, 1514);
        frame6.setShort(12, Ethernet.IPV6);
        frame6.setByte(14, 0x60);
        frame6Nio = frame6.nioBuffer(0, 1514);
        payload1500 = PooledByteBufAllocator.DEFAULT.directBuffer(1500);
        heap1500 = PooledByteBufAllocator.DEFAULT.heapBuffer(1500);
        for (int i = 0; i < 1500; i++) {
            int b = rnd.nextInt(256);
            payload1500.writeByte(b);
            heap1500.writeByte(b);
        }
        composite1500 = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer(2);
        composite1500.addComponent(true, payload1500.retainedSlice(0, 701));
        composite1500.addComponent(true, payload1500.retainedSlice(701, 799));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        frame.release();
        frame6.release();
        payload1500.release();
        heap1500.release();
        composite1500.release();
    }

    /** Destination MAC of an Ethernet frame. */
    @Benchmark
    public long ethernetDst() {
        return Ethernet.dst(frame, 0);
    }

    /** Destination, source and EtherType together; reported per accessor. */
    @Benchmark
    @OperationsPerInvocation(3)
    public void ethernetHeader(Blackhole bh) {
        ByteBuf f = frame;
        bh.consume(Ethernet.dst(f, 0));
        bh.consume(Ethernet.src(f, 0));
        bh.consume(Ethernet.etherType(f, 0));
    }

    /** Baseline for {@link #ethernetHeader}: the same three reads with plain {@code ByteBuf} getters, unchecked. */
    @Benchmark
    @OperationsPerInvocation(3)
    public void rawEthernetHeader(Blackhole bh) {
        ByteBuf f = frame;
        bh.consume(f.getLong(0) >>> 16);
        bh.consume(f.getLong(4) & 0xFFFF_FFFF_FFFFL);
        bh.consume(f.getUnsignedShort(12));
    }

    /** The floor for {@link #ethernetHeader}: absolute reads on a {@code ByteBuffer} view taken once. */
    @Benchmark
    @OperationsPerInvocation(3)
    public void nioEthernetHeader(Blackhole bh) {
        ByteBuffer f = frameNio;
        bh.consume(f.getLong(0) >>> 16);
        bh.consume(f.getLong(4) & 0xFFFF_FFFF_FFFFL);
        bh.consume(f.getShort(12) & 0xFFFF);
    }

    /** The same three fields through {@link EthernetHeader}: one bounds test, two reads. */
    @Benchmark
    @OperationsPerInvocation(3)
    public void ethernetView(Blackhole bh) {
        EthernetHeader h = ethernetView;
        if (!h.read(frame, 0)) {
            throw new IllegalStateException();
        }
        bh.consume(h.dst());
        bh.consume(h.src());
        bh.consume(h.etherType());
    }

    /** IPv4 source, destination, protocol, TTL and total length of the frame's packet; per accessor. */
    @Benchmark
    @OperationsPerInvocation(5)
    public void ipv4Header(Blackhole bh) {
        ByteBuf f = frame;
        bh.consume(Ipv4.src(f, 14));
        bh.consume(Ipv4.dst(f, 14));
        bh.consume(Ipv4.protocol(f, 14));
        bh.consume(Ipv4.ttl(f, 14));
        bh.consume(Ipv4.totalLength(f, 14));
    }

    /** Baseline for {@link #ipv4Header}: the same five reads with plain {@code ByteBuf} getters, unchecked. */
    @Benchmark
    @OperationsPerInvocation(5)
    public void rawIpv4Header(Blackhole bh) {
        ByteBuf f = frame;
        bh.consume(f.getInt(14 + 12));
        bh.consume(f.getInt(14 + 16));
        bh.consume(f.getUnsignedByte(14 + 9));
        bh.consume(f.getUnsignedByte(14 + 8));
        bh.consume(f.getUnsignedShort(14 + 2));
    }

    /** The floor for {@link #ipv4Header}: absolute reads on a {@code ByteBuffer} view taken once. */
    @Benchmark
    @OperationsPerInvocation(5)
    public void nioIpv4Header(Blackhole bh) {
        ByteBuffer f = frameNio;
        bh.consume(f.getInt(14 + 12));
        bh.consume(f.getInt(14 + 16));
        bh.consume(f.get(14 + 9) & 0xFF);
        bh.consume(f.get(14 + 8) & 0xFF);
        bh.consume(f.getShort(14 + 2) & 0xFFFF);
    }

    /**
     * Probe (issue 9): the five fields through a {@code ByteBuffer} view taken per call with
     * {@code nioBuffer(index, length)} (one {@code ByteBuf} check, then {@code ByteBuffer} reads); worth anything
     * only if C2 removes the view's allocation (see B/op).
     */
    @Benchmark
    @OperationsPerInvocation(5)
    public void nioPerCallIpv4Header(Blackhole bh) {
        ByteBuffer b = frame.nioBuffer(14, 20);
        int p = b.position();
        bh.consume(b.getInt(p + 12));
        bh.consume(b.getInt(p + 16));
        bh.consume(b.get(p + 9) & 0xFF);
        bh.consume(b.get(p + 8) & 0xFF);
        bh.consume(b.getShort(p + 2) & 0xFFFF);
    }

    /** Probe (issue 9): the same through {@code internalNioBuffer(index, length)}, the buffer's shared view. */
    @Benchmark
    @OperationsPerInvocation(5)
    public void internalNioIpv4Header(Blackhole bh) {
        ByteBuffer b = frame.internalNioBuffer(14, 20);
        int p = b.position();
        bh.consume(b.getInt(p + 12));
        bh.consume(b.getInt(p + 16));
        bh.consume(b.get(p + 9) & 0xFF);
        bh.consume(b.get(p + 8) & 0xFF);
        bh.consume(b.getShort(p + 2) & 0xFFFF);
    }

    /** The same five fields through {@link Ipv4Header}: one bounds test, three reads. */
    @Benchmark
    @OperationsPerInvocation(5)
    public void ipv4View(Blackhole bh) {
        Ipv4Header h = ipv4View;
        if (!h.read(frame, 14)) {
            throw new IllegalStateException();
        }
        bh.consume(h.src());
        bh.consume(h.dst());
        bh.consume(h.protocol());
        bh.consume(h.ttl());
        bh.consume(h.totalLength());
    }

    /** IPv6 source and destination (two longs each), next header, payload length, hop limit; per accessor. */
    @Benchmark
    @OperationsPerInvocation(7)
    public void ipv6Header(Blackhole bh) {
        ByteBuf f = frame6;
        bh.consume(Ipv6.srcHi(f, 14));
        bh.consume(Ipv6.srcLo(f, 14));
        bh.consume(Ipv6.dstHi(f, 14));
        bh.consume(Ipv6.dstLo(f, 14));
        bh.consume(Ipv6.nextHeader(f, 14));
        bh.consume(Ipv6.payloadLength(f, 14));
        bh.consume(Ipv6.hopLimit(f, 14));
    }

    /** Baseline for {@link #ipv6Header}: the same seven reads with plain {@code ByteBuf} getters, unchecked. */
    @Benchmark
    @OperationsPerInvocation(7)
    public void rawIpv6Header(Blackhole bh) {
        ByteBuf f = frame6;
        bh.consume(f.getLong(14 + 8));
        bh.consume(f.getLong(14 + 16));
        bh.consume(f.getLong(14 + 24));
        bh.consume(f.getLong(14 + 32));
        bh.consume(f.getUnsignedByte(14 + 6));
        bh.consume(f.getUnsignedShort(14 + 4));
        bh.consume(f.getUnsignedByte(14 + 7));
    }

    /** The floor for {@link #ipv6Header}: absolute reads on a {@code ByteBuffer} view taken once. */
    @Benchmark
    @OperationsPerInvocation(7)
    public void nioIpv6Header(Blackhole bh) {
        ByteBuffer f = frame6Nio;
        bh.consume(f.getLong(14 + 8));
        bh.consume(f.getLong(14 + 16));
        bh.consume(f.getLong(14 + 24));
        bh.consume(f.getLong(14 + 32));
        bh.consume(f.get(14 + 6) & 0xFF);
        bh.consume(f.getShort(14 + 4) & 0xFFFF);
        bh.consume(f.get(14 + 7) & 0xFF);
    }

    /** The same seven fields through {@link Ipv6Header}: one bounds test, five reads. */
    @Benchmark
    @OperationsPerInvocation(7)
    public void ipv6View(Blackhole bh) {
        Ipv6Header h = ipv6View;
        if (!h.read(frame6, 14)) {
            throw new IllegalStateException();
        }
        bh.consume(h.srcHi());
        bh.consume(h.srcLo());
        bh.consume(h.dstHi());
        bh.consume(h.dstLo());
        bh.consume(h.nextHeader());
        bh.consume(h.payloadLength());
        bh.consume(h.hopLimit());
    }

    /** RFC 1071 over 1500 bytes of a pooled direct buffer. */
    @Benchmark
    public int checksum1500Direct() {
        return Checksums.internet(payload1500, 0, 1500);
    }

    /** RFC 1071 over 1500 bytes of a pooled heap buffer. */
    @Benchmark
    public int checksum1500Heap() {
        return Checksums.internet(heap1500, 0, 1500);
    }

    /** RFC 1071 over the same 1500 bytes as a composite of two direct slices (701 + 799: a word straddles). */
    @Benchmark
    public int checksum1500Composite() {
        return Checksums.internet(composite1500, 0, 1500);
    }
}

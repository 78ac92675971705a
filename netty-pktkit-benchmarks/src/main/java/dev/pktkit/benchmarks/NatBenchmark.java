package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatEngine;
import dev.pktkit.nat.NatMapping;
import dev.pktkit.nat.defrag.DefragConfig;
import dev.pktkit.nat.defrag.Defragmenter;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.codec.buffer.Buffers;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The packet NAT through real pipelines, next to its anchor measured in the same run: a plain {@link L3Hub}
 * forward of the same 1440-byte-payload packet between two pipe ports. NAT paths: inside port → {@link Nat}
 * (defragmenter fast path, MTU check, translation, incremental checksums) → outside port, for an established TCP
 * flow out and in and a UDP flow out, with {@code mappings} other mappings in the table (10, 10,000, 1,000,000).
 * Plus the bare mapping look-up (random outside endpoints among those mappings) and the defragmenter's
 * non-fragment fast path: on its own next to JMH's blackhole anchor, and in the NAT path next to the same NAT
 * without a defragmenter (the engine finds fragments while it parses the header, so a non-fragment never reaches
 * the defragmenter).
 *
 * <p>The NAT rewrites in place, so each sink puts the saved header words back (addresses, ports, both
 * checksums: four stores) and keeps the buffer for the next round instead of releasing it; the anchor's sink
 * does exactly the same stores, so the difference of the two is the NAT's cost.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION, "-Xmx4g"})
public class NatBenchmark {
    private static final int BATCH = 16;
    private static final int PAYLOAD = 1440;
    private static final int INSIDE = 0x0A00_0002;   // 10.0.0.2
    private static final int REMOTE = 0xC633_6407;   // 198.51.100.7
    private static final int OUTSIDE_ADDRESSES = 32; // 1,000,000 mappings need more than one address's ports

    @Param({"10", "10000", "1000000"})
    public int mappings;

    private BenchLoop bench;
    private L3Hub hub;
    private Nat nat;
    private NatEngine engine;
    private int outAddr;
    private ChannelPipeline hubIngress;
    private ChannelPipeline natInside;
    private ChannelPipeline natOutside;
    private Nat natNoDefrag;
    private ChannelPipeline noDefragInside;
    private final ByteBuf[] udpOutNoDefrag = new ByteBuf[BATCH];
    private final RestoringSink noDefragSink = new RestoringSink();
    private final ByteBuf[] hubPackets = new ByteBuf[BATCH];
    private final ByteBuf[] tcpOut = new ByteBuf[BATCH];
    private final ByteBuf[] tcpIn = new ByteBuf[BATCH];
    private final ByteBuf[] udpOut = new ByteBuf[BATCH];
    private final RestoringSink hubSink = new RestoringSink();
    private final RestoringSink outsideSink = new RestoringSink();
    private final RestoringSink insideSink = new RestoringSink();
    private final int[] lookupPort = new int[1024];
    private final int[] lookupAddr = new int[1024];
    private int lookupNext;
    private ParallelArrayIndex previousLayout;
    private ByteBufAllocator adaptive;
    private ByteBuf tcpOutTemplate;
    private ByteBuf tcpInTemplate;
    private ByteBuf udpOutTemplate;
    private Defragmenter defrag;
    private ByteBuf plain;

    /**
     * Keeps written packets for the next round: restores the 12 bytes of addresses/ports and the two checksums
     * saved in {@link #save} (the same stores whether or not anything changed them).
     */
    @ChannelHandler.Sharable
    static final class RestoringSink extends ChannelOutboundHandlerAdapter {
        long frames;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            restore((ByteBuf) msg);
            frames++;
        }

        static void restore(ByteBuf b) {
            int o = b.readerIndex();
            int l4 = o + 20;
            b.setLong(o + 12, b.getLong(b.capacity() - 16));
            b.setInt(l4, b.getInt(b.capacity() - 8));
            b.setShort(o + 10, b.getShort(b.capacity() - 4));
            b.setShort(l4 + (b.getByte(o + 9) == IpProtocol.TCP ? 16 : 6), b.getShort(b.capacity() - 2));
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
        }
    }

    /** Stores the header words the sink restores in the 16 bytes after the packet (inside capacity). */
    static ByteBuf save(ByteBuf b) {
        int o = b.readerIndex();
        int end = b.writerIndex();
        b.capacity(end + 16);
        int l4 = o + 20;
        b.setLong(end, b.getLong(o + 12));
        b.setInt(end + 8, b.getInt(l4));
        b.setShort(end + 12, b.getShort(o + 10));
        b.setShort(end + 14, b.getShort(l4 + (b.getByte(o + 9) == IpProtocol.TCP ? 16 : 6)));
        // capacity() - 16 must point at the saved words: trim the buffer's capacity to exactly end + 16
        return b;
    }

    private static ByteBuf tcp(int src, int sport, int dst, int dport, int flags) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(40 + PAYLOAD + 16, 40 + PAYLOAD + 16);
        Ipv4.writeHeader(b, src, dst, IpProtocol.TCP, 64, 20 + PAYLOAD, 1, true);
        int t = b.writerIndex();
        Tcp.writeHeader(b, sport, dport, 1, 1, flags, 65535, 0, null, 0, 0);
        b.writeZero(PAYLOAD);
        Tcp.fillChecksumV4(b, t, 20 + PAYLOAD, src, dst);
        return save(b);
    }

    static ByteBuf udp(int src, int sport, int dst, int dport) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(28 + PAYLOAD + 16, 28 + PAYLOAD + 16);
        Ipv4.writeHeader(b, src, dst, IpProtocol.UDP, 64, 8 + PAYLOAD, 1, true);
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.heapBuffer(PAYLOAD).writeZero(PAYLOAD);
        Udp.writeDatagramV4(b, src, dst, sport, dport, payload, 0, PAYLOAD);
        payload.release();
        return save(b);
    }

    @Setup(Level.Trial)
    public void setUp() {
        bench = new BenchLoop();
        // anchor: a plain L3Hub between two pipe ports
        hub = L3Hub.builder().build();
        PacketPipe h1 = bench.pipe();
        PacketPipe h2 = bench.pipe();
        hub.attach(h1.b(), L3PortOptions.prefixes("10.0.0.0/24"));
        hub.attach(h2.b(), L3PortOptions.prefixes("0.0.0.0/0"));
        h2.b().pipeline().addFirst(hubSink);
        hubIngress = h1.b().pipeline();
        for (int i = 0; i < BATCH; i++) {
            hubPackets[i] = tcp(INSIDE, 40000, REMOTE, 80, Tcp.ACK);
        }

        int[] outside = new int[OUTSIDE_ADDRESSES];
        for (int i = 0; i < outside.length; i++) {
            outside[i] = 0xCB00_7100 + 1 + i; // 203.0.113.1...
        }
        int cap = mappings + 64;
        nat = Nat.create(bench.loop, NatConfig.builder().outsideAddresses(outside)
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).maxMappings(cap).maxSessions(cap)
                .maxMappingsPerNamespace(cap).maxMappingsPerHost(65536).build(), DefragConfig.builder().build());
        engine = nat.engine();
        PacketPipe in = bench.pipe();
        PacketPipe out = bench.pipe();
        nat.attach(in.b(), "bench");
        nat.attachOutside(out.b());
        out.b().pipeline().addFirst(outsideSink);
        in.b().pipeline().addFirst(insideSink);
        bench.loop.runNow();
        natInside = in.b().pipeline();
        natOutside = out.b().pipeline();
        int port = 0; // the only port of namespace "bench"
        // the measured flows: TCP established both ways, UDP
        ByteBuf syn = tcp(INSIDE, 40000, REMOTE, 80, Tcp.SYN);
        if (engine.outbound(syn, port) != NatEngine.TO_OUTSIDE) {
            throw new IllegalStateException("setup flow refused: " + engine.counters());
        }
        outAddr = Ipv4.src(syn, 0);
        syn.release();
        ByteBuf synAck = tcp(REMOTE, 80, outAddr, 40000, Tcp.SYN | Tcp.ACK);
        if (engine.inbound(synAck) != port) {
            throw new IllegalStateException("setup reply refused: " + engine.counters());
        }
        synAck.release();
        ByteBuf u = udp(INSIDE, 40001, REMOTE, 53);
        engine.outbound(u, port);
        u.release();
        for (int i = 0; i < BATCH; i++) {
            tcpOut[i] = tcp(INSIDE, 40000, REMOTE, 80, Tcp.ACK);
            tcpIn[i] = tcp(REMOTE, 80, outAddr, 40000, Tcp.ACK);
            udpOut[i] = udp(INSIDE, 40001, REMOTE, 53);
        }
        // the other mappings: UDP flows of 1024 hosts
        ByteBuf filler = udp(INSIDE, 1, REMOTE, 53);
        SplittableRandom rnd = new SplittableRandom(5);
        int made = 0;
        int host = 0x0A01_0000;
        int k = 0;
        while (made < mappings - 2) {
            int src = host + (k % 1024);
            int sport = 1024 + k / 1024;
            k++;
            filler.setInt(12, src);
            filler.setShort(20, sport);
            filler.setShort(26, 0); // no UDP checksum
            Ipv4.fillChecksum(filler, 0);
            if (engine.outbound(filler, port) == NatEngine.TO_OUTSIDE) {
                int slot = made & 1023;
                if (made < 1024 || rnd.nextInt(mappings) < 1024) {
                    lookupAddr[slot] = Ipv4.src(filler, 0);
                    lookupPort[slot] = filler.getUnsignedShort(20);
                }
                made++;
            }
        }
        filler.release();
        for (int i = 0; i < lookupPort.length; i++) {
            if (lookupPort[i] == 0) {
                lookupAddr[i] = outAddr;
                lookupPort[i] = 40001;
            }
        }
        previousLayout = new ParallelArrayIndex(cap);
        for (NatMapping mp : engine.mappings()) {
            previousLayout.add(mp.protocol(), mp.outsideAddress(), mp.outsidePort());
        }
        for (int i = 0; i < lookupPort.length; i++) {
            if (!previousLayout.isMapped(IpProtocol.UDP, lookupAddr[i], lookupPort[i])
                    || !engine.isMapped(IpProtocol.UDP, lookupAddr[i], lookupPort[i])) {
                throw new IllegalStateException("look-up key not mapped");
            }
        }
        // the same NAT without a defragmenter: the anchor of the defragmenter's cost inside the NAT path
        natNoDefrag = Nat.create(bench.loop, NatConfig.builder().outsideAddresses(outside[0]).build(), null);
        PacketPipe in2 = bench.pipe();
        PacketPipe out2 = bench.pipe();
        natNoDefrag.attach(in2.b(), "bench");
        natNoDefrag.attachOutside(out2.b());
        out2.b().pipeline().addFirst(noDefragSink);
        bench.loop.runNow();
        noDefragInside = in2.b().pipeline();
        for (int i = 0; i < BATCH; i++) {
            udpOutNoDefrag[i] = udp(INSIDE, 40001, REMOTE, 53);
        }
        // Netty 4.2's default allocator (adaptive): a fresh buffer per packet, as a transport hands them over
        adaptive = ByteBufAllocator.DEFAULT instanceof AdaptiveByteBufAllocator ? ByteBufAllocator.DEFAULT
                : new AdaptiveByteBufAllocator();
        tcpOutTemplate = tcp(INSIDE, 40000, REMOTE, 80, Tcp.ACK);
        tcpInTemplate = tcp(REMOTE, 80, outAddr, 40000, Tcp.ACK);
        udpOutTemplate = udp(INSIDE, 40001, REMOTE, 53);
        defrag = new Defragmenter(DefragConfig.builder().build());
        plain = udp(INSIDE, 40002, REMOTE, 53);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (engine.counters().droppedTotal() != 0) {
            throw new IllegalStateException("drops: " + engine.counters());
        }
        if (natNoDefrag.counters().droppedTotal() != 0) {
            throw new IllegalStateException("drops: " + natNoDefrag.counters());
        }
        nat.close();
        natNoDefrag.close();
        hub.close();
        bench.loop.runNow();
        for (ByteBuf[] a : new ByteBuf[][]{hubPackets, tcpOut, tcpIn, udpOut, udpOutNoDefrag}) {
            for (ByteBuf b : a) {
                b.release();
            }
        }
        plain.release();
        tcpOutTemplate.release();
        tcpInTemplate.release();
        udpOutTemplate.release();
        bench.close();
    }

    private static void burst(ChannelPipeline p, ByteBuf[] packets) {
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(packets[i]);
        }
        p.fireChannelReadComplete();
    }

    /** Anchor: the same packet through a plain L3Hub between two ports. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void l3HubForward() {
        burst(hubIngress, hubPackets);
    }

    /** NAT, inside → outside, established TCP. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void natOutboundTcp() {
        burst(natInside, tcpOut);
    }

    /** NAT, outside → inside, established TCP. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void natInboundTcp() {
        burst(natOutside, tcpIn);
    }

    /** NAT, inside → outside, UDP. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void natOutboundUdp() {
        burst(natInside, udpOut);
    }

    /**
     * {@link #natOutboundUdp} through a NAT made without a defragmenter ({@code Nat.create(loop, config, null)}):
     * the difference to {@code natOutboundUdp} is what the defragmenter costs a non-fragment in the NAT path.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void natOutboundUdpNoDefrag() {
        burst(noDefragInside, udpOutNoDefrag);
    }

    /**
     * The translator alone, without pipelines: {@code NatEngine.outbound} on the established TCP flow, then the
     * sink's restore. Its difference to {@link #restoreAnchor} is the engine's share of {@link #natOutboundTcp}.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int engineOutboundTcp() {
        int r = 0;
        for (int i = 0; i < BATCH; i++) {
            ByteBuf b = tcpOut[i];
            r += engine.outbound(b, 0);
            RestoringSink.restore(b);
        }
        return r;
    }

    /** {@link #engineOutboundTcp} inwards: {@code NatEngine.inbound} on the established TCP flow. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int engineInboundTcp() {
        int r = 0;
        for (int i = 0; i < BATCH; i++) {
            ByteBuf b = tcpIn[i];
            r += engine.inbound(b);
            RestoringSink.restore(b);
        }
        return r;
    }

    /** {@link #engineOutboundTcp} for the UDP flow. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int engineOutboundUdp() {
        int r = 0;
        for (int i = 0; i < BATCH; i++) {
            ByteBuf b = udpOut[i];
            r += engine.outbound(b, 0);
            RestoringSink.restore(b);
        }
        return r;
    }

    /**
     * A fresh direct buffer of the default (adaptive) allocator holding {@code template}'s packet: its headers
     * copied (48 bytes, word by word: allocation-free), the payload left as the memory holds it (the NAT reads no
     * payload on this path and updates checksums incrementally).
     */
    private ByteBuf fresh(ByteBuf template) {
        int len = template.readableBytes();
        ByteBuf b = adaptive.directBuffer(len);
        Buffers.copy(template, template.readerIndex(), b, 0, 48);
        return b.writerIndex(len);
    }

    /**
     * Anchor of the {@code engine*Adaptive} benchmarks: per packet a fresh buffer of Netty's default (adaptive)
     * allocator, the packet's headers copied in, released — what a transport reading into that allocator costs
     * (less its read).
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int adaptiveAnchor() {
        int r = 0;
        for (int i = 0; i < BATCH; i++) {
            ByteBuf b = fresh(tcpOutTemplate);
            r += b.readerIndex();
            b.release();
        }
        return r;
    }

    /** {@link #engineOutboundTcp} on a fresh adaptive buffer per packet ({@link #adaptiveAnchor} plus the NAT). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int engineOutboundTcpAdaptive() {
        int r = 0;
        for (int i = 0; i < BATCH; i++) {
            ByteBuf b = fresh(tcpOutTemplate);
            r += engine.outbound(b, 0);
            b.release();
        }
        return r;
    }

    /** {@link #engineInboundTcp} on a fresh adaptive buffer per packet. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int engineInboundTcpAdaptive() {
        int r = 0;
        for (int i = 0; i < BATCH; i++) {
            ByteBuf b = fresh(tcpInTemplate);
            r += engine.inbound(b);
            b.release();
        }
        return r;
    }

    /** {@link #engineOutboundUdp} on a fresh adaptive buffer per packet. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int engineOutboundUdpAdaptive() {
        int r = 0;
        for (int i = 0; i < BATCH; i++) {
            ByteBuf b = fresh(udpOutTemplate);
            r += engine.outbound(b, 0);
            b.release();
        }
        return r;
    }

    /** Anchor of the {@code engine*} benchmarks: the restore alone. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int restoreAnchor() {
        int r = 0;
        for (int i = 0; i < BATCH; i++) {
            ByteBuf b = tcpOut[i];
            RestoringSink.restore(b);
            r += b.readerIndex();
        }
        return r;
    }

    /** One outside-endpoint look-up in the mapping table, random among up to 1024 live mappings. */
    @Benchmark
    public boolean mappingLookup() {
        int i = lookupNext++ & 1023;
        return engine.isMapped(IpProtocol.UDP, lookupAddr[i], lookupPort[i]);
    }

    /**
     * Anchor of {@link #mappingLookup}: the same look-ups in the outside index's previous layout (the engine's
     * until 2026-12-03), rebuilt here from the engine's mappings: an {@code int[]} of entry ids, then the key
     * compared in three parallel {@code int[]} entry arrays (port, address, protocol) — four cache lines per hit.
     */
    @Benchmark
    public boolean mappingLookupPreviousLayout() {
        int i = lookupNext++ & 1023;
        return previousLayout.isMapped(IpProtocol.UDP, lookupAddr[i], lookupPort[i]);
    }

    /**
     * The outside index as {@code NatEngine} kept it before the packed layout: linear probing over an {@code int[]}
     * of entry id + 1, keys in parallel per-entry arrays, the same hash and the same capacity rule.
     */
    static final class ParallelArrayIndex {
        final int[] slots;
        final int mask;
        final int[] outPort;
        final int[] outAddr;
        final int[] protoInPort;
        int count;

        ParallelArrayIndex(int maxEntries) {
            int cap = Integer.highestOneBit(Math.max(4, maxEntries) * 2 - 1) << 1;
            slots = new int[cap];
            mask = cap - 1;
            outPort = new int[maxEntries];
            outAddr = new int[maxEntries];
            protoInPort = new int[maxEntries];
        }

        static int hash(long a, long b) {
            long x = a * 0x9E3779B97F4A7C15L + b;
            x ^= x >>> 31;
            x *= 0xBF58476D1CE4E5B9L;
            x ^= x >>> 29;
            return (int) x;
        }

        void add(int proto, int addr, int port) {
            int m = count++;
            outPort[m] = port;
            outAddr[m] = addr;
            protoInPort[m] = proto << 16;
            int i = hash((proto << 16) | port, addr & 0xFFFF_FFFFL) & mask;
            while (slots[i] != 0) {
                i = (i + 1) & mask;
            }
            slots[i] = m + 1;
        }

        boolean isMapped(int proto, int addr, int port) {
            int i = hash((proto << 16) | port, addr & 0xFFFF_FFFFL) & mask;
            while (true) {
                int v = slots[i];
                if (v == 0) {
                    return false;
                }
                int m = v - 1;
                if (outPort[m] == port && outAddr[m] == addr && (protoInPort[m] >>> 16) == proto) {
                    return true;
                }
                i = (i + 1) & mask;
            }
        }
    }

    /** Anchor of {@link #defragFastPath}: JMH's own cost of handing the same packet to the blackhole. */
    @Benchmark
    public void defragAnchor(Blackhole bh) {
        bh.consume(plain);
    }

    /**
     * A second anchor of {@link #defragFastPath}: the one {@code ByteBuf} read its not-a-fragment test needs (the
     * first 8 bytes), on its own.
     */
    @Benchmark
    public void defragReadAnchor(Blackhole bh) {
        bh.consume(plain.getLong(plain.readerIndex()));
    }

    /** The defragmenter's answer for a packet that is not a fragment, called on its own. */
    @Benchmark
    public void defragFastPath(Blackhole bh) {
        bh.consume(defrag.offer(plain, PooledByteBufAllocator.DEFAULT));
    }
}

package dev.pktkit.benchmarks;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@link L2Adapter} through a real pipeline on a loop the benchmark thread drives. The adapter sits on a
 * {@link PacketPipe} end between two sinks: an inbound one after it (the "L3 device") and an outbound one before
 * it (the "port"), which reset the shared buffer's indices and release it.
 *
 * <ul>
 *   <li>{@code frameToPacket}: a 98-byte IPv4 frame to the adapter's MAC enters as a read and leaves as the
 *       packet (header skipped, same buffer); 16 reads per {@code channelReadComplete}, reported per frame.</li>
 *   <li>{@code packetToFrame}: an unshared IPv4 packet with headroom, to an on-link neighbour already in the ARP
 *       cache, is written; the adapter writes the Ethernet header in place; 16 writes per flush, reported per
 *       packet.</li>
 *   <li>{@code sharedPacketToFrame}: the same packet retained (so shared): the adapter must copy it into a new
 *       pooled buffer; the cost of not leaving headroom or sharing a packet.</li>
 *   <li>{@code stripOnly} (anchor for {@code frameToPacket}): the same frames through the same kind of pipeline
 *       with a handler that only skips the 14-byte header in place of the adapter: what Netty's pipeline, the
 *       retain and the sink's release cost without any of the adapter's reads and tests.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class L2AdapterBenchmark {
    private static final int BATCH = 16;
    private static final long MAC = 0x0200_0000_0001L;
    private static final long PEER_MAC = 0x0200_0000_0002L;
    private static final int ME = Ip4.parse("10.0.0.1");
    private static final int PEER = Ip4.parse("10.0.0.2");
    private static final int LENGTH = 98; // Ethernet + IPv4 + 64 bytes of payload

    private BenchLoop bench;
    private Channel port;
    private ChannelPipeline pipeline;
    private ByteBuf frame;
    private ByteBuf packet;
    private ResettingInboundSink in;
    private ResettingOutboundSink out;
    private Channel stripPort;
    private ChannelPipeline stripPipeline;

    @Setup(Level.Trial)
    public void setUp() {
        bench = new BenchLoop();
        PacketPipe pipe = bench.pipe();
        port = pipe.b();
        L2Adapter adapter = L2Adapter.builder().mac(MAC).ipv4("10.0.0.1/24").ipv6(false)
                .reachableTime(Duration.ofDays(365)).build();
        in = new ResettingInboundSink();
        out = new ResettingOutboundSink();
        pipeline = port.pipeline();
        pipeline.addLast(out, adapter, in);
        bench.loop.runNow();
        // Teach the adapter its neighbour: an ARP request from the peer for our address.
        ByteBuf arp = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        Arp.writeRequestFrame(arp, PEER_MAC, PEER, ME);
        pipeline.fireChannelRead(arp);
        pipeline.fireChannelReadComplete();
        bench.loop.runNow();
        if (adapter.arpCache().lookup(PEER) != PEER_MAC) {
            throw new IllegalStateException("neighbour not learned");
        }
        out.frames = 0;

        frame = PooledByteBufAllocator.DEFAULT.directBuffer(LENGTH);
        MacAddress.write(frame, MAC);
        MacAddress.write(frame, PEER_MAC);
        frame.writeShort(0x0800);
        Ipv4.writeHeader(frame, PEER, ME, IpProtocol.UDP, 64, LENGTH - 34, 1, false);
        frame.writeZero(LENGTH - frame.writerIndex());

        packet = PooledByteBufAllocator.DEFAULT.directBuffer(LENGTH);
        packet.writerIndex(L2Adapter.HEADROOM).readerIndex(L2Adapter.HEADROOM);
        Ipv4.writeHeader(packet, ME, PEER, IpProtocol.UDP, 64, LENGTH - 34, 1, false);
        packet.writeZero(LENGTH - packet.writerIndex());
        out.original = packet;

        stripPort = bench.pipe().b();
        stripPipeline = stripPort.pipeline();
        stripPipeline.addLast(new StripHeader(), in);
        bench.loop.runNow();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (in.packets == 0 && out.frames == 0) {
            throw new IllegalStateException("nothing reached the sinks");
        }
        port.close();
        stripPort.close();
        bench.loop.runNow();
        frame.release();
        packet.release();
        bench.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void frameToPacket() {
        ChannelPipeline p = pipeline;
        ByteBuf f = frame;
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(f.retain());
        }
        p.fireChannelReadComplete();
    }

    /** Anchor for {@link #frameToPacket}: the same reads through a pipeline whose only work is skipping 14 bytes. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void stripOnly() {
        ChannelPipeline p = stripPipeline;
        ByteBuf f = frame;
        for (int i = 0; i < BATCH; i++) {
            p.fireChannelRead(f.retain());
        }
        p.fireChannelReadComplete();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void packetToFrame() {
        ChannelPipeline p = pipeline;
        ByteBuf pkt = packet;
        ChannelPromise v = port.voidPromise();
        for (int i = 0; i < BATCH; i++) {
            p.write(pkt, v); // not retained: the adapter frames only unshared buffers in place
        }
        p.flush();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void sharedPacketToFrame() {
        ChannelPipeline p = pipeline;
        ByteBuf pkt = packet;
        ChannelPromise v = port.voidPromise();
        for (int i = 0; i < BATCH; i++) {
            p.write(pkt.retain(), v);
        }
        p.flush();
    }

    /** The anchor's stand-in for the adapter: skips the Ethernet header, nothing else. */
    static final class StripHeader extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            b.readerIndex(b.readerIndex() + 14);
            ctx.fireChannelRead(b);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.fireChannelReadComplete();
        }
    }

    /** The L3 device: checks the packet starts at the IP header, restores the frame's indices, releases. */
    @ChannelHandler.Sharable
    static final class ResettingInboundSink extends ChannelInboundHandlerAdapter {
        long packets;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            if (b.readerIndex() != 14) {
                throw new IllegalStateException("adapter did not strip the header");
            }
            packets++;
            b.setIndex(0, LENGTH);
            b.release();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
        }
    }

    /**
     * The port: checks a frame came out in place, and restores the packet's indices (headroom again) for the next
     * write. It does not release: the benchmark hands the same buffer over and over with a reference count of 1,
     * because a retained (shared) buffer would make the adapter copy it.
     */
    @ChannelHandler.Sharable
    static final class ResettingOutboundSink extends ChannelOutboundHandlerAdapter {
        long frames;
        long control;
        ByteBuf original;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ByteBuf b = (ByteBuf) msg;
            if (b != original && b.getUnsignedShort(b.readerIndex() + 12) == 0x0806) {
                control++; // the adapter's own ARP (gratuitous ARP at start, the reply that teaches it the peer)
                b.release();
                return;
            }
            if (b.readerIndex() != 0 || b.getShort(12) != 0x0800 || b.getInt(30) != PEER) {
                throw new IllegalStateException("adapter did not frame in place");
            }
            frames++;
            if (b == original) {
                b.readerIndex(L2Adapter.HEADROOM);
            } else {
                b.release(); // a copy made by the adapter
            }
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
        }
    }
}

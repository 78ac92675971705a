package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.qemu.QemuStreamFrameDecoder;
import dev.pktkit.qemu.QemuStreamFrameEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
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

import java.util.concurrent.TimeUnit;

/**
 * QEMU stream framing of 1514-byte frames in real pipelines on a loop the benchmark thread drives.
 *
 * <p>Decode: one read carrying sixteen length-prefixed frames enters the pipeline of a channel whose first
 * handler is {@link QemuStreamFrameDecoder}; each frame (a retained slice of the read) reaches a sink that
 * releases it; reported per frame. The read buffer is the same buffer each time (retained, reader index reset),
 * standing in for the fresh one a transport hands over: in {@link #decode} it comes from
 * {@code ByteBufAllocator.DEFAULT}, where a transport's read buffers come from by default (Netty 4.2: the adaptive
 * allocator, whose slices are plain objects), in {@link #decodePooledRead} from the pooled allocator (whose slices
 * are recycled).
 *
 * <p>Encode: sixteen writes of a 1514-byte frame and one flush through {@link QemuStreamFrameEncoder}, whose
 * output (a 4-byte prefix from the channel's allocator, {@code ByteBufAllocator.DEFAULT}, then the frame itself)
 * reaches a sink in place of the transport that releases it; reported per frame.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class QemuStreamBenchmark {
    private static final int BATCH = 16;
    private static final int FRAME = 1514;

    private BenchLoop bench;
    private ChannelPipeline decoding;
    private ByteBuf pooledRead;
    private Channel encoding;
    private ByteBuf read;
    private ByteBuf frame;
    private FrameSink frameSink;
    private BenchLoop.DiscardingSink wireSink;

    /** Counts and releases decoded frames. */
    @ChannelHandler.Sharable
    static final class FrameSink extends ChannelInboundHandlerAdapter {
        long frames;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            frames++;
            ReferenceCountUtil.release(msg);
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        bench = new BenchLoop();
        frameSink = new FrameSink();
        wireSink = new BenchLoop.DiscardingSink();

        PacketPipe in = bench.pipe();
        in.b().pipeline().addLast(new QemuStreamFrameDecoder(), frameSink);
        decoding = in.b().pipeline();

        PacketPipe out = bench.pipe();
        out.a().pipeline().addFirst(wireSink).addLast(new QemuStreamFrameEncoder());
        encoding = out.a();
        bench.loop.runNow();

        read = prefixedFrames(ByteBufAllocator.DEFAULT);
        pooledRead = prefixedFrames(PooledByteBufAllocator.DEFAULT);
        frame = PooledByteBufAllocator.DEFAULT.directBuffer(FRAME);
        frame.writeLong(0xFFFF_FFFF_FFFF_0200L).writeInt(0x0000_0001).writeShort(0x0800).writeZero(FRAME - 14);

        // one round of each, checked, so that a broken setup fails instead of measuring nothing
        decode();
        decodePooledRead();
        encode();
        if (frameSink.frames != 2 * BATCH || wireSink.frames != 2 * BATCH) {
            throw new IllegalStateException("decoded " + frameSink.frames + " frames, encoded " + wireSink.frames
                    + " buffers; expected " + 2 * BATCH + " and " + 2 * BATCH);
        }
    }

    /** Sixteen broadcast frames of 1514 bytes, each after its length, in one direct buffer from {@code alloc}. */
    private static ByteBuf prefixedFrames(ByteBufAllocator alloc) {
        ByteBuf b = alloc.directBuffer(BATCH * (4 + FRAME));
        for (int i = 0; i < BATCH; i++) {
            b.writeInt(FRAME);
            b.writeLong(0xFFFF_FFFF_FFFF_0200L).writeInt(0x0000_0001).writeShort(0x0800);
            b.writeZero(FRAME - 14);
        }
        return b;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        read.release();
        pooledRead.release();
        frame.release();
        bench.close();
    }

    /** Sixteen prefixed frames in one read, split into frames; per frame. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void decode() {
        read.readerIndex(0).retain();
        decoding.fireChannelRead(read);
        decoding.fireChannelReadComplete();
    }

    /** {@link #decode} with a read buffer from the pooled allocator. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void decodePooledRead() {
        pooledRead.readerIndex(0).retain();
        decoding.fireChannelRead(pooledRead);
        decoding.fireChannelReadComplete();
    }

    /** Sixteen frames written with their prefixes, one flush; per frame. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void encode() {
        Channel ch = encoding;
        for (int i = 0; i < BATCH; i++) {
            ch.write(frame.retain(), ch.voidPromise());
        }
        ch.flush();
    }
}

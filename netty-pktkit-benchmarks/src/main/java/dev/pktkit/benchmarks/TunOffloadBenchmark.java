package dev.pktkit.benchmarks;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.tuntap.vnet.GsoSegmenter;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The Java side of TUN/TAP offloads, per 64 KiB large TCP segment (what a device with TSO hands over in one
 * read): cutting it into 1448-byte segments with complete checksums ({@code OffloadMode.SEGMENT}), and making it
 * a valid oversized packet ({@code VirtioNetCodec} inbound: one checksum over the whole segment).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Jmh.EXECUTOR, Jmh.EXECUTOR_CLASS, Jmh.NO_LEAK_DETECTION})
public class TunOffloadBenchmark {
    static final int PAYLOAD = 65_536 - 20 - 32 - 4; // as much as fits a 64 KiB IPv4 packet
    static final int MSS = 1448;

    private ByteBuf large;
    private final Sink sink = new Sink();

    /** Releases each segment (the pipeline's consumer), counting bytes so nothing is optimised away. */
    static final class Sink implements GsoSegmenter.SegmentConsumer {
        long bytes;

        @Override
        public void accept(ByteBuf segment) {
            bytes += segment.readableBytes();
            segment.release();
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rnd = new SplittableRandom(5);
        large = PooledByteBufAllocator.DEFAULT.directBuffer(PAYLOAD + 100);
        int src = 0x0A51_0101;
        int dst = 0x0A51_0201;
        int tcpLen = 32 + PAYLOAD;
        Ipv4.writeHeader(large, src, dst, IpProtocol.TCP, 64, tcpLen, 1, true);
        ByteBuf opts = PooledByteBufAllocator.DEFAULT.heapBuffer(12);
        opts.writeBytes(new byte[] {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2});
        Tcp.writeHeader(large, 40000, 5201, 1, 1, Tcp.ACK, 512, 0, opts, 0, 12);
        opts.release();
        for (int i = 0; i < PAYLOAD; i++) {
            large.writeByte(rnd.nextInt(256));
        }
        large.setShort(20 + 16, Checksums.fold(Checksums.pseudoHeaderV4(src, dst, IpProtocol.TCP, tcpLen)));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        large.release();
    }

    /** One 64 KiB large segment cut into 46 segments of 1448 bytes, each a new pooled buffer with checksums. */
    @Benchmark
    public long segment64k() {
        GsoSegmenter.segment(large.retainedDuplicate(), false, VirtioNetHeader.GSO_TCPV4, MSS,
                PooledByteBufAllocator.DEFAULT, sink);
        return sink.bytes;
    }

    /** The TCP checksum over one whole 64 KiB segment, in place. */
    @Benchmark
    public boolean checksumLarge64k() {
        return GsoSegmenter.checksumLarge(large, false, VirtioNetHeader.GSO_TCPV4);
    }
}

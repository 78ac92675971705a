package dev.pktkit.qemu;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultAddressedEnvelope;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.ReferenceCountUtil;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One coverage-guided fuzz target for both QEMU decoders, each checked against a model written here.
 *
 * <p>The first input byte picks the decoder (bit 0) and its settings; the rest drives it.
 * <ul>
 *   <li>Stream ({@link QemuStreamFrameDecoder}): a maximum frame length of 14–1,037 bytes (from the selector), the
 *       rest of the input as the byte stream, delivered in chunks whose sizes come from the input itself, then
 *       the end of the stream. The frames that come out, the counters ({@code framesIn}, {@code TOO_SHORT},
 *       {@code TOO_LONG}, {@code TRUNCATED}) and whether the peer was cut off (and the channel closed) must
 *       equal what a plain walk over the length prefixes says.</li>
 *   <li>Datagram ({@link QemuDatagramCodec}): a sequence of datagrams, each with a length, one of three UDP
 *       senders or two Unix ones (one unnamed) and sometimes a mostly empty receive buffer (the compaction path),
 *       with or without a configured remote; then outbound frames of chosen lengths. Frames in, drops by reason
 *       (bad lengths, foreign senders, no peer), the locked peer and where each outbound frame goes must match
 *       the model.</li>
 * </ul>
 * Nothing may throw out of the pipeline, and every buffer (inputs, cumulation, frames, copies) comes from an
 * allocator that remembers it: at the end each must have been released exactly to zero. It is not leak-tracked
 * (paranoid tracking would slow fuzzing a hundredfold); the allocator's own record is the check.
 *
 * <p>{@code mvn verify} fuzzes for {@link #MAX_DURATION} ({@code JAZZER_FUZZ=1} from this module's POM); without
 * that variable only the seeds in {@code src/test/resources/dev/pktkit/qemu/QemuDecoderFuzzTestInputs/decoders/}
 * run. A finding is written to {@code target/crash-<sha1>}; copy it into the seed directory to keep it. Jazzer
 * allows one {@code @FuzzTest} per module run in fuzzing mode, hence one target for both decoders.
 */
class QemuDecoderFuzzTest {
    static final String MAX_DURATION = "10s";

    static final SocketAddress[] SENDERS = {
            new InetSocketAddress("127.0.0.1", 40001), new InetSocketAddress("127.0.0.1", 40002),
            new InetSocketAddress("::1", 40001), new DomainSocketAddress("/tmp/qemu-fuzz.sock"),
            new DomainSocketAddress("")};
    static final SocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 40000);

    /** An unpooled heap allocator that keeps every buffer it makes, to check they all end released. */
    static final class RecordingAllocator extends AbstractByteBufAllocator {
        final List<ByteBuf> made = new ArrayList<>();

        RecordingAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
            made.add(b);
            return b;
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
            made.add(b);
            return b;
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        void assertAllReleased() {
            for (ByteBuf b : made) {
                if (b.refCnt() != 0) {
                    throw new AssertionError("leaked: " + b + " refCnt " + b.refCnt());
                }
            }
        }
    }

    /** The last inbound handler: copies each frame and releases it. */
    @ChannelHandler.Sharable
    static final class Sink extends ChannelInboundHandlerAdapter {
        final List<byte[]> frames = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b)) {
                ReferenceCountUtil.release(msg);
                throw new AssertionError("not a frame: " + msg);
            }
            frames.add(ByteBufUtil.getBytes(b));
            b.release();
        }
    }

    /** Held strongly: JUL keeps loggers weakly, and a collected one would forget its level. */
    private static final Logger DECODER_LOG = Logger.getLogger(QemuStreamFrameDecoder.class.getName());
    private static Level decoderLevel;

    @BeforeAll
    static void quiet() {
        // a warning per cut-off peer is right in production, but would make the fuzzer mostly write logs
        decoderLevel = DECODER_LOG.getLevel();
        DECODER_LOG.setLevel(Level.SEVERE);
    }

    @AfterAll
    static void loud() {
        DECODER_LOG.setLevel(decoderLevel);
    }

    @FuzzTest(maxDuration = MAX_DURATION)
    void decoders(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int selector = input[0] & 0xFF;
        byte[] rest = Arrays.copyOfRange(input, 1, input.length);
        if ((selector & 1) == 0) {
            stream(selector, rest);
        } else {
            datagram(selector, rest);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    // ---- stream ----

    private static void stream(int selector, byte[] bytes) {
        int max = QemuFraming.MIN_FRAME_LENGTH + ((selector >>> 1) * 33 % 1024);
        RecordingAllocator alloc = new RecordingAllocator();
        Sink sink = new Sink();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast(new QemuStreamFrameDecoder(max), sink);
        // chunk sizes: 1..16 bytes, from the data itself, so splits fall everywhere
        int at = 0;
        for (int i = 0; at < bytes.length && ch.isOpen(); i++) {
            int n = Math.min(bytes.length - at, 1 + ((bytes[i % bytes.length] & 0xFF) + i) % 16);
            ByteBuf chunk = alloc.heapBuffer(n).writeBytes(bytes, at, n);
            ch.writeInbound(chunk);
            ch.checkException();
            at += n;
        }
        ch.finishAndReleaseAll();
        ch.checkException();

        // the model: walk the length prefixes
        List<byte[]> frames = new ArrayList<>();
        long tooShort = 0;
        long tooLong = 0;
        long truncated = 0;
        boolean cutOff = false;
        int p = 0;
        while (true) {
            if (bytes.length - p < 4) {
                truncated = bytes.length > p ? 1 : 0;
                break;
            }
            long len = ((bytes[p] & 0xFFL) << 24) | ((bytes[p + 1] & 0xFF) << 16) | ((bytes[p + 2] & 0xFF) << 8)
                    | (bytes[p + 3] & 0xFF);
            if (len < QemuFraming.MIN_FRAME_LENGTH || len > max) {
                cutOff = true;
                if (len < QemuFraming.MIN_FRAME_LENGTH) {
                    tooShort = 1;
                } else {
                    tooLong = 1;
                }
                break;
            }
            if (bytes.length - p - 4 < len) {
                truncated = 1;
                break;
            }
            frames.add(Arrays.copyOfRange(bytes, p + 4, p + 4 + (int) len));
            p += 4 + (int) len;
        }
        QemuFrameCounters c = QemuFrameCounters.of(ch);
        check(sink.frames.size() == frames.size(), "frames " + sink.frames.size() + ", model " + frames.size());
        for (int i = 0; i < frames.size(); i++) {
            check(Arrays.equals(sink.frames.get(i), frames.get(i)), "frame " + i + " differs");
        }
        check(c.framesIn() == frames.size(), "framesIn " + c);
        check(c.drops(QemuDropReason.TOO_SHORT) == tooShort, "TOO_SHORT " + c);
        check(c.drops(QemuDropReason.TOO_LONG) == tooLong, "TOO_LONG " + c);
        check(c.drops(QemuDropReason.TRUNCATED) == truncated, "TRUNCATED " + c + " model " + truncated);
        check(c.isCutOff() == cutOff, "cut off " + c);
        alloc.assertAllReleased();
    }

    // ---- datagram ----

    private static void datagram(int selector, byte[] bytes) {
        int max = QemuFraming.MIN_FRAME_LENGTH + ((selector >>> 2) * 17 % 600);
        SocketAddress remote = (selector & 2) != 0 ? SENDERS[(selector >>> 4) % 4] : null;
        RecordingAllocator alloc = new RecordingAllocator();
        Sink sink = new Sink();
        QemuDatagramCodec codec = new QemuDatagramCodec(max, remote);
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast(codec, sink);

        SocketAddress peer = remote;
        long in = 0;
        long tooShort = 0;
        long tooLong = 0;
        long foreign = 0;
        List<byte[]> expected = new ArrayList<>();
        int p = 0;
        // inbound: [control][length] then the bytes (as many as there are); control: sender, slack, stop
        while (bytes.length - p >= 2) {
            int control = bytes[p] & 0xFF;
            if ((control & 0x80) != 0) {
                p++;
                break;   // on to outbound
            }
            int len = Math.min(((bytes[p + 1] & 0xFF) * 3) % (max + 40), bytes.length - p - 2);
            p += 2;
            SocketAddress sender = SENDERS[control % SENDERS.length];
            int slack = (control & 0x40) != 0 ? QemuDatagramCodec.MAX_WASTED_RECEIVE_BYTES + 1 : 0;
            ByteBuf content = alloc.heapBuffer(len + slack).writeBytes(bytes, p, len);
            p += len;
            ch.writeInbound(sender instanceof InetSocketAddress inet
                    ? new DatagramPacket(content, (InetSocketAddress) LOCAL, inet)
                    : new DefaultAddressedEnvelope<ByteBuf, SocketAddress>(content, LOCAL, sender));
            ch.checkException();
            if (len < QemuFraming.MIN_FRAME_LENGTH) {
                tooShort++;
            } else if (len > max) {
                tooLong++;
            } else if (peer == null ? sender instanceof DomainSocketAddress d && d.path().isEmpty()
                    : !peer.equals(sender)) {
                foreign++;
            } else {
                if (peer == null) {
                    peer = sender;
                }
                in++;
                expected.add(Arrays.copyOfRange(bytes, p - len, p));
            }
        }
        // outbound: one frame per byte, of that byte's length (0..255, so some are too short or too long)
        long out = 0;
        long noPeer = 0;
        long outShort = 0;
        long outLong = 0;
        for (; p < bytes.length; p++) {
            int len = bytes[p] & 0xFF;
            ch.writeOneOutbound(alloc.heapBuffer(len).writeZero(len));
            if (len < QemuFraming.MIN_FRAME_LENGTH) {
                outShort++;
            } else if (len > max) {
                outLong++;
            } else if (peer == null) {
                noPeer++;
            } else {
                out++;
            }
        }
        ch.flushOutbound();
        ch.checkException();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            try {
                check(o instanceof AddressedEnvelope<?, ?> e && peer.equals(e.recipient()), "sent to " + o);
            } finally {
                ReferenceCountUtil.release(o);
            }
        }
        ch.finishAndReleaseAll();

        QemuFrameCounters c = QemuFrameCounters.of(ch);
        check(sink.frames.size() == expected.size(), "frames " + sink.frames.size() + " model " + expected.size());
        for (int i = 0; i < expected.size(); i++) {
            check(Arrays.equals(sink.frames.get(i), expected.get(i)), "frame " + i + " differs");
        }
        check(java.util.Objects.equals(codec.peer(), peer), "peer " + codec.peer() + " model " + peer);
        check(c.framesIn() == in, "framesIn " + c);
        check(c.drops(QemuDropReason.TOO_SHORT) == tooShort + outShort, "TOO_SHORT " + c);
        check(c.drops(QemuDropReason.TOO_LONG) == tooLong + outLong, "TOO_LONG " + c);
        check(c.drops(QemuDropReason.FOREIGN_SENDER) == foreign, "FOREIGN_SENDER " + c);
        check(c.drops(QemuDropReason.NO_PEER) == noPeer, "NO_PEER " + c);
        check(c.framesOut() == out, "framesOut " + c);
        alloc.assertAllReleased();
    }
}

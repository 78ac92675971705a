package dev.pktkit.qemu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static dev.pktkit.qemu.Frames.concat;
import static dev.pktkit.qemu.Frames.frame;
import static dev.pktkit.qemu.Frames.lengthOnly;
import static dev.pktkit.qemu.Frames.stream;
import static dev.pktkit.qemu.Frames.take;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QemuStreamFrameDecoderTest {
    private final List<ByteBuf> inputs = new ArrayList<>();
    private EmbeddedChannel ch = new EmbeddedChannel(new QemuStreamFrameDecoder());

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
        for (ByteBuf in : inputs) {
            assertEquals(0, in.refCnt(), "every input buffer is released");
        }
    }

    /** Feeds {@code bytes} as one read, in a buffer the test tracks. */
    private void read(byte[] bytes) {
        ByteBuf b = Unpooled.directBuffer(bytes.length).writeBytes(bytes);
        inputs.add(b);
        ch.writeInbound(b);
    }

    private List<byte[]> frames() {
        List<byte[]> out = new ArrayList<>();
        for (ByteBuf b; (b = ch.readInbound()) != null; ) {
            out.add(take(b));
        }
        return out;
    }

    private QemuFrameCounters counters() {
        return QemuFrameCounters.of(ch);
    }

    @Test
    void oneFrameInOneRead() {
        byte[] f = frame(60, 1);
        read(stream(f));
        List<byte[]> got = frames();
        assertEquals(1, got.size());
        assertArrayEquals(f, got.get(0));
        assertEquals(1, counters().framesIn());
        assertEquals(60, counters().bytesIn());
        assertEquals(0, counters().drops());
    }

    @Test
    void frameSplitAtEveryByteArrivesOnceComplete() {
        byte[] f = frame(100, 7);
        byte[] wire = stream(f);
        for (int i = 0; i < wire.length - 1; i++) {
            read(new byte[] {wire[i]});
            assertNull(ch.readInbound(), "nothing before the last byte (" + i + ")");
        }
        read(new byte[] {wire[wire.length - 1]});
        List<byte[]> got = frames();
        assertEquals(1, got.size());
        assertArrayEquals(f, got.get(0));
    }

    @Test
    void mergedFramesSplitAtOddPointsComeOutInOrder() {
        byte[] a = frame(14, 1);
        byte[] b = frame(1514, 2);
        byte[] c = frame(60, 3);
        byte[] wire = stream(a, b, c);
        for (int at = 0; at < wire.length; at += 7) {
            byte[] chunk = new byte[Math.min(7, wire.length - at)];
            System.arraycopy(wire, at, chunk, 0, chunk.length);
            read(chunk);
        }
        List<byte[]> got = frames();
        assertEquals(3, got.size());
        assertArrayEquals(a, got.get(0));
        assertArrayEquals(b, got.get(1));
        assertArrayEquals(c, got.get(2));
        assertEquals(3, counters().framesIn());
        assertEquals(14 + 1514 + 60, counters().bytesIn());
    }

    @Test
    void framesAreSlicesOfTheReadBufferNotCopies() {
        read(stream(frame(60, 1), frame(60, 2)));
        ByteBuf input = inputs.get(0);
        ByteBuf first = ch.readInbound();
        ByteBuf second = ch.readInbound();
        try {
            assertEquals(60, first.readableBytes());
            assertEquals(60, second.readableBytes());
            input.setByte(4 + 20, 0x55);          // byte 20 of the first frame
            input.setByte(4 + 60 + 4 + 30, 0x66); // byte 30 of the second
            assertEquals(0x55, first.getByte(first.readerIndex() + 20));
            assertEquals(0x66, second.getByte(second.readerIndex() + 30));
        } finally {
            first.release();
            second.release();
        }
    }

    @Test
    void shortestAndLongestFramesPass() {
        byte[] min = frame(QemuFraming.MIN_FRAME_LENGTH, 1);
        byte[] max = frame(QemuFraming.DEFAULT_MAX_FRAME_LENGTH, 2);
        read(stream(min, max));
        List<byte[]> got = frames();
        assertEquals(2, got.size());
        assertArrayEquals(min, got.get(0));
        assertArrayEquals(max, got.get(1));
        assertTrue(ch.isOpen());
    }

    @Test
    void defaultMaximumIsQemusNetBufSize() {
        assertEquals(4096 + 65536, QemuFraming.DEFAULT_MAX_FRAME_LENGTH);
        assertEquals(QemuFraming.DEFAULT_MAX_FRAME_LENGTH, new QemuStreamFrameDecoder().maxFrameLength());
    }

    @ParameterizedTest(name = "announced length {0}")
    @ValueSource(longs = {0, 13, QemuFraming.DEFAULT_MAX_FRAME_LENGTH + 1, 1L << 31, 0xFFFF_FFFFL})
    void badLengthCutsThePeerOffAfterTheGoodFramesBeforeIt(long length) {
        byte[] good = frame(60, 1);
        byte[] after = frame(60, 2);
        // a good frame, the bad length and 20 bytes it would announce, then a frame that must not come out
        read(concat(stream(good), lengthOnly(length), new byte[20], stream(after)));

        List<byte[]> got = frames();
        assertEquals(1, got.size(), "the frame before the bad length still arrives");
        assertArrayEquals(good, got.get(0));
        ch.runPendingTasks();
        assertFalse(ch.isOpen(), "the peer is cut off");
        QemuDropReason expected = length < 14 ? QemuDropReason.TOO_SHORT : QemuDropReason.TOO_LONG;
        assertEquals(1, counters().drops(expected));
        assertEquals(1, counters().drops());
        assertTrue(counters().isCutOff());
        assertNotNull(counters().cutOffReason());
        assertTrue(counters().cutOffReason().contains(Long.toString(length)), counters().cutOffReason());
        assertEquals(1, counters().framesIn());
    }

    @Test
    void badLengthSplitAcrossReadsIsCaughtBeforeAnyPayloadIsBuffered() {
        byte[] huge = lengthOnly(1L << 31);
        read(new byte[] {huge[0], huge[1]});
        assertTrue(ch.isOpen(), "two bytes of a length say nothing yet");
        read(new byte[] {huge[2], huge[3]});
        ch.runPendingTasks();
        assertFalse(ch.isOpen());
        assertEquals(1, counters().drops(QemuDropReason.TOO_LONG));
    }

    @Test
    void micrometerBinderReadsTheChannelsCounters() {
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        QemuMetrics metrics = new QemuMetrics(counters(), io.micrometer.core.instrument.Tags.of("guest", "vm1"));
        metrics.bindTo(registry);
        read(concat(stream(frame(60, 1)), stream(frame(1514, 2))));
        frames();
        read(lengthOnly(1L << 31));
        ch.runPendingTasks();
        assertEquals(2.0, registry.get("pktkit.qemu.frames.in").tag("guest", "vm1").functionCounter().count());
        assertEquals(60.0 + 1514, registry.get("pktkit.qemu.bytes.in").functionCounter().count());
        assertEquals(0.0, registry.get("pktkit.qemu.frames.out").functionCounter().count());
        assertEquals(1.0, registry.get("pktkit.qemu.drops").tags("guest", "vm1", "reason", "too_long")
                .functionCounter().count());
        metrics.close();
        assertTrue(registry.getMeters().isEmpty());
    }

    @Test
    void configuredMaximumIsEnforcedExactly() {
        ch = new EmbeddedChannel(new QemuStreamFrameDecoder(100));
        byte[] max = frame(100, 1);
        read(stream(max));
        assertArrayEquals(max, frames().get(0));
        read(stream(frame(101, 2)));
        assertEquals(List.of(), frames());
        ch.runPendingTasks();
        assertFalse(ch.isOpen());
        assertEquals(1, counters().drops(QemuDropReason.TOO_LONG));
        assertTrue(counters().cutOffReason().contains("101"), counters().cutOffReason());
    }

    @Test
    void streamEndingInsideAFrameCountsATruncatedFrame() {
        byte[] wire = stream(frame(60, 1));
        byte[] partial = new byte[30];
        System.arraycopy(wire, 0, partial, 0, partial.length);
        read(partial);
        assertFalse(ch.finish(), "no frame comes out of half a frame");
        assertEquals(1, counters().drops(QemuDropReason.TRUNCATED));
        assertFalse(counters().isCutOff());
    }

    @Test
    void cleanEndOfStreamCountsNothing() {
        read(stream(frame(60, 1)));
        frames();
        ch.finish();
        assertEquals(0, counters().drops());
    }

    @Test
    void maximumBelowAnEthernetHeaderIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new QemuStreamFrameDecoder(13));
        assertThrows(IllegalArgumentException.class, () -> new QemuStreamFrameDecoder(Integer.MAX_VALUE));
    }
}

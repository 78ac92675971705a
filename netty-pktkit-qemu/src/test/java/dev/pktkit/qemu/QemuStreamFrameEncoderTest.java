package dev.pktkit.qemu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static dev.pktkit.qemu.Frames.frame;
import static dev.pktkit.qemu.Frames.take;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QemuStreamFrameEncoderTest {
    private EmbeddedChannel ch = new EmbeddedChannel(new QemuStreamFrameEncoder());

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
    }

    private static ByteBuf buf(byte[] bytes) {
        return Unpooled.directBuffer(bytes.length).writeBytes(bytes);
    }

    private QemuFrameCounters counters() {
        return QemuFrameCounters.of(ch);
    }

    @Test
    void frameGoesOutAfterItsLengthWithoutACopy() {
        byte[] f = frame(1514, 3);
        ByteBuf frame = buf(f);
        assertTrue(ch.writeOutbound(frame));
        ByteBuf prefix = ch.readOutbound();
        ByteBuf body = ch.readOutbound();
        assertNull(ch.readOutbound());
        assertEquals(4, prefix.readableBytes());
        assertEquals(1514, prefix.getInt(prefix.readerIndex()));
        prefix.release();
        assertSame(frame, body, "the frame itself is written, not a copy");
        assertArrayEquals(f, take(body));
        assertEquals(1, counters().framesOut());
        assertEquals(1514, counters().bytesOut());
    }

    @Test
    void shortestAndLongestFramesPass() {
        ch.writeOutbound(buf(frame(QemuFraming.MIN_FRAME_LENGTH, 1)),
                buf(frame(QemuFraming.DEFAULT_MAX_FRAME_LENGTH, 2)));
        assertEquals(4, ch.outboundMessages().size());
        assertEquals(2, counters().framesOut());
        assertEquals(0, counters().drops());
    }

    @ParameterizedTest(name = "{0}-byte frame")
    @ValueSource(ints = {0, 13, QemuFraming.DEFAULT_MAX_FRAME_LENGTH + 1})
    void frameOfBadLengthIsReleasedCountedAndNotSent(int length) {
        ByteBuf frame = Unpooled.directBuffer(Math.max(length, 1)).writeZero(length);
        ChannelFuture f = ch.writeOneOutbound(frame);
        ch.flushOutbound();
        assertEquals(0, frame.refCnt(), "released");
        assertNull(ch.readOutbound(), "nothing sent");
        assertTrue(f.isDone());
        assertInstanceOf(EncoderException.class, f.cause());
        QemuDropReason expected = length < 14 ? QemuDropReason.TOO_SHORT : QemuDropReason.TOO_LONG;
        assertEquals(1, counters().drops(expected));
        assertEquals(0, counters().framesOut());
        assertTrue(ch.isOpen(), "a bad frame of ours is not a reason to drop the peer");
    }

    @Test
    void badFrameWithVoidPromiseIsDroppedSilently() {
        ByteBuf frame = Unpooled.buffer(10).writeZero(10);
        ch.writeAndFlush(frame, ch.voidPromise());
        assertEquals(0, frame.refCnt());
        assertNull(ch.readOutbound());
        ch.checkException(); // nothing was fired down the pipeline
        assertEquals(1, counters().drops(QemuDropReason.TOO_SHORT));
    }

    @Test
    void nonFrameMessageIsReleasedAndCounted() {
        ReferenceCounted thing = new AbstractReferenceCounted() {
            @Override
            protected void deallocate() {
            }

            @Override
            public ReferenceCounted touch(Object hint) {
                return this;
            }
        };
        ChannelFuture f = ch.writeOneOutbound(thing);
        assertEquals(0, thing.refCnt());
        assertFalse(f.isSuccess());
        assertEquals(1, counters().drops(QemuDropReason.UNSUPPORTED_MESSAGE));
    }

    @Test
    void configuredMaximumIsEnforcedExactly() {
        ch = new EmbeddedChannel(new QemuStreamFrameEncoder(100));
        ch.writeOutbound(buf(frame(100, 1)));
        assertEquals(2, ch.outboundMessages().size());
        ChannelFuture f = ch.writeOneOutbound(buf(frame(101, 1)));
        assertFalse(f.isSuccess());
        assertEquals(1, counters().drops(QemuDropReason.TOO_LONG));
    }

    @Test
    void encoderOutputDecodesToTheSameFrames() {
        EmbeddedChannel decoder = new EmbeddedChannel(new QemuStreamFrameDecoder());
        try {
            List<byte[]> sent = List.of(frame(14, 1), frame(60, 2), frame(1514, 3), frame(9018, 4));
            for (byte[] f : sent) {
                ch.writeOutbound(buf(f));
            }
            for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
                decoder.writeInbound(b);
            }
            List<byte[]> got = new ArrayList<>();
            for (ByteBuf b; (b = decoder.readInbound()) != null; ) {
                got.add(take(b));
            }
            assertEquals(sent.size(), got.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), got.get(i));
            }
        } finally {
            decoder.finishAndReleaseAll();
        }
    }
}

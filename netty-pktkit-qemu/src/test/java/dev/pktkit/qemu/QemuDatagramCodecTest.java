package dev.pktkit.qemu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.ChannelFuture;
import io.netty.channel.DefaultAddressedEnvelope;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.EncoderException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketAddress;

import static dev.pktkit.qemu.Frames.frame;
import static dev.pktkit.qemu.Frames.take;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QemuDatagramCodecTest {
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 40000);
    private static final InetSocketAddress QEMU = new InetSocketAddress("127.0.0.1", 40001);
    private static final InetSocketAddress OTHER = new InetSocketAddress("127.0.0.1", 40002);

    private final QemuDatagramCodec codec = new QemuDatagramCodec();
    private EmbeddedChannel ch = new EmbeddedChannel(codec);

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
    }

    private static ByteBuf buf(byte[] bytes) {
        return Unpooled.directBuffer(bytes.length).writeBytes(bytes);
    }

    private static DatagramPacket datagram(byte[] frame, InetSocketAddress sender) {
        return new DatagramPacket(buf(frame), LOCAL, sender);
    }

    private QemuFrameCounters counters() {
        return QemuFrameCounters.of(ch);
    }

    @Test
    void datagramBecomesAPlainFrameAndItsSenderThePeer() {
        byte[] f = frame(342, 1);
        ch.writeInbound(datagram(f, QEMU));
        ByteBuf got = ch.readInbound();
        assertInstanceOf(ByteBuf.class, got);
        assertArrayEquals(f, take(got));
        assertEquals(QEMU, codec.peer());
        assertEquals(1, counters().framesIn());
        assertEquals(342, counters().bytesIn());
    }

    @Test
    void framesBeforeAnyPeerAreDroppedAndCounted() {
        ByteBuf frame = buf(frame(60, 1));
        ChannelFuture f = ch.writeOneOutbound(frame);
        ch.flushOutbound();
        assertNull(ch.readOutbound());
        assertEquals(0, frame.refCnt());
        assertInstanceOf(EncoderException.class, f.cause());
        assertEquals(1, counters().drops(QemuDropReason.NO_PEER));
    }

    @Test
    void thePeerIsLockedToTheFirstSenderAndOthersAreDropped() {
        ch.writeInbound(datagram(frame(60, 1), QEMU));
        take(ch.readInbound());
        byte[] reply = frame(60, 2);
        ch.writeOutbound(buf(reply));
        DatagramPacket out = ch.readOutbound();
        assertEquals(QEMU, out.recipient());
        assertArrayEquals(reply, take(out.content()));

        // a takeover attempt: another local socket sends a frame
        DatagramPacket foreign = datagram(frame(60, 3), OTHER);
        ch.writeInbound(foreign);
        assertNull(ch.readInbound(), "the foreign frame does not enter the LAN");
        assertEquals(0, foreign.refCnt());
        assertEquals(1, counters().drops(QemuDropReason.FOREIGN_SENDER));
        assertEquals(QEMU, codec.peer());
        ch.writeOutbound(buf(reply));
        DatagramPacket again = ch.readOutbound();
        assertEquals(QEMU, again.recipient(), "the first sender keeps the traffic");
        again.release();
        assertEquals(2, counters().framesOut());

        ch.writeInbound(datagram(frame(60, 4), QEMU));
        assertEquals(60, take(ch.readInbound()).length, "the peer itself is still heard");
        assertEquals(2, counters().framesIn());
    }

    @Test
    void configuredRemoteIsUsedFromTheStartAndIsTheOnlySenderAccepted() {
        ch = new EmbeddedChannel(new QemuDatagramCodec(QemuFraming.DEFAULT_MAX_FRAME_LENGTH, QEMU));
        ch.writeOutbound(buf(frame(60, 1)));
        DatagramPacket out = ch.readOutbound();
        assertEquals(QEMU, out.recipient());
        out.release();
        DatagramPacket foreign = datagram(frame(60, 2), OTHER);
        ch.writeInbound(foreign);
        assertNull(ch.readInbound());
        assertEquals(0, foreign.refCnt());
        assertEquals(1, counters().drops(QemuDropReason.FOREIGN_SENDER));
        ch.writeInbound(datagram(frame(60, 3), QEMU));
        take(ch.readInbound());
        ch.writeOutbound(buf(frame(60, 3)));
        DatagramPacket next = ch.readOutbound();
        assertEquals(QEMU, next.recipient());
        next.release();
    }

    @Test
    void unixDatagramsKeepTheirAddressType() {
        DomainSocketAddress qemu = new DomainSocketAddress("/tmp/qemu-test.sock");
        ch.writeInbound(new DefaultAddressedEnvelope<ByteBuf, SocketAddress>(buf(frame(60, 1)),
                new DomainSocketAddress("/tmp/ours.sock"), qemu));
        take(ch.readInbound());
        ch.writeOutbound(buf(frame(60, 2)));
        AddressedEnvelope<?, ?> out = ch.readOutbound();
        assertSame(qemu, out.recipient());
        out.release();
    }

    @Test
    void unixPeerIsLockedByPath() {
        DomainSocketAddress ours = new DomainSocketAddress("/tmp/ours.sock");
        ch.writeInbound(new DefaultAddressedEnvelope<ByteBuf, SocketAddress>(buf(frame(60, 1)), ours,
                new DomainSocketAddress("/tmp/qemu-test.sock")));
        take(ch.readInbound());
        ch.writeInbound(new DefaultAddressedEnvelope<ByteBuf, SocketAddress>(buf(frame(60, 2)), ours,
                new DomainSocketAddress("/tmp/qemu-test.sock")));
        take(ch.readInbound());
        ch.writeInbound(new DefaultAddressedEnvelope<ByteBuf, SocketAddress>(buf(frame(60, 3)), ours,
                new DomainSocketAddress("/tmp/intruder.sock")));
        assertNull(ch.readInbound());
        assertEquals(new DomainSocketAddress("/tmp/qemu-test.sock"), codec.peer());
        assertEquals(1, counters().drops(QemuDropReason.FOREIGN_SENDER));
    }

    @Test
    void unnamedUnixSenderIsNeitherLearnedNorHeard() {
        ByteBuf content = buf(frame(60, 1));
        ch.writeInbound(new DefaultAddressedEnvelope<ByteBuf, SocketAddress>(content,
                new DomainSocketAddress("/tmp/ours.sock"), new DomainSocketAddress("")));
        assertNull(ch.readInbound(), "nothing can be sent back to an unbound socket");
        assertEquals(0, content.refCnt());
        assertNull(codec.peer());
        assertEquals(1, counters().drops(QemuDropReason.FOREIGN_SENDER));
    }

    @Test
    void datagramsOfBadLengthAreDroppedAndTheChannelStays() {
        ByteBuf tooShort = buf(new byte[13]);
        ch.writeInbound(new DatagramPacket(tooShort, LOCAL, QEMU));
        ByteBuf tooLong = buf(new byte[QemuFraming.DEFAULT_MAX_FRAME_LENGTH + 1]);
        ch.writeInbound(new DatagramPacket(tooLong, LOCAL, QEMU));
        assertNull(ch.readInbound());
        assertEquals(0, tooShort.refCnt());
        assertEquals(0, tooLong.refCnt());
        assertEquals(1, counters().drops(QemuDropReason.TOO_SHORT));
        assertEquals(1, counters().drops(QemuDropReason.TOO_LONG));
        assertNull(codec.peer(), "a bad datagram teaches nothing");
        assertTrue(ch.isOpen());

        ch.writeInbound(datagram(frame(14, 1), QEMU));
        assertEquals(14, take(ch.readInbound()).length);
    }

    @Test
    void outboundFramesOfBadLengthAreDropped() {
        ch.writeInbound(datagram(frame(60, 1), QEMU));
        take(ch.readInbound());
        ByteBuf tooShort = Unpooled.buffer(13).writeZero(13);
        assertFalse(ch.writeOneOutbound(tooShort).isSuccess());
        assertEquals(0, tooShort.refCnt());
        assertEquals(1, counters().drops(QemuDropReason.TOO_SHORT));
    }

    @Test
    void nonDatagramInboundIsReleasedAndCounted() {
        ch.writeInbound("not a datagram");
        assertNull(ch.readInbound());
        assertEquals(1, counters().drops(QemuDropReason.UNSUPPORTED_MESSAGE));
    }

    @Test
    void frameInAMostlyEmptyReceiveBufferIsCompacted() {
        ByteBuf big = Unpooled.directBuffer(65536).writeBytes(frame(100, 1));
        ch.writeInbound(new DatagramPacket(big, LOCAL, QEMU));
        ByteBuf got = ch.readInbound();
        assertEquals(0, big.refCnt(), "the large receive buffer is given back");
        assertTrue(got.capacity() < 65536);
        assertArrayEquals(frame(100, 1), take(got));
    }

    @Test
    void sendErrorsAreCountedNotPropagated() {
        ch.pipeline().fireExceptionCaught(new PortUnreachableException("test"));
        ch.checkException();
        assertEquals(1, counters().drops(QemuDropReason.SEND_FAILED));
        assertTrue(ch.isOpen());
    }

    @Test
    void otherExceptionsPassThrough() {
        ch.pipeline().fireExceptionCaught(new IllegalStateException("not ours"));
        assertThrows(IllegalStateException.class, ch::checkException);
    }
}

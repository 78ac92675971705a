package dev.pktkit.tuntap;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.tuntap.vnet.TestSegments;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;
import dev.pktkit.tuntap.vnet.VirtioNetPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link VirtioNetCodec} on an embedded channel: large segments in as plain packets, oversized TCP out as GSO. */
class VirtioNetCodecTest {
    @Test
    void inboundLargeSegmentBecomesAValidPlainPacket() {
        VirtioNetCodec codec = new VirtioNetCodec(1500);
        EmbeddedChannel ch = new EmbeddedChannel(codec);
        ByteBuf big = TestSegments.largeSegment(false, false, false, TestSegments.payload(30_000, 1),
                Tcp.ACK);
        ch.writeInbound(new VirtioNetPacket(big, VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4, 52,
                1448, 20, 16));
        ByteBuf in = ch.readInbound();
        assertTrue(Tcp.checkInPacket(in, in.readerIndex()) > 0, "checksum over the whole segment");
        assertEquals(30_000 + 52, in.readableBytes());
        assertEquals(1, codec.largeSegmentsIn());
        in.release();

        ByteBuf partial = TestSegments.largeSegment(true, false, false, TestSegments.payload(500, 2),
                Tcp.ACK);
        ch.writeInbound(new VirtioNetPacket(partial, VirtioNetHeader.FLAG_NEEDS_CSUM, 0, 0, 0, 40, 16));
        ByteBuf p = ch.readInbound();
        assertTrue(Tcp.checkInPacket(p, p.readerIndex()) > 0, "partial checksum completed");
        p.release();
        assertTrue(!ch.finish());
    }

    @Test
    void forwardingModeKeepsTheOffloadStateAndMarksTheChannel() {
        VirtioNetCodec codec = VirtioNetCodec.forwarding();
        EmbeddedChannel ch = new EmbeddedChannel(codec);
        assertTrue(dev.pktkit.codec.offload.OffloadPacket.acceptedBy(ch), "a hub may send it offloaded packets");
        ByteBuf big = TestSegments.largeSegment(false, false, false, TestSegments.payload(30_000, 1), Tcp.ACK);
        int partial = big.getUnsignedShort(big.readerIndex() + 20 + 16);
        VirtioNetPacket sent = new VirtioNetPacket(big, VirtioNetHeader.FLAG_NEEDS_CSUM, VirtioNetHeader.GSO_TCPV4,
                52, 1448, 20, 16);
        ch.writeInbound(sent);
        VirtioNetPacket in = ch.readInbound();
        assertSame(sent, in, "passed on as it came");
        assertEquals(partial, in.content().getUnsignedShort(in.content().readerIndex() + 36),
                "no checksum computed in Java");
        assertEquals(1, codec.largeSegmentsIn());
        // An OffloadPacket (the neutral type a hub forwards) is written with its state.
        ch.writeOutbound(new dev.pktkit.codec.offload.OffloadPacket(in.content(), in.flags(), in.gsoType(),
                in.headerLength(), in.gsoSize(), in.checksumStart(), in.checksumOffset()));
        Object out = ch.readOutbound();
        VirtioNetPacket v = VirtioNetPacket.of((dev.pktkit.codec.offload.OffloadPacket) out);
        assertEquals(1448, v.gsoSize());
        assertEquals(VirtioNetHeader.GSO_TCPV4, v.gsoType());
        v.release();
        ch.pipeline().remove(codec);
        assertTrue(!dev.pktkit.codec.offload.OffloadPacket.acceptedBy(ch), "unmarked when the codec leaves");
        assertTrue(!ch.finish());
    }

    @Test
    void inboundBadOrUnsupportedOffloadIsDroppedAndCounted() {
        VirtioNetCodec codec = new VirtioNetCodec(1500);
        EmbeddedChannel ch = new EmbeddedChannel(codec);
        ByteBuf big = TestSegments.largeSegment(false, false, false, TestSegments.payload(3000, 3), Tcp.ACK);
        ch.writeInbound(new VirtioNetPacket(big, 0, VirtioNetHeader.GSO_UDP_L4, 0, 1000, 20, 6));
        ByteBuf bad = TestSegments.largeSegment(false, false, false, TestSegments.payload(100, 4), Tcp.ACK);
        ch.writeInbound(new VirtioNetPacket(bad, VirtioNetHeader.FLAG_NEEDS_CSUM, 0, 0, 0, 500, 16));
        assertNull(ch.readInbound());
        assertEquals(2, codec.dropped());
        assertEquals(0, big.refCnt());
        assertEquals(0, bad.refCnt());
        ch.finish();
    }

    @Test
    void outboundOversizedTcpBecomesAGsoPacketForTheKernel() {
        VirtioNetCodec codec = new VirtioNetCodec(1500);
        EmbeddedChannel ch = new EmbeddedChannel(codec);
        ByteBuf big = TestSegments.largeSegment(false, false, false, TestSegments.payload(20_000, 5),
                Tcp.ACK | Tcp.CWR);
        ch.writeOutbound(big);
        VirtioNetPacket out = assertInstanceOf(VirtioNetPacket.class, ch.readOutbound());
        assertSame(big, out.content());
        assertEquals(VirtioNetHeader.GSO_TCPV4 | VirtioNetHeader.GSO_ECN, out.gsoType());
        assertEquals(1500 - 20 - 32, out.gsoSize());
        assertEquals(20, out.checksumStart());
        assertEquals(16, out.checksumOffset());
        assertEquals(52, out.headerLength());
        assertEquals(1, codec.largeSegmentsOut());
        out.release();

        ByteBuf v6 = TestSegments.largeSegment(true, false, false, TestSegments.payload(5000, 6), Tcp.ACK);
        ch.writeOutbound(v6);
        VirtioNetPacket out6 = assertInstanceOf(VirtioNetPacket.class, ch.readOutbound());
        assertEquals(VirtioNetHeader.GSO_TCPV6, out6.gsoType());
        assertEquals(1500 - 40 - 32, out6.gsoSize());
        out6.release();
        ch.finish();
    }

    @Test
    void outboundPacketsThatFitOrAreNotTcpPassUnchanged() {
        EmbeddedChannel ch = new EmbeddedChannel(new VirtioNetCodec(1500));
        ByteBuf fits = TestSegments.largeSegment(false, false, false, TestSegments.payload(1400, 7), Tcp.ACK);
        ch.writeOutbound(fits);
        assertSame(fits, ch.readOutbound());
        fits.release();
        ByteBuf udp = TestSegments.largeSegment(false, false, false, TestSegments.payload(4000, 8), Tcp.ACK);
        udp.setByte(9, IpProtocol.UDP);
        Ipv4.fillChecksum(udp, 0);
        ch.writeOutbound(udp);
        assertSame(udp, ch.readOutbound());
        udp.release();
        ch.finish();
    }
}

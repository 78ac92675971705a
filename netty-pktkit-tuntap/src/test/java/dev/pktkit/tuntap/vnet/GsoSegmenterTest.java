package dev.pktkit.tuntap.vnet;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Segmentation and checksum completion against the codec's own validators, on synthetic large segments. */
class GsoSegmenterTest {
    static final ByteBufAllocator ALLOC = TestSegments.ALLOC;
    static final long SEQ = TestSegments.SEQ;

    static ByteBuf largeSegment(boolean v6, boolean ethernet, boolean vlan, byte[] payload, int flags) {
        return TestSegments.largeSegment(v6, ethernet, vlan, payload, flags);
    }

    static byte[] payload(int n, long seed) {
        return TestSegments.payload(n, seed);
    }

    @ParameterizedTest
    @CsvSource({"false,false,false", "true,false,false", "false,true,false", "true,true,false", "false,true,true"})
    void cutsIntoValidSegmentsThatReassemble(boolean v6, boolean ethernet, boolean vlan) {
        int mss = 1448;
        byte[] data = payload(60_000, 1);
        ByteBuf big = largeSegment(v6, ethernet, vlan, data, Tcp.ACK | Tcp.PSH | Tcp.FIN | Tcp.CWR);
        List<ByteBuf> out = new ArrayList<>();
        int n = GsoSegmenter.segment(big, ethernet, v6 ? VirtioNetHeader.GSO_TCPV6 | VirtioNetHeader.GSO_ECN
                : VirtioNetHeader.GSO_TCPV4 | VirtioNetHeader.GSO_ECN, mss, ALLOC, out::add);
        try {
            assertEquals((data.length + mss - 1) / mss, n);
            assertEquals(n, out.size());
            assertEquals(0, big.refCnt(), "the large segment is released");
            byte[] joined = new byte[data.length];
            int at = 0;
            for (int i = 0; i < n; i++) {
                ByteBuf s = out.get(i);
                int l3 = GsoSegmenter.ipOffset(s, s.readerIndex(), ethernet);
                int segLen = Tcp.checkInPacket(s, l3);
                assertTrue(segLen > 0, "segment " + i + " invalid: " + segLen);
                int l4 = v6 ? l3 + 40 : l3 + Ipv4.headerLength(s, l3);
                if (!v6) {
                    assertEquals(0xFFFE + i & 0xFFFF, Ipv4.identification(s, l3));
                }
                assertEquals((SEQ + at) & 0xFFFF_FFFFL, Tcp.seq(s, l4));
                int flags = Tcp.flags(s, l4);
                boolean last = i == n - 1;
                assertEquals(last, (flags & Tcp.FIN) != 0, "FIN only on the last");
                assertEquals(last, (flags & Tcp.PSH) != 0, "PSH only on the last");
                assertEquals(i == 0, (flags & Tcp.CWR) != 0, "CWR only on the first");
                assertTrue((flags & Tcp.ACK) != 0);
                int payloadLen = segLen - 32;
                assertTrue(payloadLen <= mss);
                s.getBytes(l4 + 32, joined, at, payloadLen);
                at += payloadLen;
                if (ethernet) {
                    assertEquals(0x0000_0001, s.getInt(s.readerIndex() + 8), "Ethernet header copied");
                }
            }
            assertEquals(data.length, at);
            assertArrayEquals(data, joined);
        } finally {
            out.forEach(ByteBuf::release);
        }
    }

    @Test
    void segmentThatFitsIsPassedOnWithItsChecksumCompleted() {
        ByteBuf small = largeSegment(false, false, false, payload(1000, 2), Tcp.ACK);
        List<ByteBuf> out = new ArrayList<>();
        assertEquals(1, GsoSegmenter.segment(small, false, VirtioNetHeader.GSO_TCPV4, 1448, ALLOC, out::add));
        try {
            assertSame(small, out.get(0));
            assertTrue(Tcp.checkInPacket(small, 0) > 0);
        } finally {
            out.forEach(ByteBuf::release);
        }
    }

    @Test
    void inconsistentPacketsAreMalformedAndReleased() {
        // IPv4 total length disagrees with the buffer
        ByteBuf b = largeSegment(false, false, false, payload(5000, 3), Tcp.ACK);
        b.writeZero(10);
        assertMalformed(b, VirtioNetHeader.GSO_TCPV4);
        // the type says IPv6, the packet is IPv4
        assertMalformed(largeSegment(false, false, false, payload(5000, 4), Tcp.ACK), VirtioNetHeader.GSO_TCPV6);
        // not TCP
        ByteBuf udp = largeSegment(false, false, false, payload(5000, 5), Tcp.ACK);
        udp.setByte(9, IpProtocol.UDP);
        assertMalformed(udp, VirtioNetHeader.GSO_TCPV4);
        // TCP data offset beyond the packet
        ByteBuf off = largeSegment(false, false, false, payload(10, 6), Tcp.ACK);
        off.setByte(20 + 12, 0xF0);
        off.writerIndex(20 + 40);
        off.setShort(2, 60);
        assertMalformed(off, VirtioNetHeader.GSO_TCPV4);
        // a frame that is not IP
        ByteBuf arp = largeSegment(false, true, false, payload(100, 7), Tcp.ACK);
        arp.setShort(12, 0x0806);
        List<ByteBuf> out = new ArrayList<>();
        assertEquals(GsoSegmenter.MALFORMED, GsoSegmenter.segment(arp, true, VirtioNetHeader.GSO_TCPV4, 100,
                ALLOC, out::add));
        assertEquals(0, arp.refCnt());
        // truncated to less than a header
        ByteBuf tiny = ALLOC.directBuffer(8).writeZero(8);
        assertMalformed(tiny, VirtioNetHeader.GSO_TCPV4);
        // zero gso size
        ByteBuf zero = largeSegment(false, false, false, payload(5000, 8), Tcp.ACK);
        assertEquals(GsoSegmenter.MALFORMED, GsoSegmenter.segment(zero, false, VirtioNetHeader.GSO_TCPV4, 0,
                ALLOC, out::add));
        assertTrue(out.isEmpty());
    }

    private static void assertMalformed(ByteBuf b, int type) {
        List<ByteBuf> out = new ArrayList<>();
        assertEquals(GsoSegmenter.MALFORMED, GsoSegmenter.segment(b, false, type, 1000, ALLOC, out::add));
        assertTrue(out.isEmpty());
        assertEquals(0, b.refCnt());
    }

    @Test
    void udpSegmentationIsUnsupportedAndReleased() {
        ByteBuf b = largeSegment(false, false, false, payload(5000, 9), Tcp.ACK);
        List<ByteBuf> out = new ArrayList<>();
        assertEquals(GsoSegmenter.UNSUPPORTED, GsoSegmenter.segment(b, false, VirtioNetHeader.GSO_UDP_L4, 1000,
                ALLOC, out::add));
        assertEquals(GsoSegmenter.UNSUPPORTED, GsoSegmenter.segment(ALLOC.directBuffer(1).writeZero(1), false,
                VirtioNetHeader.GSO_UDP, 1000, ALLOC, out::add));
        assertEquals(0, b.refCnt());
        assertTrue(out.isEmpty());
    }

    @Test
    void completesPartialTcpAndUdpChecksums() {
        ByteBuf tcp = largeSegment(true, false, false, payload(900, 10), Tcp.ACK);
        assertTrue(Tcp.checkInPacket(tcp, 0) < 0, "partial checksum must not verify yet");
        assertTrue(GsoSegmenter.completeChecksum(tcp, 40, 16));
        assertTrue(Tcp.checkInPacket(tcp, 0) > 0);
        tcp.release();

        ByteBuf udp = ALLOC.directBuffer(100);
        int len = 8 + 30;
        Ipv4.writeHeader(udp, TestSegments.SRC4, TestSegments.DST4, IpProtocol.UDP, 64, len, 1, true);
        udp.writeShort(1000).writeShort(2000).writeShort(len).writeShort(0);
        udp.writeBytes(payload(30, 11));
        udp.setShort(20 + 6, Checksums.fold(Checksums.pseudoHeaderV4(TestSegments.SRC4, TestSegments.DST4,
                IpProtocol.UDP, len)));
        assertTrue(GsoSegmenter.completeChecksum(udp, 20, 6));
        assertTrue(Udp.checkInPacket(udp, 0) >= 0, "UDP checksum verifies");
        udp.release();
    }

    @Test
    void checksumOffsetsOutsideThePacketChangeNothing() {
        ByteBuf b = largeSegment(false, false, false, payload(100, 12), Tcp.ACK);
        ByteBuf before = b.copy();
        assertFalse(GsoSegmenter.completeChecksum(b, 20, b.readableBytes()));
        assertFalse(GsoSegmenter.completeChecksum(b, -1, 16));
        assertFalse(GsoSegmenter.completeChecksum(b, b.readableBytes() - 1, 0));
        assertEquals(before, b);
        before.release();
        b.release();
    }

    @ParameterizedTest
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void largeSegmentBecomesAValidOversizedPacket(boolean v6, boolean ethernet) {
        ByteBuf b = largeSegment(v6, ethernet, false, payload(40_000, 13), Tcp.ACK);
        int type = v6 ? VirtioNetHeader.GSO_TCPV6 : VirtioNetHeader.GSO_TCPV4;
        assertTrue(GsoSegmenter.checksumLarge(b, ethernet, type));
        assertTrue(Tcp.checkInPacket(b, ethernet ? 14 : 0) > 0);
        assertFalse(GsoSegmenter.checksumLarge(b, ethernet, VirtioNetHeader.GSO_UDP_L4));
        assertFalse(GsoSegmenter.checksumLarge(b, ethernet, v6 ? VirtioNetHeader.GSO_TCPV4
                : VirtioNetHeader.GSO_TCPV6));
        b.release();
    }
}

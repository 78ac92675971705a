package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static dev.pktkit.codec.wire.WireTestBuffers.hex;
import static dev.pktkit.codec.wire.WireTestBuffers.toHex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UdpTest {
    static final int SRC = Ip4.parse("10.0.0.1");
    static final int DST = Ip4.parse("10.0.0.2");

    /**
     * 10.0.0.1:1234 -> 10.0.0.2:80, payload "hi". Checksum by hand: pseudo-header 0a00+0001+0a00+0002+0011+000a
     * = 0x141e; UDP words 04d2+0050+000a+0000+6869 = 0x6d95; sum 0x81b3, complement 0x7e4c.
     */
    static final String HI = """
            04d2   # source port 1234
            0050   # destination port 80
            000a   # length 10
            7e4c   # checksum
            6869   # "hi"
            """;

    @Test
    void handBuiltDatagramFields() {
        WireTestBuffers.forEachKind(hex(HI), b -> {
            int off = b.readerIndex();
            assertEquals(1234, Udp.srcPort(b, off));
            assertEquals(80, Udp.dstPort(b, off));
            assertEquals(10, Udp.length(b, off));
            assertEquals(0x7e4c, Udp.checksum(b, off));
            assertEquals(off + 8, Udp.payloadOffset(b, off));
            assertEquals(2, Udp.payloadLength(b, off));
            assertEquals(10, Udp.check(b, off, 10));
            assertEquals(10, Udp.checkV4(b, off, 10, SRC, DST));
            assertTrue(Udp.verifyChecksumV4(b, off, 10, SRC, DST));
            assertEquals(0x7e4c, Udp.computeChecksumV4(b, off, 10, SRC, DST));
            assertEquals(WireError.BAD_CHECKSUM, Udp.checkV4(b, off, 10, SRC, DST + 1));
        });
    }

    @Test
    void builderWritesHandCheckedBytes() {
        ByteBuf payload = Unpooled.wrappedBuffer("hi".getBytes(StandardCharsets.US_ASCII));
        ByteBuf out = Unpooled.buffer();
        try {
            out.writeByte(0x99); // something before: the builder appends, offsets are absolute
            assertEquals(10, Udp.writeDatagramV4(out, SRC, DST, 1234, 80, payload, 0, 2));
            assertEquals(WireTestBuffers.toHex(hex(HI)), toHex(out, 1, 10));
            assertEquals(0, payload.readerIndex());
            UdpRepr r = new UdpRepr(1234, 80, "hi".getBytes(StandardCharsets.US_ASCII));
            ByteBuf again = Unpooled.buffer();
            try {
                r.emitV4(again, SRC, DST);
                assertEquals(WireTestBuffers.toHex(hex(HI)), toHex(again));
                assertEquals(10, r.emittedLength());
            } finally {
                again.release();
            }
        } finally {
            payload.release();
            out.release();
        }
    }

    @Test
    void computedZeroIsSentAsAllOnes() {
        // payload e6b5 makes the one's-complement sum 0xFFFF: 0x141e + 04d2+0050+000a + 0xe6b5 = 0xffff
        String zeroSum = """
                04d2 0050 000a 0000   # ports 1234 -> 80, length 10, checksum to fill
                e6b5                  # payload chosen so that the computed checksum is 0
                """;
        ByteBuf b = Unpooled.wrappedBuffer(hex(zeroSum));
        try {
            assertEquals(0xFFFF, Udp.computeChecksumV4(b, 0, 10, SRC, DST));
            assertEquals(0xFFFF, Udp.fillChecksumV4(b, 0, 10, SRC, DST));
            assertEquals(0xFFFF, Udp.checksum(b, 0));
            assertEquals(10, Udp.checkV4(b, 0, 10, SRC, DST));
        } finally {
            b.release();
        }
    }

    @Test
    void zeroChecksumMeansNoneOverIpv4ButIsInvalidOverIpv6() {
        byte[] d = hex(HI);
        d[6] = 0;
        d[7] = 0;
        ByteBuf b = Unpooled.wrappedBuffer(d);
        try {
            assertEquals(10, Udp.checkV4(b, 0, 10, SRC, DST));
            assertTrue(Udp.verifyChecksumV4(b, 0, 10, SRC, DST));
            assertEquals(WireError.BAD_CHECKSUM, Udp.checkV6(b, 0, 10, 1, 2, 3, 4));
            assertFalse(Udp.verifyChecksumV6(b, 0, 10, 1, 2, 3, 4));
        } finally {
            b.release();
        }
    }

    @Test
    void capturedDhcpDiscoverOverIpv4() {
        byte[] ip = WireTestBuffers.frame(TransportCaptures.DHCP_DISCOVER, 14);
        WireTestBuffers.forEachKind(ip, b -> {
            int off = b.readerIndex();
            int udp = off + 20;
            assertEquals(308, Udp.checkInPacket(b, off)); // 8 + 300 bytes of BOOTP
            assertEquals(68, Udp.srcPort(b, udp));
            assertEquals(67, Udp.dstPort(b, udp));
            assertEquals(308, Udp.length(b, udp));
            assertEquals(0x4def, Udp.checksum(b, udp));
            assertEquals(0x4def, Udp.computeChecksumV4(b, udp, 308, 0, 0xFFFFFFFF));
            assertEquals(308, Udp.checkV4(b, udp, 308, Ip4.ANY, Ip4.BROADCAST));
        });
        // the repr re-emits the captured bytes exactly
        ByteBuf b = Unpooled.wrappedBuffer(ip);
        ByteBuf out = Unpooled.buffer();
        try {
            UdpRepr r = UdpRepr.parseV4(b, 20, 308, Ip4.ANY, Ip4.BROADCAST);
            assertNotNull(r);
            assertEquals(300, r.payload().length);
            r.emitV4(out, Ip4.ANY, Ip4.BROADCAST);
            assertEquals(toHex(b, 20, 308), toHex(out));
        } finally {
            b.release();
            out.release();
        }
    }

    @Test
    void capturedDatagramOverIpv6() {
        byte[] ip = WireTestBuffers.frame(TransportCaptures.UDP6_DATAGRAM, 14);
        String udpHex = """
                a261        # source port 41569
                2377        # destination port 9079
                0010        # length 16
                f9e2        # checksum
                75647036 2d77320a   # "udp6-w2" and a newline
                """;
        assertEquals(WireTestBuffers.toHex(hex(udpHex)), WireTestBuffers.toHex(ip).substring(80));
        WireTestBuffers.forEachKind(ip, b -> {
            int off = b.readerIndex();
            int udp = off + 40;
            assertEquals(16, Udp.checkInPacket(b, off));
            long sh = Ipv6.srcHi(b, off);
            long sl = Ipv6.srcLo(b, off);
            long dh = Ipv6.dstHi(b, off);
            long dl = Ipv6.dstLo(b, off);
            assertEquals(16, Udp.checkV6(b, udp, 16, sh, sl, dh, dl));
            assertTrue(Udp.verifyChecksumV6(b, udp, 16, sh, sl, dh, dl));
            assertEquals(0xf9e2, Udp.computeChecksumV6(b, udp, 16, sh, sl, dh, dl));
            assertEquals(WireError.BAD_CHECKSUM, Udp.checkV6(b, udp, 16, sh, sl, dh, dl + 1));
            UdpRepr r = UdpRepr.parseV6(b, udp, 16, sh, sl, dh, dl);
            assertNotNull(r);
            assertEquals("udp6-w2\n", new String(r.payload(), StandardCharsets.US_ASCII));
            ByteBuf out = Unpooled.buffer();
            try {
                r.emitV6(out, sh, sl, dh, dl);
                assertEquals(toHex(b, udp, 16), toHex(out));
            } finally {
                out.release();
            }
        });
    }

    @Test
    void truncatedAtEveryLength() {
        byte[] d = hex(HI);
        WireTestBuffers.forEachTruncation(d, (b, len) -> {
            int off = b.readerIndex();
            assertEquals(WireError.TRUNCATED, Udp.check(b, off, d.length));
            assertEquals(len < 8 ? WireError.TRUNCATED : WireError.BAD_TOTAL_LENGTH, Udp.check(b, off, len));
            assertEquals(WireError.TRUNCATED, Udp.checkV4(b, off, d.length, SRC, DST));
            assertEquals(WireError.TRUNCATED, Udp.checkV6(b, off, d.length, 0, 0, 0, 0));
            assertFalse(Udp.verifyChecksumV4(b, off, d.length, SRC, DST));
            assertEquals(-1, Udp.computeChecksumV4(b, off, d.length, SRC, DST));
            assertEquals(-1, Udp.fillChecksumV4(b, off, d.length, SRC, DST));
            if (len < 8) {
                assertEquals(-1, Udp.srcPort(b, off));
                assertEquals(-1, Udp.dstPort(b, off));
                assertEquals(-1, Udp.length(b, off));
                assertEquals(-1, Udp.checksum(b, off));
                assertEquals(-1, Udp.payloadOffset(b, off));
                assertEquals(-1, Udp.payloadLength(b, off));
            } else {
                assertEquals(2, Udp.payloadLength(b, off));
            }
            assertNull(UdpRepr.parse(b, off, d.length));
        });
    }

    @Test
    void badLengthFields() {
        byte[] d = hex(HI);
        ByteBuf b = Unpooled.wrappedBuffer(d);
        try {
            b.setShort(4, 7); // below the header
            assertEquals(WireError.BAD_TOTAL_LENGTH, Udp.check(b, 0, 10));
            assertEquals(-1, Udp.payloadLength(b, 0));
            b.setShort(4, 11); // more than the IP layer carries
            assertEquals(WireError.BAD_TOTAL_LENGTH, Udp.check(b, 0, 10));
            assertNull(UdpRepr.parse(b, 0, 10));
            b.setShort(4, 10);
            assertEquals(WireError.TRUNCATED, Udp.check(b, 0, 7));
            assertEquals(WireError.TRUNCATED, Udp.check(b, -1, 10));
            assertEquals(WireError.TRUNCATED, Udp.check(b, 0, -5));
            assertEquals(WireError.TRUNCATED, Udp.check(b, Integer.MAX_VALUE, 10));
            // a UDP length smaller than the IP payload is fine: the rest is ignored
            b.setShort(4, 9);
            assertEquals(9, Udp.check(b, 0, 10));
            UdpRepr r = UdpRepr.parse(b, 0, 10);
            assertNotNull(r);
            assertArrayEquals(new byte[] {0x68}, r.payload());
        } finally {
            b.release();
        }
    }

    @Test
    void badChecksumEveryByte() {
        byte[] d = hex(HI);
        for (int i = 0; i < d.length; i++) {
            if (i == 4 || i == 5) {
                continue; // the length field: that is a length error
            }
            byte[] c = d.clone();
            c[i] ^= 0x10;
            ByteBuf b = Unpooled.wrappedBuffer(c);
            try {
                assertEquals(WireError.BAD_CHECKSUM, Udp.checkV4(b, 0, 10, SRC, DST), "byte " + i);
                assertNull(UdpRepr.parseV4(b, 0, 10, SRC, DST));
            } finally {
                b.release();
            }
        }
    }

    @Test
    void checkInPacketRejectsOtherProtocolsFragmentsAndVersions() {
        byte[] ip = WireTestBuffers.frame(TransportCaptures.DHCP_DISCOVER, 14);
        ByteBuf b = Unpooled.wrappedBuffer(ip.clone());
        try {
            b.setByte(9, IpProtocol.TCP);
            Ipv4.fillChecksum(b, 0);
            assertEquals(WireError.BAD_TYPE, Udp.checkInPacket(b, 0));
            b.setByte(9, IpProtocol.UDP);
            b.setShort(6, Ipv4.FLAG_MF);
            Ipv4.fillChecksum(b, 0);
            assertEquals(WireError.BAD_TYPE, Udp.checkInPacket(b, 0));
            b.setShort(6, 0);
            b.setByte(0, 0x55);
            assertEquals(WireError.BAD_VERSION, Udp.checkInPacket(b, 0));
            assertEquals(WireError.TRUNCATED, Udp.checkInPacket(b, ip.length));
        } finally {
            b.release();
        }
    }

    @Test
    void portRewriteUpdatesChecksumLikeARecompute() {
        ByteBuf b = Unpooled.wrappedBuffer(hex(HI));
        try {
            Udp.rewriteSrcPort(b, 0, 40000);
            Udp.rewriteDstPort(b, 0, 53);
            assertEquals(40000, Udp.srcPort(b, 0));
            assertEquals(53, Udp.dstPort(b, 0));
            assertEquals(Udp.computeChecksumV4(b, 0, 10, SRC, DST), Udp.checksum(b, 0));
            int nat = Ip4.parse("192.0.2.7");
            Udp.updateChecksumForAddress(b, 0, SRC, nat);
            assertEquals(10, Udp.checkV4(b, 0, 10, nat, DST));
            // a zero checksum stays zero
            b.setShort(6, 0);
            Udp.rewriteSrcPort(b, 0, 1);
            Udp.updateChecksumForAddress(b, 0, nat, SRC);
            assertEquals(0, Udp.checksum(b, 0));
        } finally {
            b.release();
        }
    }

    @Test
    void writeHeaderRejectsOutOfRangeValues() {
        ByteBuf out = Unpooled.buffer();
        try {
            assertThrows(IllegalArgumentException.class, () -> Udp.writeHeader(out, 70000, 1, 0));
            assertThrows(IllegalArgumentException.class, () -> Udp.writeHeader(out, 1, 1, 65528));
            assertEquals(8, Udp.writeHeader(out, 1, 2, 65527));
            assertEquals("00010002ffff0000", toHex(out));
            assertThrows(IllegalArgumentException.class, () -> new UdpRepr(-1, 0, null));
        } finally {
            out.release();
        }
    }

    @Test
    void reprEqualityAndZeroChecksumEmit() {
        UdpRepr a = new UdpRepr(1, 2, new byte[] {1, 2, 3});
        assertEquals(a, new UdpRepr(1, 2, new byte[] {1, 2, 3}));
        assertFalse(a.equals(new UdpRepr(1, 2, new byte[] {1, 2, 4})));
        ByteBuf out = Unpooled.buffer();
        try {
            a.emit(out);
            assertEquals("00010002000b0000010203", toHex(out));
            assertEquals(a, UdpRepr.parseV4(out, 0, 11, SRC, DST)); // zero checksum accepted over IPv4
        } finally {
            out.release();
        }
    }
}

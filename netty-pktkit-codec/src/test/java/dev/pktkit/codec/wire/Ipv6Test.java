package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static dev.pktkit.codec.wire.WireTestBuffers.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv6Test {
    static final long FD77 = 0xfd77_0000_0000_0000L;

    static byte[] ip(String capture) {
        return WireTestBuffers.frame(capture, 14);
    }

    @Test
    void capturedMldReportWithHopByHopHeader() {
        byte[] pkt = ip(Captures.MLD_REPORT_HBH);
        // fixed header 60000000 0038 00 01: payload 56, next header 0 (hop-by-hop), hop limit 1
        // hop-by-hop: 3a 00 | 05 02 0000 (Router Alert, MLD) | 01 00 (PadN 0): next header 58, 8 bytes
        assertEquals("3a000502000001" + "00", WireTestBuffers.toHex(pkt).substring(80, 96));
        WireTestBuffers.forEachKind(pkt, b -> {
            int off = b.readerIndex();
            assertEquals(48, Ipv6.check(b, off));
            assertEquals(6, Ipv6.version(b, off));
            assertEquals(0, Ipv6.trafficClass(b, off));
            assertEquals(0, Ipv6.flowLabel(b, off));
            assertEquals(56, Ipv6.payloadLength(b, off));
            assertEquals(IpProtocol.HOPOPT, Ipv6.nextHeader(b, off));
            assertEquals(1, Ipv6.hopLimit(b, off));
            assertEquals(Ip6.parseHi("fe80::ff:fe00:a01"), Ipv6.srcHi(b, off));
            assertEquals(Ip6.parseLo("fe80::ff:fe00:a01"), Ipv6.srcLo(b, off));
            assertEquals(Ip6.parseHi("ff02::16"), Ipv6.dstHi(b, off));
            assertEquals(0x16L, Ipv6.dstLo(b, off));
            assertEquals(IpProtocol.ICMPV6, Ipv6.upperLayerProtocol(b, off));
            assertEquals(off + 48, Ipv6.upperLayerOffset(b, off));
            assertEquals(48, Ipv6.upperLayerLength(b, off));
            assertEquals(-1, Ipv6.fragmentHeaderOffset(b, off));
            assertFalse(Ipv6.isFragment(b, off));
        });
    }

    @Test
    void capturedFragments() {
        byte[] first = ip(Captures.IPV6_FRAGMENT_FIRST);
        WireTestBuffers.forEachKind(first, b -> {
            int off = b.readerIndex();
            assertEquals(48, Ipv6.check(b, off));
            assertEquals(IpProtocol.IPV6_FRAG, Ipv6.nextHeader(b, off));
            int f = Ipv6.fragmentHeaderOffset(b, off);
            assertEquals(off + 40, f);
            assertEquals(IpProtocol.ICMPV6, Ipv6.fragmentNextHeader(b, f));
            assertEquals(0, Ipv6.fragmentOffset(b, f));
            assertTrue(Ipv6.moreFragments(b, f));
            assertEquals(0x9491f3baL, Ipv6.fragmentIdentification(b, f));
            assertEquals(IpProtocol.ICMPV6, Ipv6.upperLayerProtocol(b, off));
            assertEquals(1448, Ipv6.upperLayerLength(b, off));
        });
        byte[] last = ip(Captures.IPV6_FRAGMENT_LAST);
        WireTestBuffers.forEachKind(last, b -> {
            int off = b.readerIndex();
            int f = Ipv6.fragmentHeaderOffset(b, off);
            assertEquals(off + 40, f);
            assertEquals(1448, Ipv6.fragmentOffset(b, f)); // 05a8 & fff8
            assertFalse(Ipv6.moreFragments(b, f));
            assertEquals(0x9491f3baL, Ipv6.fragmentIdentification(b, f));
            assertEquals(off + 48, Ipv6.upperLayerOffset(b, off));
        });
    }

    @Test
    void everyCapturedIpv6PacketValidates() {
        for (String c : new String[]{Captures.NDP_RS, Captures.NDP_NS, Captures.NDP_NA, Captures.NDP_RA,
                Captures.NDP_NS_DAD, Captures.ICMP6_ECHO_REQUEST, Captures.ICMP6_ECHO_REPLY,
                Captures.ICMP6_ECHO_HOPLIMIT1, Captures.ICMP6_TIME_EXCEEDED, Captures.UDP6_HELLO,
                Captures.ICMP6_PORT_UNREACHABLE, Captures.IPV6_FRAGMENT_LAST}) {
            ByteBuf b = Unpooled.wrappedBuffer(Captures.bytes(c));
            try {
                int ip = Ethernet.payloadOffset(b, 0);
                assertEquals(Ethernet.IPV6, Ethernet.innerEtherType(b, 0));
                assertTrue(Ipv6.check(b, ip) >= 40);
                assertEquals(b.writerIndex(), ip + 40 + Ipv6.payloadLength(b, ip));
            } finally {
                b.release();
            }
        }
    }

    /** A packet with the given extension header bytes between the fixed header and an 8-byte UDP header. */
    static ByteBuf packet(int firstNext, String extHex, int udpLengthField) {
        byte[] ext = hex(extHex);
        ByteBuf b = Unpooled.buffer();
        Ipv6.writeHeader(b, 0, 0, ext.length + 8, firstNext, 64, FD77, 1, FD77, 2);
        b.writeBytes(ext);
        b.writeShort(1000).writeShort(2000).writeShort(udpLengthField).writeShort(0);
        return b;
    }

    @Test
    void handBuiltChainOfEveryKind() {
        String chain = """
                3c 00 01 04 00000000                   # hop-by-hop: next 60, len 0 (8 bytes), PadN with 4 data
                2b 01 00 00 01 0a 00000000000000000000 # dest opts: next 43, len 1 (16): Pad1, Pad1, PadN with 10
                33 00 00 00 00000000                   # routing: next 51 (AH), len 0 (8 bytes), type 0, segs 0
                2c 02 0000 00000001 00000002 00000000  # AH: next 44, payload len 2 -> (2+2)*4 = 16 bytes
                11 00 0000 12345678                    # fragment: next 17 (UDP), offset 0, M=0, id 0x12345678
                """;
        ByteBuf b = packet(IpProtocol.HOPOPT, chain, 8);
        try {
            assertEquals(40 + 8 + 16 + 8 + 16 + 8, Ipv6.check(b, 0));
            assertEquals(IpProtocol.UDP, Ipv6.upperLayerProtocol(b, 0));
            assertEquals(96, Ipv6.upperLayerOffset(b, 0));
            assertEquals(8, Ipv6.upperLayerLength(b, 0));
            assertEquals(88, Ipv6.fragmentHeaderOffset(b, 0));
            assertEquals(0x12345678L, Ipv6.fragmentIdentification(b, 88));
        } finally {
            b.release();
        }
    }

    @Test
    void espAndNoNextHeaderEndTheWalk() {
        ByteBuf b = packet(IpProtocol.ESP, "", 8);
        try {
            assertEquals(40, Ipv6.check(b, 0));
            assertEquals(IpProtocol.ESP, Ipv6.upperLayerProtocol(b, 0));
        } finally {
            b.release();
        }
        b = packet(IpProtocol.IPV6_OPTS, "3b 00 01 04 00000000", 8);
        try {
            assertEquals(48, Ipv6.check(b, 0));
            assertEquals(IpProtocol.IPV6_NONXT, Ipv6.upperLayerProtocol(b, 0));
        } finally {
            b.release();
        }
    }

    @Test
    void laterFragmentStopsTheWalk() {
        // fragment at offset 8 whose next header says "destination options": the data after it must not be parsed
        ByteBuf b = packet(IpProtocol.IPV6_FRAG, "3c 00 0009 00000001", 8);
        try {
            b.setByte(48, 0xFF); // garbage that would be a huge extension header length
            assertEquals(48, Ipv6.check(b, 0));
            assertEquals(IpProtocol.IPV6_OPTS, Ipv6.upperLayerProtocol(b, 0));
            assertEquals(40, Ipv6.fragmentHeaderOffset(b, 0));
            assertEquals(8, Ipv6.fragmentOffset(b, 40));
            assertTrue(Ipv6.moreFragments(b, 40));
        } finally {
            b.release();
        }
    }

    @Test
    void tooManyHeadersAndLoops() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Ipv6.MAX_EXTENSION_HEADERS; i++) {
            sb.append("3c 00 01 04 00000000\n"); // destination options pointing at another destination options
        }
        // exactly the limit: the last one's next header (60) needs a ninth header -> too many
        ByteBuf b = packet(IpProtocol.IPV6_OPTS, sb.toString(), 8);
        try {
            assertEquals(WireError.TOO_MANY_HEADERS, Ipv6.check(b, 0));
            assertEquals(-1, Ipv6.upperLayerOffset(b, 0));
            assertEquals(-1, Ipv6.upperLayerProtocol(b, 0));
            assertEquals(-1, Ipv6.upperLayerLength(b, 0));
            assertNull(Ipv6Repr.parse(b, 0));
        } finally {
            b.release();
        }
        // limit - 1 options headers then UDP is fine
        String ok = sb.substring(0, sb.length() - "3c 00 01 04 00000000\n".length()) + "11 00 01 04 00000000\n";
        b = packet(IpProtocol.IPV6_OPTS, ok, 8);
        try {
            assertEquals(40 + 8 * Ipv6.MAX_EXTENSION_HEADERS, Ipv6.check(b, 0));
        } finally {
            b.release();
        }
        // a header whose next header points back at itself, in a buffer full of them, still ends
        ByteBuf loop = Unpooled.buffer();
        try {
            Ipv6.writeHeader(loop, 0, 0, 8 * 1000, IpProtocol.IPV6_ROUTE, 64, 0, 0, 0, 0);
            for (int i = 0; i < 1000; i++) {
                loop.writeBytes(hex("2b 00 00 00 00000000"));
            }
            assertEquals(WireError.TOO_MANY_HEADERS, Ipv6.check(loop, 0));
        } finally {
            loop.release();
        }
    }

    @Test
    void malformedChains() {
        Object[][] cases = {
                // hop-by-hop after another header
                {IpProtocol.IPV6_OPTS, "00 00 01 04 00000000  11 00 01 04 00000000", WireError.BAD_TYPE},
                // extension header length runs past the payload length (dest opts says 16 bytes, 8 + UDP 8 present:
                // exactly fits; so use len 2 = 24 bytes)
                {IpProtocol.IPV6_OPTS, "11 02 01 04 00000000", WireError.BAD_HEADER_LENGTH},
                // AH with a payload length past the end
                {IpProtocol.AH, "11 09 0000 00000001", WireError.BAD_HEADER_LENGTH},
                // options that do not tile: PadN of 5 in a 6-byte option area
                {IpProtocol.HOPOPT, "11 00 01 05 00000000", WireError.BAD_OPTION},
                // an option type with its length octet missing: 4 Pad1 then type 05 at the last byte
                {IpProtocol.IPV6_OPTS, "11 00 00 00 00 00 00 05", WireError.BAD_OPTION},
        };
        for (Object[] c : cases) {
            ByteBuf b = packet((Integer) c[0], (String) c[1], 8);
            try {
                assertEquals((int) (Integer) c[2], Ipv6.check(b, 0), (String) c[1]);
                assertEquals(-1, Ipv6.upperLayerOffset(b, 0));
            } finally {
                b.release();
            }
        }
        // payload length too short for even the first extension header
        ByteBuf b = packet(IpProtocol.IPV6_ROUTE, "11 00 00 00 00000000", 8);
        try {
            b.setShort(4, 4);
            assertEquals(WireError.BAD_HEADER_LENGTH, Ipv6.check(b, 0));
        } finally {
            b.release();
        }
    }

    @Test
    void badVersionAndPayloadLength() {
        byte[] pkt = ip(Captures.ICMP6_ECHO_REQUEST);
        for (int v : new int[]{0x40, 0x00, 0x70, 0xf0}) {
            ByteBuf b = Unpooled.buffer().writeBytes(pkt);
            try {
                b.setByte(0, v | (b.getByte(0) & 0x0F));
                assertEquals(WireError.BAD_VERSION, Ipv6.check(b, 0));
            } finally {
                b.release();
            }
        }
        ByteBuf b = Unpooled.buffer().writeBytes(pkt);
        try {
            b.setShort(4, 65);
            assertEquals(WireError.TRUNCATED, Ipv6.check(b, 0)); // says 65, holds 64
            b.setShort(4, 60);
            assertEquals(40, Ipv6.check(b, 0)); // 4 bytes of trailing padding are fine
            assertEquals(60, Ipv6.upperLayerLength(b, 0));
        } finally {
            b.release();
        }
    }

    @Test
    void truncatedAtEveryLength() {
        byte[] pkt = ip(Captures.MLD_REPORT_HBH);
        WireTestBuffers.forEachTruncation(pkt, (b, len) -> {
            int off = b.readerIndex();
            assertEquals(WireError.TRUNCATED, Ipv6.check(b, off), "len " + len);
            assertEquals(-1, Ipv6.upperLayerOffset(b, off));
            assertEquals(-1, Ipv6.upperLayerProtocol(b, off));
            assertEquals(-1, Ipv6.fragmentHeaderOffset(b, off));
            assertNull(Ipv6Repr.parse(b, off));
            if (len < 40) {
                assertEquals(-1, Ipv6.version(b, off));
                assertEquals(-1, Ipv6.payloadLength(b, off));
                assertEquals(-1, Ipv6.nextHeader(b, off));
                assertEquals(-1, Ipv6.hopLimit(b, off));
                assertEquals(-1, Ipv6.flowLabel(b, off));
                assertEquals(-1, Ipv6.trafficClass(b, off));
                assertEquals(0, Ipv6.srcHi(b, off));
                assertEquals(0, Ipv6.srcLo(b, off));
                assertEquals(0, Ipv6.dstHi(b, off));
                assertEquals(0, Ipv6.dstLo(b, off));
                assertEquals(-1, Ipv6.decrementHopLimit(b, off));
            }
        });
        WireTestBuffers.forEachTruncation(hex("2c 00 0001 00000001"), (b, len) -> {
            assertEquals(-1, Ipv6.fragmentOffset(b, b.readerIndex()));
            assertEquals(-1, Ipv6.fragmentIdentification(b, b.readerIndex()));
            assertEquals(-1, Ipv6.fragmentNextHeader(b, b.readerIndex()));
            assertFalse(Ipv6.moreFragments(b, b.readerIndex()));
        });
    }

    @Test
    void builderAndReprMatchCapturedHeader() {
        byte[] pkt = ip(Captures.ICMP6_ECHO_REQUEST);
        ByteBuf b = Unpooled.wrappedBuffer(pkt);
        ByteBuf out = Unpooled.buffer();
        try {
            Ipv6Repr r = Ipv6Repr.parse(b, 0);
            // 6002e0f9: tc 0x00, flow label 0x2e0f9; payload 64, next 58, hop limit 64
            assertEquals(new Ipv6Repr(0, 0x2e0f9, 64, 58, 64, FD77, 1, FD77, 2), r);
            r.emit(out);
            assertEquals(r.emittedLength(), out.readableBytes());
            assertEquals(WireTestBuffers.toHex(b, 0, 40), WireTestBuffers.toHex(out));
            out.clear();
            Ipv6.writeHeader(out, 0xb8, 0xfffff, 0, IpProtocol.IPV6_NONXT, 255, 0, 0, 0, 0);
            assertEquals("6b8fffff" + "0000" + "3b" + "ff", WireTestBuffers.toHex(out, 0, 8));
            assertEquals(0xb8, Ipv6.trafficClass(out, 0));
            assertEquals(0xfffff, Ipv6.flowLabel(out, 0));
            assertThrows(IllegalArgumentException.class,
                    () -> Ipv6.writeHeader(out, 0, 0, 65536, 17, 64, 0, 0, 0, 0));
            out.clear();
            Ipv6.writeFragmentHeader(out, IpProtocol.UDP, 1448, true, 0xdeadbeefL);
            assertEquals("11" + "00" + "05a9" + "deadbeef", WireTestBuffers.toHex(out));
        } finally {
            b.release();
            out.release();
        }
    }

    @Test
    void hopLimitAndPseudoHeader() {
        ByteBuf b = Unpooled.buffer().writeBytes(ip(Captures.UDP6_HELLO));
        try {
            int ul = Ipv6.upperLayerOffset(b, 0);
            long ph = Ipv6.pseudoHeaderSum(b, 0, IpProtocol.UDP, Ipv6.upperLayerLength(b, 0));
            assertTrue(Checksums.verify(b, ul, Ipv6.upperLayerLength(b, 0), ph));
            assertEquals(63, Ipv6.decrementHopLimit(b, 0));
            b.setByte(7, 0);
            assertEquals(-1, Ipv6.decrementHopLimit(b, 0));
        } finally {
            b.release();
        }
    }
}

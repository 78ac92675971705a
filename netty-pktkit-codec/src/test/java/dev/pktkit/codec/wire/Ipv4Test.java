package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static dev.pktkit.codec.wire.WireTestBuffers.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv4Test {
    // Captures.ICMP4_ECHO_TTL1 IPv4 header, annotated, then 64 bytes of ICMP
    static final String ECHO_TTL1_HEADER = """
            45          # version 4, IHL 5
            00          # TOS
            0054        # total length 84
            aac9        # id
            4000        # DF, offset 0
            01          # TTL 1
            01          # protocol ICMP
            ba42        # header checksum
            0a4d0001    # src 10.77.0.1
            0a4e0002    # dst 10.78.0.2
            """;

    static byte[] ip(String capture) {
        return WireTestBuffers.frame(capture, 14);
    }

    @Test
    void capturedEchoWithTtl1() {
        byte[] pkt = ip(Captures.ICMP4_ECHO_TTL1);
        assertEquals(WireTestBuffers.toHex(hex(ECHO_TTL1_HEADER)), WireTestBuffers.toHex(pkt).substring(0, 40));
        WireTestBuffers.forEachKind(pkt, b -> {
            int off = b.readerIndex();
            assertEquals(20, Ipv4.check(b, off));
            assertEquals(4, Ipv4.version(b, off));
            assertEquals(20, Ipv4.headerLength(b, off));
            assertEquals(0, Ipv4.tos(b, off));
            assertEquals(0, Ipv4.dscp(b, off));
            assertEquals(0, Ipv4.ecn(b, off));
            assertEquals(84, Ipv4.totalLength(b, off));
            assertEquals(0xaac9, Ipv4.identification(b, off));
            assertTrue(Ipv4.dontFragment(b, off));
            assertFalse(Ipv4.moreFragments(b, off));
            assertEquals(0, Ipv4.fragmentOffset(b, off));
            assertFalse(Ipv4.isFragment(b, off));
            assertEquals(1, Ipv4.ttl(b, off));
            assertEquals(IpProtocol.ICMP, Ipv4.protocol(b, off));
            assertEquals(0xba42, Ipv4.headerChecksum(b, off));
            assertEquals(Ip4.parse("10.77.0.1"), Ipv4.src(b, off));
            assertEquals(Ip4.parse("10.78.0.2"), Ipv4.dst(b, off));
            assertEquals(off + 20, Ipv4.payloadOffset(b, off));
            assertEquals(64, Ipv4.payloadLength(b, off));
            assertTrue(Ipv4.verifyChecksum(b, off));
        });
    }

    @Test
    void capturedRecordRouteOptions() {
        // ping -R: IHL 15, NOP then Record Route (type 7, length 39, pointer 8 after the first hop was recorded)
        byte[] pkt = ip(Captures.ICMP4_ECHO_REQUEST_RR);
        WireTestBuffers.forEachKind(pkt, b -> {
            int off = b.readerIndex();
            assertEquals(60, Ipv4.check(b, off));
            assertEquals(off + 60, Ipv4.payloadOffset(b, off));
            assertEquals(0x7c - 60, Ipv4.payloadLength(b, off));
            assertEquals(off + 21, Ipv4.findOption(b, off, Ipv4.OPT_RECORD_ROUTE));
            assertEquals(off + 20, Ipv4.findOption(b, off, Ipv4.OPT_NOP));
            assertEquals(-1, Ipv4.findOption(b, off, Ipv4.OPT_ROUTER_ALERT));
            assertEquals(39, b.getUnsignedByte(off + 22));
        });
        byte[] reply = ip(Captures.ICMP4_ECHO_REPLY_RR);
        ByteBuf b = Unpooled.wrappedBuffer(reply);
        try {
            assertEquals(60, Ipv4.check(b, 0));
            Ipv4Repr r = Ipv4Repr.parse(b, 0);
            assertNotNull(r);
            assertEquals(40, r.options().length);
            ByteBuf out = Unpooled.buffer();
            try {
                r.emit(out);
                assertEquals(WireTestBuffers.toHex(b, 0, 60), WireTestBuffers.toHex(out));
            } finally {
                out.release();
            }
        } finally {
            b.release();
        }
    }

    @Test
    void capturedFragments() {
        byte[] first = ip(Captures.IPV4_FRAGMENT_FIRST);
        byte[] last = ip(Captures.IPV4_FRAGMENT_LAST);
        WireTestBuffers.forEachKind(first, b -> {
            int off = b.readerIndex();
            assertEquals(20, Ipv4.check(b, off));
            assertTrue(Ipv4.moreFragments(b, off));
            assertFalse(Ipv4.dontFragment(b, off));
            assertEquals(0, Ipv4.fragmentOffset(b, off));
            assertTrue(Ipv4.isFragment(b, off));
            assertEquals(1480, Ipv4.payloadLength(b, off));
        });
        WireTestBuffers.forEachKind(last, b -> {
            int off = b.readerIndex();
            assertEquals(20, Ipv4.check(b, off));
            assertFalse(Ipv4.moreFragments(b, off));
            assertEquals(1480, Ipv4.fragmentOffset(b, off)); // field 0x00b9 = 185 units of 8
            assertTrue(Ipv4.isFragment(b, off));
            assertEquals(2008 - 1480, Ipv4.payloadLength(b, off));
        });
    }

    @Test
    void everyCapturedIpv4PacketValidates() {
        for (String c : new String[]{Captures.ICMP4_ECHO_REQUEST, Captures.ICMP4_ECHO_REPLY,
                Captures.ICMP4_TIME_EXCEEDED, Captures.UDP4_HELLO, Captures.ICMP4_PORT_UNREACHABLE}) {
            ByteBuf b = Unpooled.wrappedBuffer(Captures.bytes(c));
            try {
                int ip = Ethernet.payloadOffset(b, 0);
                assertEquals(Ethernet.IPV4, Ethernet.innerEtherType(b, 0));
                assertEquals(20, Ipv4.check(b, ip));
                assertEquals(b.writerIndex(), ip + Ipv4.totalLength(b, ip));
            } finally {
                b.release();
            }
        }
    }

    @Test
    void truncatedAtEveryLength() {
        byte[] pkt = ip(Captures.ICMP4_ECHO_REQUEST_RR);
        WireTestBuffers.forEachTruncation(pkt, (b, len) -> {
            int off = b.readerIndex();
            assertEquals(WireError.TRUNCATED, Ipv4.check(b, off), "len " + len);
            assertNull(Ipv4Repr.parse(b, off));
            if (len < 20) {
                assertEquals(-1, Ipv4.version(b, off));
                assertEquals(-1, Ipv4.totalLength(b, off));
                assertEquals(-1, Ipv4.ttl(b, off));
                assertEquals(-1, Ipv4.protocol(b, off));
                assertEquals(0, Ipv4.src(b, off));
                assertEquals(0, Ipv4.dst(b, off));
                assertEquals(-1, Ipv4.payloadLength(b, off));
                assertFalse(Ipv4.dontFragment(b, off));
                assertEquals(-1, Ipv4.decrementTtl(b, off));
            }
            assertEquals(len >= 60 ? off + 60 : -1, Ipv4.payloadOffset(b, off), "len " + len);
            assertFalse(len < 60 && Ipv4.verifyChecksum(b, off));
            assertEquals(-1, len < 60 ? Ipv4.findOption(b, off, Ipv4.OPT_RECORD_ROUTE) : -1);
        });
    }

    static ByteBuf patched(byte[] pkt, int at, int value) {
        ByteBuf b = Unpooled.buffer().writeBytes(pkt);
        b.setByte(at, value);
        return b;
    }

    @Test
    void badFieldsAreRejected() {
        byte[] pkt = ip(Captures.ICMP4_ECHO_REQUEST);
        ByteBuf b = Unpooled.wrappedBuffer(pkt);
        try {
            assertEquals(20, Ipv4.check(b, 0));
        } finally {
            b.release();
        }
        Object[][] cases = {
                {0, 0x65, WireError.BAD_VERSION},       // version 6
                {0, 0x05, WireError.BAD_VERSION},       // version 0
                {0, 0x44, WireError.BAD_HEADER_LENGTH}, // IHL 4
                {0, 0x40, WireError.BAD_HEADER_LENGTH}, // IHL 0
                {0, 0x46, WireError.BAD_OPTION},        // IHL 6: four payload bytes read as options: 08 00 ..
                {0, 0x4f, WireError.TRUNCATED},         // IHL 15 > total length 84? no: 60 <= 84, options = ICMP data
                {3, 0x13, WireError.BAD_TOTAL_LENGTH},  // total length 19 < 20
                {3, 0x55, WireError.TRUNCATED},         // total length 85 > 84 bytes present
                {2, 0x01, WireError.TRUNCATED},         // total length 340
                {11, 0x45, WireError.BAD_CHECKSUM},
                {8, 0x3f, WireError.BAD_CHECKSUM},      // TTL changed without checksum update
        };
        for (Object[] c : cases) {
            ByteBuf p = patched(pkt, (Integer) c[0], (Integer) c[1]);
            try {
                int got = Ipv4.check(p, 0);
                if ((Integer) c[0] == 0 && (Integer) c[1] == 0x4f) {
                    // IHL 15 turns ICMP bytes into options; whatever they are, the answer must be an error
                    assertTrue(got < 0, "IHL 15");
                    continue;
                }
                assertEquals((int) (Integer) c[2], got, "patch " + c[0] + "=" + c[1]);
                assertNull(Ipv4Repr.parse(p, 0));
            } finally {
                p.release();
            }
        }
        // the checksum can be skipped
        ByteBuf p = patched(pkt, 11, 0x45);
        try {
            assertEquals(20, Ipv4.check(p, 0, false));
        } finally {
            p.release();
        }
    }

    @Test
    void malformedOptions() {
        String[][] cases = {
                {"07 00 00 00", "length 0"},
                {"07 01 00 00", "length 1"},
                {"01 01 01 07", "type with no length octet"},
                {"07 05 04 00", "length runs past the header"},
                {"01 83 08 04 00", "source route length past end"},
        };
        for (String[] c : cases) {
            byte[] opts = hex(c[0]);
            int hl = 20 + ((opts.length + 3) & ~3);
            ByteBuf b = Unpooled.buffer();
            try {
                b.writeByte(0x40 | hl / 4).writeByte(0).writeShort(hl).writeShort(1).writeShort(0)
                        .writeByte(64).writeByte(17).writeShort(0).writeInt(1).writeInt(2).writeBytes(opts);
                b.writeZero(hl - b.writerIndex());
                Ipv4.fillChecksum(b, 0);
                assertEquals(WireError.BAD_OPTION, Ipv4.check(b, 0), c[1]);
                assertEquals(-1, Ipv4.findOption(b, 0, 7), c[1]);
            } finally {
                b.release();
            }
        }
        // well-formed: NOP, Router Alert (94 04 0000), EOL then garbage after EOL is ignored
        ByteBuf b = Unpooled.buffer();
        try {
            byte[] opts = hex("01 94 04 0000 00 ff ff");
            b.writeByte(0x47).writeByte(0).writeShort(28).writeShort(1).writeShort(0)
                    .writeByte(1).writeByte(2).writeShort(0).writeInt(1).writeInt(0xe0000016).writeBytes(opts);
            Ipv4.fillChecksum(b, 0);
            assertEquals(28, Ipv4.check(b, 0));
            assertEquals(1, Ipv4.findOption(b, 0, Ipv4.OPT_ROUTER_ALERT) - 20);
        } finally {
            b.release();
        }
    }

    @Test
    void paddingAfterTotalLengthIsAllowed() {
        byte[] pkt = ip(Captures.UDP4_HELLO); // 34 bytes: shorter than Ethernet's minimum payload
        ByteBuf b = Unpooled.buffer().writeBytes(pkt).writeZero(12);
        try {
            assertEquals(20, Ipv4.check(b, 0));
            assertEquals(14, Ipv4.payloadLength(b, 0));
        } finally {
            b.release();
        }
    }

    @Test
    void headerBuilderMatchesHandCheckedBytes() {
        ByteBuf out = Unpooled.buffer();
        try {
            out.writeByte(0xEE);
            assertEquals(20, Ipv4.writeHeader(out, Ip4.parse("10.77.0.1"), Ip4.parse("10.78.0.2"), IpProtocol.ICMP,
                    1, 64, 0xaac9, true));
            assertEquals("ee" + WireTestBuffers.toHex(hex(ECHO_TTL1_HEADER)), WireTestBuffers.toHex(out));
            assertThrows(IllegalArgumentException.class, () -> Ipv4.writeHeader(out, 1, 2, 6, 64, 65516, 0, false));
            // fragment fields and options through the repr
            out.clear();
            Ipv4Repr r = new Ipv4Repr(0xb8, 7, false, true, 1480, 64, IpProtocol.UDP, 1, 2, hex("94040000"), 100);
            r.emit(out);
            assertEquals(24, r.emittedLength());
            assertEquals("46b8" + "007c" + "0007" + "20b9" + "4011", WireTestBuffers.toHex(out, 0, 10));
            assertEquals(24, Ipv4.check(out.writeZero(100), 0));
            assertEquals(r, Ipv4Repr.parse(out, 0));
            assertEquals(46, Ipv4.dscp(out, 0));
            assertEquals(0, Ipv4.ecn(out, 0));
            assertThrows(IllegalArgumentException.class,
                    () -> new Ipv4Repr(0, 0, false, false, 3, 64, 6, 1, 2, null, 0));
            assertThrows(IllegalArgumentException.class,
                    () -> new Ipv4Repr(0, 0, false, false, 0, 64, 6, 1, 2, new byte[3], 0));
        } finally {
            out.release();
        }
    }

    @Test
    void inPlaceUpdatesKeepTheChecksumValid() {
        ByteBuf b = Unpooled.buffer().writeBytes(ip(Captures.ICMP4_ECHO_REQUEST));
        try {
            assertEquals(63, Ipv4.decrementTtl(b, 0));
            assertEquals(20, Ipv4.check(b, 0));
            Ipv4.rewriteSrc(b, 0, Ip4.parse("192.0.2.33"));
            Ipv4.rewriteDst(b, 0, Ip4.parse("203.0.113.250"));
            assertEquals(20, Ipv4.check(b, 0));
            assertEquals(Ip4.parse("192.0.2.33"), Ipv4.src(b, 0));
            for (int i = 63; i > 0; i--) {
                assertEquals(i - 1, Ipv4.decrementTtl(b, 0));
                assertEquals(20, Ipv4.check(b, 0));
            }
            assertEquals(-1, Ipv4.decrementTtl(b, 0)); // TTL 0 stays 0
            int stored = b.getUnsignedShort(10);
            assertEquals(stored, Ipv4.fillChecksum(b, 0));
        } finally {
            b.release();
        }
    }
}

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

class TcpTest {
    static final int CLIENT = Ip4.parse("10.79.0.2");
    static final int SERVER = Ip4.parse("10.79.0.1");

    /** TransportCaptures.TCP4_SYN from the TCP header on, annotated. */
    static final String SYN = """
            9bb0        # source port 39856
            1f8f        # destination port 8079
            c59eb7a5    # seq 3315513253
            00000000    # ack 0
            a0 02       # data offset 10 (40 bytes), flags SYN
            faf0        # window 64240
            1226        # checksum
            0000        # urgent pointer
            020405b4    # MSS 1460
            0402        # SACK permitted
            080a 8a97632a 00000000   # timestamps TSval 2325177130 TSecr 0
            01          # NOP
            03030a      # window scale 10
            """;

    /** TransportCaptures.TCP4_SYN_ACK's TCP header. */
    static final String SYN_ACK = """
            1f8f 9bb0   # 8079 -> 39856
            6b805acc    # seq 1803573964
            c59eb7a6    # ack 3315513254 (the SYN's seq + 1)
            a0 12       # data offset 40, SYN|ACK
            fe88        # window 65160
            2ef9        # checksum
            0000        # urgent pointer
            020405b4 0402 080a ee122b24 8a97632a 01 03030a   # MSS 1460, SACK-perm, TS 3994168100/2325177130, NOP, WS 10
            """;

    static byte[] ip(String capture) {
        return WireTestBuffers.frame(capture, 14);
    }

    @Test
    void capturedSyn() {
        byte[] pkt = ip(TransportCaptures.TCP4_SYN);
        assertEquals(WireTestBuffers.toHex(hex(SYN)), WireTestBuffers.toHex(pkt).substring(40));
        WireTestBuffers.forEachKind(pkt, b -> {
            int off = b.readerIndex();
            int t = off + 20;
            assertEquals(40, Tcp.checkInPacket(b, off));
            assertEquals(39856, Tcp.srcPort(b, t));
            assertEquals(8079, Tcp.dstPort(b, t));
            assertEquals(3315513253L, Tcp.seq(b, t));
            assertEquals(0, Tcp.ack(b, t));
            assertEquals(40, Tcp.dataOffset(b, t));
            assertEquals(Tcp.SYN, Tcp.flags(b, t));
            assertTrue(Tcp.hasFlags(b, t, Tcp.SYN));
            assertFalse(Tcp.hasFlags(b, t, Tcp.SYN | Tcp.ACK));
            assertEquals(64240, Tcp.window(b, t));
            assertEquals(0x1226, Tcp.checksum(b, t));
            assertEquals(0, Tcp.urgentPointer(b, t));
            assertEquals(t + 40, Tcp.payloadOffset(b, t));
            assertEquals(0, Tcp.payloadLength(b, t, 40));
            assertEquals(1, Tcp.sequenceLength(b, t, 40));
            assertEquals(40, Tcp.check(b, t, 40));
            assertEquals(40, Tcp.checkV4(b, t, 40, CLIENT, SERVER));
            assertTrue(Tcp.verifyChecksumV4(b, t, 40, CLIENT, SERVER));
            assertEquals(0x1226, Tcp.computeChecksumV4(b, t, 40, CLIENT, SERVER));
            assertEquals(WireError.BAD_CHECKSUM, Tcp.checkV4(b, t, 40, SERVER, CLIENT + 1));

            assertEquals(4, TcpOptions.check(b, t)); // MSS, SACK-perm, TS, WS (NOP not counted)
            assertEquals(t + 40, TcpOptions.optionsEnd(b, t));
            assertEquals(1460, TcpOptions.mss(b, t));
            assertTrue(TcpOptions.sackPermitted(b, t));
            assertEquals(2325177130L, TcpOptions.tsVal(b, t));
            assertEquals(0, TcpOptions.tsEcr(b, t));
            assertEquals(10, TcpOptions.windowScale(b, t));
            assertEquals(0, TcpOptions.sackBlockCount(b, t));
            assertEquals(-1, TcpOptions.sackLeft(b, t, 0));
            assertEquals(t + 20, TcpOptions.find(b, t, TcpOptions.KIND_MSS));
            assertEquals(t + 26, TcpOptions.find(b, t, TcpOptions.KIND_TIMESTAMPS));
            assertEquals(-1, TcpOptions.find(b, t, 99));
        });
    }

    @Test
    void optionWalkVisitsEveryOptionOfTheCapturedSyn() {
        ByteBuf b = Unpooled.wrappedBuffer(hex(SYN));
        try {
            StringBuilder seen = new StringBuilder();
            int end = TcpOptions.optionsEnd(b, 0);
            for (int p = 20; p < end; ) {
                int n = TcpOptions.length(b, p, end);
                assertTrue(n > 0);
                seen.append(TcpOptions.kind(b, p)).append(':').append(n).append(' ');
                p += n;
            }
            assertEquals("2:4 4:2 8:10 1:1 3:3 ", seen.toString());
            assertEquals(WireError.TRUNCATED, TcpOptions.length(b, 40, 40));
            assertEquals(WireError.TRUNCATED, TcpOptions.length(b, 20, 41));
            assertEquals(-1, TcpOptions.kind(b, 40));
        } finally {
            b.release();
        }
    }

    @Test
    void capturedSynAckAndReprEmitsLinuxBytes() {
        byte[] pkt = ip(TransportCaptures.TCP4_SYN_ACK);
        assertEquals(WireTestBuffers.toHex(hex(SYN_ACK)), WireTestBuffers.toHex(pkt).substring(40));
        ByteBuf b = Unpooled.wrappedBuffer(pkt);
        ByteBuf out = Unpooled.buffer();
        try {
            assertEquals(40, Tcp.checkInPacket(b, 0));
            TcpRepr r = TcpRepr.parseV4(b, 20, 40, SERVER, CLIENT);
            assertNotNull(r);
            assertEquals(new TcpRepr(8079, 39856, 1803573964L, 3315513254L, Tcp.SYN | Tcp.ACK, 65160, 0, 1460, 10,
                    true, null, 3994168100L, 2325177130L, null), r);
            r.emitV4(out, SERVER, CLIENT);
            assertEquals(toHex(b, 20, 40), toHex(out)); // same option layout, same checksum
            assertEquals(40, r.emittedLength());
        } finally {
            b.release();
            out.release();
        }
    }

    @Test
    void capturedDataAndFinSegments() {
        byte[] data = ip(TransportCaptures.TCP4_PSH_DATA);
        WireTestBuffers.forEachKind(data, b -> {
            int off = b.readerIndex();
            int t = off + 20;
            assertEquals(41, Tcp.checkInPacket(b, off)); // 32-byte header + "hello-w2\n"
            assertEquals(32, Tcp.dataOffset(b, t));
            assertEquals(Tcp.PSH | Tcp.ACK, Tcp.flags(b, t));
            assertEquals(3315513254L, Tcp.seq(b, t));
            assertEquals(1803573965L, Tcp.ack(b, t));
            assertEquals(63, Tcp.window(b, t));
            assertEquals(9, Tcp.payloadLength(b, t, 41));
            assertEquals(9, Tcp.sequenceLength(b, t, 41));
            assertEquals(1, TcpOptions.check(b, t)); // NOP NOP timestamps
            assertEquals(2325177131L, TcpOptions.tsVal(b, t));
            assertEquals(3994168100L, TcpOptions.tsEcr(b, t));
            assertEquals(-1, TcpOptions.mss(b, t));
            assertEquals(-1, TcpOptions.windowScale(b, t));
            assertFalse(TcpOptions.sackPermitted(b, t));
            TcpRepr r = TcpRepr.parseV4(b, t, 41, CLIENT, SERVER);
            assertNotNull(r);
            assertEquals("hello-w2\n", new String(r.payload(), StandardCharsets.US_ASCII));
            ByteBuf out = Unpooled.buffer();
            try {
                r.emitV4(out, CLIENT, SERVER);
                assertEquals(toHex(b, t, 41), toHex(out));
            } finally {
                out.release();
            }
        });
        byte[] fin = ip(TransportCaptures.TCP4_FIN);
        ByteBuf b = Unpooled.wrappedBuffer(fin);
        try {
            assertEquals(32, Tcp.checkInPacket(b, 0));
            assertEquals(Tcp.FIN | Tcp.ACK, Tcp.flags(b, 20));
            assertEquals(1, Tcp.sequenceLength(b, 20, 32));
        } finally {
            b.release();
        }
    }

    @Test
    void capturedIpv6SynAndReset() {
        byte[] syn = ip(TransportCaptures.TCP6_SYN);
        WireTestBuffers.forEachKind(syn, b -> {
            int off = b.readerIndex();
            int t = off + 40;
            assertEquals(40, Tcp.checkInPacket(b, off));
            assertEquals(37868, Tcp.srcPort(b, t));
            assertEquals(1440, TcpOptions.mss(b, t)); // IPv6: 1500 - 40 - 20
            assertEquals(0x8fe9, Tcp.computeChecksumV6(b, t, 40, Ipv6.srcHi(b, off), Ipv6.srcLo(b, off),
                    Ipv6.dstHi(b, off), Ipv6.dstLo(b, off)));
            assertEquals(40, Tcp.checkV6(b, t, 40, Ipv6.srcHi(b, off), Ipv6.srcLo(b, off), Ipv6.dstHi(b, off),
                    Ipv6.dstLo(b, off)));
            assertEquals(WireError.BAD_CHECKSUM, Tcp.checkV6(b, t, 40, Ipv6.srcHi(b, off), Ipv6.srcLo(b, off),
                    Ipv6.dstHi(b, off), Ipv6.dstLo(b, off) ^ 1));
        });
        String rst = """
                1f8f 93ec   # 8079 -> 37868
                00000000    # seq 0
                c04a4133    # ack 3226091827 (the SYN's seq + 1)
                50 14       # data offset 20, RST|ACK
                0000        # window 0
                ffe0        # checksum
                0000        # urgent pointer
                """;
        byte[] pkt = ip(TransportCaptures.TCP6_RST_ACK);
        assertEquals(WireTestBuffers.toHex(hex(rst)), WireTestBuffers.toHex(pkt).substring(80));
        ByteBuf b = Unpooled.wrappedBuffer(pkt);
        ByteBuf out = Unpooled.buffer();
        try {
            assertEquals(20, Tcp.checkInPacket(b, 0));
            assertEquals(Tcp.RST | Tcp.ACK, Tcp.flags(b, 40));
            assertEquals(0, TcpOptions.check(b, 40));
            TcpRepr r = TcpRepr.parseV6(b, 40, 20, Ipv6.srcHi(b, 0), Ipv6.srcLo(b, 0), Ipv6.dstHi(b, 0),
                    Ipv6.dstLo(b, 0));
            assertEquals(TcpRepr.of(8079, 37868, 0, 3226091827L, Tcp.RST | Tcp.ACK, 0), r);
            r.emitV6(out, Ipv6.srcHi(b, 0), Ipv6.srcLo(b, 0), Ipv6.dstHi(b, 0), Ipv6.dstLo(b, 0));
            assertEquals(toHex(b, 40, 20), toHex(out));
        } finally {
            b.release();
            out.release();
        }
    }

    @Test
    void truncatedAtEveryLength() {
        byte[] d = hex(SYN);
        WireTestBuffers.forEachTruncation(d, (b, len) -> {
            int off = b.readerIndex();
            assertEquals(WireError.TRUNCATED, Tcp.check(b, off, d.length));
            assertEquals(WireError.TRUNCATED, Tcp.checkV4(b, off, d.length, CLIENT, SERVER));
            assertEquals(len < 20 ? WireError.TRUNCATED : WireError.BAD_HEADER_LENGTH, Tcp.check(b, off, len));
            assertEquals(WireError.TRUNCATED, TcpOptions.check(b, off));
            assertEquals(-1, Tcp.payloadOffset(b, off));
            assertEquals(-1, TcpOptions.optionsEnd(b, off));
            assertEquals(-1, TcpOptions.mss(b, off));
            assertEquals(-1, TcpOptions.windowScale(b, off));
            assertEquals(-1, TcpOptions.tsVal(b, off));
            assertEquals(-1, TcpOptions.tsEcr(b, off));
            assertFalse(TcpOptions.sackPermitted(b, off));
            assertEquals(0, TcpOptions.sackBlockCount(b, off));
            assertEquals(-1, Tcp.computeChecksumV4(b, off, d.length, CLIENT, SERVER));
            assertFalse(Tcp.verifyChecksumV4(b, off, d.length, CLIENT, SERVER));
            assertNull(TcpRepr.parse(b, off, d.length));
            if (len < 20) {
                assertEquals(-1, Tcp.srcPort(b, off));
                assertEquals(-1, Tcp.dstPort(b, off));
                assertEquals(-1, Tcp.seq(b, off));
                assertEquals(-1, Tcp.ack(b, off));
                assertEquals(-1, Tcp.dataOffset(b, off));
                assertEquals(-1, Tcp.flags(b, off));
                assertFalse(Tcp.hasFlags(b, off, 0));
                assertEquals(-1, Tcp.window(b, off));
                assertEquals(-1, Tcp.checksum(b, off));
                assertEquals(-1, Tcp.urgentPointer(b, off));
                assertEquals(-1, Tcp.payloadLength(b, off, d.length));
                assertEquals(-1, Tcp.sequenceLength(b, off, d.length));
            } else {
                assertEquals(0xc59eb7a5L, Tcp.seq(b, off));
                assertEquals(40, Tcp.dataOffset(b, off));
            }
        });
    }

    @Test
    void badDataOffsets() {
        byte[] d = hex(SYN);
        for (int doff = 0; doff < 16; doff++) {
            byte[] c = d.clone();
            c[12] = (byte) (doff << 4);
            ByteBuf b = Unpooled.wrappedBuffer(c);
            try {
                int expected;
                if (doff < 5) {
                    expected = WireError.BAD_HEADER_LENGTH;
                } else if (doff > 10) {
                    expected = WireError.BAD_HEADER_LENGTH; // past the 40-byte segment
                } else {
                    expected = doff * 4; // a shorter header cuts the options at a boundary or inside one
                }
                int r = Tcp.check(b, 0, 40);
                if (doff >= 5 && doff <= 10) {
                    // 24: MSS; 28: MSS + SACK-perm + 2 bytes of timestamps -> malformed; 36: + TS, NOP -> fine
                    int[] ok = {20, 24, 36, 40};
                    boolean fine = false;
                    for (int o : ok) {
                        fine |= o == doff * 4;
                    }
                    assertEquals(fine ? expected : WireError.BAD_OPTION, r, "doff " + doff);
                } else {
                    assertEquals(expected, r, "doff " + doff);
                    assertEquals(-1, Tcp.payloadLength(b, 0, 40));
                    assertEquals(-1, TcpOptions.mss(b, 0));
                }
            } finally {
                b.release();
            }
        }
    }

    /** Each malformed option list (in a 40-byte header, padded with EOL) must give BAD_OPTION. */
    @Test
    void malformedOptions() {
        String[] bad = {
                "0200",                 // length 0
                "0201",                 // length 1
                "02",                   // kind without length at the end of the area (after 19 NOPs, see below)
                "020500000000",         // MSS with length 5
                "0302",                 // window scale with length 2
                "040300",               // SACK-permitted with length 3
                "0506000000000000",     // SACK with no whole block
                "050b0000000000000000000000", // SACK 2 + 9
                "052a" + "00".repeat(40),     // SACK of 5 blocks cannot fit
                "0809000000000000000000",     // timestamps with length 9
                "fe15" + "00".repeat(19),     // unknown kind running past the area
        };
        for (String opts : bad) {
            byte[] o = hex(opts);
            byte[] seg = new byte[40];
            System.arraycopy(hex(SYN), 0, seg, 0, 20);
            if (opts.equals("02")) {
                java.util.Arrays.fill(seg, 20, 39, (byte) 1);
                seg[39] = 2;
            } else {
                System.arraycopy(o, 0, seg, 20, Math.min(o.length, 20));
            }
            ByteBuf b = Unpooled.wrappedBuffer(seg);
            try {
                assertEquals(WireError.BAD_OPTION, TcpOptions.check(b, 0), opts);
                assertEquals(WireError.BAD_OPTION, Tcp.check(b, 0, 40), opts);
                assertEquals(-1, TcpOptions.mss(b, 0), opts);
                assertEquals(-1, TcpOptions.find(b, 0, TcpOptions.KIND_SACK), opts);
                assertEquals(0, TcpOptions.sackBlockCount(b, 0), opts);
                assertNull(TcpRepr.parse(b, 0, 40), opts);
            } finally {
                b.release();
            }
        }
    }

    @Test
    void unknownOptionsAreSkippedAndEolEndsTheList() {
        String opts = """
                fe04 abcd     # unknown kind 254, length 4 (experimental)
                01            # NOP
                0303 07       # window scale 7
                00            # EOL: the rest is padding, even if not zero
                0201 ffffffff ffffffff ff   # garbage after EOL is not parsed
                """;
        byte[] seg = new byte[40];
        System.arraycopy(hex(SYN), 0, seg, 0, 20);
        System.arraycopy(hex(opts), 0, seg, 20, 20);
        ByteBuf b = Unpooled.wrappedBuffer(seg);
        try {
            assertEquals(2, TcpOptions.check(b, 0));
            assertEquals(7, TcpOptions.windowScale(b, 0));
            assertEquals(20, TcpOptions.find(b, 0, 0xfe));
            assertEquals(-1, TcpOptions.mss(b, 0));
            assertEquals(40, Tcp.check(b, 0, 40));
            TcpRepr r = TcpRepr.parse(b, 0, 40);
            assertNotNull(r);
            assertEquals(7, r.windowScale());
            assertEquals(-1, r.mss());
        } finally {
            b.release();
        }
    }

    @Test
    void optionWritersAndSackBlocks() {
        ByteBuf out = Unpooled.buffer();
        try {
            TcpOptions.writeNop(out);
            TcpOptions.writeNop(out);
            TcpOptions.writeSack(out, 1000, 2000, 0xFFFFFFF0L, 16);
            TcpOptions.writeMss(out, 536);
            TcpOptions.writeWindowScale(out, 14);
            TcpOptions.writeSackPermitted(out);
            TcpOptions.writeTimestamps(out, 0x01020304L, 0xA0B0C0D0L);
            assertEquals(1, TcpOptions.writePadding(out, 0));
            String expected = """
                    01 01                          # NOP NOP
                    05 12                          # SACK, 2 blocks
                    000003e8 000007d0              # 1000-2000
                    fffffff0 00000010              # wrapping block 4294967280-16
                    02 04 0218                     # MSS 536
                    03 03 0e                       # window scale 14
                    04 02                          # SACK permitted
                    08 0a 01020304 a0b0c0d0        # timestamps
                    00                             # EOL padding to 40
                    """;
            assertEquals(WireTestBuffers.toHex(hex(expected)), toHex(out));
            assertEquals(40, out.readableBytes());

            ByteBuf seg = Unpooled.buffer();
            try {
                assertEquals(60, Tcp.writeHeader(seg, 1, 2, 3, 4, Tcp.ACK, 5, 0, out, 0, out.readableBytes()));
                assertEquals(0, out.readerIndex());
                assertEquals(60, Tcp.check(seg, 0, 60));
                assertEquals(2, TcpOptions.sackBlockCount(seg, 0));
                assertEquals(1000, TcpOptions.sackLeft(seg, 0, 0));
                assertEquals(2000, TcpOptions.sackRight(seg, 0, 0));
                assertEquals(0xFFFFFFF0L, TcpOptions.sackLeft(seg, 0, 1));
                assertEquals(16, TcpOptions.sackRight(seg, 0, 1));
                assertEquals(-1, TcpOptions.sackLeft(seg, 0, 2));
                assertEquals(-1, TcpOptions.sackRight(seg, 0, -1));
                assertEquals(536, TcpOptions.mss(seg, 0));
                assertEquals(14, TcpOptions.windowScale(seg, 0));
                assertEquals(0x01020304L, TcpOptions.tsVal(seg, 0));
                assertEquals(0xA0B0C0D0L, TcpOptions.tsEcr(seg, 0));
                TcpRepr r = TcpRepr.parse(seg, 0, 60);
                assertNotNull(r);
                assertArrayEquals(new long[] {1000, 2000, 0xFFFFFFF0L, 16}, r.sackBlocks());
            } finally {
                seg.release();
            }
            assertThrows(IllegalArgumentException.class, () -> TcpOptions.writeSack(out, 1, 2, 3));
            assertThrows(IllegalArgumentException.class, () -> TcpOptions.writeSackHeader(out, 5));
            assertThrows(IllegalArgumentException.class, () -> TcpOptions.writeMss(out, 65536));
            assertThrows(IllegalArgumentException.class, () -> TcpOptions.writeWindowScale(out, 256));
        } finally {
            out.release();
        }
    }

    @Test
    void writeHeaderPadsOptionsAndRejectsTooMany() {
        ByteBuf opts = Unpooled.wrappedBuffer(hex("020405b4 01 030307"));
        ByteBuf seg = Unpooled.buffer();
        try {
            assertEquals(28, Tcp.writeHeader(seg, 80, 443, 0xFFFFFFFFL, 1, Tcp.SYN, 1024, 0, opts, 0, 8));
            String expected = """
                    0050 01bb      # 80 -> 443
                    ffffffff       # seq 2^32-1
                    00000001       # ack 1
                    70 02          # data offset 7 (28 bytes), SYN
                    0400           # window 1024
                    0000 0000      # checksum (not yet), urgent
                    020405b4 01 030307   # MSS 1460, NOP, WS 7
                    """;
            assertEquals(WireTestBuffers.toHex(hex(expected)), toHex(seg));
            assertThrows(IllegalArgumentException.class,
                    () -> Tcp.writeHeader(seg, 1, 2, 0, 0, 0, 0, 0, opts, 0, 41));
            assertThrows(IllegalArgumentException.class,
                    () -> Tcp.writeHeader(seg, 1, 2, 0, 0, 0x200, 0, 0, null, 0, 0));
        } finally {
            opts.release();
            seg.release();
        }
    }

    @Test
    void reprPacksOptionsWhenTheAlignedLayoutDoesNotFit() {
        // timestamps + window scale + 3 SACK blocks: 12 + 4 + 28 = 44 aligned bytes, 10 + 3 + 26 = 39 packed
        TcpRepr r = new TcpRepr(1, 2, 3, 4, Tcp.ACK, 5, 0, -1, 7, false, new long[] {1, 2, 3, 4, 5, 6}, 9, 8,
                new byte[] {42});
        ByteBuf out = Unpooled.buffer();
        try {
            r.emitV4(out, CLIENT, SERVER);
            assertEquals(61, out.readableBytes());
            String options = """
                    08 0a 00000009 00000008       # timestamps 9/8, no NOPs
                    03 03 07                      # window scale 7
                    05 1a 00000001 00000002 00000003 00000004 00000005 00000006   # 3 SACK blocks
                    00                            # EOL padding
                    """;
            assertEquals(WireTestBuffers.toHex(hex(options)), toHex(out, 20, 40));
            assertEquals(r, TcpRepr.parseV4(out, 0, 61, CLIENT, SERVER));
        } finally {
            out.release();
        }
        assertThrows(IllegalArgumentException.class, () -> new TcpRepr(1, 2, 3, 4, 0, 5, 0, 1460, 7, true,
                new long[] {1, 2, 3, 4, 5, 6, 7, 8}, 9, 8, null));
        assertThrows(IllegalArgumentException.class,
                () -> new TcpRepr(1, 2, 3, 4, 0, 5, 0, -1, -1, false, null, 9, -1, null));
        assertThrows(IllegalArgumentException.class,
                () -> new TcpRepr(1, 2, 1L << 32, 4, 0, 5, 0, -1, -1, false, null, -1, -1, null));
    }

    @Test
    void portAndAddressRewritesMatchARecompute() {
        byte[] pkt = ip(TransportCaptures.TCP4_PSH_DATA);
        ByteBuf b = Unpooled.wrappedBuffer(pkt);
        try {
            Tcp.rewriteSrcPort(b, 20, 61000);
            Tcp.rewriteDstPort(b, 20, 80);
            assertEquals(Tcp.computeChecksumV4(b, 20, 41, CLIENT, SERVER), Tcp.checksum(b, 20));
            int nat = Ip4.parse("198.51.100.9");
            Tcp.updateChecksumForAddress(b, 20, CLIENT, nat);
            Ipv4.rewriteSrc(b, 0, nat);
            assertEquals(41, Tcp.checkInPacket(b, 0));
            assertEquals(Tcp.computeChecksumV4(b, 20, 41, nat, SERVER), Tcp.fillChecksumV4(b, 20, 41, nat, SERVER));
        } finally {
            b.release();
        }
    }

    @Test
    void checkInPacketRejectsUdpAndBadVersions() {
        ByteBuf b = Unpooled.wrappedBuffer(ip(TransportCaptures.DHCP_DISCOVER));
        try {
            assertEquals(WireError.BAD_TYPE, Tcp.checkInPacket(b, 0));
            b.setByte(0, 0x05);
            assertEquals(WireError.BAD_VERSION, Tcp.checkInPacket(b, 0));
            assertEquals(WireError.TRUNCATED, Tcp.checkInPacket(b, b.writerIndex()));
            assertEquals(WireError.TRUNCATED, Tcp.checkInPacket(b, -3));
        } finally {
            b.release();
        }
        ByteBuf v6 = Unpooled.wrappedBuffer(ip(TransportCaptures.UDP6_DATAGRAM));
        try {
            assertEquals(WireError.BAD_TYPE, Tcp.checkInPacket(v6, 0));
        } finally {
            v6.release();
        }
    }
}

package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.pktkit.codec.wire.WireTestBuffers.hex;
import static dev.pktkit.codec.wire.WireTestBuffers.toHex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Dhcp4Test {
    static final long MAC = 0x02_00_00_00_2a_01L;
    static final int SERVER = Ip4.parse("10.79.0.1");
    /** Rapid Commit (RFC 4039), an option whose value is empty. */
    static final int RAPID_COMMIT = 80;

    /** The DHCP part of a captured frame: from byte 42 (Ethernet 14 + IPv4 20 + UDP 8). */
    static byte[] dhcp(String capture) {
        return WireTestBuffers.frame(capture, 42);
    }

    /** TransportCaptures.DHCP_DISCOVER's options field, annotated (the fixed part is all zero but op..xid, chaddr). */
    static final String DISCOVER_OPTIONS = """
            63825363             # magic cookie
            35 01 01             # message type DISCOVER
            39 02 0240           # max message size 576
            37 08 01 03 06 0c 0f 1c 2a 79   # parameter request list: 1 3 6 12 15 28 42 121
            0c 08 7732636c69656e74          # host name "w2client"
            3c 08 773276656e646f72          # vendor class "w2vendor"
            3d 07 01 020000002a01           # client id: type 1 (Ethernet), the MAC
            ff                              # END
            00000000000000000000000000      # padding to 300 bytes
            """;

    @Test
    void capturedDiscover() {
        byte[] m = dhcp(TransportCaptures.DHCP_DISCOVER);
        assertEquals(300, m.length);
        assertEquals(WireTestBuffers.toHex(hex(DISCOVER_OPTIONS)), WireTestBuffers.toHex(m).substring(2 * 236));
        assertEquals("01010600" + "e6089065" + "0000" + "0000", WireTestBuffers.toHex(m).substring(0, 24));
        WireTestBuffers.forEachKind(m, b -> {
            int off = b.readerIndex();
            int len = 300;
            assertEquals(300, Dhcp4.check(b, off, len));
            assertEquals(Dhcp4.OP_REQUEST, Dhcp4.op(b, off));
            assertEquals(Dhcp4.HTYPE_ETHERNET, Dhcp4.htype(b, off));
            assertEquals(6, Dhcp4.hlen(b, off));
            assertEquals(0, Dhcp4.hops(b, off));
            assertEquals(0xe6089065L, Dhcp4.xid(b, off));
            assertEquals(0, Dhcp4.secs(b, off));
            assertEquals(0, Dhcp4.flags(b, off));
            assertFalse(Dhcp4.broadcast(b, off));
            assertEquals(0, Dhcp4.ciaddr(b, off));
            assertEquals(0, Dhcp4.yiaddr(b, off));
            assertEquals(MAC, Dhcp4.chaddr(b, off));
            assertEquals(Dhcp4.MAGIC_COOKIE, Dhcp4.magicCookie(b, off));
            assertEquals(0, Dhcp4.optionOverload(b, off, len));
            assertEquals(0, Dhcp4.textLength(b, off, Dhcp4.SNAME_OFFSET, Dhcp4.SNAME_LENGTH));

            assertEquals(Dhcp4.DISCOVER, Dhcp4.messageType(b, off, len));
            assertEquals(576, Dhcp4.maxMessageSize(b, off, len));
            assertArrayEquals(hex("01 03 06 0c 0f 1c 2a 79"), Dhcp4.parameterRequestList(b, off, len));
            assertTrue(Dhcp4.requestsOption(b, off, len, Dhcp4Option.CLASSLESS_STATIC_ROUTE));
            assertTrue(Dhcp4.requestsOption(b, off, len, Dhcp4Option.SUBNET_MASK));
            assertFalse(Dhcp4.requestsOption(b, off, len, Dhcp4Option.SERVER_IDENTIFIER));
            assertEquals("w2client", Dhcp4.hostName(b, off, len));
            assertEquals("w2vendor", Dhcp4.vendorClass(b, off, len));
            assertArrayEquals(hex("01 020000002a01"), Dhcp4.clientId(b, off, len));
            assertEquals(0, Dhcp4.serverId(b, off, len));
            assertEquals(0, Dhcp4.requestedIp(b, off, len));
            assertEquals(-1, Dhcp4.leaseTime(b, off, len));
            assertNull(Dhcp4.domainName(b, off, len));
            assertNull(Dhcp4.classlessStaticRoutes(b, off, len));
            assertEquals(-1, Dhcp4.dnsServerCount(b, off, len));
            assertEquals(off + 240, Dhcp4.findOption(b, off, len, Dhcp4Option.MESSAGE_TYPE));
            assertEquals(off + 245, Dhcp4.optionValueOffset(b, off, len, Dhcp4Option.MAX_MESSAGE_SIZE));
            assertEquals(8, Dhcp4.optionLength(b, off, len, Dhcp4Option.HOST_NAME));
            assertEquals(-1, Dhcp4.optionLength(b, off, len, Dhcp4Option.ROUTER));
        });
    }

    @Test
    void optionWalkOfTheCapturedDiscover() {
        ByteBuf b = Unpooled.wrappedBuffer(dhcp(TransportCaptures.DHCP_DISCOVER));
        try {
            List<String> seen = new ArrayList<>();
            for (int p = Dhcp4.nextOption(b, 0, 300, Dhcp4.DONE); p != Dhcp4.DONE; p = Dhcp4.nextOption(b, 0, 300, p)) {
                assertTrue(p > 0);
                seen.add(p + ":" + Dhcp4.codeAt(b, p) + "/" + Dhcp4.lengthAt(b, p));
            }
            assertEquals(List.of("240:53/1", "243:57/2", "247:55/8", "257:12/8", "267:60/8", "277:61/7"), seen);
            // positions outside the options areas are rejected, not followed
            assertEquals(WireError.BAD_OPTION, Dhcp4.nextOption(b, 0, 300, 4));
            assertEquals(WireError.BAD_OPTION, Dhcp4.nextOption(b, 0, 300, 300));
            assertEquals(WireError.BAD_OPTION, Dhcp4.nextOption(b, 0, 300, -7));
            assertEquals(-1, Dhcp4.codeAt(b, 300));
            assertEquals(-1, Dhcp4.lengthAt(b, 299));
        } finally {
            b.release();
        }
    }

    @Test
    void capturedOfferAndAck() {
        String offerOptions = """
                63825363
                35 01 02                 # OFFER
                36 04 0a4f0001           # server id 10.79.0.1
                33 04 00000e10           # lease 3600 s
                01 04 ffffff00           # subnet mask /24
                03 04 0a4f0001           # router 10.79.0.1
                06 08 0a4f0001 0a4f0002  # DNS 10.79.0.1, 10.79.0.2
                0f 07 77322e74657374     # domain "w2.test"
                79 0f 10 0a50 0a4f0001 18 c0a805 0a4f0001   # 10.80.0.0/16 via 10.79.0.1, 192.168.5.0/24 via 10.79.0.1
                ff                       # END (the message is 304 bytes: no padding needed)
                """;
        byte[] m = dhcp(TransportCaptures.DHCP_OFFER);
        assertEquals(304, m.length);
        assertEquals(WireTestBuffers.toHex(hex(offerOptions)), WireTestBuffers.toHex(m).substring(2 * 236));
        WireTestBuffers.forEachKind(m, b -> {
            int off = b.readerIndex();
            int len = 304;
            assertEquals(304, Dhcp4.check(b, off, len));
            assertEquals(Dhcp4.OP_REPLY, Dhcp4.op(b, off));
            assertEquals(Ip4.parse("10.79.0.100"), Dhcp4.yiaddr(b, off));
            assertEquals(0, Dhcp4.siaddr(b, off));
            assertEquals(0, Dhcp4.giaddr(b, off));
            assertEquals(Dhcp4.OFFER, Dhcp4.messageType(b, off, len));
            assertEquals(SERVER, Dhcp4.serverId(b, off, len));
            assertEquals(3600, Dhcp4.leaseTime(b, off, len));
            assertEquals(-1, Dhcp4.renewalTime(b, off, len));
            assertEquals(-1, Dhcp4.rebindingTime(b, off, len));
            assertEquals(Ip4.parse("255.255.255.0"), Dhcp4.subnetMask(b, off, len));
            assertEquals(SERVER, Dhcp4.router(b, off, len));
            assertEquals(1, Dhcp4.addressCount(b, off, len, Dhcp4Option.ROUTER));
            assertEquals(2, Dhcp4.dnsServerCount(b, off, len));
            assertEquals(SERVER, Dhcp4.dnsServer(b, off, len, 0));
            assertEquals(Ip4.parse("10.79.0.2"), Dhcp4.dnsServer(b, off, len, 1));
            assertEquals(0, Dhcp4.dnsServer(b, off, len, 2));
            assertEquals(0, Dhcp4.dnsServer(b, off, len, -1));
            assertEquals("w2.test", Dhcp4.domainName(b, off, len));
            assertEquals(List.of(new Dhcp4.Route(Ip4.parse("10.80.0.0"), 16, SERVER),
                            new Dhcp4.Route(Ip4.parse("192.168.5.0"), 24, SERVER)),
                    Dhcp4.classlessStaticRoutes(b, off, len));
        });
        byte[] ack = dhcp(TransportCaptures.DHCP_ACK);
        ByteBuf b = Unpooled.wrappedBuffer(ack);
        try {
            assertEquals(304, Dhcp4.check(b, 0, 304));
            assertEquals(Dhcp4.ACK, Dhcp4.messageType(b, 0, 304));
        } finally {
            b.release();
        }
    }

    @Test
    void capturedRequest() {
        ByteBuf b = Unpooled.wrappedBuffer(dhcp(TransportCaptures.DHCP_REQUEST));
        try {
            assertEquals(300, Dhcp4.check(b, 0, 300));
            assertEquals(Dhcp4.REQUEST, Dhcp4.messageType(b, 0, 300));
            assertEquals(Ip4.parse("10.79.0.100"), Dhcp4.requestedIp(b, 0, 300));
            assertEquals(SERVER, Dhcp4.serverId(b, 0, 300));
            assertEquals(2, Dhcp4.secs(b, 0));
            assertEquals(0xe6089065L, Dhcp4.xid(b, 0));
        } finally {
            b.release();
        }
    }

    /** Every captured message round-trips through the repr to the same bytes, and through UDP. */
    @Test
    void capturedExchangeRoundTripsByteForByte() {
        for (String frame : List.of(TransportCaptures.DHCP_DISCOVER, TransportCaptures.DHCP_OFFER,
                TransportCaptures.DHCP_REQUEST, TransportCaptures.DHCP_ACK)) {
            byte[] ipPacket = WireTestBuffers.frame(frame, 14);
            ByteBuf b = Unpooled.wrappedBuffer(ipPacket);
            ByteBuf out = Unpooled.buffer();
            try {
                int udpLen = Udp.checkInPacket(b, 0);
                assertTrue(udpLen > 0);
                int len = udpLen - Udp.HEADER_LENGTH;
                Dhcp4Repr r = Dhcp4Repr.parse(b, 28, len);
                assertNotNull(r);
                assertEquals(MAC, r.mac());
                assertEquals(len, r.emittedLength());
                assertEquals(len, r.emit(out));
                assertEquals(toHex(b, 28, len), toHex(out));
                assertEquals(r, Dhcp4Repr.parse(out, 0, len));
            } finally {
                b.release();
                out.release();
            }
        }
    }

    @Test
    void staticBuilderReproducesTheCapturedDiscover() {
        ByteBuf out = Unpooled.buffer();
        try {
            out.writeZero(3); // the builder appends at writerIndex; offsets are absolute
            int start = out.writerIndex();
            assertEquals(240, Dhcp4.writeFixed(out, Dhcp4.OP_REQUEST, 0xe6089065L, 0, 0, 0, 0, 0, 0, MAC));
            assertEquals(3, Dhcp4.writeByteOption(out, Dhcp4Option.MESSAGE_TYPE, Dhcp4.DISCOVER));
            assertEquals(4, Dhcp4.writeShortOption(out, Dhcp4Option.MAX_MESSAGE_SIZE, 576));
            assertEquals(10, Dhcp4.writeParameterRequestList(out, 1, 3, 6, 12, 15, 28, 42, 121));
            Dhcp4.writeStringOption(out, Dhcp4Option.HOST_NAME, "w2client");
            Dhcp4.writeStringOption(out, Dhcp4Option.VENDOR_CLASS_IDENTIFIER, "w2vendor");
            Dhcp4.writeOption(out, Dhcp4Option.CLIENT_IDENTIFIER, hex("01 020000002a01"));
            assertEquals(14, Dhcp4.writeEnd(out, start));
            assertEquals(WireTestBuffers.toHex(dhcp(TransportCaptures.DHCP_DISCOVER)), toHex(out, start, 300));
            assertEquals(303, out.writerIndex());
        } finally {
            out.release();
        }
    }

    /** Option 52 = 3: options continue in 'file', then in 'sname'; RFC 3396 order. */
    static byte[] overloaded(int overloadValue) {
        byte[] m = new byte[260];
        m[0] = 2;
        m[1] = 1;
        m[2] = 6;
        System.arraycopy(hex("63825363"), 0, m, 236, 4);
        byte[] main = hex("""
                35 01 05       # ACK
                34 01 %02x     # overload
                06 02 0a4f     # DNS, first half of an address (RFC 3396: split values concatenate)
                ff
                """.formatted(overloadValue));
        System.arraycopy(main, 0, m, 240, main.length);
        byte[] file = hex("""
                0f 05 612e622e63   # domain "a.b.c"
                00 00              # PAD
                06 06 0001 0a4f0002   # DNS continued: 10.79.0.1, 10.79.0.2
                ff
                """);
        System.arraycopy(file, 0, m, Dhcp4.FILE_OFFSET, file.length);
        byte[] sname = hex("""
                0c 03 773268       # host name "w2h"
                ff
                """);
        System.arraycopy(sname, 0, m, Dhcp4.SNAME_OFFSET, sname.length);
        return m;
    }

    @Test
    void overloadReadsFileThenSname() {
        WireTestBuffers.forEachKind(overloaded(3), b -> {
            int off = b.readerIndex();
            assertEquals(260, Dhcp4.check(b, off, 260));
            assertEquals(3, Dhcp4.optionOverload(b, off, 260));
            List<Integer> codes = new ArrayList<>();
            List<Integer> where = new ArrayList<>();
            for (int p = Dhcp4.nextOption(b, off, 260, Dhcp4.DONE); p != Dhcp4.DONE;
                    p = Dhcp4.nextOption(b, off, 260, p)) {
                assertTrue(p > 0, "code " + p);
                codes.add(Dhcp4.codeAt(b, p));
                where.add(p - off);
            }
            assertEquals(List.of(53, 52, 6, 15, 6, 12), codes);
            assertEquals(List.of(240, 243, 246, 108, 117, 44), where);
            assertEquals(Dhcp4.ACK, Dhcp4.messageType(b, off, 260));
            assertEquals("a.b.c", Dhcp4.domainName(b, off, 260));
            assertEquals("w2h", Dhcp4.hostName(b, off, 260));
            assertEquals(8, Dhcp4.optionLength(b, off, 260, Dhcp4Option.DOMAIN_NAME_SERVER));
            assertEquals(2, Dhcp4.dnsServerCount(b, off, 260));
            assertEquals(SERVER, Dhcp4.dnsServer(b, off, 260, 0)); // straddles the two instances
            assertEquals(Ip4.parse("10.79.0.2"), Dhcp4.dnsServer(b, off, 260, 1));
            ByteBuf dst = Unpooled.buffer();
            try {
                assertEquals(8, Dhcp4.copyOption(b, off, 260, Dhcp4Option.DOMAIN_NAME_SERVER, dst));
                assertEquals("0a4f00010a4f0002", toHex(dst));
                assertEquals(-1, Dhcp4.copyOption(b, off, 260, Dhcp4Option.ROUTER, dst));
                assertEquals(8, dst.writerIndex());
            } finally {
                dst.release();
            }
        });
        ByteBuf b = Unpooled.wrappedBuffer(overloaded(3));
        ByteBuf out = Unpooled.buffer();
        try {
            Dhcp4Repr r = Dhcp4Repr.parse(b, 0, 260);
            assertNotNull(r);
            assertEquals(List.of(53, 6, 15, 12), r.optionCodes()); // 52 removed, 6 concatenated once
            assertArrayEquals(hex("0a4f0001 0a4f0002"), r.option(Dhcp4Option.DOMAIN_NAME_SERVER));
            assertArrayEquals(new byte[64], r.sname()); // the fields held options, not names
            assertArrayEquals(new byte[128], r.file());
            assertEquals(300, r.emit(out));
            assertEquals(0, Dhcp4.optionOverload(out, 0, 300));
            assertEquals(r, Dhcp4Repr.parse(out, 0, 300));
            String emittedOptions = """
                    35 01 05
                    06 08 0a4f0001 0a4f0002
                    0f 05 612e622e63
                    0c 03 773268
                    ff
                    """;
            assertEquals(WireTestBuffers.toHex(hex(emittedOptions)), toHex(out, 240, 26));
        } finally {
            b.release();
            out.release();
        }
    }

    @Test
    void overloadOfFileAloneLeavesSnameAsText() {
        ByteBuf b = Unpooled.wrappedBuffer(overloaded(1));
        try {
            assertEquals(260, Dhcp4.check(b, 0, 260));
            assertNull(Dhcp4.hostName(b, 0, 260));
            assertEquals("a.b.c", Dhcp4.domainName(b, 0, 260));
            assertEquals(6, Dhcp4.textLength(b, 0, Dhcp4.SNAME_OFFSET, Dhcp4.SNAME_LENGTH)); // 0c 03 'w' '2' 'h' ff
            Dhcp4Repr r = Dhcp4Repr.parse(b, 0, 260);
            assertNotNull(r);
            assertEquals(0x0c, r.sname()[0]);
            assertEquals(0, r.file()[0]);
        } finally {
            b.release();
        }
        ByteBuf s = Unpooled.wrappedBuffer(overloaded(2));
        try {
            assertEquals(260, Dhcp4.check(s, 0, 260));
            assertEquals("w2h", Dhcp4.hostName(s, 0, 260));
            assertNull(Dhcp4.domainName(s, 0, 260));
            assertEquals(-1, Dhcp4.dnsServerCount(s, 0, 260)); // only the 2-byte half in the options field
        } finally {
            s.release();
        }
    }

    @Test
    void badOverloads() {
        String[] mains = {
                "34 01 00 ff",            // value 0
                "34 01 04 ff",            // value 4
                "34 02 0100 ff",          // length 2
                "34 00 ff",               // length 0
                "34 01 01 34 01 01 ff",   // twice
        };
        for (String main : mains) {
            byte[] m = overloaded(3);
            Arrays.fill(m, 240, 260, (byte) 0);
            byte[] o = hex(main);
            System.arraycopy(o, 0, m, 240, o.length);
            assertMalformed(m, Dhcp4.BAD_OVERLOAD, main);
        }
        // option 52 inside the overloaded 'file' field: honouring it could loop, so the message is malformed
        byte[] loop = overloaded(1);
        byte[] file = hex("34 01 01 ff");
        System.arraycopy(file, 0, loop, Dhcp4.FILE_OFFSET, file.length);
        assertMalformed(loop, Dhcp4.BAD_OVERLOAD, "52 in file");
        byte[] loop2 = overloaded(3);
        byte[] sname = hex("34 01 03 ff");
        System.arraycopy(sname, 0, loop2, Dhcp4.SNAME_OFFSET, sname.length);
        assertMalformed(loop2, Dhcp4.BAD_OVERLOAD, "52 in sname");
    }

    @Test
    void badOptionLengths() {
        // an option running past its area, in each area
        byte[] main = overloaded(3);
        main[250] = 0x00; // the END becomes PAD
        main[252] = 0x06;
        main[253] = 0x09; // 9 bytes from 254 > 260
        assertMalformed(main, WireError.BAD_OPTION, "main overrun");
        byte[] lastByte = overloaded(0 + 3);
        Arrays.fill(lastByte, 250, 260, (byte) 0); // END becomes PAD, and PADs up to a code without length
        lastByte[259] = 0x0c;
        assertMalformed(lastByte, WireError.BAD_OPTION, "code without length at the end");
        byte[] file = overloaded(3);
        file[Dhcp4.FILE_OFFSET + 1] = (byte) 200; // domain of 200 bytes in a 128-byte field
        assertMalformed(file, WireError.BAD_OPTION, "file overrun");
        byte[] sname = overloaded(3);
        sname[Dhcp4.SNAME_OFFSET + 1] = 63; // 2 + 63 > 64
        assertMalformed(sname, WireError.BAD_OPTION, "sname overrun");
        byte[] fits = overloaded(3);
        fits[Dhcp4.SNAME_OFFSET + 1] = 62; // exactly fills 'sname' (no END needed)
        ByteBuf b = Unpooled.wrappedBuffer(fits);
        try {
            assertEquals(260, Dhcp4.check(b, 0, 260));
            assertEquals(62, Dhcp4.optionLength(b, 0, 260, Dhcp4Option.HOST_NAME));
        } finally {
            b.release();
        }
    }

    static void assertMalformed(byte[] m, int code, String what) {
        WireTestBuffers.forEachKind(m, b -> {
            int off = b.readerIndex();
            int len = m.length;
            assertEquals(code, Dhcp4.check(b, off, len), what);
            assertEquals(-1, Dhcp4.messageType(b, off, len), what);
            assertEquals(-1, Dhcp4.findOption(b, off, len, Dhcp4Option.MESSAGE_TYPE), what);
            assertEquals(-1, Dhcp4.optionLength(b, off, len, Dhcp4Option.MESSAGE_TYPE), what);
            assertEquals(-1, Dhcp4.dnsServerCount(b, off, len), what);
            assertEquals(0, Dhcp4.dnsServer(b, off, len, 0), what);
            assertNull(Dhcp4.domainName(b, off, len), what);
            assertNull(Dhcp4.optionBytes(b, off, len, Dhcp4Option.MESSAGE_TYPE), what);
            assertFalse(Dhcp4.hasOption(b, off, len, Dhcp4Option.MESSAGE_TYPE), what);
            assertNull(Dhcp4Repr.parse(b, off, len), what);
            // the walk reaches the error and reports it instead of looping or throwing
            int p = Dhcp4.nextOption(b, off, len, Dhcp4.DONE);
            int steps = 0;
            while (p > 0 && steps++ < 100) {
                p = Dhcp4.nextOption(b, off, len, p);
            }
            assertTrue(p < 0, what + ": walk ended with " + p);
        });
    }

    @Test
    void truncatedAtEveryLength() {
        byte[] m = dhcp(TransportCaptures.DHCP_DISCOVER);
        // lengths at which the options field ends on an option boundary (END missing is tolerated)
        List<Integer> boundaries = List.of(240, 243, 247, 257, 267, 277);
        WireTestBuffers.forEachTruncation(m, (b, len) -> {
            int off = b.readerIndex();
            assertEquals(WireError.TRUNCATED, Dhcp4.check(b, off, 300));
            assertNull(Dhcp4Repr.parse(b, off, 300));
            assertEquals(-1, Dhcp4.messageType(b, off, 300));
            assertEquals(WireError.TRUNCATED, Dhcp4.nextOption(b, off, 300, Dhcp4.DONE));
            int r = Dhcp4.check(b, off, len);
            if (len < 240) {
                assertEquals(WireError.TRUNCATED, r);
                assertEquals(WireError.TRUNCATED, Dhcp4.optionOverload(b, off, len));
            } else if (boundaries.contains(len) || len >= 286) {
                assertEquals(len, r, "length " + len);
            } else {
                assertEquals(WireError.BAD_OPTION, r, "length " + len);
            }
            if (len < 236) {
                assertEquals(-1, Dhcp4.op(b, off));
                assertEquals(-1, Dhcp4.htype(b, off));
                assertEquals(-1, Dhcp4.hlen(b, off));
                assertEquals(-1, Dhcp4.hops(b, off));
                assertEquals(-1, Dhcp4.xid(b, off));
                assertEquals(-1, Dhcp4.secs(b, off));
                assertEquals(-1, Dhcp4.flags(b, off));
                assertFalse(Dhcp4.broadcast(b, off));
                assertEquals(0, Dhcp4.ciaddr(b, off));
                assertEquals(0, Dhcp4.yiaddr(b, off));
                assertEquals(0, Dhcp4.siaddr(b, off));
                assertEquals(0, Dhcp4.giaddr(b, off));
                assertEquals(-1, Dhcp4.chaddr(b, off));
                assertEquals(-1, Dhcp4.textLength(b, off, Dhcp4.FILE_OFFSET, Dhcp4.FILE_LENGTH));
            } else {
                assertEquals(MAC, Dhcp4.chaddr(b, off));
            }
            if (len < 240) {
                assertEquals(-1, Dhcp4.magicCookie(b, off));
            }
        });
    }

    @Test
    void badFixedFields() {
        byte[] m = dhcp(TransportCaptures.DHCP_DISCOVER);
        byte[] op = m.clone();
        op[0] = 3;
        byte[] hlen = m.clone();
        hlen[2] = 17;
        byte[] cookie = m.clone();
        cookie[239] = 0x64;
        ByteBuf a = Unpooled.wrappedBuffer(op);
        ByteBuf h = Unpooled.wrappedBuffer(hlen);
        ByteBuf c = Unpooled.wrappedBuffer(cookie);
        try {
            assertEquals(WireError.BAD_TYPE, Dhcp4.check(a, 0, 300));
            assertEquals(WireError.BAD_ADDRESS, Dhcp4.check(h, 0, 300));
            assertEquals(Dhcp4.BAD_COOKIE, Dhcp4.check(c, 0, 300));
            assertEquals(Dhcp4.BAD_COOKIE, Dhcp4.nextOption(c, 0, 300, Dhcp4.DONE));
            assertEquals(-1, Dhcp4.messageType(c, 0, 300));
            assertNull(Dhcp4Repr.parse(a, 0, 300));
            assertEquals("BAD_COOKIE", Dhcp4.errorName(Dhcp4.BAD_COOKIE));
            assertEquals("BAD_OVERLOAD", Dhcp4.errorName(Dhcp4.BAD_OVERLOAD));
            assertEquals("TRUNCATED", Dhcp4.errorName(WireError.TRUNCATED));
        } finally {
            a.release();
            h.release();
            c.release();
        }
    }

    @Test
    void wrongLengthsOfTypedOptionsReadAsAbsent() {
        ByteBuf out = Unpooled.buffer();
        try {
            Dhcp4.writeFixed(out, Dhcp4.OP_REPLY, 1, 0, Dhcp4.FLAG_BROADCAST, 0, 0, 0, 0, MAC);
            Dhcp4.writeOption(out, Dhcp4Option.MESSAGE_TYPE, hex("0505"));   // 2 bytes
            Dhcp4.writeOption(out, Dhcp4Option.SERVER_IDENTIFIER, hex("0a4f00")); // 3 bytes
            Dhcp4.writeOption(out, Dhcp4Option.ROUTER, hex("0a4f0001 0a")); // 5 bytes
            Dhcp4.writeOption(out, RAPID_COMMIT, new byte[0]); // empty value
            Dhcp4.writeEnd(out, 0);
            int len = out.readableBytes();
            assertEquals(300, len);
            assertTrue(Dhcp4.broadcast(out, 0));
            assertEquals(len, Dhcp4.check(out, 0, len));
            assertEquals(-1, Dhcp4.messageType(out, 0, len));
            assertEquals(0, Dhcp4.serverId(out, 0, len));
            assertEquals(-1, Dhcp4.addressCount(out, 0, len, Dhcp4Option.ROUTER));
            assertEquals(0, Dhcp4.router(out, 0, len));
            assertEquals(0, Dhcp4.optionLength(out, 0, len, RAPID_COMMIT));
            assertTrue(Dhcp4.hasOption(out, 0, len, RAPID_COMMIT));
            assertArrayEquals(new byte[0], Dhcp4.optionBytes(out, 0, len, RAPID_COMMIT));
        } finally {
            out.release();
        }
    }

    @Test
    void longOptionsAreSplitAndConcatenated() {
        byte[] big = new byte[600];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 7);
        }
        Map<Integer, byte[]> opts = new LinkedHashMap<>();
        opts.put(Dhcp4Option.MESSAGE_TYPE, new byte[] {Dhcp4.INFORM});
        opts.put(Dhcp4Option.VENDOR_SPECIFIC, big);
        Dhcp4Repr r = Dhcp4Repr.of(Dhcp4.OP_REQUEST, 7, 0, Ip4.parse("10.0.0.9"), 0, 0, 0, MAC, opts);
        ByteBuf out = Unpooled.buffer();
        try {
            int n = r.emit(out);
            assertEquals(240 + 3 + (600 + 3 * 2) + 1, n);
            assertEquals(n, r.emittedLength());
            // three instances: 255 + 255 + 90
            assertEquals(43, out.getUnsignedByte(243));
            assertEquals(255, out.getUnsignedByte(244));
            assertEquals(43, out.getUnsignedByte(243 + 257));
            assertEquals(255, out.getUnsignedByte(244 + 257));
            assertEquals(43, out.getUnsignedByte(243 + 514));
            assertEquals(90, out.getUnsignedByte(244 + 514));
            assertEquals(600, Dhcp4.optionLength(out, 0, n, Dhcp4Option.VENDOR_SPECIFIC));
            assertArrayEquals(big, Dhcp4.optionBytes(out, 0, n, Dhcp4Option.VENDOR_SPECIFIC));
            assertEquals(r, Dhcp4Repr.parse(out, 0, n));
            assertEquals(Dhcp4.INFORM, Dhcp4Repr.parse(out, 0, n).messageType());
        } finally {
            out.release();
        }
    }

    @Test
    void classlessStaticRoutesRfc3442Encoding() {
        List<Dhcp4.Route> routes = List.of(
                new Dhcp4.Route(0, 0, Ip4.parse("10.0.0.1")),
                new Dhcp4.Route(Ip4.parse("10.0.0.0"), 8, Ip4.parse("10.0.0.1")),
                new Dhcp4.Route(Ip4.parse("10.17.0.0"), 16, Ip4.parse("10.0.0.1")),
                new Dhcp4.Route(Ip4.parse("10.27.129.0"), 24, Ip4.parse("10.0.0.1")),
                new Dhcp4.Route(Ip4.parse("10.229.0.128"), 25, Ip4.parse("10.0.0.1")),
                new Dhcp4.Route(Ip4.parse("10.198.122.47"), 32, Ip4.parse("10.0.0.1")));
        // the examples of RFC 3442 §3, each followed by router 10.0.0.1
        String expected = """
                00 0a000001                 # 0/0 (default route)
                08 0a 0a000001              # 10/8
                10 0a11 0a000001            # 10.17/16
                18 0a1b81 0a000001          # 10.27.129/24
                19 0ae50080 0a000001        # 10.229.0.128/25
                20 0ac67a2f 0a000001        # 10.198.122.47/32
                """;
        assertEquals(WireTestBuffers.toHex(hex(expected)),
                WireTestBuffers.toHex(Dhcp4.encodeClasslessStaticRoutes(routes)));
        ByteBuf out = Unpooled.buffer();
        try {
            Dhcp4.writeFixed(out, Dhcp4.OP_REPLY, 1, 0, 0, 0, 0, 0, 0, MAC);
            Dhcp4.writeClasslessStaticRoutes(out, routes);
            Dhcp4.writeEnd(out, 0);
            assertEquals(routes, Dhcp4.classlessStaticRoutes(out, 0, out.readableBytes()));
        } finally {
            out.release();
        }
        for (String bad : List.of("21 0a000000 0a000001", "18 0a1b81 0a0000", "08")) {
            ByteBuf m = Unpooled.buffer();
            try {
                Dhcp4.writeFixed(m, Dhcp4.OP_REPLY, 1, 0, 0, 0, 0, 0, 0, MAC);
                Dhcp4.writeOption(m, Dhcp4Option.CLASSLESS_STATIC_ROUTE, hex(bad));
                Dhcp4.writeEnd(m, 0);
                assertNull(Dhcp4.classlessStaticRoutes(m, 0, m.readableBytes()), bad);
            } finally {
                m.release();
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new Dhcp4.Route(0, 33, 0));
    }

    @Test
    void reprAndBuilderRejectInvalidValues() {
        assertThrows(IllegalArgumentException.class, () -> Dhcp4Repr.of(1, 1, 0, 0, 0, 0, 0, MAC,
                Map.of(Dhcp4Option.OPTION_OVERLOAD, new byte[] {1})));
        assertThrows(IllegalArgumentException.class, () -> Dhcp4Repr.of(1, 1, 0, 0, 0, 0, 0, MAC,
                Map.of(Dhcp4Option.END, new byte[0])));
        assertThrows(IllegalArgumentException.class, () -> Dhcp4Repr.of(1, 1L << 32, 0, 0, 0, 0, 0, MAC, null));
        assertThrows(IllegalArgumentException.class, () -> new Dhcp4Repr(1, 1, 17, 0, 0, 0, 0, 0, 0, 0, 0, null,
                null, null, null));
        assertThrows(IllegalArgumentException.class, () -> new Dhcp4Repr(1, 1, 6, 0, 0, 0, 0, 0, 0, 0, 0,
                new byte[6], null, null, null));
        ByteBuf out = Unpooled.buffer();
        try {
            assertThrows(IllegalArgumentException.class, () -> Dhcp4.writeOption(out, 0, new byte[1]));
            assertThrows(IllegalArgumentException.class, () -> Dhcp4.writeByteOption(out, 255, 1));
            assertThrows(IllegalArgumentException.class, () -> Dhcp4.writeFixed(out, 1, 1, 6, 0, 0, 0, 0, 0, 0, 0,
                    0, new byte[17], null, null));
        } finally {
            out.release();
        }
        Dhcp4Repr r = Dhcp4Repr.of(1, 5, 0, 0, 0, 0, 0, MAC, Map.of(Dhcp4Option.HOST_NAME,
                "x".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(r.toString().contains("host-name=78"));
        assertEquals(-1, r.messageType());
    }

    @Test
    void optionNames() {
        assertEquals("classless-static-route", Dhcp4Option.name(121));
        assertEquals("relay-agent-info", Dhcp4Option.name(82));
        assertEquals("dns", Dhcp4Option.name(6));
        assertEquals("200", Dhcp4Option.name(200));
    }
}

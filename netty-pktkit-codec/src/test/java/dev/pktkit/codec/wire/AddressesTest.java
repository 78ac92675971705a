package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AddressesTest {

    @Test
    void macParseFormat() {
        assertEquals(0xaabb_ccdd_eeffL, MacAddress.parse("aa:bb:cc:dd:ee:ff"));
        assertEquals(0xaabb_ccdd_eeffL, MacAddress.parse("AA-BB-CC-DD-EE-FF"));
        assertEquals(0x0102_0304_0506L, MacAddress.parse("1:2:3:4:5:6"));
        assertEquals("02:00:00:00:0a:01", MacAddress.format(0x0200_0000_0a01L));
        assertEquals("ff:ff:ff:ff:ff:ff", MacAddress.format(MacAddress.BROADCAST));
        for (String bad : new String[]{"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa:bb:cc:dd:ee:fg",
                "aa-bb:cc:dd:ee:ff", "aaa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:", ":aa:bb:cc:dd:ee"}) {
            assertThrows(IllegalArgumentException.class, () -> MacAddress.parse(bad), bad);
        }
        MacAddress m = MacAddress.valueOf("02:00:00:00:0a:01");
        assertEquals(MacAddress.of(0x0200_0000_0a01L), m);
        assertEquals(MacAddress.of(new byte[]{2, 0, 0, 0, 10, 1}), m);
        assertArrayEquals(new byte[]{2, 0, 0, 0, 10, 1}, m.toBytes());
        assertEquals("02:00:00:00:0a:01", m.toString());
        assertEquals(m.hashCode(), MacAddress.of(0xFFFF_0200_0000_0a01L).hashCode()); // high bits dropped
    }

    @Test
    void macBits() {
        assertTrue(MacAddress.isMulticast(MacAddress.BROADCAST));
        assertTrue(MacAddress.isMulticast(0x0100_5e00_0001L));
        assertTrue(MacAddress.isMulticast(0x3333_0000_0001L));
        assertFalse(MacAddress.isMulticast(0x0200_0000_0001L));
        assertTrue(MacAddress.isBroadcast(MacAddress.BROADCAST));
        assertFalse(MacAddress.isBroadcast(0x3333_0000_0001L));
        assertTrue(MacAddress.isLocallyAdministered(0x0200_0000_0001L));
        assertEquals(0x0100_5e7f_0001L, MacAddress.ofIpv4Multicast(Ip4.parse("239.255.0.1"))); // 23 low bits
        assertEquals(0x3333_ff00_0002L, MacAddress.ofIpv6Multicast(Ip6.parseLo("ff02::1:ff00:2")));
        for (int i = 0; i < 1000; i++) {
            long r = MacAddress.randomLocallyAdministered();
            assertTrue(MacAddress.isUnicast(r) && MacAddress.isLocallyAdministered(r) && (r >>> 48) == 0);
        }
    }

    @Test
    void macReadWrite() {
        ByteBuf b = Unpooled.buffer();
        try {
            b.writeByte(9);
            MacAddress.write(b, 0x0200_0000_0a01L);
            assertEquals("09020000000a01", WireTestBuffers.toHex(b));
            assertEquals(0x0200_0000_0a01L, MacAddress.read(b, 1));
            assertEquals(-1, MacAddress.read(b, 2));
            assertEquals(-1, MacAddress.read(b, -1));
            MacAddress.set(b, 1, MacAddress.BROADCAST);
            assertEquals(MacAddress.BROADCAST, MacAddress.read(b, 1));
        } finally {
            b.release();
        }
    }

    @Test
    void ip4ParseFormatAndPredicates() throws Exception {
        assertEquals(0x0A00_0001, Ip4.parse("10.0.0.1"));
        assertEquals(0xFFFF_FFFF, Ip4.parse("255.255.255.255"));
        assertEquals("192.168.0.199", Ip4.format(0xC0A8_00C7));
        assertEquals("255.255.255.255", Ip4.format(-1));
        for (String bad : new String[]{"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "01.2.3.4", "a.b.c.d",
                "1..2.3", "1.2.3.4 ", "1234.1.1.1"}) {
            assertThrows(IllegalArgumentException.class, () -> Ip4.parse(bad), bad);
        }
        assertEquals(0xC0A8_0001, Ip4.of((java.net.Inet4Address) InetAddress.getByName("192.168.0.1")));
        assertEquals(InetAddress.getByName("10.77.0.2"), Ip4.toInet(0x0A4D_0002));
        assertEquals(0xFFFF_FF00, Ip4.mask(24));
        assertEquals(0, Ip4.mask(0));
        assertEquals(-1, Ip4.mask(32));
        assertThrows(IllegalArgumentException.class, () -> Ip4.mask(33));
        assertTrue(Ip4.isMulticast(Ip4.parse("224.0.0.1")));
        assertTrue(Ip4.isMulticast(Ip4.parse("239.255.255.255")));
        assertFalse(Ip4.isMulticast(Ip4.parse("240.0.0.1")));
        assertTrue(Ip4.isBroadcast(-1));
        assertTrue(Ip4.isBroadcast(Ip4.parse("10.77.0.255"), Ip4.parse("10.77.0.0"), 24));
        assertFalse(Ip4.isBroadcast(Ip4.parse("10.77.1.255"), Ip4.parse("10.77.0.0"), 24));
        assertFalse(Ip4.isBroadcast(Ip4.parse("10.77.0.1"), Ip4.parse("10.77.0.0"), 31));
        assertTrue(Ip4.inSubnet(Ip4.parse("10.77.0.9"), Ip4.parse("10.77.0.0"), 24));
        assertTrue(Ip4.isLinkLocal(Ip4.parse("169.254.3.4")));
        assertTrue(Ip4.isLoopback(Ip4.LOOPBACK));
    }

    @Test
    void ip4ReadReturnsZeroWhenShort() {
        ByteBuf b = Unpooled.wrappedBuffer(new byte[]{10, 77, 0, 1, 2});
        try {
            assertEquals(0x0A4D_0001, Ip4.read(b, 0));
            assertEquals(0, Ip4.read(b, 2));
            assertEquals(0, Ip4.read(b, -3));
        } finally {
            b.release();
        }
    }

    @Test
    void ip6ParseFormatRoundTripsAgainstJdk() throws Exception {
        String[][] cases = {
                {"2001:db8::1", "2001:db8::1"},
                {"::", "::"},
                {"::1", "::1"},
                {"fe80::ff:fe00:a01", "fe80::ff:fe00:a01"},
                {"2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},        // RFC 5952 §4.2.3: first longest run
                {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},     // single zero group not compressed
                {"ff02::1:ff00:2", "ff02::1:ff00:2"},
                {"::ffff:192.0.2.1", "::ffff:c000:201"},
                {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
                {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
                {"0:0:0:0:0:0:0:0", "::"},
                {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},
        };
        for (String[] c : cases) {
            long hi = Ip6.parseHi(c[0]);
            long lo = Ip6.parseLo(c[0]);
            assertEquals(c[1], Ip6.format(hi, lo), c[0]);
            if (c[0].startsWith("::ffff:")) {
                continue; // the JDK turns IPv4-mapped text into an Inet4Address
            }
            Inet6Address jdk = (Inet6Address) InetAddress.getByName(c[0]);
            assertEquals(Ip6.hi(jdk), hi, c[0]);
            assertEquals(Ip6.lo(jdk), lo, c[0]);
            assertEquals(jdk, Ip6.toInet(hi, lo));
        }
        assertEquals(0x2001_0db8_0000_0000L, Ip6.parseHi("2001:db8::1"));
        assertEquals(1L, Ip6.parseLo("2001:db8::1"));
        for (String bad : new String[]{"", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::",
                "1:2:3:4:5:6:7", ":1::", "1::2:", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "fe80::1%eth0", "[::1]",
                "::ffff:01.2.3.4", "1.2.3.4", "::ffff:1.2.3.4 "}) {
            assertThrows(IllegalArgumentException.class, () -> Ip6.parseBytes(bad), bad);
        }
        assertEquals(0x0000_0000_0000_0000L, Ip6.parseHi("::ffff:192.0.2.1"));
        assertEquals(0x0000_ffff_c000_0201L, Ip6.parseLo("::ffff:192.0.2.1"));
        assertEquals(0x0000_0000_c000_0201L, Ip6.parseLo("::192.0.2.1"), "IPv4-compatible text stays as written");
        // RFC 6052 NAT64 text and the full form 3 of RFC 4291 §2.2
        assertEquals(0x0064_ff9b_0000_0000L, Ip6.parseHi("64:ff9b::198.51.100.7"));
        assertEquals(0x0000_0000_c633_6407L, Ip6.parseLo("64:ff9b::198.51.100.7"));
        assertEquals(0x0000_0005_0006_0102L, Ip6.parseLo("1:2:3:4:5:6:1.2.3.4") >>> 16);
    }

    @Test
    void ip6PredicatesMasksAndDerivedAddresses() {
        assertTrue(Ip6.isMulticast(Ip6.ALL_NODES_HI));
        assertFalse(Ip6.isMulticast(Ip6.parseHi("fe80::1")));
        assertTrue(Ip6.isLinkLocal(Ip6.parseHi("fe80::1")));
        assertTrue(Ip6.isLinkLocal(Ip6.parseHi("febf::1")));
        assertFalse(Ip6.isLinkLocal(Ip6.parseHi("fec0::1")));
        assertTrue(Ip6.isUnspecified(0, 0));
        assertTrue(Ip6.isLoopback(0, 1));
        // solicited-node of fd77::2 is ff02::1:ff00:2 (seen on the wire in Captures.NDP_NS)
        assertEquals(Ip6.parseHi("ff02::1:ff00:2"), Ip6.solicitedNodeHi());
        assertEquals(Ip6.parseLo("ff02::1:ff00:2"), Ip6.solicitedNodeLo(Ip6.parseLo("fd77::2")));
        assertTrue(Ip6.isSolicitedNode(Ip6.parseHi("ff02::1:ff12:3456"), Ip6.parseLo("ff02::1:ff12:3456")));
        assertFalse(Ip6.isSolicitedNode(Ip6.ALL_NODES_HI, Ip6.ALL_NODES_LO));
        // EUI-64 of 02:00:00:00:0a:01 is fe80::ff:fe00:a01 (the kernel's link-local in the captures)
        assertEquals(Ip6.parseLo("fe80::ff:fe00:a01"), Ip6.linkLocalLoFromMac(0x0200_0000_0a01L));
        assertEquals(Ip6.parseLo("fe80::5054:ff:fe12:3456"), Ip6.linkLocalLoFromMac(0x5254_0012_3456L));
        assertEquals(0, Ip6.maskHi(0));
        assertEquals(0xFFFF_FFFF_0000_0000L, Ip6.maskHi(32));
        assertEquals(-1L, Ip6.maskHi(64));
        assertEquals(0, Ip6.maskLo(64));
        assertEquals(0xFF00_0000_0000_0000L, Ip6.maskLo(72));
        assertEquals(-1L, Ip6.maskLo(128));
        assertThrows(IllegalArgumentException.class, () -> Ip6.maskLo(129));
        assertTrue(Ip6.inSubnet(Ip6.parseHi("fd77::9"), 9, Ip6.parseHi("fd77::"), 0, 64));
        assertFalse(Ip6.inSubnet(Ip6.parseHi("fd78::9"), 9, Ip6.parseHi("fd77::"), 0, 64));
    }

    @Test
    void ip6ReadWrite() {
        ByteBuf b = Unpooled.buffer();
        try {
            Ip6.write(b, 0xfd77_0000_0000_0000L, 2);
            assertEquals("fd770000000000000000000000000002", WireTestBuffers.toHex(b));
            assertEquals(0xfd77_0000_0000_0000L, Ip6.readHi(b, 0));
            assertEquals(2L, Ip6.readLo(b, 0));
            assertEquals(0, Ip6.readHi(b, 1));
            assertEquals(0, Ip6.readLo(b, 1));
            assertNotEquals(0, Ip6.readHi(b, 0));
        } finally {
            b.release();
        }
    }

    @Test
    void wireErrorNames() {
        assertEquals("OK", WireError.name(20));
        assertEquals("TRUNCATED", WireError.name(WireError.TRUNCATED));
        assertEquals("BAD_CHECKSUM", WireError.name(WireError.BAD_CHECKSUM));
        assertEquals("ERROR(-99)", WireError.name(-99));
        assertEquals("tcp", IpProtocol.name(6));
        assertTrue(IpProtocol.isIpv6ExtensionHeader(IpProtocol.IPV6_FRAG));
        assertFalse(IpProtocol.isIpv6ExtensionHeader(IpProtocol.ICMPV6));
    }
}

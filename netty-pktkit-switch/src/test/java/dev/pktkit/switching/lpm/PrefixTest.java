package dev.pktkit.switching.lpm;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrefixTest {
    @Test
    void parsesAndNormalisesIpv4() {
        Prefix p = Prefix.parse("10.1.2.3/8");
        assertFalse(p.isIpv6());
        assertEquals(0x0A000000, p.ipv4Address());
        assertEquals(8, p.length());
        assertEquals("10.0.0.0/8", p.toString());
        assertEquals(Prefix.ipv4(0x0A0000FF, 8), p);
        assertEquals("192.0.2.1/32", Prefix.parse("192.0.2.1").toString());
        assertEquals("0.0.0.0/0", Prefix.parse("255.255.255.255/0").toString());
        assertEquals(0xC0000201, Ip4.parse("192.0.2.1"));
        assertTrue(p.contains(0x0AFFFFFF));
        assertFalse(p.contains(0x0B000000));
    }

    @Test
    void parsesAndNormalisesIpv6() {
        Prefix p = Prefix.parse("2001:db8:1:2::5/32");
        assertTrue(p.isIpv6());
        assertEquals(0x2001_0db8_0000_0000L, p.hi());
        assertEquals(0L, p.lo());
        assertEquals("2001:db8::/32", p.toString());
        assertEquals("::/0", Prefix.parse("::/0").toString());
        assertEquals("::1/128", Prefix.parse("::1").toString());
        Prefix mapped = Prefix.parse("::ffff:192.0.2.1/128");
        assertEquals(0L, mapped.hi());
        assertEquals(0x0000_ffff_c000_0201L, mapped.lo());
        assertEquals("1:2:3:4:5:6:7:8/128", Prefix.parse("1:2:3:4:5:6:7:8").toString());
        assertEquals("1:0:0:4::/64", Prefix.parse("1:0:0:4:0:0:0:0/64").toString());
        assertEquals("2001:db8::1:0:0:1/128", Prefix.parse("2001:DB8:0:0:1:0:0:1").toString());
        assertEquals("1::/16", Prefix.parse("1::/16").toString());
        assertEquals("1:0:2::/48", Prefix.parse("1:0:2::/48").toString());
        assertTrue(p.contains(0x2001_0db8_ffff_0000L, 7));
        assertFalse(p.contains(0x2001_0db9_0000_0000L, 0));
    }

    @Test
    void rejectsMalformedText() {
        String[] bad = {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0/8", "10.0.0.0.0", "256.0.0.0", "1.2.3.-4",
                "10.0.0.0/-1", "10.0.0.0/1a", "1::2::3", "12345::", ":1::", "1:::2", "1:2:3:4:5:6:7:8:9",
                "1:2:3:4:5:6:7::8", "1:2:3:4:5:6:7", "g::", "::/129", "1:", "1.2.3.4::", "::1.2.3", "fe80::1%eth0"};
        for (String s : bad) {
            assertThrows(IllegalArgumentException.class, () -> Prefix.parse(s), s);
        }
        assertThrows(IllegalArgumentException.class, () -> Prefix.ipv4(0, 33));
        assertThrows(IllegalArgumentException.class, () -> Prefix.ipv6(0, 0, -1));
        assertThrows(IllegalStateException.class, () -> Prefix.parse("::/0").ipv4Address());
        assertThrows(IllegalStateException.class, () -> Prefix.parse("0.0.0.0/0").hi());
    }

    /** Formatting and parsing against the JDK's own IPv6 parser (a literal: no name lookup happens). */
    @Test
    void ipv6RoundTripsAgainstTheJdk() throws Exception {
        Random rnd = new Random(7);
        for (int i = 0; i < 5000; i++) {
            long hi = sparse(rnd);
            long lo = sparse(rnd);
            String text = Ip6.format(hi, lo);
            Prefix back = Prefix.parse(text);
            assertEquals(hi, back.hi(), text);
            assertEquals(lo, back.lo(), text);
            ByteBuffer b = ByteBuffer.wrap(InetAddress.getByName(text).getAddress());
            if (b.capacity() == 16) { // the JDK turns ::ffff:a.b.c.d into an IPv4 address
                assertEquals(hi, b.getLong(0), text);
                assertEquals(lo, b.getLong(8), text);
            }
        }
    }

    @Test
    void ordersIpv4FirstThenByAddressThenLength() {
        assertTrue(Prefix.parse("10.0.0.0/8").compareTo(Prefix.parse("10.0.0.0/16")) < 0);
        assertTrue(Prefix.parse("10.0.0.0/16").compareTo(Prefix.parse("128.0.0.0/1")) < 0);
        assertTrue(Prefix.parse("255.0.0.0/8").compareTo(Prefix.parse("::/0")) < 0);
        assertTrue(Prefix.parse("8000::/1").compareTo(Prefix.parse("::1/128")) > 0);
    }

    /** Random 64-bit values with many zero 16-bit groups, so :: compression is exercised. */
    private static long sparse(Random rnd) {
        long v = 0;
        for (int g = 0; g < 4; g++) {
            v = (v << 16) | (rnd.nextInt(3) == 0 ? rnd.nextInt(0x10000) : 0);
        }
        return v;
    }
}

package dev.pktkit.nat.nat64;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class Nat64PrefixTest {
    /** RFC 6052 §2.4's table: 192.0.2.33 under each prefix length. */
    @Test
    void rfc6052Examples() {
        String[][] cases = {
                {"2001:db8::/32", "2001:db8:c000:221::"},
                {"2001:db8:100::/40", "2001:db8:1c0:2:21::"},
                {"2001:db8:122::/48", "2001:db8:122:c000:2:2100::"},
                {"2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"},
                {"2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"},
                {"2001:db8:122:344::/96", "2001:db8:122:344::c000:221"},
        };
        int v4 = Ip4.parse("192.0.2.33");
        for (String[] c : cases) {
            Nat64Prefix p = Nat64Prefix.parse(c[0]);
            long hi = Ip6.parseHi(c[1]);
            long lo = Ip6.parseLo(c[1]);
            assertEquals(hi, p.embedHi(v4), c[0]);
            assertEquals(lo, p.embedLo(v4), c[0]);
            assertTrue(p.contains(hi, lo));
            assertEquals(v4, p.extract(hi, lo), c[0]);
        }
        assertEquals("64:ff9b::/96", Nat64Prefix.WELL_KNOWN.toString());
        assertThrows(IllegalArgumentException.class, () -> Nat64Prefix.parse("2001:db8::/33"));
        assertFalse(Nat64Prefix.WELL_KNOWN.contains(Ip6.parseHi("2001:db8::1"), Ip6.parseLo("2001:db8::1")));
    }
}

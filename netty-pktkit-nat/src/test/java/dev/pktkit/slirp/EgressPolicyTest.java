package dev.pktkit.slirp;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link EgressPolicy}: first match decides, prefixes of every length in both families, port ranges, default. */
class EgressPolicyTest {
    private static InetSocketAddress at(String a, int port) {
        return new InetSocketAddress(a, port);
    }

    @Test
    void firstMatchingRuleDecidesThenTheDefault() {
        EgressPolicy p = EgressPolicy.builder().deny("10.0.0.0/8").allow("10.1.0.0/16").allow("0.0.0.0/0", 80, 443)
                .allow("2001:db8::/32", 53, 53).deny("::/0").defaultAllow(false).build();
        assertFalse(p.test(at("10.1.2.3", 80)), "the deny of 10/8 comes first");
        assertTrue(p.test(at("198.51.100.7", 80)));
        assertTrue(p.test(at("198.51.100.7", 443)));
        assertFalse(p.test(at("198.51.100.7", 444)), "no rule: the default");
        assertTrue(p.test(at("2001:db8:1::5", 53)));
        assertFalse(p.test(at("2001:db9::5", 53)), "outside the /32");
        assertFalse(p.test(at("2001:db8::5", 80)), "::/0 denies");
    }

    @Test
    void prefixLengthsAreExact() {
        EgressPolicy v4 = EgressPolicy.builder().deny("192.0.2.128/25").build();
        assertTrue(v4.test(at("192.0.2.127", 1)));
        assertFalse(v4.test(at("192.0.2.128", 1)));
        assertFalse(v4.test(at("192.0.2.255", 1)));
        assertTrue(v4.test(at("192.0.3.128", 1)));
        EgressPolicy host = EgressPolicy.builder().deny("203.0.113.9").build();
        assertFalse(host.test(at("203.0.113.9", 7)));
        assertTrue(host.test(at("203.0.113.8", 7)));
        EgressPolicy v6 = EgressPolicy.builder().deny("2001:db8::8000:0:0:0/65").deny("2001:db8:0:1::1/128").build();
        assertTrue(v6.test(at("2001:db8::7fff:ffff:ffff:ffff", 1)));
        assertFalse(v6.test(at("2001:db8::8000:0:0:1", 1)));
        assertFalse(v6.test(at("2001:db8:0:1::1", 1)));
        assertTrue(v6.test(at("2001:db8:0:1::2", 1)));
        assertTrue(v6.test(at("198.51.100.1", 1)), "an IPv6 rule never matches IPv4");
    }

    @Test
    void badRulesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> EgressPolicy.builder().deny("example.com/8"));
        assertThrows(IllegalArgumentException.class, () -> EgressPolicy.builder().deny("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> EgressPolicy.builder().deny("::/129"));
        assertThrows(IllegalArgumentException.class, () -> EgressPolicy.builder().allow("10.0.0.0/8", 90, 80));
    }
}

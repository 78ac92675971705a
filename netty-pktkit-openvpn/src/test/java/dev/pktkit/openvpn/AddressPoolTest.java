package dev.pktkit.openvpn;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AddressPoolTest {
    @Test
    void hostsAfterTheServerUntilExhaustedThenReuse() {
        AddressPool p = AddressPool.parse("10.8.0.0 255.255.255.248"); // /29: .1 server, .2-.6 clients
        assertEquals("10.8.0.1", p.serverAddress().getHostAddress());
        assertEquals("255.255.255.248", p.netmask().getHostAddress());
        assertEquals(5, p.capacity());
        Set<String> got = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            got.add(p.allocate().getHostAddress());
        }
        assertEquals(Set.of("10.8.0.2", "10.8.0.3", "10.8.0.4", "10.8.0.5", "10.8.0.6"), got);
        assertNull(p.allocate(), "exhausted");
        p.release(AddressPool.v4("10.8.0.4"));
        assertEquals("10.8.0.4", p.allocate().getHostAddress());
        assertEquals(5, p.inUse());
    }

    @Test
    void badDirectivesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("10.8.0.0"));
        assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("10.8.0.0 255.0.255.0"));
        assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("10.8.0.0 255.255.255.255"));
        assertThrows(IllegalArgumentException.class, () -> AddressPool.parse("example.com 255.255.255.0"));
        assertTrue(AddressPool.parse("10.8.0.0 255.255.0.0").capacity() > 65000);
    }
}

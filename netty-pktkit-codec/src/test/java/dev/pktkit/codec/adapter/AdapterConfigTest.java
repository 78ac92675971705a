package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Ip4;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.pktkit.codec.adapter.AdapterHarness.mac;
import static dev.pktkit.codec.adapter.AdapterHarness.udp4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** {@code build()} snapshots the builder: adapters do not share a MAC or follow later builder changes. */
class AdapterConfigTest {
    @Test
    void everyBuildDrawsItsOwnRandomMac() {
        L2Adapter.Builder b = L2Adapter.builder();
        Set<Long> macs = new HashSet<>();
        for (int i = 0; i < 16; i++) {
            macs.add(b.build().mac());
        }
        assertEquals(16, macs.size(), "16 builds, 16 MACs");
        L2Adapter.Builder fixed = L2Adapter.builder().mac(mac("02:00:00:00:00:42"));
        assertEquals(fixed.build().mac(), fixed.build().mac(), "a set MAC is kept");
    }

    @Test
    void builderChangesAfterBuildDoNotReachTheAdapter() {
        L2Adapter.Builder b = L2Adapter.builder().mac(L2AdapterIpv4Test.ME).ipv4("10.0.0.1/24").gateway("10.0.0.254").ipv6(false)
                .retransmitInterval(Duration.ofSeconds(1)).maxMulticastSolicit(3);
        L2Adapter adapter = b.build();
        b.ipv4("10.9.9.9/8").gateway("10.0.0.253").retransmitInterval(Duration.ofSeconds(30)).maxMulticastSolicit(9)
                .route(Ip4.toInet(Ip4.parse("192.168.0.0")), 16, Ip4.toInet(Ip4.parse("10.0.0.7")));
        try (AdapterHarness h = new AdapterHarness(adapter)) {
            h.discardOut();
            assertEquals("10.0.0.1", adapter.ipv4Address().getHostAddress());
            assertEquals(24, adapter.ipv4PrefixLength());
            // Off-link traffic goes to the gateway of the snapshot (not to the later route or gateway) ...
            io.netty.channel.ChannelFuture w = h.channel.writeAndFlush(
                    udp4("10.0.0.1", "192.168.1.1", L2Adapter.HEADROOM, 4));
            L2AdapterIpv4Test.assertArpRequest(h.frameOut(), dev.pktkit.codec.wire.MacAddress.BROADCAST,
                    "10.0.0.254");
            // ... retried every second (not every 30 s), three times in all (not nine).
            int requests = 1;
            for (int s = 0; s < 5; s++) {
                h.advance(1, TimeUnit.SECONDS);
                for (ByteBuf f; (f = h.frameOut()) != null; ) {
                    requests++;
                    f.release();
                }
            }
            assertEquals(3, requests);
            assertEquals(java.net.NoRouteToHostException.class, w.cause().getClass());
            ByteBuf icmp = h.packetUp();
            assertNotNull(icmp, "host unreachable goes up");
            icmp.release();
            assertEquals(1, adapter.counters().drops(AdapterDropReason.UNRESOLVED));
        }
        L2Adapter second = b.build();
        try (AdapterHarness h = new AdapterHarness(second)) {
            assertNotNull(second.ipv4Address());
            assertEquals("10.9.9.9", second.ipv4Address().getHostAddress());
        }
        assertNull(L2Adapter.builder().build().ipv4Address());
    }
}

package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Ethernet;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import static dev.pktkit.codec.adapter.AdapterHarness.arpRequest;
import static dev.pktkit.codec.adapter.AdapterHarness.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link AdapterMetrics} exports the adapter's live counters to a Micrometer registry and removes them on close. */
class AdapterMetricsTest {
    static final long OWN = mac("02:00:00:00:00:0a");
    static final long PROBER = mac("02:00:00:00:00:0b");

    @Test
    void metersFollowTheAdapter() {
        L2Adapter adapter = L2Adapter.builder().mac(OWN).ipv4("10.0.0.23/24").ipv6(false).build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AdapterMetrics metrics = new AdapterMetrics(adapter.counters(), Tags.of("adapter", "lan"));
        metrics.bindTo(registry);
        try (AdapterHarness h = new AdapterHarness(adapter)) {
            h.discardOut(); // gratuitous ARP
            h.frameIn(arpRequest(PROBER, "0.0.0.0", "10.0.0.23"));
            h.discardOut();
            ByteBuf odd = PooledByteBufAllocator.DEFAULT.buffer(60);
            Ethernet.writeHeader(odd, OWN, PROBER, 0x88b5); // local experimental EtherType
            odd.writeZero(46);
            h.frameIn(odd);
            assertEquals(0, odd.refCnt(), "dropped and released");

            assertEquals(2.0, registry.get("pktkit.adapter.arp.out").tag("adapter", "lan").functionCounter()
                    .count());
            assertEquals(1.0, registry.get("pktkit.adapter.arp.in").functionCounter().count());
            assertEquals(1.0, registry.get("pktkit.adapter.arp.probes.answered").functionCounter().count());
            assertEquals(1.0, registry.get("pktkit.adapter.drops").tags("adapter", "lan",
                    "reason", "unsupported_ethertype").functionCounter().count());
            assertEquals(0.0, registry.get("pktkit.adapter.drops").tag("reason", "no_route").functionCounter()
                    .count());
            assertEquals("arp_in=1 arp_out=2 arp_probes_answered=1 unsupported_ethertype=1",
                    adapter.counters().toString());
        }
        metrics.close();
        assertTrue(registry.getMeters().isEmpty());
    }
}

package dev.pktkit.tuntap;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TunTapMetrics} exports a channel's {@link TunTapCounters} as live meters (the counters are fed directly
 * here, as the reader and writer do; the device tests cover who counts what).
 */
class TunTapMetricsTest {
    @Test
    void metersReadTheLiveCountersAndCloseRemovesThem() {
        TunTapCounters c = new TunTapCounters();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TunTapMetrics metrics = new TunTapMetrics(c, Tags.of("device", "tun0"));
        metrics.bindTo(registry);
        c.packetIn(1500);
        c.packetIn(60);
        c.readBatch();
        c.packetOut(100);
        c.largeIn();
        c.dropped(TunTapDropReason.TRUNCATED);
        assertEquals(2.0, registry.get("pktkit.tuntap.packets.in").tag("device", "tun0").functionCounter().count());
        assertEquals(1560.0, registry.get("pktkit.tuntap.bytes.in").functionCounter().count());
        assertEquals(1.0, registry.get("pktkit.tuntap.packets.out").functionCounter().count());
        assertEquals(1.0, registry.get("pktkit.tuntap.large.segments.in").functionCounter().count());
        assertEquals(1.0, registry.get("pktkit.tuntap.read.batches").functionCounter().count());
        assertEquals(1.0, registry.get("pktkit.tuntap.drops").tags("device", "tun0", "reason", "truncated")
                .functionCounter().count());
        assertEquals("in=2/1560B out=1/100B large in/out=1/0 truncated=1", c.toString());
        metrics.close();
        assertTrue(registry.getMeters().isEmpty());
    }
}

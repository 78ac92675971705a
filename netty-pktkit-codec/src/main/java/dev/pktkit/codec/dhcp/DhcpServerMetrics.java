package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.stats.CountersBinder;
import dev.pktkit.codec.stats.MicrometerCounters;
import io.micrometer.core.instrument.Tag;

/**
 * The Micrometer binder of one {@link DhcpServer}: {@code pktkit.dhcp.messages.in{type=discover}},
 * {@code pktkit.dhcp.messages.out{type=offer}}, {@code pktkit.dhcp.drops{reason=...}},
 * {@code pktkit.dhcp.lease.events{kind=granted}} and {@code pktkit.dhcp.offers.withdrawn}, each carrying
 * {@code tags}. They read the live counters; nothing runs on the data path.
 *
 * <pre>{@code
 * new DhcpServerMetrics(server.counters(), Tags.of("server", "lan")).bindTo(registry);
 * }</pre>
 *
 * <p>Requires {@code io.micrometer:micrometer-core} (an optional dependency of this module).
 */
public final class DhcpServerMetrics extends CountersBinder {
    /** Meters for {@code counters}, each with {@code tags}. */
    public DhcpServerMetrics(DhcpServerCounters counters, Iterable<Tag> tags) {
        super(MicrometerCounters.tagged("pktkit.dhcp.messages.in", counters.receivedCounters(), "type", tags),
                MicrometerCounters.tagged("pktkit.dhcp.messages.out", counters.sentCounters(), "type", tags),
                MicrometerCounters.tagged("pktkit.dhcp.drops", counters.dropCounters(), "reason", tags),
                MicrometerCounters.tagged("pktkit.dhcp.lease.events", counters.leaseEventCounters(), "kind", tags),
                MicrometerCounters.named("pktkit.dhcp", counters.eventCounters(), tags));
    }
}

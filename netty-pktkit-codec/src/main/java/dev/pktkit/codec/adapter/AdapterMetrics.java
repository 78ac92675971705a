package dev.pktkit.codec.adapter;

import dev.pktkit.codec.stats.CountersBinder;
import dev.pktkit.codec.stats.MicrometerCounters;
import io.micrometer.core.instrument.Tag;

/**
 * The Micrometer binder of one {@link L2Adapter}: {@code pktkit.adapter.packets.in}, {@code .packets.out},
 * {@code .arp.in}, ... (one counter per {@link AdapterCounters.Traffic} constant) and
 * {@code pktkit.adapter.drops{reason=...}}, each carrying {@code tags}. They read the live counters; nothing runs on
 * the data path.
 *
 * <pre>{@code
 * AdapterMetrics metrics = new AdapterMetrics(adapter.counters(), Tags.of("adapter", "lan"));
 * metrics.bindTo(registry);   // ... metrics.close() removes the meters again
 * }</pre>
 *
 * <p>Requires {@code io.micrometer:micrometer-core} (an optional dependency of this module).
 */
public final class AdapterMetrics extends CountersBinder {
    /** Meters for {@code counters}, each with {@code tags}. */
    public AdapterMetrics(AdapterCounters counters, Iterable<Tag> tags) {
        super(MicrometerCounters.named("pktkit.adapter", counters.trafficCounters(), tags),
                MicrometerCounters.tagged("pktkit.adapter.drops", counters.dropCounters(), "reason", tags));
    }
}

package dev.pktkit.tuntap;

import dev.pktkit.codec.stats.CountersBinder;
import dev.pktkit.codec.stats.MicrometerCounters;
import io.micrometer.core.instrument.Tag;

/**
 * The Micrometer binder of one TUN/TAP channel: {@code pktkit.tuntap.packets.in}, {@code .bytes.in},
 * {@code .packets.out}, {@code .bytes.out}, {@code .large.segments.in}, {@code .large.segments.out},
 * {@code .read.batches} and {@code pktkit.tuntap.drops{reason=...}}, each carrying {@code tags} (say, the device
 * name and queue). They read the live counters; nothing runs on the data path.
 *
 * <pre>{@code
 * new TunTapMetrics(tun.counters(), Tags.of("device", "tun0")).bindTo(registry);
 * }</pre>
 *
 * <p>Requires {@code io.micrometer:micrometer-core} (an optional dependency of this module).
 */
public final class TunTapMetrics extends CountersBinder {
    /** Meters for {@code counters}, each with {@code tags}. */
    public TunTapMetrics(TunTapCounters counters, Iterable<Tag> tags) {
        super(MicrometerCounters.named("pktkit.tuntap", counters.trafficCounters(), tags),
                MicrometerCounters.tagged("pktkit.tuntap.drops", counters.dropCounters(), "reason", tags));
    }
}

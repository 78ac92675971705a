package dev.pktkit.qemu;

import dev.pktkit.codec.stats.CountersBinder;
import dev.pktkit.codec.stats.MicrometerCounters;
import io.micrometer.core.instrument.Tag;

/**
 * The Micrometer binder of one QEMU channel: {@code pktkit.qemu.frames.in}, {@code .bytes.in},
 * {@code .frames.out}, {@code .bytes.out} and {@code pktkit.qemu.drops{reason=...}}, each carrying {@code tags}
 * (say, the guest's name). They read the live counters; nothing runs on the data path. Close it when the guest
 * goes away.
 *
 * <pre>{@code
 * QemuMetrics m = new QemuMetrics(QemuFrameCounters.of(channel), Tags.of("guest", "vm1"));
 * m.bindTo(registry);
 * channel.closeFuture().addListener(f -> m.close());
 * }</pre>
 *
 * <p>Requires {@code io.micrometer:micrometer-core} (an optional dependency of this module).
 */
public final class QemuMetrics extends CountersBinder {
    /** Meters for {@code counters}, each with {@code tags}. */
    public QemuMetrics(QemuFrameCounters counters, Iterable<Tag> tags) {
        super(MicrometerCounters.named("pktkit.qemu", counters.trafficCounters(), tags),
                MicrometerCounters.tagged("pktkit.qemu.drops", counters.dropCounters(), "reason", tags));
    }
}

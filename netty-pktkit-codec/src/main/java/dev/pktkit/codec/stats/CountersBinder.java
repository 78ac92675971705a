package dev.pktkit.codec.stats;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;

/**
 * Several {@link MicrometerCounters} bound and removed together: the meters of one device or port (its traffic
 * counters and its drop reasons). Each device of this project has a subclass that knows its meter names, e.g.
 * {@code new AdapterMetrics(adapter.counters(), Tags.of("adapter", "lan")).bindTo(registry)}; {@link #of} groups
 * any others.
 *
 * <p>Requires {@code io.micrometer:micrometer-core} (an optional dependency of this module).
 */
public class CountersBinder implements MeterBinder, AutoCloseable {
    private final List<MicrometerCounters> parts;

    /** A binder over {@code parts}, bound in order. */
    protected CountersBinder(MicrometerCounters... parts) {
        this.parts = List.of(parts);
    }

    /** A binder over {@code parts}, bound in order. */
    public static CountersBinder of(MicrometerCounters... parts) {
        return new CountersBinder(parts);
    }

    /** Registers every part's meters with {@code registry}; a binder binds to one registry once. */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        for (MicrometerCounters p : parts) {
            p.bindTo(registry);
        }
    }

    /** Removes every part's meters again (the device went away). */
    @Override
    public synchronized void close() {
        for (MicrometerCounters p : parts) {
            p.close();
        }
    }
}

package dev.pktkit.codec.stats;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Exports {@link EnumCounters} to Micrometer as {@link FunctionCounter}s that read the live counts: nothing is
 * copied or scheduled, and the data path does not know Micrometer exists.
 *
 * <p>Two shapes, as Micrometer's naming conventions suggest: {@link #tagged} makes one meter whose constants are
 * values of one tag (drop reasons: {@code pktkit.port.drops{reason=no_route}}), {@link #named} one meter per
 * constant (traffic: {@code pktkit.port.frames.in}, {@code pktkit.port.bytes.in}, with the constant's name in
 * lower case and {@code _} turned into {@code .}). Each binder is one device or port; {@link #close()} removes
 * its meters again, for ports that come and go.
 *
 * <pre>{@code
 * MicrometerCounters m = MicrometerCounters.tagged("pktkit.dhcp.drops", server.counters().dropCounters(),
 *         "reason", Tags.of("server", "lan"));
 * m.bindTo(registry);
 * }</pre>
 *
 * <p>Requires {@code io.micrometer:micrometer-core} (an optional dependency of this module).
 */
public final class MicrometerCounters implements MeterBinder, AutoCloseable {
    private final String name;
    private final EnumCounters<?> counters;
    private final String tagKey;
    private final Tags tags;
    private final String description;
    private final List<Meter> meters = new ArrayList<>();
    private MeterRegistry registry;

    private MicrometerCounters(String name, EnumCounters<?> counters, String tagKey, Iterable<Tag> tags,
                               String description) {
        this.name = Objects.requireNonNull(name, "name");
        this.counters = Objects.requireNonNull(counters, "counters");
        this.tagKey = tagKey;
        this.tags = Tags.of(tags);
        this.description = description;
    }

    /** One meter {@code name}, with the counted constant as the value of tag {@code tagKey}. */
    public static MicrometerCounters tagged(String name, EnumCounters<?> counters, String tagKey,
                                            Iterable<Tag> tags) {
        return new MicrometerCounters(name, counters, Objects.requireNonNull(tagKey, "tagKey"), tags, null);
    }

    /** One meter per constant, named {@code prefix.<constant>}. */
    public static MicrometerCounters named(String prefix, EnumCounters<?> counters, Iterable<Tag> tags) {
        return new MicrometerCounters(prefix, counters, null, tags, null);
    }

    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        if (this.registry != null) {
            throw new IllegalStateException("already bound to a registry");
        }
        this.registry = registry;
        for (Enum<?> key : counters.keys()) {
            meters.add(register(registry, key));
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private Meter register(MeterRegistry registry, Enum<?> key) {
        EnumCounters raw = counters;
        String meterName;
        Tags meterTags;
        if (tagKey != null) {
            meterName = name;
            meterTags = tags.and(tagKey, EnumCounters.nameOf(key));
        } else {
            meterName = name + '.' + EnumCounters.nameOf(key).replace('_', '.');
            meterTags = tags;
        }
        return FunctionCounter.builder(meterName, raw, c -> (double) c.get((Enum) key))
                .tags(meterTags)
                .description(description)
                .register(registry);
    }

    /** Removes this binder's meters from the registry it was bound to (a port that went away). */
    @Override
    public synchronized void close() {
        if (registry != null) {
            for (Meter m : meters) {
                registry.remove(m);
            }
            meters.clear();
            registry = null;
        }
    }
}

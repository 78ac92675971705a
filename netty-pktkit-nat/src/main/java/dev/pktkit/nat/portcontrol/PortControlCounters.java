package dev.pktkit.nat.portcontrol;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** Counters of a {@link PortControl}, readable from any thread. */
public final class PortControlCounters {
    private static final PortControlCounter[] ALL = PortControlCounter.values();
    private final AtomicLongArray values = new AtomicLongArray(ALL.length);

    void add(PortControlCounter c) {
        values.incrementAndGet(c.ordinal());
    }

    public long get(PortControlCounter c) {
        return values.get(c.ordinal());
    }

    /** The non-zero counters. */
    public Map<PortControlCounter, Long> snapshot() {
        Map<PortControlCounter, Long> m = new EnumMap<>(PortControlCounter.class);
        for (PortControlCounter c : ALL) {
            long v = values.get(c.ordinal());
            if (v != 0) {
                m.put(c, v);
            }
        }
        return m;
    }

    @Override
    public String toString() {
        return "PortControlCounters" + snapshot();
    }
}

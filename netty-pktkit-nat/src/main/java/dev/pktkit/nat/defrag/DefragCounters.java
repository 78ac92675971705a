package dev.pktkit.nat.defrag;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** Defragmenter counters; written by the owning loop only, readable from any thread. */
public final class DefragCounters {
    private static final DefragDropReason[] REASONS = DefragDropReason.values();
    private final AtomicLongArray drops = new AtomicLongArray(REASONS.length);
    private final AtomicLongArray counts = new AtomicLongArray(2);

    void drop(DefragDropReason r, int n) {
        drops.lazySet(r.ordinal(), drops.get(r.ordinal()) + n);
    }

    void countReassembled() {
        counts.lazySet(0, counts.get(0) + 1);
    }

    void countFragment() {
        counts.lazySet(1, counts.get(1) + 1);
    }

    /** Fragments dropped for {@code reason} (for OVERLAP and TIMEOUT: every fragment of the datagram). */
    public long dropped(DefragDropReason reason) {
        return drops.get(reason.ordinal());
    }

    /** Datagrams reassembled. */
    public long reassembled() {
        return counts.get(0);
    }

    /** Fragments accepted into a reassembly. */
    public long fragments() {
        return counts.get(1);
    }

    public Map<DefragDropReason, Long> drops() {
        Map<DefragDropReason, Long> m = new EnumMap<>(DefragDropReason.class);
        for (DefragDropReason r : REASONS) {
            if (drops.get(r.ordinal()) != 0) {
                m.put(r, drops.get(r.ordinal()));
            }
        }
        return m;
    }

    @Override
    public String toString() {
        return "DefragCounters{reassembled=" + reassembled() + ", fragments=" + fragments() + ", drops=" + drops()
                + '}';
    }
}

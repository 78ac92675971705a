package dev.pktkit.nat;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Packet and event counters of one NAT. Written only by the NAT's event loop (plain increments published with
 * {@code lazySet}: no lock, no allocation); readable from any thread, each value on its own.
 */
public final class NatCounters {
    private static final NatDropReason[] REASONS = NatDropReason.values();
    private final AtomicLongArray drops = new AtomicLongArray(REASONS.length);
    private final AtomicLongArray counts = new AtomicLongArray(9);
    static final int OUT = 0;
    static final int IN = 1;
    static final int HAIRPIN = 2;
    static final int MAPPINGS_CREATED = 3;
    static final int MAPPINGS_EXPIRED = 4;
    static final int SESSIONS_CREATED = 5;
    static final int SESSIONS_EXPIRED = 6;
    static final int EXPECTATIONS_MATCHED = 7;
    static final int EXPECTATIONS_REFUSED = 8;

    void drop(NatDropReason reason) {
        int i = reason.ordinal();
        drops.lazySet(i, drops.get(i) + 1);
    }

    void count(int which) {
        counts.lazySet(which, counts.get(which) + 1);
    }

    /** Packets of {@code reason} dropped so far. */
    public long dropped(NatDropReason reason) {
        return drops.get(reason.ordinal());
    }

    /** All drops. */
    public long droppedTotal() {
        long n = 0;
        for (int i = 0; i < REASONS.length; i++) {
            n += drops.get(i);
        }
        return n;
    }

    /** Drops by reason, only reasons with a non-zero count; a snapshot. */
    public Map<NatDropReason, Long> drops() {
        Map<NatDropReason, Long> m = new EnumMap<>(NatDropReason.class);
        for (NatDropReason r : REASONS) {
            long v = drops.get(r.ordinal());
            if (v != 0) {
                m.put(r, v);
            }
        }
        return m;
    }

    /** Packets translated inside → outside. */
    public long outbound() {
        return counts.get(OUT);
    }

    /** Packets translated outside → inside. */
    public long inbound() {
        return counts.get(IN);
    }

    /** Packets hairpinned from an inside port back to an inside port through an outside mapping. */
    public long hairpinned() {
        return counts.get(HAIRPIN);
    }

    public long mappingsCreated() {
        return counts.get(MAPPINGS_CREATED);
    }

    public long mappingsExpired() {
        return counts.get(MAPPINGS_EXPIRED);
    }

    public long sessionsCreated() {
        return counts.get(SESSIONS_CREATED);
    }

    public long sessionsExpired() {
        return counts.get(SESSIONS_EXPIRED);
    }

    /** Inbound flows admitted through an expectation. */
    public long expectationsMatched() {
        return counts.get(EXPECTATIONS_MATCHED);
    }

    /** Expectations refused because a bound was reached or the outside port was taken. */
    public long expectationsRefused() {
        return counts.get(EXPECTATIONS_REFUSED);
    }

    @Override
    public String toString() {
        return "NatCounters{out=" + outbound() + ", in=" + inbound() + ", hairpin=" + hairpinned()
                + ", mappings=" + mappingsCreated() + "/" + mappingsExpired() + ", drops=" + drops() + '}';
    }
}

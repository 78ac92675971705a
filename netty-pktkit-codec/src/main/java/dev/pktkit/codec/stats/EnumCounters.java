package dev.pktkit.codec.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * One counter per constant of an enum: the packets, bytes or drops a device or port counts, indexed by what was
 * counted. Two kinds, chosen at creation and the same to use:
 * <ul>
 *   <li>{@link #of}: any thread may add (the cells are {@link LongAdder}s: no lock, no allocation once warm, so
 *       several event loops can count into one port);</li>
 *   <li>{@link #singleWriter}: one thread adds at a time (a device that lives on one event loop), with a plain
 *       increment published by an opaque store: no lock, no fence, no read-modify-write instruction on the data
 *       path. Adds from two threads at once may lose counts; reading from any thread is safe.</li>
 * </ul>
 * Reads are exact once traffic has stopped and approximate while it flows.
 *
 * <p>Every device of this project keeps its counts in these, so one exporter ({@link MicrometerCounters}) and one
 * {@link #toString()} format serve them all.
 *
 * @param <E> what is counted: a drop-reason enum, or an enum of traffic counters
 */
public final class EnumCounters<E extends Enum<E>> {
    private final Class<E> type;
    private final List<E> keys;
    /** Shared kind: one adder per key; null for the single-writer kind. */
    private final LongAdder[] cells;
    /** Single-writer kind: one plain long per key, written with opaque stores; null for the shared kind. */
    private final long[] values;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private EnumCounters(Class<E> type, boolean shared) {
        this.type = type;
        this.keys = List.of(type.getEnumConstants());
        if (shared) {
            this.cells = new LongAdder[keys.size()];
            for (int i = 0; i < cells.length; i++) {
                cells[i] = new LongAdder();
            }
            this.values = null;
        } else {
            this.cells = null;
            this.values = new long[keys.size()];
        }
    }

    /** New counters, all zero, one per constant of {@code type}, that any number of threads may add to at once. */
    public static <E extends Enum<E>> EnumCounters<E> of(Class<E> type) {
        return new EnumCounters<>(Objects.requireNonNull(type, "type"), true);
    }

    /**
     * New counters, all zero, one per constant of {@code type}, for one writing thread at a time (the event loop of
     * the device that owns them); any thread may read.
     */
    public static <E extends Enum<E>> EnumCounters<E> singleWriter(Class<E> type) {
        return new EnumCounters<>(Objects.requireNonNull(type, "type"), false);
    }

    /** Adds one to {@code key}'s counter. */
    public void increment(E key) {
        add(key, 1);
    }

    /** Adds {@code delta} to {@code key}'s counter. */
    public void add(E key, long delta) {
        int i = key.ordinal();
        long[] v = values;
        if (v != null) {
            LONGS.setOpaque(v, i, v[i] + delta);
        } else {
            cells[i].add(delta);
        }
    }

    /** The count of {@code key}. */
    public long get(E key) {
        return get(key.ordinal());
    }

    private long get(int i) {
        long[] v = values;
        return v != null ? (long) LONGS.getOpaque(v, i) : cells[i].sum();
    }

    /** Whether any number of threads may add at once ({@link #of}) rather than one ({@link #singleWriter}). */
    public boolean isShared() {
        return cells != null;
    }

    /** The counts of all keys together (for drop reasons: all drops). */
    public long sum() {
        long n = 0;
        for (int i = 0; i < keys.size(); i++) {
            n += get(i);
        }
        return n;
    }

    /** The enum whose constants are counted. */
    public Class<E> type() {
        return type;
    }

    /** The constants counted, in declaration order. */
    public List<E> keys() {
        return keys;
    }

    /** A point-in-time copy of every count. */
    public Map<E, Long> snapshot() {
        EnumMap<E, Long> m = new EnumMap<>(type);
        for (E k : keys) {
            m.put(k, get(k));
        }
        return m;
    }

    /** Sets every count back to zero (not atomic with concurrent adds). */
    public void reset() {
        for (int i = 0; i < keys.size(); i++) {
            if (values != null) {
                LONGS.setOpaque(values, i, 0L);
            } else {
                cells[i].reset();
            }
        }
    }

    /** The name a count is known by outside Java: the constant's name in lower case, e.g. {@code no_route}. */
    public static String nameOf(Enum<?> key) {
        return key.name().toLowerCase(Locale.ROOT);
    }

    /** The non-zero counts as {@code name=count} pairs separated by spaces, in declaration order. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (E k : keys) {
            long v = get(k);
            if (v != 0) {
                if (!sb.isEmpty()) {
                    sb.append(' ');
                }
                sb.append(nameOf(k)).append('=').append(v);
            }
        }
        return sb.toString();
    }
}

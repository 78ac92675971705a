package dev.pktkit.codec.stats;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * One counter per constant of an enum: the packets, bytes or drops a device or port counts, indexed by what was
 * counted. Any thread may add (the cells are {@link LongAdder}s: no lock, no allocation once warm, so several
 * event loops can count into one port); reads are exact once traffic has stopped and approximate while it flows.
 *
 * <p>Every device of this project keeps its counts in these, so one exporter ({@link MicrometerCounters}) and one
 * {@link #toString()} format serve them all.
 *
 * @param <E> what is counted: a drop-reason enum, or an enum of traffic counters
 */
public final class EnumCounters<E extends Enum<E>> {
    private final Class<E> type;
    private final List<E> keys;
    private final LongAdder[] cells;

    private EnumCounters(Class<E> type) {
        this.type = type;
        this.keys = List.of(type.getEnumConstants());
        this.cells = new LongAdder[keys.size()];
        for (int i = 0; i < cells.length; i++) {
            cells[i] = new LongAdder();
        }
    }

    /** New counters, all zero, one per constant of {@code type}. */
    public static <E extends Enum<E>> EnumCounters<E> of(Class<E> type) {
        return new EnumCounters<>(Objects.requireNonNull(type, "type"));
    }

    /** Adds one to {@code key}'s counter. */
    public void increment(E key) {
        cells[key.ordinal()].increment();
    }

    /** Adds {@code delta} to {@code key}'s counter. */
    public void add(E key, long delta) {
        cells[key.ordinal()].add(delta);
    }

    /** The count of {@code key}. */
    public long get(E key) {
        return cells[key.ordinal()].sum();
    }

    /** The counts of all keys together (for drop reasons: all drops). */
    public long sum() {
        long n = 0;
        for (LongAdder c : cells) {
            n += c.sum();
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
        for (LongAdder c : cells) {
            c.reset();
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

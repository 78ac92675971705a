package dev.pktkit.switching.lpm;

import java.util.Objects;

/**
 * One entry of a route table, as returned by the tables' {@code entries()} snapshots (for display and
 * configuration dumps; the lookup path never creates these).
 *
 * @param prefix the normalised prefix
 * @param value  the value stored for it, never null
 * @param <V>    the value type
 */
public record Route<V>(Prefix prefix, V value) {
    /** Checks that neither component is null. */
    public Route {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
        return prefix + " -> " + value;
    }
}

package dev.pktkit.switching.lpm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the IPv4 and IPv6 longest-prefix-match tables share: the control plane. It keeps the exact routes (a
 * {@link HashMap} from {@link Prefix} to value), the count of routes per prefix length, the bound, and the lock that
 * serialises updates; it checks families, bounds and nulls, and answers exact-match queries, snapshots and the
 * longest covering route of a prefix (what a removal writes back). The subclasses own only their trie: how a
 * lookup walks it and how one insert or removal changes it ({@link #insertLocked}, {@link #removeLocked},
 * {@link #resetLocked}).
 *
 * <p>Lookups are not here: each table's {@code lookup} reads its own final fields and root array, with no
 * virtual call, so sharing the control plane costs the data path nothing.
 *
 * @param <V> the value type; values must not be null
 */
public abstract sealed class RouteTable<V> permits Ipv4RouteTable, Ipv6RouteTable {
    /** The default bound on the number of prefixes. */
    public static final int DEFAULT_MAX_ENTRIES = 1_000_000;

    private final boolean ipv6;
    private final int maxEntries;
    /** Serialises updates; lookups never take it. */
    final Object lock = new Object();
    // Guarded by lock.
    private final HashMap<Prefix, V> routes = new HashMap<>();
    private final int[] lengthCount;

    RouteTable(boolean ipv6, int maxEntries) {
        if (maxEntries <= 0) {
            throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        }
        this.ipv6 = ipv6;
        this.maxEntries = maxEntries;
        this.lengthCount = new int[(ipv6 ? 128 : 32) + 1];
    }

    /** Applies the route {@code prefix → value} (already in the route map) to the trie. Holds {@link #lock}. */
    abstract void insertLocked(Prefix prefix, V value);

    /**
     * Takes {@code prefix} (already gone from the route map and its length count) out of the trie; addresses under
     * it fall back to {@link #longestCoveringLength}. Holds {@link #lock}.
     */
    abstract void removeLocked(Prefix prefix);

    /** Publishes an empty trie. Holds {@link #lock}. */
    abstract void resetLocked();

    /**
     * Adds or replaces the route for {@code prefix}.
     *
     * @return the value previously stored for exactly this prefix, or null
     * @throws IllegalArgumentException if {@code prefix} is of the other family
     * @throws IllegalStateException    if the prefix is new and the table already holds {@link #maxEntries()}
     * @throws NullPointerException     if {@code value} is null
     */
    public V put(Prefix prefix, V value) {
        checkFamily(prefix);
        Objects.requireNonNull(value, "value");
        synchronized (lock) {
            return putLocked(prefix, value);
        }
    }

    /**
     * Adds or replaces every route of {@code routes}. The bound is checked first: if the new prefixes would not fit,
     * nothing is changed. Readers may observe the routes being added one by one.
     *
     * @throws IllegalArgumentException if a prefix is of the other family (nothing is changed)
     * @throws IllegalStateException    if the table would exceed {@link #maxEntries()} (nothing is changed)
     */
    public void putAll(Map<Prefix, ? extends V> routes) {
        for (Map.Entry<Prefix, ? extends V> e : routes.entrySet()) {
            checkFamily(e.getKey());
            Objects.requireNonNull(e.getValue(), "value");
        }
        synchronized (lock) {
            int added = 0;
            for (Prefix p : routes.keySet()) {
                if (!this.routes.containsKey(p)) {
                    added++;
                }
            }
            if ((long) this.routes.size() + added > maxEntries) {
                throw full(added + " new prefixes");
            }
            for (Map.Entry<Prefix, ? extends V> e : routes.entrySet()) {
                putLocked(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * Removes the route for exactly {@code prefix}; addresses under it fall back to the next longest covering
     * prefix.
     *
     * @return whether the prefix was present
     * @throws IllegalArgumentException if {@code prefix} is of the other family
     */
    public boolean remove(Prefix prefix) {
        checkFamily(prefix);
        synchronized (lock) {
            if (routes.remove(prefix) == null) {
                return false;
            }
            lengthCount[prefix.length()]--;
            removeLocked(prefix);
            return true;
        }
    }

    /**
     * The value stored for exactly {@code prefix} (not a longest match), or null.
     *
     * @throws IllegalArgumentException if {@code prefix} is of the other family
     */
    public V get(Prefix prefix) {
        checkFamily(prefix);
        synchronized (lock) {
            return routes.get(prefix);
        }
    }

    /** Removes every route. Concurrent lookups see either the old table or the empty one. */
    public void clear() {
        synchronized (lock) {
            routes.clear();
            Arrays.fill(lengthCount, 0);
            resetLocked();
        }
    }

    /** The number of prefixes in the table. */
    public int size() {
        synchronized (lock) {
            return routes.size();
        }
    }

    /** The bound on the number of prefixes. */
    public int maxEntries() {
        return maxEntries;
    }

    /** A snapshot of the routes, ordered by address then length; allocates, for display and dumps. */
    public List<Route<V>> entries() {
        List<Route<V>> list;
        synchronized (lock) {
            list = new ArrayList<>(routes.size());
            for (Map.Entry<Prefix, V> e : routes.entrySet()) {
                list.add(new Route<>(e.getKey(), e.getValue()));
            }
        }
        list.sort((x, y) -> x.prefix().compareTo(y.prefix()));
        return list;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + size() + " routes)";
    }

    private V putLocked(Prefix prefix, V value) {
        V old = routes.get(prefix);
        if (old == null && routes.size() >= maxEntries) {
            throw full(prefix.toString());
        }
        routes.put(prefix, value);
        if (old == null) {
            lengthCount[prefix.length()]++;
        }
        insertLocked(prefix, value);
        return old;
    }

    /**
     * The length of the longest route covering {@code prefix}'s address with a length in [minLen, maxLen], or -1:
     * at most {@code maxLen - minLen + 1} hash probes, fewer where no route has that length. Holds {@link #lock}.
     */
    final int longestCoveringLength(Prefix prefix, int maxLen, int minLen) {
        for (int len = maxLen; len >= minLen; len--) {
            if (lengthCount[len] > 0 && routes.containsKey(prefix.withLength(len))) {
                return len;
            }
        }
        return -1;
    }

    /** The value of the route {@code prefix.withLength(len)} ({@code len} from {@link #longestCoveringLength}). */
    final V routeOfLength(Prefix prefix, int len) {
        return len < 0 ? null : routes.get(prefix.withLength(len));
    }

    private IllegalStateException full(String what) {
        return new IllegalStateException((ipv6 ? "IPv6" : "IPv4") + " route table full (" + maxEntries
                + " prefixes, maxEntries): cannot add " + what);
    }

    final void checkFamily(Prefix p) {
        if (p.isIpv6() != ipv6) {
            throw new IllegalArgumentException((p.isIpv6() ? "IPv6 prefix in an IPv4 table: " : "IPv4 prefix in an "
                    + "IPv6 table: ") + p);
        }
    }
}

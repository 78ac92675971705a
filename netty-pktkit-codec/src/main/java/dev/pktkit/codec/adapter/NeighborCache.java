package dev.pktkit.codec.adapter;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPromise;

import java.util.ArrayDeque;

/**
 * A neighbour cache (ARP or NDP): IP address → MAC, with the per-entry state of RFC 4861 §7.3.2 reduced to what a
 * host needs, and a bounded queue of packets waiting for resolution.
 *
 * <p>Open addressing with linear probing over primitive arrays, so a lookup touches no object and allocates
 * nothing. An IPv4 cache keys on {@code (0, address)}, an IPv6 cache on the address's two halves. Confined to one
 * thread (the adapter's event loop); nothing here is synchronised.
 *
 * <p>Bounds: at most {@code maxEntries} entries (a full cache evicts the stalest resolved entry, never one being
 * resolved), at most {@code maxPendingPerEntry} packets per unresolved entry and {@code maxPendingTotal} in all.
 */
public final class NeighborCache {
    /** No entry in this slot. */
    static final byte FREE = 0;
    /** Resolution in progress: no MAC yet, packets may be queued. */
    public static final byte INCOMPLETE = 1;
    /** Confirmed recently: the MAC is used without question until {@link #expires}. */
    public static final byte REACHABLE = 2;
    /** Past its reachable time: the MAC is still used, and the next use starts a probe. */
    public static final byte STALE = 3;
    /** Being re-confirmed by unicast probes while the old MAC is still used. */
    public static final byte PROBE = 4;

    private final int maxEntries;
    private final int maxPendingPerEntry;
    private final int maxPendingTotal;
    private final int mask;
    private final long[] keyHi;
    private final long[] keyLo;
    private final long[] mac;
    private final long[] expires;
    private final long[] nextProbe;
    private final byte[] state;
    private final byte[] probes;
    private final ArrayDeque<?>[] pending;
    private int size;
    private int pendingTotal;
    private int resolving;

    /**
     * @param maxEntries         the most entries the cache holds, at least 1
     * @param maxPendingPerEntry the most packets queued behind one unresolved address, at least 0
     * @param maxPendingTotal    the most packets queued in all, at least 0
     */
    public NeighborCache(int maxEntries, int maxPendingPerEntry, int maxPendingTotal) {
        if (maxEntries < 1 || maxEntries > 1 << 24) {
            throw new IllegalArgumentException("maxEntries " + maxEntries + " not in [1, 2^24]");
        }
        if (maxPendingPerEntry < 0 || maxPendingTotal < 0) {
            throw new IllegalArgumentException("pending bounds must be >= 0");
        }
        this.maxEntries = maxEntries;
        this.maxPendingPerEntry = maxPendingPerEntry;
        this.maxPendingTotal = maxPendingTotal;
        int cap = Integer.highestOneBit(maxEntries * 2 - 1) << 1; // load factor <= 0.5
        cap = Math.max(cap, 4);
        mask = cap - 1;
        keyHi = new long[cap];
        keyLo = new long[cap];
        mac = new long[cap];
        expires = new long[cap];
        nextProbe = new long[cap];
        state = new byte[cap];
        probes = new byte[cap];
        pending = new ArrayDeque<?>[cap];
    }

    private static int hash(long hi, long lo) {
        long h = (lo ^ (hi * 0x9E3779B97F4A7C15L)) * 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 31));
    }

    /** The slot holding {@code (hi, lo)}, or -1. */
    public int find(long hi, long lo) {
        int i = hash(hi, lo) & mask;
        byte[] st = state;
        while (st[i] != FREE) {
            if (keyLo[i] == lo && keyHi[i] == hi) {
                return i;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    /** The slot holding IPv4 {@code address}, or -1. */
    public int find(int address) {
        return find(0, address & 0xFFFF_FFFFL);
    }

    /**
     * The resolved MAC for {@code (hi, lo)} whatever its age, or -1 when the address is unknown or still being
     * resolved. The data path uses {@link #find} and the slot accessors instead, to see the state too.
     */
    public long lookup(long hi, long lo) {
        int s = find(hi, lo);
        return s < 0 || state[s] == INCOMPLETE ? -1 : mac[s];
    }

    /** {@link #lookup(long, long)} for an IPv4 address. */
    public long lookup(int address) {
        return lookup(0, address & 0xFFFF_FFFFL);
    }

    public byte state(int slot) {
        return state[slot];
    }

    public long mac(int slot) {
        return mac[slot];
    }

    public long expires(int slot) {
        return expires[slot];
    }

    long keyHi(int slot) {
        return keyHi[slot];
    }

    long keyLo(int slot) {
        return keyLo[slot];
    }

    long nextProbe(int slot) {
        return nextProbe[slot];
    }

    int probes(int slot) {
        return probes[slot];
    }

    /** Number of entries. */
    public int size() {
        return size;
    }

    /** Number of entries being resolved (incomplete or probing). */
    int resolving() {
        return resolving;
    }

    /** Packets queued for resolution, over all entries. */
    public int pendingTotal() {
        return pendingTotal;
    }

    public int maxEntries() {
        return maxEntries;
    }

    /** Number of slots in the backing arrays (for iteration by the owner). */
    int capacity() {
        return mask + 1;
    }

    /**
     * Creates an {@link #INCOMPLETE} entry for {@code (hi, lo)}, which must not be present; evicts the resolved
     * entry that expires first when the cache is full.
     *
     * @return the new slot, or -1 when the cache is full of entries that are all being resolved
     */
    int insertIncomplete(long hi, long lo, long now, long firstRetry) {
        if (size >= maxEntries && !evictOne()) {
            return -1;
        }
        int i = hash(hi, lo) & mask;
        while (state[i] != FREE) {
            i = (i + 1) & mask;
        }
        keyHi[i] = hi;
        keyLo[i] = lo;
        mac[i] = -1;
        expires[i] = now;
        nextProbe[i] = firstRetry;
        probes[i] = 1;
        state[i] = INCOMPLETE;
        size++;
        resolving++;
        return i;
    }

    /**
     * Records a resolved neighbour, reachable until {@code until} (in the owner's clock, nanoseconds): for
     * pre-filled entries and benchmarks. Call it on the owner's event loop only.
     *
     * @return false if the cache had no room
     */
    public boolean put(long hi, long lo, long macAddress, long until) {
        int s = update(hi, lo, macAddress, until);
        if (s >= 0 && pending[s] != null && !pending[s].isEmpty()) {
            throw new IllegalStateException("entry has packets waiting; let the adapter resolve it");
        }
        return s >= 0;
    }

    /**
     * Records {@code (hi, lo)} at {@code macAddress}, reachable until {@code until}; creates the entry if absent
     * (evicting as {@link #insertIncomplete} does). Pending packets stay queued: the caller drains them with
     * {@link #pollPending} once the entry is resolved.
     *
     * @return the slot, or -1 if the cache had no room
     */
    int update(long hi, long lo, long macAddress, long until) {
        int s = find(hi, lo);
        if (s < 0) {
            if (size >= maxEntries && !evictOne()) {
                return -1;
            }
            s = hash(hi, lo) & mask;
            while (state[s] != FREE) {
                s = (s + 1) & mask;
            }
            keyHi[s] = hi;
            keyLo[s] = lo;
            size++;
        } else if (state[s] == INCOMPLETE || state[s] == PROBE) {
            resolving--;
        }
        mac[s] = macAddress;
        expires[s] = until;
        probes[s] = 0;
        state[s] = REACHABLE;
        return s;
    }

    /**
     * Records a MAC learned without confirmation of reachability (an unsolicited NA without the solicited flag, a
     * neighbour solicitation's source link-layer option): new entries start {@link #STALE}, resolved entries
     * keep their state when the MAC is unchanged and go stale when it changed. Unlike {@link #update} it never
     * evicts.
     *
     * @return the slot, or -1 when absent and the cache is full
     */
    int learnStale(long hi, long lo, long macAddress, long now) {
        int s = find(hi, lo);
        if (s >= 0) {
            if (state[s] == INCOMPLETE) {
                return update(hi, lo, macAddress, now) < 0 ? -1 : markStale(s);
            }
            if (mac[s] != macAddress) {
                mac[s] = macAddress;
                if (state[s] == PROBE) {
                    resolving--;
                }
                state[s] = STALE;
                expires[s] = now;
            }
            return s;
        }
        if (size >= maxEntries) {
            return -1;
        }
        s = update(hi, lo, macAddress, now);
        return s < 0 ? -1 : markStale(s);
    }

    private int markStale(int s) {
        state[s] = STALE;
        return s;
    }

    /** Moves a reachable entry whose time ran out to {@link #STALE}. */
    void expire(int slot) {
        if (state[slot] == REACHABLE) {
            state[slot] = STALE;
        }
    }

    /** Starts re-confirming a stale entry: it keeps its MAC and counts {@code probes} sent. */
    void startProbe(int slot, long nextProbeAt) {
        if (state[slot] != PROBE) {
            resolving++;
        }
        state[slot] = PROBE;
        probes[slot] = 1;
        nextProbe[slot] = nextProbeAt;
    }

    /** Records one more probe or request sent for a resolving entry. */
    void probed(int slot, long nextProbeAt) {
        probes[slot]++;
        nextProbe[slot] = nextProbeAt;
    }

    /**
     * Queues {@code packet} (and its {@code promise}) behind an {@link #INCOMPLETE} entry.
     *
     * @return false when a bound is reached; the caller still owns the packet
     */
    @SuppressWarnings("unchecked")
    boolean enqueue(int slot, ByteBuf packet, ChannelPromise promise) {
        if (pendingTotal >= maxPendingTotal) {
            return false;
        }
        ArrayDeque<Pending> q = (ArrayDeque<Pending>) pending[slot];
        if (q == null) {
            if (maxPendingPerEntry == 0) {
                return false;
            }
            q = new ArrayDeque<>(Math.min(maxPendingPerEntry, 16));
            pending[slot] = q;
        } else if (q.size() >= maxPendingPerEntry) {
            return false;
        }
        q.add(new Pending(packet, promise));
        pendingTotal++;
        return true;
    }

    /** Takes the oldest packet queued behind {@code slot}, or null. */
    @SuppressWarnings("unchecked")
    Pending pollPending(int slot) {
        ArrayDeque<Pending> q = (ArrayDeque<Pending>) pending[slot];
        if (q == null) {
            return null;
        }
        Pending p = q.poll();
        if (p == null) {
            pending[slot] = null;
            return null;
        }
        pendingTotal--;
        return p;
    }

    /**
     * Removes the entry in {@code slot}. Its pending packets must have been drained first.
     */
    void remove(int slot) {
        if (pending[slot] != null && !pending[slot].isEmpty()) {
            throw new IllegalStateException("entry has pending packets");
        }
        if (state[slot] == INCOMPLETE || state[slot] == PROBE) {
            resolving--;
        }
        size--;
        // Backward-shift deletion keeps probe chains intact without tombstones.
        int hole = slot;
        int i = slot;
        while (true) {
            i = (i + 1) & mask;
            if (state[i] == FREE) {
                break;
            }
            int home = hash(keyHi[i], keyLo[i]) & mask;
            // move i into the hole unless its home lies cyclically in (hole, i]
            boolean stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
            if (!stays) {
                move(i, hole);
                hole = i;
            }
        }
        clear(hole);
    }

    private void move(int from, int to) {
        keyHi[to] = keyHi[from];
        keyLo[to] = keyLo[from];
        mac[to] = mac[from];
        expires[to] = expires[from];
        nextProbe[to] = nextProbe[from];
        state[to] = state[from];
        probes[to] = probes[from];
        pending[to] = pending[from];
    }

    private void clear(int i) {
        state[i] = FREE;
        pending[i] = null;
        keyHi[i] = 0;
        keyLo[i] = 0;
    }

    /** Evicts the resolved entry with the earliest expiry; false if every entry is being resolved. */
    private boolean evictOne() {
        int victim = -1;
        long oldest = Long.MAX_VALUE;
        for (int i = 0; i <= mask; i++) {
            byte st = state[i];
            if ((st == REACHABLE || st == STALE) && (victim < 0 || expires[i] - oldest < 0)) {
                victim = i;
                oldest = expires[i];
            }
        }
        if (victim < 0) {
            return false;
        }
        remove(victim);
        return true;
    }

    /** A packet waiting for its next hop to resolve. */
    record Pending(ByteBuf packet, ChannelPromise promise) {
    }
}

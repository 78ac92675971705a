package dev.pktkit.switching;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The L2 hub's forwarding table: (VLAN id, MAC) → port, with a hard size cap, per-port caps and aging.
 *
 * <p>Concurrency: lookups and learning run on every ingress loop at once without a lock. The table is open
 * addressing over an array of immutable-key entries; learning claims an empty slot with a CAS, a known station
 * refreshes its entry in place. Removal (aging, port removal) is done only by {@link #sweep} and
 * {@link #removePort}, serialised by the monitor, which tombstone entries and rebuild the array when tombstones
 * pile up. A rebuild first freezes the free slots of the old array, so an insert racing with it either lands
 * before the scan (and is copied) or fails (and the station is learned on its next frame); the size count
 * stays exact either way.
 *
 * <p>Sizes: the slot array has twice the cap rounded up to a power of two, so probe chains stay short.
 */
final class MacTable {
    static final class Entry {
        final long key;
        volatile L2Port port;
        /** Coarse-clock nanos of the last frame from this station. */
        volatile long lastSeen;

        Entry(long key, L2Port port, long lastSeen) {
            this.key = key;
            this.port = port;
            this.lastSeen = lastSeen;
        }
    }

    enum Learn { KNOWN, LEARNED, MOVED, TABLE_FULL, PORT_FULL }

    private static final Entry TOMBSTONE = new Entry(-1L, null, 0);
    /** Marks the free slots of an array being retired by a rebuild: inserts there fail, lookups stop. */
    private static final Entry FROZEN = new Entry(-2L, null, 0);
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Entry[].class);
    private static final VarHandle PORT;

    static {
        try {
            PORT = MethodHandles.lookup().findVarHandle(Entry.class, "port", L2Port.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int maxEntries;
    private final AtomicInteger size = new AtomicInteger();
    private volatile Entry[] slots;
    private int tombstones; // guarded by this
    private volatile int rebuilds; // written under this; for tests

    MacTable(int maxEntries) {
        if (maxEntries <= 0) {
            throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        }
        this.maxEntries = maxEntries;
        int n = Integer.highestOneBit(Math.max(16, maxEntries * 2 - 1)) << 1;
        this.slots = new Entry[n];
    }

    static long key(long mac, int vid) {
        return ((long) vid << 48) | (mac & 0xFFFF_FFFF_FFFFL);
    }

    private static int spread(long key) {
        long h = key * 0x9E37_79B9_7F4A_7C15L;
        return (int) (h ^ (h >>> 29));
    }

    int size() {
        return size.get();
    }

    int maxEntries() {
        return maxEntries;
    }

    /** The entry for {@code key}, or null. No allocation, no lock. */
    Entry get(long key) {
        Entry[] t = slots;
        int mask = t.length - 1;
        int i = spread(key) & mask;
        for (int n = 0; n <= mask; n++) {
            Entry e = (Entry) SLOT.getAcquire(t, i);
            if (e == null || e == FROZEN) {
                return null; // FROZEN: a rebuild is retiring this array; a momentary miss only floods
            }
            if (e.key == key) {
                return e;
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    /**
     * Records that {@code key} was seen on {@code port} at {@code now}. The common case — a known station on its
     * known port — writes nothing unless the coarse clock moved.
     */
    Learn learn(long key, L2Port port, long now) {
        Entry e = get(key);
        if (e != null) {
            if (e.lastSeen != now) {
                e.lastSeen = now;
            }
            return move(e, port) ? Learn.MOVED : Learn.KNOWN;
        }
        return insert(key, port, now);
    }

    /**
     * Station move: the entry's port changes with a CAS so that concurrent moves from several loops adjust the
     * per-port counts exactly once each. Takes effect even if the new port is at its cap (no entry is added).
     * An entry whose port is null is being removed; it is left alone (the station is learned again afterwards).
     */
    private static boolean move(Entry e, L2Port port) {
        for (;;) {
            L2Port old = e.port;
            if (old == port || old == null) {
                return false;
            }
            if (PORT.compareAndSet(e, old, port)) {
                port.learned.incrementAndGet();
                old.learned.decrementAndGet();
                return true;
            }
        }
    }

    private Learn insert(long key, L2Port port, long now) {
        if (!reserve(size, maxEntries)) {
            return Learn.TABLE_FULL;
        }
        if (!reserve(port.learned, port.maxMacEntries)) {
            size.decrementAndGet();
            return Learn.PORT_FULL;
        }
        Entry fresh = new Entry(key, port, now);
        Entry placed = place(slots, fresh);
        if (placed == fresh) {
            return Learn.LEARNED;
        }
        // Not placed: give the reservations back.
        size.decrementAndGet();
        port.learned.decrementAndGet();
        if (placed != null) {
            // The same station was inserted concurrently from another loop: refresh that entry instead.
            placed.lastSeen = now;
            return move(placed, port) ? Learn.MOVED : Learn.KNOWN;
        }
        // The array is being rebuilt (or is full of tombstones): the station is learned on its next frame.
        return Learn.TABLE_FULL;
    }

    /**
     * Puts {@code fresh} into {@code t}; returns it, or the entry already holding its key, or null when the array
     * has no free slot or is being retired by a rebuild.
     */
    private static Entry place(Entry[] t, Entry fresh) {
        int mask = t.length - 1;
        int i = spread(fresh.key) & mask;
        for (int n = 0; n <= mask; n++) {
            Entry e = (Entry) SLOT.getAcquire(t, i);
            if (e == null) {
                if (SLOT.compareAndSet(t, i, null, fresh)) {
                    return fresh;
                }
                e = (Entry) SLOT.getAcquire(t, i);
            }
            if (e == FROZEN) {
                return null;
            }
            if (e == fresh || e.key == fresh.key) {
                return e;
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    private static boolean reserve(AtomicInteger counter, int max) {
        for (;;) {
            int c = counter.get();
            if (c >= max) {
                return false;
            }
            if (counter.compareAndSet(c, c + 1)) {
                return true;
            }
        }
    }

    /** The port for {@code key} if known and seen within {@code agingNanos} of {@code now}, else null. */
    L2Port lookup(long key, long now, long agingNanos) {
        Entry e = get(key);
        if (e == null || now - e.lastSeen > agingNanos) {
            return null;
        }
        return e.port;
    }

    /** Removes entries not seen for more than {@code agingNanos}; returns how many. */
    synchronized int sweep(long now, long agingNanos) {
        int removed = 0;
        Entry[] t = slots;
        for (int i = 0; i < t.length; i++) {
            Entry e = (Entry) SLOT.getAcquire(t, i);
            if (e != null && e != TOMBSTONE && e != FROZEN && now - e.lastSeen > agingNanos) {
                removed += tombstone(t, i, e);
            }
        }
        maybeRebuild();
        return removed;
    }

    /** Removes every entry pointing at {@code port}; returns how many. */
    synchronized int removePort(L2Port port) {
        int removed = 0;
        Entry[] t = slots;
        for (int i = 0; i < t.length; i++) {
            Entry e = (Entry) SLOT.getAcquire(t, i);
            if (e != null && e != TOMBSTONE && e != FROZEN && e.port == port) {
                removed += tombstone(t, i, e);
            }
        }
        maybeRebuild();
        return removed;
    }

    /** Removes everything. */
    synchronized void clear() {
        Entry[] t = slots;
        for (int i = 0; i < t.length; i++) {
            Entry e = (Entry) SLOT.getAcquire(t, i);
            if (e != null && e != TOMBSTONE && e != FROZEN) {
                tombstone(t, i, e);
            }
        }
        tombstones = Integer.MAX_VALUE; // force a rebuild: stations learned meanwhile are kept, and counted
        maybeRebuild();
    }

    private int tombstone(Entry[] t, int i, Entry e) {
        if (!SLOT.compareAndSet(t, i, e, TOMBSTONE)) {
            return 0;
        }
        tombstones++;
        size.decrementAndGet();
        // Clear the port atomically: a move racing with us either happened before (we debit its new port) or
        // sees null and gives up.
        L2Port p = (L2Port) PORT.getAndSet(e, (L2Port) null);
        if (p != null) {
            p.learned.decrementAndGet();
        }
        return 1;
    }

    private void maybeRebuild() {
        Entry[] t = slots;
        if (tombstones <= t.length / 4) {
            return;
        }
        // Freeze every free slot of the old array so that no insert can land behind our scan, and copy the live
        // entries (shared objects: later refreshes of them are seen through either array).
        Entry[] fresh = new Entry[t.length];
        for (int i = 0; i < t.length; i++) {
            for (;;) {
                Entry e = (Entry) SLOT.getAcquire(t, i);
                if (e == null || e == TOMBSTONE) {
                    if (SLOT.compareAndSet(t, i, e, FROZEN)) {
                        break;
                    }
                    continue; // an insert just took the slot: copy it
                }
                place(fresh, e);
                break;
            }
        }
        slots = fresh;
        tombstones = 0;
        rebuilds++;
    }

    /** How many freeze-and-rebuilds ran (tests check the stress test exercised them). */
    int rebuilds() {
        return rebuilds;
    }

    /** A snapshot of live entries, for display and tests. */
    List<Entry> entries() {
        List<Entry> list = new ArrayList<>();
        for (Entry e : slots) {
            if (e != null && e != TOMBSTONE && e != FROZEN) {
                list.add(e);
            }
        }
        return list;
    }
}

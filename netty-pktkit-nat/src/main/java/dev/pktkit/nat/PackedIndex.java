package dev.pktkit.nat;

/**
 * An open-addressing index from a 64-bit key to an entry id that keeps the key in the slot: one {@code long[]}
 * holding, per slot, the key and the id side by side (16 bytes, so a slot never straddles a cache line), linear
 * probing, power-of-two capacity, load at most one half, backward-shift deletion (no tombstones). A look-up
 * compares the keys in the slots it probes and touches nothing else: one cache line for most look-ups, where
 * {@link OpenIndex} reads its slot and then the entry's key fields in the owner's arrays (one more line per
 * field). Costs 16 bytes per slot instead of 4. Key 0 marks an empty slot, so callers' keys are never 0.
 * Single-threaded (the NAT's event loop).
 */
final class PackedIndex {
    /** Slot {@code i}: key at {@code 2i} (0 = empty), entry id at {@code 2i + 1}. */
    final long[] table;
    final int mask;

    PackedIndex(int maxEntries) {
        int cap = Integer.highestOneBit(Math.max(4, maxEntries) * 2 - 1) << 1;
        table = new long[2 * cap];
        mask = cap - 1;
    }

    /** Slots (the capacity). */
    int capacity() {
        return mask + 1;
    }

    static int hash(long key) {
        long x = key * 0x9E3779B97F4A7C15L;
        x ^= x >>> 31;
        x *= 0xBF58476D1CE4E5B9L;
        x ^= x >>> 29;
        return (int) x;
    }

    /** The id stored for {@code key}, or -1. */
    int find(long key) {
        long[] t = table;
        int mask = this.mask;
        int i = hash(key) & mask;
        while (true) {
            long k = t[2 * i];
            if (k == key) {
                return (int) t[2 * i + 1];
            }
            if (k == 0) {
                return -1;
            }
            i = (i + 1) & mask;
        }
    }

    /** Adds {@code key} (not present; the owner checks) with {@code id}. */
    void insert(long key, int id) {
        long[] t = table;
        int i = hash(key) & mask;
        while (t[2 * i] != 0) {
            i = (i + 1) & mask;
        }
        t[2 * i] = key;
        t[2 * i + 1] = id;
    }

    /** Removes {@code key} if present. */
    void remove(long key) {
        long[] t = table;
        int i = hash(key) & mask;
        while (t[2 * i] != key) {
            if (t[2 * i] == 0) {
                return; // not present
            }
            i = (i + 1) & mask;
        }
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            long w = t[2 * j];
            if (w == 0) {
                break;
            }
            int k = hash(w) & mask;
            // Move w back to the hole at i unless its home k lies cyclically in (i, j].
            boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays) {
                t[2 * i] = w;
                t[2 * i + 1] = t[2 * j + 1];
                i = j;
            }
        }
        t[2 * i] = 0;
        t[2 * i + 1] = 0;
    }

    /** As {@link OpenIndex#probeStats}: entries, hit probes summed, longest, miss probes summed, slots. */
    long[] probeStats() {
        int cap = mask + 1;
        long entries = 0;
        long hitSum = 0;
        long hitMax = 0;
        int empty = -1;
        for (int i = 0; i < cap; i++) {
            long v = table[2 * i];
            if (v == 0) {
                empty = i;
                continue;
            }
            entries++;
            long d = ((i - (hash(v) & mask)) & mask) + 1;
            hitSum += d;
            hitMax = Math.max(hitMax, d);
        }
        long missSum = 0;
        if (empty >= 0) {
            long run = 0;
            for (int k = 0; k < cap; k++) {
                int i = (empty - k) & mask;
                run = table[2 * i] == 0 ? 1 : run + 1;
                missSum += run;
            }
        }
        return new long[]{entries, hitSum, hitMax, missSum, cap};
    }
}

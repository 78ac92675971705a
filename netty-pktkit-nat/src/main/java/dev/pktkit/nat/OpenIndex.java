package dev.pktkit.nat;

/**
 * An open-addressing index from a key to an entry id (linear probing, power-of-two capacity, load at most one
 * half, backward-shift deletion so there are no tombstones). Keys live in the owner's parallel arrays: the owner
 * probes {@link #slots} itself with its own comparison (so lookups are monomorphic, primitive and allocation
 * free), and gives {@link #hashOf} for the backward shift. Single-threaded (the NAT's event loop).
 */
abstract class OpenIndex {
    /** Entry id + 1, or 0 for an empty slot. */
    final int[] slots;
    final int mask;

    OpenIndex(int maxEntries) {
        int cap = Integer.highestOneBit(Math.max(4, maxEntries) * 2 - 1) << 1;
        slots = new int[cap];
        mask = cap - 1;
    }

    /** The hash of the key of entry {@code id} (as used when it was inserted). */
    abstract int hashOf(int id);

    final void insert(int hash, int id) {
        int i = hash & mask;
        while (slots[i] != 0) {
            i = (i + 1) & mask;
        }
        slots[i] = id + 1;
    }

    final void remove(int id) {
        int i = hashOf(id) & mask;
        int v = id + 1;
        while (slots[i] != v) {
            if (slots[i] == 0) {
                return; // not present
            }
            i = (i + 1) & mask;
        }
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            int w = slots[j];
            if (w == 0) {
                break;
            }
            int k = hashOf(w - 1) & mask;
            // Move w back to the hole at i unless its home k lies cyclically in (i, j].
            boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays) {
                slots[i] = w;
                i = j;
            }
        }
        slots[i] = 0;
    }

    /**
     * The look-up work this index costs, counted rather than timed (for tests): {@code [entries, probes to find
     * every entry summed (its displacement from its home slot + 1), the longest such probe sequence, probes of a
     * miss summed over every home slot (up to and including the first empty slot), slots]}.
     */
    final long[] probeStats() {
        int cap = slots.length;
        long entries = 0;
        long hitSum = 0;
        long hitMax = 0;
        int empty = -1;
        for (int i = 0; i < cap; i++) {
            int v = slots[i];
            if (v == 0) {
                empty = i;
                continue;
            }
            entries++;
            long d = ((i - (hashOf(v - 1) & mask)) & mask) + 1;
            hitSum += d;
            hitMax = Math.max(hitMax, d);
        }
        long missSum = 0;
        if (empty >= 0) {
            // walking backwards from an empty slot: a miss from slot i probes up to the next empty slot
            long run = 0;
            for (int k = 0; k < cap; k++) {
                int i = (empty - k) & mask;
                run = slots[i] == 0 ? 1 : run + 1;
                missSum += run;
            }
        }
        return new long[]{entries, hitSum, hitMax, missSum, cap};
    }

    static int hash(long a, long b) {
        long x = a * 0x9E3779B97F4A7C15L + b;
        x ^= x >>> 31;
        x *= 0xBF58476D1CE4E5B9L;
        x ^= x >>> 29;
        return (int) x;
    }
}

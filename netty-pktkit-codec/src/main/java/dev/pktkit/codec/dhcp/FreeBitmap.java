package dev.pktkit.codec.dhcp;

import java.util.Arrays;

/**
 * The free addresses of a pool as a hierarchical bitmap: level 0 has one bit per address (1 = free), each higher
 * level one bit per word of the level below (1 = that word has a free bit), up to a single word. Taking, freeing
 * and finding the next free index from a cursor visit O(log<sub>64</sub> n) words, so an exhausted or nearly
 * exhausted pool costs no more per message than an empty one. {@link #wordsVisited()} counts the words read, for
 * tests that bound the work per message. Not thread-safe.
 */
final class FreeBitmap {
    private final int size;
    private final long[][] levels;
    private int free;
    private long wordsVisited;

    /** A bitmap of {@code size} indices, all free. */
    FreeBitmap(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("size " + size);
        }
        this.size = size;
        int n = 1;
        int bits = size;
        while (bits > 64) {
            bits = (bits + 63) >>> 6;
            n++;
        }
        levels = new long[n][];
        bits = size;
        for (int l = 0; l < n; l++) {
            int words = (bits + 63) >>> 6;
            long[] w = new long[words];
            Arrays.fill(w, -1L);
            int tail = bits & 63;
            if (tail != 0) {
                w[words - 1] = (1L << tail) - 1;
            }
            levels[l] = w;
            bits = words;
        }
        free = size;
    }

    int size() {
        return size;
    }

    /** Number of free indices. */
    int free() {
        return free;
    }

    long wordsVisited() {
        return wordsVisited;
    }

    boolean isFree(int i) {
        wordsVisited++;
        return (levels[0][i >>> 6] & (1L << i)) != 0;
    }

    /** Marks {@code i} taken; returns false if it already was. */
    boolean take(int i) {
        long[] w0 = levels[0];
        int w = i >>> 6;
        wordsVisited++;
        if ((w0[w] & (1L << i)) == 0) {
            return false;
        }
        w0[w] &= ~(1L << i);
        free--;
        for (int l = 1; l < levels.length && levels[l - 1][w] == 0; l++) {
            int up = w >>> 6;
            wordsVisited++;
            levels[l][up] &= ~(1L << w);
            w = up;
        }
        return true;
    }

    /** Marks {@code i} free; returns false if it already was. */
    boolean release(int i) {
        long[] w0 = levels[0];
        int w = i >>> 6;
        wordsVisited++;
        if ((w0[w] & (1L << i)) != 0) {
            return false;
        }
        boolean wasEmpty = w0[w] == 0;
        w0[w] |= 1L << i;
        free++;
        for (int l = 1; l < levels.length && wasEmpty; l++) {
            int up = w >>> 6;
            wordsVisited++;
            wasEmpty = levels[l][up] == 0;
            levels[l][up] |= 1L << w;
            w = up;
        }
        return true;
    }

    /** The first free index at or after {@code from}, wrapping around to 0; -1 if none is free. */
    int nextFree(int from) {
        if (free == 0) {
            return -1;
        }
        int i = from >= size || from < 0 ? -1 : nextFreeFrom(from);
        return i >= 0 ? i : nextFreeFrom(0);
    }

    private int nextFreeFrom(int from) {
        int level = 0;
        int i = from;
        while (true) {
            long[] lv = levels[level];
            int w = i >>> 6;
            if (w >= lv.length) {
                return -1;
            }
            wordsVisited++;
            long bits = lv[w] & (-1L << (i & 63));
            if (bits != 0) {
                i = (w << 6) + Long.numberOfTrailingZeros(bits);
                break;
            }
            if (level == levels.length - 1) {
                return -1;
            }
            level++;
            i = w + 1;
        }
        while (level > 0) {
            level--;
            wordsVisited++;
            i = (i << 6) + Long.numberOfTrailingZeros(levels[level][i]);
        }
        return i;
    }
}

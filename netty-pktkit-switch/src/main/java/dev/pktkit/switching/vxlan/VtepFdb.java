package dev.pktkit.switching.vxlan;

import java.util.ArrayList;
import java.util.List;

/**
 * The forwarding database of a {@link VxlanTunnel}: (VNI, MAC) → remote {@link Vtep}, open addressing with linear
 * probing over primitive arrays, bounded, aged on a coarse clock. Confined to the tunnel's event loop: no locks,
 * no allocation on lookup and learn. Deletion shifts entries back (no tombstones), so the table never degrades.
 */
final class VtepFdb {
    private static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;

    private final int maxEntries;
    private final int mask;
    private final int shift;
    private final long[] keys;
    private final Vtep[] vteps;
    private final long[] seen;
    private final boolean[] pinned;
    private int size;

    VtepFdb(int maxEntries) {
        this.maxEntries = maxEntries;
        int cap = Integer.highestOneBit(Math.max(4, maxEntries) * 2 - 1) << 1; // a power of two >= 2 * max
        this.mask = cap - 1;
        this.shift = 64 - Integer.numberOfTrailingZeros(cap);
        this.keys = new long[cap];
        this.vteps = new Vtep[cap];
        this.seen = new long[cap];
        this.pinned = new boolean[cap];
    }

    /** The table key of (vni, mac): never 0, the empty slot's mark. */
    static long key(int vni, long mac) {
        return ((long) (vni + 1) << 48) | (mac & MAC_MASK);
    }

    static int vniOf(long key) {
        return (int) (key >>> 48) - 1;
    }

    private int home(long key) {
        return (int) ((key * 0x9E37_79B9_7F4A_7C15L) >>> shift);
    }

    /** The VTEP of {@code key} unless aged out ({@code now - seen >= aging}); static entries never age. */
    Vtep lookup(long key, long now, long agingNanos) {
        for (int i = home(key); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                return pinned[i] || now - seen[i] < agingNanos ? vteps[i] : null;
            }
            if (k == 0) {
                return null;
            }
        }
    }

    /** Result of {@link #learn}. */
    static final int SAME = 0;
    static final int NEW = 1;
    static final int MOVED = 2;
    static final int FULL = -1;
    static final int STATIC = 3;

    /** Records {@code key} at {@code vtep} seen at {@code now}; a static entry is left as it is. */
    int learn(long key, Vtep vtep, long now) {
        int i = home(key);
        for (; ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                if (pinned[i]) {
                    return STATIC;
                }
                seen[i] = now;
                if (vteps[i] != vtep) {
                    vteps[i] = vtep;
                    return MOVED;
                }
                return SAME;
            }
            if (k == 0) {
                break;
            }
        }
        if (size >= maxEntries) {
            return FULL;
        }
        keys[i] = key;
        vteps[i] = vtep;
        seen[i] = now;
        pinned[i] = false;
        size++;
        return NEW;
    }

    /** Adds or replaces a static (never aged) entry; static entries count against the bound too. */
    boolean putStatic(long key, Vtep vtep) {
        int i = home(key);
        for (; ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                vteps[i] = vtep;
                pinned[i] = true;
                return true;
            }
            if (k == 0) {
                break;
            }
        }
        if (size >= maxEntries) {
            return false;
        }
        keys[i] = key;
        vteps[i] = vtep;
        pinned[i] = true;
        size++;
        return true;
    }

    /** Removes aged learned entries, and every entry of a VTEP no longer live; returns how many went. */
    int sweep(long now, long agingNanos) {
        int removed = 0;
        for (int i = 0; i < keys.length; ) {
            if (keys[i] != 0 && (!vteps[i].live || (!pinned[i] && now - seen[i] >= agingNanos))) {
                removeAt(i);
                removed++;
                continue; // an entry may have shifted into slot i: look at it again
            }
            i++;
        }
        return removed;
    }

    /** Forgets every entry. */
    void clear() {
        java.util.Arrays.fill(keys, 0);
        java.util.Arrays.fill(vteps, null);
        size = 0;
    }

    private void removeAt(int hole) {
        int i = hole;
        int j = hole;
        while (true) {
            j = (j + 1) & mask;
            long k = keys[j];
            if (k == 0) {
                break;
            }
            int h = home(k);
            // the entry at j may fill the hole at i unless its home lies cyclically in (i, j]
            boolean stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
            if (!stays) {
                keys[i] = k;
                vteps[i] = vteps[j];
                seen[i] = seen[j];
                pinned[i] = pinned[j];
                i = j;
            }
        }
        keys[i] = 0;
        vteps[i] = null;
        pinned[i] = false;
        size--;
    }

    int size() {
        return size;
    }

    int maxEntries() {
        return maxEntries;
    }

    /** One {@code vni mac vtep [static]} line per entry not aged out, for display and tests. */
    List<String> rows(long now, long agingNanos) {
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < keys.length; i++) {
            long k = keys[i];
            if (k != 0 && (pinned[i] || now - seen[i] < agingNanos)) {
                rows.add(vniOf(k) + " " + dev.pktkit.codec.wire.MacAddress.format(k & MAC_MASK) + " "
                        + io.netty.util.NetUtil.toAddressString(vteps[i].address()) + (pinned[i] ? " static" : ""));
            }
        }
        return rows;
    }
}

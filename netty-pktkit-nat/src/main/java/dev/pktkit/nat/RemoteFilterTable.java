package dev.pktkit.nat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The remote filters of the engine's static and opened mappings (PCP FILTER, RFC 6887 §13.3), made when the first
 * filter is set: at most one entry per such mapping ({@code maxStaticMappings}), found through an
 * {@link OpenIndex} on the mapping id, each a few (address, mask, port) triples scanned in order. Consulted only
 * when a mapping marked as filtered is asked for a new inbound session, so nothing on the established path.
 * Single-threaded (the NAT's loop).
 */
final class RemoteFilterTable {
    private static final int[] NONE = new int[0];
    private final int[] owner;
    private final int[][] rules;
    private final int[] free;
    private int freeTop;
    private final OpenIndex index;

    RemoteFilterTable(int capacity) {
        owner = new int[capacity];
        Arrays.fill(owner, -1);
        rules = new int[capacity][];
        free = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            free[i] = capacity - 1 - i;
        }
        freeTop = capacity;
        index = new OpenIndex(capacity) {
            @Override
            int hashOf(int id) {
                return mix(owner[id]);
            }
        };
    }

    private static int mix(int mapping) {
        return OpenIndex.hash(mapping, 0x46494C54L);
    }

    private int slotOf(int mapping) {
        int[] slots = index.slots;
        for (int i = mix(mapping) & index.mask; ; i = (i + 1) & index.mask) {
            int v = slots[i];
            if (v == 0) {
                return -1;
            }
            if (owner[v - 1] == mapping) {
                return v - 1;
            }
        }
    }

    /** Replaces the filters of {@code mapping}; false when the table is full. */
    boolean set(int mapping, List<RemoteFilter> filters) {
        int[] r = new int[filters.size() * 3];
        for (int i = 0; i < filters.size(); i++) {
            RemoteFilter f = filters.get(i);
            r[3 * i] = f.address();
            r[3 * i + 1] = RemoteFilter.mask(f.prefixLength());
            r[3 * i + 2] = f.port();
        }
        int s = slotOf(mapping);
        if (s < 0) {
            if (freeTop == 0) {
                return false;
            }
            s = free[--freeTop];
            owner[s] = mapping;
            index.insert(mix(mapping), s);
        }
        rules[s] = r;
        return true;
    }

    void remove(int mapping) {
        int s = slotOf(mapping);
        if (s >= 0) {
            index.remove(s);
            owner[s] = -1;
            rules[s] = null;
            free[freeTop++] = s;
        }
    }

    /** Whether a remote may open a session on {@code mapping}: some filter matches (none set: no). */
    boolean admits(int mapping, int address, int port) {
        int s = slotOf(mapping);
        int[] r = s < 0 ? NONE : rules[s];
        for (int i = 0; i < r.length; i += 3) {
            if ((address & r[i + 1]) == r[i] && (r[i + 2] == 0 || r[i + 2] == port)) {
                return true;
            }
        }
        return false;
    }

    List<RemoteFilter> of(int mapping) {
        int s = slotOf(mapping);
        List<RemoteFilter> out = new ArrayList<>();
        if (s >= 0) {
            int[] r = rules[s];
            for (int i = 0; i < r.length; i += 3) {
                out.add(new RemoteFilter(r[i], Integer.bitCount(r[i + 1]), r[i + 2]));
            }
        }
        return out;
    }

    int size() {
        return owner.length - freeTop;
    }

    /** Bytes of the fixed arrays (the rule arrays themselves, a few ints each, not counted). */
    long bytes() {
        return 4L * (owner.length + free.length + index.slots.length) + 8L * rules.length;
    }
}

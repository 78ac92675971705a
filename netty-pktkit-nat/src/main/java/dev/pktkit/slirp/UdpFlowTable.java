package dev.pktkit.slirp;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A namespace's UDP flows keyed by (family, guest address and port, destination address and port) as numbers:
 * open addressing with linear probing over a power-of-two array at most half full, backward-shift deletion, a
 * per-table random seed in the hash (a guest cannot aim its flows at one chain of another table, and its own
 * table is bounded by {@code maxUdpFlows}). Look-up and insert allocate nothing. One thread (the namespace's
 * loop); no locks.
 *
 * @param <F> the flow type, which carries its key ({@link Keyed})
 */
final class UdpFlowTable<F extends UdpFlowTable.Keyed> {
    /** A flow's key, read by the table. IPv4 addresses sit in the low 32 bits of {@code lo}, {@code hi} 0. */
    interface Keyed {
        int family();

        long guestHi();

        long guestLo();

        int guestPort();

        long dstHi();

        long dstLo();

        int dstPort();
    }

    private final Object[] slots;
    private final int mask;
    private final long seed = ThreadLocalRandom.current().nextLong() | 1;
    private int size;

    /** A table for at most {@code maxFlows} flows. */
    UdpFlowTable(int maxFlows) {
        int cap = Integer.highestOneBit(Math.max(2, maxFlows) * 2 - 1) << 1;
        slots = new Object[Math.max(4, cap)];
        mask = slots.length - 1;
    }

    int size() {
        return size;
    }

    private int hash(int family, long gHi, long gLo, int gPort, long dHi, long dLo, int dPort) {
        long h = seed;
        h = (h ^ gLo) * 0x9E3779B97F4A7C15L;
        h = (h ^ gHi) * 0xC2B2AE3D27D4EB4FL;
        h = (h ^ dLo) * 0x9E3779B97F4A7C15L;
        h = (h ^ dHi) * 0xC2B2AE3D27D4EB4FL;
        h = (h ^ ((long) gPort << 32 | (long) dPort << 8 | family)) * 0x9E3779B97F4A7C15L;
        return (int) (h ^ h >>> 29 ^ h >>> 47) & mask;
    }

    private static boolean matches(Keyed f, int family, long gHi, long gLo, int gPort, long dHi, long dLo,
                                   int dPort) {
        return f.guestLo() == gLo && f.dstLo() == dLo && f.guestPort() == gPort && f.dstPort() == dPort
                && f.guestHi() == gHi && f.dstHi() == dHi && f.family() == family;
    }

    /** The flow with this key, or null. */
    @SuppressWarnings("unchecked")
    F get(int family, long gHi, long gLo, int gPort, long dHi, long dLo, int dPort) {
        for (int i = hash(family, gHi, gLo, gPort, dHi, dLo, dPort); ; i = (i + 1) & mask) {
            Object o = slots[i];
            if (o == null) {
                return null;
            }
            F f = (F) o;
            if (matches(f, family, gHi, gLo, gPort, dHi, dLo, dPort)) {
                return f;
            }
        }
    }

    /**
     * Adds {@code flow}, whose key must not be in the table.
     *
     * @throws IllegalStateException if the table already holds as many flows as it was made for
     */
    void put(F flow) {
        if (size * 2 >= slots.length) {
            throw new IllegalStateException("UDP flow table full: " + size);
        }
        int i = hash(flow.family(), flow.guestHi(), flow.guestLo(), flow.guestPort(), flow.dstHi(), flow.dstLo(),
                flow.dstPort());
        while (slots[i] != null) {
            i = (i + 1) & mask;
        }
        slots[i] = flow;
        size++;
    }

    /** Removes {@code flow} (the same object) if present; returns whether it was. */
    boolean remove(F flow) {
        int i = hash(flow.family(), flow.guestHi(), flow.guestLo(), flow.guestPort(), flow.dstHi(), flow.dstLo(),
                flow.dstPort());
        for (; ; i = (i + 1) & mask) {
            Object o = slots[i];
            if (o == null) {
                return false;
            }
            if (o == flow) {
                break;
            }
        }
        slots[i] = null;
        size--;
        // backward shift: move later members of the run into the hole where their home allows
        int hole = i;
        for (int j = (i + 1) & mask; slots[j] != null; j = (j + 1) & mask) {
            Keyed k = (Keyed) slots[j];
            int home = hash(k.family(), k.guestHi(), k.guestLo(), k.guestPort(), k.dstHi(), k.dstLo(), k.dstPort());
            // k may move to the hole if its home is not in (hole, j] cyclically
            boolean stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!stays) {
                slots[hole] = k;
                slots[j] = null;
                hole = j;
            }
        }
        return true;
    }

    /** A snapshot of the flows (allocates: for sweeps and close, not per packet). */
    @SuppressWarnings("unchecked")
    List<F> snapshot() {
        List<F> all = new ArrayList<>(size);
        for (Object o : slots) {
            if (o != null) {
                all.add((F) o);
            }
        }
        return all;
    }

    /** Empties the table. */
    void clear() {
        java.util.Arrays.fill(slots, null);
        size = 0;
    }
}

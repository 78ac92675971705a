package dev.pktkit.vtcp.host;

import java.net.BindException;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The port table of one protocol of a host: per port, the channels bound to it. Lookups run on the host's loop
 * without locks (one volatile array read per packet); binding and unbinding take this table's lock.
 *
 * @param <C> the bound thing (a datagram channel, a listener)
 */
final class PortTable<C extends PortTable.Bound> {
    /** What a table holds: a local endpoint, maybe a remote one, maybe any-address. */
    interface Bound {
        Endpoint local();

        /** The connected remote endpoint, or null. */
        Endpoint remote();

        boolean transparent();
    }

    private final AtomicReferenceArray<Object[]> ports = new AtomicReferenceArray<>(65536);
    private final int max;
    private final int ephemeralLow;
    private final int ephemeralHigh;
    private volatile C catchAll;
    private volatile int transparentCount;
    private int count;

    PortTable(int max, int ephemeralLow, int ephemeralHigh) {
        this.max = max;
        this.ephemeralLow = ephemeralLow;
        this.ephemeralHigh = ephemeralHigh;
    }

    /** Whether any any-address binding exists. */
    boolean hasTransparent() {
        return transparentCount > 0;
    }

    int size() {
        synchronized (this) {
            return count;
        }
    }

    /**
     * Picks the port for {@code local} (an ephemeral one for port 0, unless {@code transparent}, which makes port
     * 0 the catch-all) and adds {@code c}; {@code c.local()} must then report the returned port.
     *
     * @return the port bound
     */
    synchronized int reservePort(Endpoint local, boolean transparent) throws BindException {
        if (count >= max) {
            throw new BindException("too many bound channels on this host (" + max + ")");
        }
        int port = local.port();
        if (port == 0 && transparent) {
            if (catchAll != null) {
                throw new BindException("an any-address, any-port channel is already bound on this host");
            }
            return 0;
        }
        if (port == 0) {
            int range = ephemeralHigh - ephemeralLow + 1;
            int start = ThreadLocalRandom.current().nextInt(range);
            for (int i = 0; i < range; i++) {
                int p = ephemeralLow + (start + i) % range;
                if (ports.get(p) == null) {
                    return p;
                }
            }
            throw new BindException("no free ephemeral port in " + ephemeralLow + ".." + ephemeralHigh);
        }
        Object[] at = ports.get(port);
        if (at != null) {
            for (Object o : at) {
                Bound b = (Bound) o;
                if (b.transparent() == transparent && b.local().overlaps(local)) {
                    throw new BindException("Address already in use: " + local.withPort(port));
                }
            }
        }
        return port;
    }

    /** Publishes {@code c}, bound on {@code port} (from {@link #reservePort}, under the same conditions). */
    synchronized void add(int port, C c) {
        count++;
        if (c.transparent()) {
            transparentCount++;
        }
        if (port == 0) {
            catchAll = c;
            return;
        }
        Object[] at = ports.get(port);
        Object[] n = at == null ? new Object[1] : Arrays.copyOf(at, at.length + 1);
        n[n.length - 1] = c;
        ports.set(port, n);
    }

    synchronized void remove(int port, C c) {
        if (port == 0) {
            if (catchAll == c) {
                catchAll = null;
                count--;
                transparentCount--;
            }
            return;
        }
        Object[] at = ports.get(port);
        if (at == null) {
            return;
        }
        for (int i = 0; i < at.length; i++) {
            if (at[i] == c) {
                count--;
                if (c.transparent()) {
                    transparentCount--;
                }
                if (at.length == 1) {
                    ports.set(port, null);
                } else {
                    Object[] n = new Object[at.length - 1];
                    System.arraycopy(at, 0, n, 0, i);
                    System.arraycopy(at, i + 1, n, i, at.length - i - 1);
                    ports.set(port, n);
                }
                return;
            }
        }
    }

    /**
     * The best binding for a packet to {@code dst:port} from {@code src:sport}: a connected binding whose remote
     * matches, then one bound to the exact address, then a wildcard one; any-address bindings only when none of
     * those matched or the destination is not local; then the catch-all.
     */
    @SuppressWarnings("unchecked")
    C lookup4(int port, int dst, int src, int sport, boolean local) {
        Object[] at = ports.get(port);
        C best = null;
        int bestScore = -1;
        if (at != null) {
            for (Object o : at) {
                C c = (C) o;
                int score;
                if (c.transparent()) {
                    if (!c.local().matches4(dst)) {
                        continue;
                    }
                    score = 0;
                } else {
                    if (!local || !c.local().matches4(dst)) {
                        continue;
                    }
                    score = c.local().isWildcard() ? 1 : 2;
                }
                Endpoint r = c.remote();
                if (r != null) {
                    if (r.family() != 4 || r.v4() != src || r.port() != sport) {
                        continue;
                    }
                    score += 4;
                }
                if (score > bestScore) {
                    best = c;
                    bestScore = score;
                }
            }
        }
        if (best == null) {
            C all = catchAll;
            if (all != null && all.local().matches4(dst)) {
                return all;
            }
        }
        return best;
    }

    /** {@link #lookup4} for IPv6. */
    @SuppressWarnings("unchecked")
    C lookup6(int port, long dHi, long dLo, long sHi, long sLo, int sport, boolean local) {
        Object[] at = ports.get(port);
        C best = null;
        int bestScore = -1;
        if (at != null) {
            for (Object o : at) {
                C c = (C) o;
                int score;
                if (c.transparent()) {
                    if (!c.local().matches6(dHi, dLo)) {
                        continue;
                    }
                    score = 0;
                } else {
                    if (!local || !c.local().matches6(dHi, dLo)) {
                        continue;
                    }
                    score = c.local().isWildcard() ? 1 : 2;
                }
                Endpoint r = c.remote();
                if (r != null) {
                    if (r.family() != 6 || r.hi() != sHi || r.lo() != sLo || r.port() != sport) {
                        continue;
                    }
                    score += 4;
                }
                if (score > bestScore) {
                    best = c;
                    bestScore = score;
                }
            }
        }
        if (best == null) {
            C all = catchAll;
            if (all != null && all.local().matches6(dHi, dLo)) {
                return all;
            }
        }
        return best;
    }
}

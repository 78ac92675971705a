package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.wire.Ip4;
import io.netty.util.collection.IntObjectHashMap;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The lease table of one subnet of a {@link DhcpServer}: which client holds which address, as an offer or a lease,
 * until when; which addresses are quarantined after a DECLINE. Pure logic on a caller-supplied clock (nanoseconds),
 * no channel, no threads: the server calls it on its event loop, tests call it directly.
 *
 * <p>Every operation visits O(1) hash entries, O(log<sub>64</sub> pool) bitmap words and O(log n) tree nodes:
 * bindings are found by client key and by address in hash tables; free pool addresses come from a
 * {@link FreeBitmap} searched from a cursor; offers and leases sit in two sets ordered by expiry, so the expired ones
 * are always at the heads ({@link #expire} takes at most a given number from there, and an expired binding met on
 * the way is removed on the spot, so it is never honoured however late the sweep is). Quarantine ends in the order
 * it began (one hold time for all), so it is a queue. {@link #work()} counts the hash entries, bitmap words and
 * queue heads visited (not the tree nodes), for tests that bound the work per message.
 *
 * <p>When the pool has no free address, or the table reached its share of {@link Budget}, the oldest pending offer
 * is withdrawn for the new client (offers are promises, not leases; a flood of DISCOVERs cannot lock out real
 * clients for the offer hold). Leases are never taken away. Not thread-safe.
 */
final class DhcpLeaseTable {
    /** {@link #offer}: no address for the client (255.255.255.255, never a host address). */
    static final int EXHAUSTED = -1;
    /** {@link #offer}: the table holds {@link Budget#max} bindings, none of them an offer (255.255.255.254). */
    static final int TABLE_FULL = -2;

    /** Receives the lease events of the table. */
    interface Listener {
        void leaseEvent(DhcpLeaseEvent.Kind kind, Binding binding);

        /** The oldest pending offer was withdrawn to make room for another client. */
        default void offerWithdrawn() {
        }
    }

    /** The bound on bindings shared by the tables of one server. */
    static final class Budget {
        final int max;
        int used;

        Budget(int max) {
            this.max = max;
        }
    }

    /** A client: its client identifier (option 61) if it sent one, else its MAC. */
    static final class ClientKey {
        final long mac;
        final byte[] id;
        private final int hash;

        ClientKey(long mac, byte[] id) {
            this.id = id == null || id.length == 0 ? null : id;
            this.mac = this.id == null ? mac : 0;
            this.hash = this.id == null ? Long.hashCode(mac) : Arrays.hashCode(this.id);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ClientKey k && k.mac == mac && Arrays.equals(k.id, id);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** An offer or lease. Fields are the table's; read them, do not change them (except the rate-limit state). */
    static final class Binding {
        final ClientKey key;
        final long mac;
        final int address;
        final boolean staticLease;
        final long seq;
        boolean bound;
        long expires;
        String hostName;
        int relay;
        /** The server's per-client {@link TokenBucket} state: credit in nanoseconds (-1: full), last refill. */
        long credit = -1;
        long creditAt;

        Binding(ClientKey key, long mac, int address, boolean staticLease, long seq) {
            this.key = key;
            this.mac = mac;
            this.address = address;
            this.staticLease = staticLease;
            this.seq = seq;
        }

        String clientIdHex() {
            return key.id == null ? null : HexFormat.of().formatHex(key.id);
        }
    }

    private static final Comparator<Binding> BY_EXPIRY = (a, b) -> {
        int c = Long.compare(a.expires - b.expires, 0); // wrap-safe on the nanosecond clock
        return c != 0 ? c : Long.compare(a.seq, b.seq);
    };

    private final int network;
    private final int mask;
    private final int poolStart;
    private final int poolEnd;
    private final Map<Long, Integer> staticByMac;
    private final Map<Integer, Long> staticByIp;
    private final Set<Integer> excluded;
    private final long offerHoldNanos;
    private final long leaseNanos;
    private final long declineHoldNanos;
    private final Budget budget;
    private final Listener listener;

    private final FreeBitmap free;
    private final HashMap<ClientKey, Binding> byClient = new HashMap<>();
    private final IntObjectHashMap<Binding> byAddress = new IntObjectHashMap<>();
    private final TreeSet<Binding> offers = new TreeSet<>(BY_EXPIRY);
    private final TreeSet<Binding> leases = new TreeSet<>(BY_EXPIRY);
    private final IntObjectHashMap<Long> quarantine = new IntObjectHashMap<>();
    /**
     * Each client's address from its last released or expired lease, for RFC 2131 §4.3.1's second choice (offered
     * again when still free), the oldest forgotten first beyond one entry per pool address.
     */
    private final LinkedHashMap<ClientKey, Integer> previous;
    private final ArrayDeque<long[]> quarantineOrder = new ArrayDeque<>();
    private int cursor;
    private long seq;
    private long work;
    private long offersWithdrawn;

    /**
     * @param network      subnet address (host bits zero)
     * @param prefixLength subnet prefix length
     * @param poolStart    first pool address, inside the subnet
     * @param poolEnd      last pool address, inclusive
     * @param staticLeases MAC → address, inside the subnet (in the pool or not)
     * @param excluded     addresses never given to a client (the server's, the routers')
     */
    DhcpLeaseTable(int network, int prefixLength, int poolStart, int poolEnd, Map<Long, Integer> staticLeases,
                   Set<Integer> excluded, Duration offerHold, Duration leaseTime, Duration declineHold,
                   Budget budget, Listener listener) {
        this.mask = Ip4.mask(prefixLength);
        this.network = network & mask;
        this.poolStart = poolStart;
        this.poolEnd = poolEnd;
        this.staticByMac = Map.copyOf(staticLeases);
        Map<Integer, Long> byIp = new HashMap<>();
        staticLeases.forEach((mac, ip) -> byIp.put(ip, mac));
        this.staticByIp = Map.copyOf(byIp);
        this.excluded = Set.copyOf(excluded);
        int remembered = Math.max(16, Math.min(poolEnd - poolStart + 1, 65_536));
        this.previous = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<ClientKey, Integer> eldest) {
                return size() > remembered;
            }
        };
        this.offerHoldNanos = offerHold.toNanos();
        this.leaseNanos = leaseTime.toNanos();
        this.declineHoldNanos = declineHold.toNanos();
        this.budget = budget;
        this.listener = listener;
        this.free = new FreeBitmap(poolEnd - poolStart + 1);
        for (int a : excluded) {
            if (inPool(a)) {
                free.take(a - poolStart);
            }
        }
        for (int a : staticByIp.keySet()) {
            if (inPool(a)) {
                free.take(a - poolStart);
            }
        }
    }

    // ---- queries ---------------------------------------------------------------------------------------------------

    /** Whether {@code a} lies in this table's subnet. */
    boolean inSubnet(int a) {
        return (a & mask) == network;
    }

    int network() {
        return network;
    }

    int mask() {
        return mask;
    }

    private boolean inPool(int a) {
        return Integer.compareUnsigned(a, poolStart) >= 0 && Integer.compareUnsigned(a, poolEnd) <= 0;
    }

    /** Bindings held (offers and leases, including expired ones not yet swept). */
    int size() {
        return byClient.size();
    }

    /** Free pool addresses. */
    int freeAddresses() {
        return free.free();
    }

    /** Addresses the pool can give: its size minus excluded and static addresses inside it. */
    int poolCapacity() {
        int n = poolEnd - poolStart + 1;
        for (int a : excluded) {
            n -= inPool(a) ? 1 : 0;
        }
        for (int a : staticByIp.keySet()) {
            n -= inPool(a) ? 1 : 0;
        }
        return n;
    }

    /** Hash entries, bitmap words and expiry-queue heads visited so far. */
    long work() {
        return work + free.wordsVisited();
    }

    long offersWithdrawn() {
        return offersWithdrawn;
    }

    boolean quarantined(int a) {
        work++;
        return quarantine.containsKey(a);
    }

    /** The live binding of {@code key}, or null; an expired one is removed (and reported) on the way. */
    Binding lookup(ClientKey key, long now) {
        work++;
        Binding b = byClient.get(key);
        if (b != null && expired(b, now)) {
            expireOne(b);
            return null;
        }
        return b;
    }

    /** The live binding on {@code address}, or null; an expired one is removed on the way. */
    Binding holder(int address, long now) {
        work++;
        Binding b = byAddress.get(address);
        if (b != null && expired(b, now)) {
            expireOne(b);
            return null;
        }
        return b;
    }

    /** The static address of {@code mac}, or 0. */
    int staticAddress(long mac) {
        work++;
        Integer a = staticByMac.get(mac);
        return a == null ? 0 : a;
    }

    /** Whether {@code a} may be given to the client {@code key} with {@code mac}. */
    boolean usableBy(int a, ClientKey key, long mac, long now) {
        if (a == 0 || !inSubnet(a) || a == network || a == (network | ~mask) || quarantined(a)) {
            return false;
        }
        work++;
        Long owner = staticByIp.get(a);
        if (owner != null) {
            return owner == mac;
        }
        if (excluded.contains(a) || !inPool(a)) {
            return false;
        }
        Binding b = holder(a, now);
        return b == null || b.key.equals(key);
    }

    /** Live bindings as the public record, built now (O(n): for {@link DhcpServer#bindings()} only). */
    List<DhcpBinding> snapshot(long now) {
        List<DhcpBinding> out = new ArrayList<>(byClient.size());
        for (Binding b : byClient.values()) {
            if (!expired(b, now)) {
                out.add(new DhcpBinding(b.mac, b.clientIdHex(), Ip4.toInet(b.address),
                        b.bound ? DhcpBinding.State.BOUND : DhcpBinding.State.OFFERED,
                        Duration.ofNanos(b.expires - now), b.hostName, b.staticLease));
            }
        }
        return out;
    }

    // ---- operations ------------------------------------------------------------------------------------------------

    /**
     * DISCOVER: the address to offer {@code key}, held for it for the offer hold: its static address, its current
     * binding's, {@code requested} when usable, its previous (released or expired) lease's when still free (RFC 2131
     * §4.3.1), else the next free pool address (withdrawing the oldest offer when none is free). A bound client
     * keeps its lease unchanged.
     *
     * @return the address, or {@link #EXHAUSTED} or {@link #TABLE_FULL}
     */
    int offer(ClientKey key, long mac, int requested, String hostName, int relay, long now) {
        int fixed = staticAddress(mac);
        Binding b = lookup(key, now);
        int a;
        if (fixed != 0) {
            if (quarantined(fixed)) {
                return EXHAUSTED;
            }
            a = fixed;
        } else if (b != null) {
            a = b.address;
        } else if (requested != 0 && usableBy(requested, key, mac, now)) {
            a = requested;
        } else {
            a = previousAddress(key, mac, now); // its last lease's, RFC 2131 §4.3.1
            if (a == 0) {
                a = allocate(now);
                if (a == EXHAUSTED) {
                    return a;
                }
            }
        }
        if (b != null && b.bound && b.address == a) {
            note(b, hostName, relay);
            return a;
        }
        return bind(key, mac, a, false, now + offerHoldNanos, hostName, relay) == null ? TABLE_FULL : a;
    }

    /**
     * REQUEST for {@code address}: leases it to {@code key} if it may have it.
     *
     * @return {@link DhcpLeaseEvent.Kind#GRANTED} or {@link DhcpLeaseEvent.Kind#RENEWED} (the event is also
     *         reported), or null when the client must be NAKed
     */
    DhcpLeaseEvent.Kind ack(ClientKey key, long mac, int address, String hostName, int relay, long now) {
        int fixed = staticAddress(mac);
        if (fixed != 0 && fixed != address || !usableBy(address, key, mac, now)) {
            return null;
        }
        Binding old = lookup(key, now);
        boolean renew = old != null && old.bound && old.address == address;
        Binding b = bind(key, mac, address, true, now + leaseNanos, hostName, relay);
        if (b == null) {
            return null;
        }
        DhcpLeaseEvent.Kind kind = renew ? DhcpLeaseEvent.Kind.RENEWED : DhcpLeaseEvent.Kind.GRANTED;
        listener.leaseEvent(kind, b);
        return kind;
    }

    /** DECLINE of {@code address}: the binding goes, the address is quarantined. False if {@code key} did not hold it. */
    boolean decline(ClientKey key, int address, long now) {
        Binding b = lookup(key, now);
        if (b == null || b.address != address) {
            return false;
        }
        remove(b, false);
        Long until = now + declineHoldNanos;
        quarantine.put(address, until);
        quarantineOrder.add(new long[] {address, until});
        listener.leaseEvent(DhcpLeaseEvent.Kind.DECLINED, b);
        return true;
    }

    /** RELEASE of {@code address} by {@code key}; false if it did not hold it. */
    boolean release(ClientKey key, int address, long now) {
        Binding b = lookup(key, now);
        if (b == null || b.address != address) {
            return false;
        }
        remove(b, true);
        if (b.bound) {
            remember(b);
            listener.leaseEvent(DhcpLeaseEvent.Kind.RELEASED, b);
        }
        return true;
    }

    /** The client took another server's offer: forget ours (a lease stays). */
    void withdrawOffer(ClientKey key, long now) {
        Binding b = lookup(key, now);
        if (b != null && !b.bound) {
            remove(b, true);
        }
    }

    /**
     * Removes at most {@code max} expired offers, leases and quarantine entries, oldest first, reporting
     * {@link DhcpLeaseEvent.Kind#EXPIRED} for leases; returns how many it removed.
     */
    int expire(long now, int max) {
        int n = 0;
        while (n < max) {
            Binding o = offers.isEmpty() ? null : offers.first();
            Binding l = leases.isEmpty() ? null : leases.first();
            work += 2;
            Binding next = o == null ? l : l == null ? o : BY_EXPIRY.compare(o, l) <= 0 ? o : l;
            if (next == null || !expired(next, now)) {
                break;
            }
            expireOne(next);
            n++;
        }
        while (n < max && !quarantineOrder.isEmpty()) {
            long[] q = quarantineOrder.peek();
            work++;
            if (now - q[1] < 0) {
                break;
            }
            quarantineOrder.poll();
            int a = (int) q[0];
            Long until = quarantine.get(a);
            if (until != null && until == q[1]) {
                quarantine.remove(a);
                freeAddress(a);
            }
            n++;
        }
        return n;
    }

    // ---- internals -------------------------------------------------------------------------------------------------

    private static boolean expired(Binding b, long now) {
        return now - b.expires >= 0;
    }

    private void expireOne(Binding b) {
        remove(b, true);
        if (b.bound) {
            remember(b);
            listener.leaseEvent(DhcpLeaseEvent.Kind.EXPIRED, b);
        }
    }

    /** Keeps a lease's address as its client's previous one (a static lease needs no memory). */
    private void remember(Binding b) {
        if (!b.staticLease && inPool(b.address)) {
            work++;
            previous.remove(b.key); // re-inserted as the newest
            previous.put(b.key, b.address);
        }
    }

    /** {@code key}'s previous lease's address when still free, else 0. */
    private int previousAddress(ClientKey key, long mac, long now) {
        Integer p = previous.get(key);
        return p != null && free.isFree(p - poolStart) && usableBy(p, key, mac, now) ? p : 0;
    }

    private void note(Binding b, String hostName, int relay) {
        if (hostName != null) {
            b.hostName = hostName;
        }
        b.relay = relay;
    }

    /** The next free pool address from the cursor; withdraws the oldest offer when none is free. */
    private int allocate(long now) {
        int i = free.nextFree(cursor);
        if (i < 0 && expire(now, 1) > 0) {
            i = free.nextFree(cursor);
        }
        if (i < 0 && withdrawOldestOffer()) {
            i = free.nextFree(cursor);
        }
        if (i < 0) {
            return EXHAUSTED;
        }
        cursor = i + 1;
        return poolStart + i;
    }

    private boolean withdrawOldestOffer() {
        if (offers.isEmpty()) {
            return false;
        }
        work++;
        remove(offers.first(), true);
        offersWithdrawn++;
        listener.offerWithdrawn();
        return true;
    }

    /** Records {@code address} for the client, replacing a binding it has on another address; null if full. */
    private Binding bind(ClientKey key, long mac, int address, boolean bound, long expires, String hostName,
                         int relay) {
        work++;
        Binding b = byClient.get(key);
        if (b != null && b.address != address) {
            remove(b, true);
            b = null;
        }
        if (b == null) {
            if (budget.used >= budget.max && !withdrawOldestOffer()) {
                return null;
            }
            work++;
            Binding other = byAddress.get(address);
            if (other != null) {
                remove(other, false); // expired (callers checked usability), or a withdrawn offer's address
            }
            b = new Binding(key, mac, address, staticByIp.containsKey(address), seq++);
            byClient.put(key, b);
            byAddress.put(address, b);
            budget.used++;
            if (inPool(address) && !excluded.contains(address) && !staticByIp.containsKey(address)) {
                free.take(address - poolStart);
            }
        } else {
            (b.bound ? leases : offers).remove(b);
        }
        b.bound = bound;
        b.expires = expires;
        (bound ? leases : offers).add(b);
        note(b, hostName, relay);
        return b;
    }

    private void remove(Binding b, boolean freeAddress) {
        work++;
        byClient.remove(b.key, b);
        byAddress.remove(b.address, b);
        (b.bound ? leases : offers).remove(b);
        budget.used--;
        if (freeAddress) {
            freeAddress(b.address);
        }
    }

    private void freeAddress(int a) {
        if (inPool(a) && !excluded.contains(a) && !staticByIp.containsKey(a)) {
            free.release(a - poolStart);
        }
    }
}

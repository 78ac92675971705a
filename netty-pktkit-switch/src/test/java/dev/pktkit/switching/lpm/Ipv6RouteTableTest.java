package dev.pktkit.switching.lpm;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv6RouteTableTest {
    private static final long DOC_HI = 0x2001_0db8_0000_0000L; // 2001:db8::/32

    /** The reference: a scan over all routes, and per-length maps probed from /128 down (for big tables). */
    static final class Reference {
        final Map<Prefix, Object> routes = new HashMap<>();

        void put(Prefix p, Object v) {
            routes.put(p, v);
        }

        void remove(Prefix p) {
            routes.remove(p);
        }

        Object scan(long hi, long lo) {
            Object best = null;
            int bestLen = -1;
            for (Map.Entry<Prefix, Object> e : routes.entrySet()) {
                Prefix p = e.getKey();
                if (p.length() > bestLen && p.contains(hi, lo)) {
                    best = e.getValue();
                    bestLen = p.length();
                }
            }
            return best;
        }

        Object probe(long hi, long lo) {
            for (int len = 128; len >= 0; len--) {
                Object v = routes.get(Prefix.ipv6(hi, lo, len));
                if (v != null) {
                    return v;
                }
            }
            return null;
        }
    }

    /**
     * Mixed shapes: fully random prefixes of any length; "typical" ones under 2001:db8::/32 of lengths 32..64;
     * /128 hosts and longer prefixes nested under existing ones; shorter ones around existing ones.
     */
    private static Prefix randomPrefix(Random rnd, List<Prefix> existing) {
        int kind = existing.isEmpty() ? 0 : rnd.nextInt(5);
        long hi = rnd.nextLong();
        long lo = rnd.nextLong();
        switch (kind) {
            case 0:
                return Prefix.ipv6(hi, lo, rnd.nextInt(129));
            case 1:
            case 2:
                return Prefix.ipv6(DOC_HI | (hi >>> 32), lo, 32 + rnd.nextInt(33));
            default:
                Prefix base = existing.get(rnd.nextInt(existing.size()));
                int len = kind == 3 ? (rnd.nextBoolean() ? 128 : base.length() + rnd.nextInt(129 - base.length()))
                        : rnd.nextInt(base.length() + 1);
                return Prefix.ipv6(base.hi() | (hi & ~Ip6.maskHi(base.length())),
                        base.lo() | (lo & ~Ip6.maskLo(base.length())), len);
        }
    }

    /** Pairs (hi, lo): just outside, first, last, just outside each prefix, one inside, plus random ones. */
    private static long[] probes(Random rnd, Iterable<Prefix> prefixes, int randomCount) {
        List<long[]> list = new ArrayList<>();
        for (Prefix p : prefixes) {
            long fh = p.hi();
            long fl = p.lo();
            long lh = fh | ~Ip6.maskHi(p.length());
            long ll = fl | ~Ip6.maskLo(p.length());
            list.add(new long[] {fl == 0 ? fh - 1 : fh, fl - 1});
            list.add(new long[] {fh, fl});
            list.add(new long[] {lh, ll});
            list.add(new long[] {ll == -1 ? lh + 1 : lh, ll + 1});
            list.add(new long[] {fh | (rnd.nextLong() & ~Ip6.maskHi(p.length())),
                    fl | (rnd.nextLong() & ~Ip6.maskLo(p.length()))});
        }
        for (int i = 0; i < randomCount; i++) {
            list.add(new long[] {rnd.nextBoolean() ? rnd.nextLong() : DOC_HI | (rnd.nextLong() >>> 32),
                    rnd.nextLong()});
        }
        long[] a = new long[list.size() * 2];
        for (int i = 0; i < list.size(); i++) {
            a[2 * i] = list.get(i)[0];
            a[2 * i + 1] = list.get(i)[1];
        }
        return a;
    }

    private static void assertMatches(Reference ref, Ipv6RouteTable<Object> table, long[] addrs, boolean scan) {
        for (int i = 0; i < addrs.length; i += 2) {
            long hi = addrs[i];
            long lo = addrs[i + 1];
            Object want = scan ? ref.scan(hi, lo) : ref.probe(hi, lo);
            Object got = table.lookup(hi, lo);
            if (want != got) {
                assertEquals(want, got, "lookup(" + Ip6.format(hi, lo) + ")");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"1", "4", "20", "300", "3000", "20000"})
    void matchesBruteForceReference(int count) {
        Random rnd = new Random(2000 + count);
        Ipv6RouteTable<Object> table = new Ipv6RouteTable<>();
        Reference ref = new Reference();
        List<Prefix> added = new ArrayList<>();
        Object[] ports = {"port0", "port1", "port2"};
        for (int i = 0; i < count; i++) {
            Prefix p = randomPrefix(rnd, added);
            Object v = rnd.nextInt(3) == 0 ? ports[rnd.nextInt(ports.length)] : "v" + i;
            table.put(p, v);
            ref.put(p, v);
            added.add(p);
        }
        assertEquals(ref.routes.size(), table.size());
        boolean scan = count <= 3000;
        assertMatches(ref, table, probes(rnd, ref.routes.keySet(), 20000), scan);

        List<Prefix> keys = new ArrayList<>(ref.routes.keySet());
        Collections.shuffle(keys, rnd);
        for (int i = 0; i < (keys.size() + 1) / 2; i++) {
            assertTrue(table.remove(keys.get(i)));
            ref.remove(keys.get(i));
        }
        assertFalse(table.remove(keys.get(0)));
        assertEquals(ref.routes.size(), table.size());
        assertMatches(ref, table, probes(rnd, keys, 20000), scan);

        for (Prefix p : new ArrayList<>(ref.routes.keySet())) {
            Object v = "r" + p;
            assertSame(ref.routes.get(p), table.put(p, v));
            ref.put(p, v);
        }
        assertMatches(ref, table, probes(rnd, keys, 20000), scan);

        for (Prefix p : new ArrayList<>(ref.routes.keySet())) {
            assertTrue(table.remove(p));
            ref.remove(p);
        }
        assertEquals(0, table.size());
        assertEquals(0, table.nodeCount());
        long[] after = probes(rnd, keys, 1000);
        for (int i = 0; i < after.length; i += 2) {
            assertNull(table.lookup(after[i], after[i + 1]));
        }
    }

    /** Every single update checked against the scan, with prefixes crowded into few nodes to force splits. */
    @Test
    void everyUpdateStepMatchesReference() {
        Random rnd = new Random(43);
        Ipv6RouteTable<Object> table = new Ipv6RouteTable<>();
        Reference ref = new Reference();
        List<Prefix> pool = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            pool.add(randomPrefix(rnd, pool));
        }
        long[] fixed = probes(rnd, pool, 200);
        for (int step = 0; step < 4000; step++) {
            Prefix p = pool.get(rnd.nextInt(pool.size()));
            if (rnd.nextInt(3) == 0) {
                assertEquals(ref.routes.containsKey(p), table.remove(p));
                ref.remove(p);
            } else {
                Object v = "s" + rnd.nextInt(5);
                table.put(p, v);
                ref.put(p, v);
            }
            assertEquals(ref.routes.size(), table.size());
            assertMatches(ref, table, probes(rnd, List.of(p), 0), true);
            if (step % 50 == 0) {
                assertMatches(ref, table, fixed, true);
            }
        }
        assertMatches(ref, table, fixed, true);
    }

    @Test
    void defaultHostReplaceRemoveAndClear() {
        Ipv6RouteTable<String> t = new Ipv6RouteTable<>();
        Prefix hostP = Prefix.parse("2001:db8:1:2::3");
        long hi = hostP.hi();
        long lo = hostP.lo();
        assertNull(t.lookup(hi, lo));
        t.put(Prefix.parse("::/0"), "default");
        t.put(Prefix.parse("2001:db8::/32"), "doc");
        t.put(Prefix.parse("2001:db8:1::/48"), "site");
        t.put(Prefix.parse("2001:db8:1:2::/64"), "lan");
        t.put(hostP, "host");
        t.put(Prefix.parse("2001:db8:1:2::/127"), "p2p");
        assertEquals("host", t.lookup(hi, lo));
        assertEquals("p2p", t.lookup(hi, lo - 2));
        assertEquals("p2p", t.lookup(hi, lo - 3));
        assertEquals("lan", t.lookup(hi, lo + 1));
        assertEquals("lan", t.lookup(hi, -1L));
        assertEquals("site", t.lookup(hi + 1, 0));
        assertEquals("doc", t.lookup(Prefix.parse("2001:db8:ffff::").hi(), 0));
        assertEquals("default", t.lookup(Prefix.parse("2001:db9::").hi(), 0));
        assertEquals("default", t.lookup(0, 0));

        assertEquals("lan", t.put(hi, 12345, 64, "lan2")); // host bits ignored
        assertEquals("lan2", t.lookup(hi, lo + 1));
        assertEquals("lan2", t.get(hi, 0, 64));
        assertNull(t.get(hi, 0, 63));

        assertTrue(t.remove(hostP));
        assertEquals("lan2", t.lookup(hi, lo));
        assertTrue(t.remove(Prefix.parse("2001:db8:1:2::/64")));
        assertEquals("site", t.lookup(hi, lo + 1));
        assertEquals("p2p", t.lookup(hi, lo - 3));
        assertTrue(t.remove(Prefix.parse("2001:db8:1::/48")));
        assertEquals("doc", t.lookup(hi, lo + 1));
        assertTrue(t.remove(Prefix.parse("::/0")));
        assertNull(t.lookup(0, 0));
        assertEquals("doc", t.lookup(hi, lo + 1));
        assertFalse(t.remove(Prefix.parse("::/0")));

        t.put(Prefix.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), "last");
        t.put(Prefix.parse("::/128"), "zero");
        assertEquals("last", t.lookup(-1, -1));
        assertNull(t.lookup(-1, -2));
        assertEquals("zero", t.lookup(0, 0));
        assertNull(t.lookup(0, 1));
        assertEquals(List.of(new Route<>(Prefix.parse("::/128"), "zero"),
                new Route<>(Prefix.parse("2001:db8::/32"), "doc"),
                new Route<>(Prefix.parse("2001:db8:1:2::/127"), "p2p"),
                new Route<>(Prefix.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), "last")), t.entries());

        t.clear();
        assertEquals(0, t.size());
        assertNull(t.lookup(hi, lo));
        assertNull(t.lookup(-1, -1));
        assertEquals(0, t.nodeCount());
        t.put(Prefix.parse("2001:db8::/32"), "again");
        assertEquals("again", t.lookup(hi, lo));
    }

    /** Two /64s in different /48s need a branching node above them; removing one merges the path again. */
    @Test
    void splitsAndRecompressesNodes() {
        Ipv6RouteTable<String> t = new Ipv6RouteTable<>();
        t.put(Prefix.parse("2001:db8:1::/64"), "a");
        assertEquals(1, t.nodeCount());
        t.put(Prefix.parse("2001:db8:2::/64"), "b");
        assertEquals(3, t.nodeCount());
        t.put(Prefix.parse("2001:db8:2::1/128"), "h");
        assertEquals(4, t.nodeCount());
        assertEquals("h", t.lookup(Prefix.parse("2001:db8:2::1").hi(), 1));
        assertEquals("b", t.lookup(Prefix.parse("2001:db8:2::1").hi(), 2));
        assertTrue(t.remove(Prefix.parse("2001:db8:1::/64")));
        assertEquals(2, t.nodeCount());
        assertNull(t.lookup(Prefix.parse("2001:db8:1::").hi(), 0));
        assertEquals("b", t.lookup(Prefix.parse("2001:db8:2::").hi(), 0));
        assertTrue(t.remove(Prefix.parse("2001:db8:2::/64")));
        assertEquals(1, t.nodeCount());
        assertEquals("h", t.lookup(Prefix.parse("2001:db8:2::1").hi(), 1));
        assertNull(t.lookup(Prefix.parse("2001:db8:2::1").hi(), 2));
    }

    @Test
    void boundAndArgumentChecks() {
        Ipv6RouteTable<String> t = new Ipv6RouteTable<>(2);
        t.put(DOC_HI, 0, 32, "a");
        t.put(DOC_HI, 1, 128, "b");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.put(DOC_HI, 2, 128, "c"));
        assertTrue(e.getMessage().contains("full") && e.getMessage().contains("2"), e.getMessage());
        assertEquals("a", t.lookup(DOC_HI, 2));
        assertEquals("a", t.put(DOC_HI, 0, 32, "a2"));
        Map<Prefix, String> two = new LinkedHashMap<>();
        two.put(Prefix.ipv6(DOC_HI, 0, 32), "a3");
        two.put(Prefix.parse("fe80::/10"), "ll");
        assertThrows(IllegalStateException.class, () -> t.putAll(two));
        assertEquals("a2", t.lookup(DOC_HI, 2));
        assertTrue(t.remove(DOC_HI, 1, 128));
        t.putAll(two);
        assertEquals("a3", t.lookup(DOC_HI, 1));
        assertEquals("ll", t.lookup(Prefix.parse("fe80::1").hi(), 1));
        assertEquals(2, t.size());

        assertThrows(IllegalArgumentException.class, () -> t.put(0, 0, 129, "x"));
        assertThrows(IllegalArgumentException.class, () -> t.remove(0, 0, -1));
        assertThrows(NullPointerException.class, () -> t.put(0, 0, 8, null));
        assertThrows(IllegalArgumentException.class, () -> t.put(Prefix.parse("10.0.0.0/8"), "x"));
        assertThrows(IllegalArgumentException.class, () -> new Ipv6RouteTable<String>(-5));
        assertEquals(2, t.size());
    }

    /**
     * Readers look up addresses whose answer never changes (in stable /56s and /128s of a few /40s) while a
     * writer adds and removes prefixes around them: covering ones, siblings that split and re-merge the
     * compressed nodes on the same paths, and long ones next to the hosts.
     */
    @Test
    void concurrentReadersSeeNoWrongAnswer() throws Exception {
        Random rnd = new Random(98);
        Ipv6RouteTable<Object> table = new Ipv6RouteTable<>();
        long[] forties = new long[8];
        for (int i = 0; i < forties.length; i++) {
            forties[i] = DOC_HI | ((rnd.nextLong() >>> 32) & 0xFFFF_FF00_0000L);
        }
        Map<Prefix, Object> stable = new HashMap<>();
        for (long f : forties) {
            for (int k = 0; k < 4; k++) {
                int len = k < 3 ? 56 : 128;
                Prefix p = Prefix.ipv6(f | (rnd.nextLong() & 0xFF_FFFFL), rnd.nextLong(), len);
                stable.put(p, "stable " + p);
            }
        }
        for (Map.Entry<Prefix, Object> e : stable.entrySet()) {
            table.put(e.getKey(), e.getValue());
        }
        List<long[]> probeList = new ArrayList<>();
        for (Prefix p : stable.keySet()) {
            probeList.add(new long[] {p.hi(), p.lo()});
            probeList.add(new long[] {p.hi() | ~Ip6.maskHi(p.length()), p.lo() | ~Ip6.maskLo(p.length())});
            probeList.add(new long[] {p.hi() | (rnd.nextLong() & ~Ip6.maskHi(p.length())),
                    p.lo() | (rnd.nextLong() & ~Ip6.maskLo(p.length()))});
        }
        int n = probeList.size();
        long[] his = new long[n];
        long[] los = new long[n];
        Object[] want = new Object[n];
        int[] wantLen = new int[n];
        for (int i = 0; i < n; i++) {
            his[i] = probeList.get(i)[0];
            los[i] = probeList.get(i)[1];
            wantLen[i] = -1;
            for (Map.Entry<Prefix, Object> e : stable.entrySet()) {
                if (e.getKey().contains(his[i], los[i]) && e.getKey().length() > wantLen[i]) {
                    wantLen[i] = e.getKey().length();
                    want[i] = e.getValue();
                }
            }
            assertSame(want[i], table.lookup(his[i], los[i]));
        }
        List<Prefix> churn = new ArrayList<>();
        List<Prefix> stableList = new ArrayList<>(stable.keySet());
        while (churn.size() < 400) {
            Prefix p;
            if (rnd.nextBoolean()) {
                long f = forties[rnd.nextInt(forties.length)];
                p = Prefix.ipv6(f | (rnd.nextLong() & 0xFF_FFFFL), rnd.nextLong(), 16 + rnd.nextInt(113));
            } else { // near a stable prefix: shares its nodes
                Prefix s = stableList.get(rnd.nextInt(stableList.size()));
                int keep = 40 + rnd.nextInt(89);
                p = Prefix.ipv6(s.hi() ^ (rnd.nextLong() & ~Ip6.maskHi(keep)),
                        s.lo() ^ (rnd.nextLong() & ~Ip6.maskLo(keep)), 16 + rnd.nextInt(113));
            }
            boolean harmless = true;
            for (int i = 0; i < n; i++) {
                if (p.contains(his[i], los[i]) && p.length() >= wantLen[i]) {
                    harmless = false;
                }
            }
            if (harmless) {
                churn.add(p);
            }
        }

        int readers = 2;
        CountDownLatch ready = new CountDownLatch(readers);
        CountDownLatch finished = new CountDownLatch(readers);
        AtomicReference<String> failure = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        long[] lookups = new long[readers];
        for (int r = 0; r < readers; r++) {
            int id = r;
            Thread t = new Thread(() -> {
                try {
                    ready.countDown();
                    long count = 0;
                    do {
                        for (int i = 0; i < n; i++) {
                            Object got = table.lookup(his[i], los[i]);
                            if (got != want[i]) {
                                failure.compareAndSet(null, "lookup(" + Ip6.format(his[i], los[i]) + ") = "
                                        + got + ", expected " + want[i]);
                            }
                        }
                        count += n;
                    } while (!stop.get());
                    lookups[id] = count;
                } finally {
                    finished.countDown();
                }
            }, "lpm6-reader-" + r);
            t.setDaemon(true);
            t.start();
        }
        assertTrue(ready.await(30, TimeUnit.SECONDS));
        try {
            Object[] values = {"c0", "c1", "c2"};
            for (int step = 0; step < 30000 && failure.get() == null; step++) {
                Prefix p = churn.get(rnd.nextInt(churn.size()));
                if (rnd.nextInt(3) == 0) {
                    table.remove(p);
                } else {
                    table.put(p, values[rnd.nextInt(values.length)]);
                }
            }
        } finally {
            stop.set(true);
        }
        assertTrue(finished.await(60, TimeUnit.SECONDS), "readers did not stop");
        assertNull(failure.get());
        assertTrue(lookups[0] > 0 && lookups[1] > 0);
        for (int i = 0; i < n; i++) {
            assertSame(want[i], table.lookup(his[i], los[i]));
        }
    }

    /** 10,000 typical prefixes (/32../64 under a few /16s, and /128 hosts) inserted one at a time. */
    @Test
    void tenThousandTypicalInsertsAndNodeCount() {
        Random rnd = new Random(6);
        Ipv6RouteTable<Object> table = new Ipv6RouteTable<>();
        Reference ref = new Reference();
        List<Prefix> nets = new ArrayList<>();
        while (ref.routes.size() < 10000) {
            Prefix p;
            if (nets.isEmpty() || rnd.nextInt(4) != 0) {
                long hi = (0x2000L + rnd.nextInt(16)) << 48 | (rnd.nextLong() >>> 16);
                p = Prefix.ipv6(hi, 0, 32 + rnd.nextInt(33));
                nets.add(p);
            } else {
                Prefix net = nets.get(rnd.nextInt(nets.size()));
                p = Prefix.ipv6(net.hi() | (rnd.nextLong() & ~Ip6.maskHi(net.length())), rnd.nextLong(), 128);
            }
            table.put(p, "v");
            ref.put(p, "v");
        }
        assertEquals(10000, table.size());
        assertMatches(ref, table, probes(rnd, ref.routes.keySet(), 10000), false);
        int nodes = table.nodeCount();
        assertTrue(nodes > 5000 && nodes < 20000, "nodes " + nodes);
    }
}

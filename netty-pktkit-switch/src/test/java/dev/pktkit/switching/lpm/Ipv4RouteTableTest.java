package dev.pktkit.switching.lpm;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv4RouteTableTest {

    /** The reference: a plain list of routes, longest match by scanning them all. */
    static final class Reference {
        final Map<Prefix, Object> routes = new HashMap<>();
        /** Per-length maps: the same answer as the scan, fast enough for 20,000-prefix tables. */
        @SuppressWarnings({"unchecked", "rawtypes"})
        final Map<Integer, Object>[] byLength = new Map[33];

        Reference() {
            for (int i = 0; i <= 32; i++) {
                byLength[i] = new HashMap<>();
            }
        }

        void put(Prefix p, Object v) {
            routes.put(p, v);
            byLength[p.length()].put(p.ipv4Address(), v);
        }

        void remove(Prefix p) {
            routes.remove(p);
            byLength[p.length()].remove(p.ipv4Address());
        }

        Object scan(int a) {
            Object best = null;
            int bestLen = -1;
            for (Map.Entry<Prefix, Object> e : routes.entrySet()) {
                Prefix p = e.getKey();
                if (p.length() > bestLen && p.contains(a)) {
                    best = e.getValue();
                    bestLen = p.length();
                }
            }
            return best;
        }

        Object probe(int a) {
            for (int len = 32; len >= 0; len--) {
                Object v = byLength[len].get(a & Ip4.mask(len));
                if (v != null) {
                    return v;
                }
            }
            return null;
        }
    }

    private static Prefix randomPrefix(Random rnd, List<Prefix> existing) {
        int len;
        int r = rnd.nextInt(20);
        if (r == 0) {
            len = rnd.nextInt(8);          // a few short ones, /0../7
        } else {
            len = 8 + rnd.nextInt(25);     // mostly /8../32
        }
        int addr = rnd.nextInt();
        if (!existing.isEmpty() && rnd.nextBoolean()) {
            // nest inside or around an existing prefix so covering chains and shared nodes are common
            Prefix base = existing.get(rnd.nextInt(existing.size()));
            addr = base.ipv4Address() | (addr & ~Ip4.mask(base.length()));
        }
        return Prefix.ipv4(addr, len);
    }

    /** Addresses at the edges of every prefix (just outside, first, last, just outside) plus random ones. */
    private static int[] probes(Random rnd, Iterable<Prefix> prefixes, int randomCount) {
        List<Integer> list = new ArrayList<>();
        for (Prefix p : prefixes) {
            int first = p.ipv4Address();
            int last = first | ~Ip4.mask(p.length());
            list.add(first - 1);
            list.add(first);
            list.add(last);
            list.add(last + 1);
            list.add(first | (rnd.nextInt() & ~Ip4.mask(p.length())));
        }
        for (int i = 0; i < randomCount; i++) {
            list.add(rnd.nextInt());
        }
        int[] a = new int[list.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = list.get(i);
        }
        return a;
    }

    private static void assertMatches(Reference ref, Ipv4RouteTable<Object> table, int[] addrs, boolean scan) {
        for (int a : addrs) {
            Object want = scan ? ref.scan(a) : ref.probe(a);
            Object got = table.lookup(a);
            if (want != got) {
                assertEquals(want, got, "lookup(" + Ip4.format(a) + ")");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 20, 300, 3000, 20000})
    void matchesBruteForceReference(int count) {
        Random rnd = new Random(1000 + count);
        Ipv4RouteTable<Object> table = new Ipv4RouteTable<>();
        Reference ref = new Reference();
        List<Prefix> added = new ArrayList<>();
        // a small pool of shared values (like ports) plus distinct ones
        Object[] ports = {"port0", "port1", "port2", "port3"};
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

        // remove a random half; addresses fall back to the covering prefixes
        List<Prefix> keys = new ArrayList<>(ref.routes.keySet());
        java.util.Collections.shuffle(keys, rnd);
        for (int i = 0; i < (keys.size() + 1) / 2; i++) {
            assertTrue(table.remove(keys.get(i)));
            ref.remove(keys.get(i));
        }
        assertFalse(table.remove(keys.get(0)));
        assertEquals(ref.routes.size(), table.size());
        assertMatches(ref, table, probes(rnd, keys, 20000), scan);

        // replace every remaining value
        for (Prefix p : new ArrayList<>(ref.routes.keySet())) {
            Object v = "r" + p;
            Object old = ref.routes.get(p);
            assertSame(old, table.put(p, v));
            ref.put(p, v);
        }
        assertMatches(ref, table, probes(rnd, keys, 20000), scan);

        // remove everything: nothing matches and no node is left behind
        for (Prefix p : new ArrayList<>(ref.routes.keySet())) {
            assertTrue(table.remove(p));
            ref.remove(p);
        }
        assertEquals(0, table.size());
        assertEquals(0, table.nodeCount());
        for (int a : probes(rnd, keys, 1000)) {
            assertNull(table.lookup(a));
        }
    }

    /** Every single update checked against the scan, in a table small enough to scan after each step. */
    @Test
    void everyUpdateStepMatchesReference() {
        Random rnd = new Random(42);
        Ipv4RouteTable<Object> table = new Ipv4RouteTable<>();
        Reference ref = new Reference();
        List<Prefix> pool = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            pool.add(randomPrefix(rnd, pool));
        }
        int[] fixed = probes(rnd, pool, 200);
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
        Ipv4RouteTable<String> t = new Ipv4RouteTable<>();
        int host = Ip4.parse("10.1.2.3");
        assertNull(t.lookup(host));
        t.put(Prefix.parse("0.0.0.0/0"), "default");
        t.put(Prefix.parse("10.0.0.0/8"), "ten");
        t.put(Prefix.parse("10.1.0.0/16"), "ten-one");
        t.put(Prefix.parse("10.1.2.0/24"), "lan");
        t.put(Prefix.parse("10.1.2.3/32"), "host");
        assertEquals("host", t.lookup(host));
        assertEquals("lan", t.lookup(host + 1));
        assertEquals("ten-one", t.lookup(Ip4.parse("10.1.3.0")));
        assertEquals("ten", t.lookup(Ip4.parse("10.255.255.255")));
        assertEquals("default", t.lookup(Ip4.parse("11.0.0.0")));
        assertEquals("default", t.lookup(Ip4.parse("9.255.255.255")));

        assertEquals("lan", t.put(Ip4.parse("10.1.2.77"), 24, "lan2")); // host bits ignored
        assertEquals("lan2", t.lookup(host + 1));
        assertEquals("lan2", t.get(Ip4.parse("10.1.2.0"), 24));
        assertNull(t.get(Ip4.parse("10.1.2.0"), 23));

        assertTrue(t.remove(host, 32));
        assertEquals("lan2", t.lookup(host));
        assertTrue(t.remove(Prefix.parse("10.1.2.0/24")));
        assertEquals("ten-one", t.lookup(host));
        assertTrue(t.remove(Prefix.parse("10.1.0.0/16")));
        assertEquals("ten", t.lookup(host));
        assertTrue(t.remove(Prefix.parse("0.0.0.0/0")));
        assertEquals("ten", t.lookup(host));
        assertNull(t.lookup(Ip4.parse("11.0.0.0")));
        assertFalse(t.remove(Prefix.parse("0.0.0.0/0")));

        t.put(Prefix.parse("255.255.255.255/32"), "bcast");
        t.put(Prefix.parse("0.0.0.0/32"), "zero");
        assertEquals("bcast", t.lookup(-1));
        assertEquals("zero", t.lookup(0));
        assertNull(t.lookup(1));
        assertEquals(List.of(new Route<>(Prefix.parse("0.0.0.0/32"), "zero"),
                new Route<>(Prefix.parse("10.0.0.0/8"), "ten"),
                new Route<>(Prefix.parse("255.255.255.255/32"), "bcast")), t.entries());

        t.clear();
        assertEquals(0, t.size());
        assertNull(t.lookup(host));
        assertNull(t.lookup(-1));
        assertEquals(0, t.nodeCount());
        t.put(Prefix.parse("10.0.0.0/8"), "again");
        assertEquals("again", t.lookup(host));
    }

    @Test
    void boundAndArgumentChecks() {
        Ipv4RouteTable<String> t = new Ipv4RouteTable<>(3);
        assertEquals(3, t.maxEntries());
        t.put(0x0A000000, 8, "a");
        t.put(0x0B000000, 8, "b");
        t.put(0x0C000000, 8, "c");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.put(0x0D000000, 8, "d"));
        assertTrue(e.getMessage().contains("full") && e.getMessage().contains("3"), e.getMessage());
        assertNull(t.lookup(0x0D000001));
        assertEquals("a", t.put(0x0A000000, 8, "a2")); // replacing at the bound is fine
        assertEquals(3, t.size());

        Map<Prefix, String> two = new LinkedHashMap<>();
        two.put(Prefix.parse("10.0.0.0/8"), "a3");
        two.put(Prefix.parse("14.0.0.0/8"), "e");
        assertThrows(IllegalStateException.class, () -> t.putAll(two));
        assertEquals("a2", t.lookup(0x0A000001)); // all or nothing
        assertTrue(t.remove(0x0C000000, 8));
        t.putAll(two);
        assertEquals("a3", t.lookup(0x0A000001));
        assertEquals("e", t.lookup(0x0E000001));
        assertEquals(3, t.size());

        assertThrows(IllegalArgumentException.class, () -> t.put(0, 33, "x"));
        assertThrows(IllegalArgumentException.class, () -> t.put(0, -1, "x"));
        assertThrows(NullPointerException.class, () -> t.put(0, 8, null));
        assertThrows(IllegalArgumentException.class, () -> t.put(Prefix.parse("::/0"), "x"));
        assertThrows(IllegalArgumentException.class, () -> new Ipv4RouteTable<String>(0));
        assertThrows(IllegalArgumentException.class, () -> t.putAll(Map.of(Prefix.parse("::/0"), "x")));
        assertEquals(3, t.size());
    }

    /**
     * Readers on other threads look up addresses whose answer never changes (inside stable /24 and /32 routes)
     * while a writer adds and removes routes sharing their nodes: shorter covering prefixes, longer prefixes
     * elsewhere in the same /16s and /24s, values that toggle. Every answer must be exact.
     */
    @Test
    void concurrentReadersSeeNoWrongAnswer() throws Exception {
        Random rnd = new Random(99);
        Ipv4RouteTable<Object> table = new Ipv4RouteTable<>();
        int[] sixteens = new int[16];
        for (int i = 0; i < sixteens.length; i++) {
            sixteens[i] = rnd.nextInt() & 0xFFFF0000;
        }
        // stable routes: per /16, a few /24s and hosts; record probe address -> expected value
        Map<Prefix, Object> stable = new HashMap<>();
        for (int s : sixteens) {
            for (int k = 0; k < 4; k++) {
                int len = k < 3 ? 24 : 32;
                Prefix p = Prefix.ipv4(s | (rnd.nextInt() & 0xFFFF), len);
                stable.put(p, "stable " + p);
            }
        }
        for (Map.Entry<Prefix, Object> e : stable.entrySet()) {
            table.put(e.getKey(), e.getValue());
        }
        // probe addresses: edges and an inner address of each stable route, with the expected answer and the
        // length of the stable route that gives it (checked here against a scan of the stable routes)
        List<Integer> probeList = new ArrayList<>();
        for (Prefix p : stable.keySet()) {
            int first = p.ipv4Address();
            int last = first | ~Ip4.mask(p.length());
            probeList.add(first);
            probeList.add(last);
            probeList.add(first | (rnd.nextInt() & ~Ip4.mask(p.length())));
        }
        int[] addrs = probeList.stream().mapToInt(Integer::intValue).toArray();
        Object[] want = new Object[addrs.length];
        int[] wantLen = new int[addrs.length];
        for (int i = 0; i < addrs.length; i++) {
            wantLen[i] = -1;
            for (Map.Entry<Prefix, Object> e : stable.entrySet()) {
                if (e.getKey().contains(addrs[i]) && e.getKey().length() > wantLen[i]) {
                    wantLen[i] = e.getKey().length();
                    want[i] = e.getValue();
                }
            }
            assertSame(want[i], table.lookup(addrs[i]));
        }
        // churn: prefixes in the same /16s that never beat the stable route of a probe address
        List<Prefix> churn = new ArrayList<>();
        while (churn.size() < 400) {
            int s = sixteens[rnd.nextInt(sixteens.length)];
            Prefix p = Prefix.ipv4(s | (rnd.nextInt() & 0xFFFF), 4 + rnd.nextInt(29));
            boolean harmless = true;
            for (int i = 0; i < addrs.length; i++) {
                if (p.contains(addrs[i]) && p.length() >= wantLen[i]) {
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
        long[] lookups = new long[readers];
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        for (int r = 0; r < readers; r++) {
            int id = r;
            Thread t = new Thread(() -> {
                try {
                    ready.countDown();
                    long n = 0;
                    do {
                        for (int i = 0; i < addrs.length; i++) {
                            Object got = table.lookup(addrs[i]);
                            if (got != want[i]) {
                                failure.compareAndSet(null, "lookup(" + Ip4.format(addrs[i]) + ") = " + got
                                        + ", expected " + want[i]);
                            }
                        }
                        n += addrs.length;
                    } while (!stop.get());
                    lookups[id] = n;
                } finally {
                    finished.countDown();
                }
            }, "lpm-reader-" + r);
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
        // and the table is still exact after the churn
        for (int i = 0; i < addrs.length; i++) {
            assertSame(want[i], table.lookup(addrs[i]));
        }
    }

    /** Inserting 10,000 random prefixes one at a time (not timed: a regression shows as a slow test run). */
    @Test
    void tenThousandInsertsAndNodeCount() {
        Random rnd = new Random(5);
        Ipv4RouteTable<Object> table = new Ipv4RouteTable<>();
        Reference ref = new Reference();
        while (ref.routes.size() < 10000) {
            Prefix p = Prefix.ipv4(rnd.nextInt(), 8 + rnd.nextInt(25));
            table.put(p, "v");
            ref.put(p, "v");
        }
        assertEquals(10000, table.size());
        assertMatches(ref, table, probes(rnd, ref.routes.keySet(), 10000), false);
        int nodes = table.nodeCount();
        // about 0.97 nodes per prefix for this distribution (see the class Javadoc's memory figure)
        assertTrue(nodes > 5000 && nodes < 12000, "nodes " + nodes);
    }
}

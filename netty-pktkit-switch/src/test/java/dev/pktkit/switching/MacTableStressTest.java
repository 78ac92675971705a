package dev.pktkit.switching;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link MacTable}'s lock-free learning against its monitor-guarded removals, all at once: several threads learn
 * random and recurring stations on random ports while others age entries out, remove ports and clear the table,
 * forcing freeze-and-rebuilds. At each quiescent point the table's invariants must hold exactly.
 */
class MacTableStressTest {
    static final int LEARNERS = 4;
    static final int PORTS = 8;
    static final int ROUNDS = 12;
    static final int LEARNS_PER_ROUND = 20_000;

    /** Every invariant the table promises, checked with no thread running. */
    static void assertInvariants(MacTable table, L2Port[] ports, int maxEntries) {
        List<MacTable.Entry> live = table.entries();
        Set<Long> keys = new HashSet<>();
        Map<L2Port, Integer> perPort = new HashMap<>();
        for (MacTable.Entry e : live) {
            assertTrue(keys.add(e.key), "one entry per station");
            assertTrue(e.port != null, "a live entry has a port");
            perPort.merge(e.port, 1, Integer::sum);
            assertEquals(e, table.get(e.key), "every live entry is found by lookup");
        }
        assertEquals(live.size(), table.size(), "size counts exactly the live entries");
        assertTrue(table.size() <= maxEntries, "cap holds: " + table.size());
        for (L2Port p : ports) {
            int n = perPort.getOrDefault(p, 0);
            assertEquals(n, p.learned.get(), "per-port count exact for " + p);
            // (The per-port cap bounds inserts only: a station move may take a port past it, as documented.)
        }
    }

    @Test
    void concurrentLearningWithSweepPortRemovalAndClearKeepsTheInvariants() throws Exception {
        int maxEntries = 512; // small, so the cap, tombstones and rebuilds are hit constantly
        MacTable table = new MacTable(maxEntries);
        L2Hub hub = L2Hub.builder().tickInterval(java.time.Duration.ZERO).build();
        L2Port[] ports = new L2Port[PORTS];
        for (int i = 0; i < PORTS; i++) {
            ports[i] = new L2Port(hub, new EmbeddedChannel(), L2PortOptions.defaults().maxMacEntries(i == 0 ? 40 : 400));
        }
        ExecutorService pool = Executors.newFixedThreadPool(LEARNERS + 1);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                long now = round * 1_000L;
                int r = round;
                CyclicBarrier start = new CyclicBarrier(LEARNERS + 1);
                AtomicBoolean learning = new AtomicBoolean(true);
                CountDownLatch learnersDone = new CountDownLatch(LEARNERS);
                Future<?>[] learners = new Future<?>[LEARNERS];
                for (int l = 0; l < LEARNERS; l++) {
                    int id = l;
                    learners[l] = pool.submit(() -> {
                        SplittableRandom rnd = new SplittableRandom(r * 31L + id);
                        start.await();
                        for (int i = 0; i < LEARNS_PER_ROUND; i++) {
                            // Half recurring stations (moves between ports, concurrent inserts of one key), half
                            // fresh random ones (cap pressure, tombstones, rebuilds).
                            long mac = rnd.nextBoolean() ? rnd.nextInt(300) : rnd.nextLong() & 0xFEFF_FFFF_FFFFL;
                            int vid = 1 + rnd.nextInt(3);
                            L2Port port = ports[rnd.nextInt(PORTS)];
                            MacTable.Learn result = table.learn(MacTable.key(mac, vid), port,
                                    now + rnd.nextInt(1000));
                            assertTrue(result != null);
                        }
                        learnersDone.countDown();
                        return null;
                    });
                }
                Future<?> remover = pool.submit(() -> {
                    SplittableRandom rnd = new SplittableRandom(r);
                    start.await();
                    while (learnersDone.getCount() > 0) {
                        switch (rnd.nextInt(10)) {
                            case 0 -> table.clear();
                            case 1, 2, 3 -> table.removePort(ports[rnd.nextInt(PORTS)]);
                            default -> table.sweep(now + 1000, rnd.nextInt(1000));
                        }
                    }
                    learning.set(false);
                    return null;
                });
                for (Future<?> f : learners) {
                    f.get(30, TimeUnit.SECONDS);
                }
                remover.get(30, TimeUnit.SECONDS);
                assertInvariants(table, ports, maxEntries);

                // Quiescent removals are exact.
                L2Port gone = ports[round % PORTS];
                table.removePort(gone);
                assertEquals(0, gone.learned.get());
                for (MacTable.Entry e : table.entries()) {
                    assertTrue(e.port != gone, "no entry left on a removed port");
                }
                assertInvariants(table, ports, maxEntries);
                table.sweep(now + 10_000, 0);
                assertEquals(0, table.size(), "everything older than the aging time goes");
                assertInvariants(table, ports, maxEntries);
                long probe = MacTable.key(0x0200_0000_0001L, 1);
                assertEquals(MacTable.Learn.LEARNED, table.learn(probe, ports[1], now));
                assertEquals(ports[1], table.lookup(probe, now, 10));
                table.clear();
                assertNull(table.get(probe));
                assertInvariants(table, ports, maxEntries);
            }
            assertTrue(table.rebuilds() > ROUNDS, "rebuilds raced with learning: " + table.rebuilds());
        } finally {
            pool.shutdownNow();
            hub.close();
        }
    }
}

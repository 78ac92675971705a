package dev.pktkit.codec.stats;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EnumCountersTest {
    enum Reason { NO_ROUTE, TOO_BIG, MALFORMED }

    enum Traffic { FRAMES_IN, BYTES_IN }

    @Test
    void countsPerKeyAndInTotal() {
        EnumCounters<Reason> c = EnumCounters.of(Reason.class);
        c.increment(Reason.NO_ROUTE);
        c.increment(Reason.NO_ROUTE);
        c.add(Reason.MALFORMED, 5);
        assertEquals(2, c.get(Reason.NO_ROUTE));
        assertEquals(0, c.get(Reason.TOO_BIG));
        assertEquals(5, c.get(Reason.MALFORMED));
        assertEquals(7, c.sum());
        assertEquals(Map.of(Reason.NO_ROUTE, 2L, Reason.TOO_BIG, 0L, Reason.MALFORMED, 5L), c.snapshot());
        assertEquals("no_route=2 malformed=5", c.toString());
        c.reset();
        assertEquals(0, c.sum());
        assertEquals("", c.toString());
    }

    @Test
    void singleWriterCountsLikeTheSharedKindAndIsReadableElsewhere() throws Exception {
        EnumCounters<Reason> c = EnumCounters.singleWriter(Reason.class);
        assertTrue(!c.isShared());
        assertTrue(EnumCounters.of(Reason.class).isShared());
        Thread writer = new Thread(() -> {
            for (int i = 0; i < 30_000; i++) {
                c.increment(Reason.values()[i % 3]);
            }
            c.add(Reason.TOO_BIG, 7);
        });
        writer.start();
        writer.join(); // join orders the writes before these reads
        assertEquals(30_007, c.sum());
        assertEquals(10_007, c.get(Reason.TOO_BIG));
        assertEquals("no_route=10000 too_big=10007 malformed=10000", c.toString());
        c.reset();
        assertEquals(0, c.sum());
    }

    @Test
    void countersBinderBindsAndRemovesEveryPart() {
        EnumCounters<Reason> drops = EnumCounters.singleWriter(Reason.class);
        EnumCounters<Traffic> traffic = EnumCounters.singleWriter(Traffic.class);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CountersBinder b = CountersBinder.of(MicrometerCounters.named("pktkit.dev", traffic, Tags.empty()),
                MicrometerCounters.tagged("pktkit.dev.drops", drops, "reason", Tags.empty()));
        b.bindTo(registry);
        traffic.increment(Traffic.FRAMES_IN);
        drops.add(Reason.MALFORMED, 2);
        assertEquals(1.0, registry.get("pktkit.dev.frames.in").functionCounter().count());
        assertEquals(2.0, registry.get("pktkit.dev.drops").tag("reason", "malformed").functionCounter().count());
        assertEquals(5, registry.getMeters().size());
        b.close();
        assertTrue(registry.getMeters().isEmpty());
    }

    @Test
    void manyThreadsLoseNoCount() throws Exception {
        EnumCounters<Reason> c = EnumCounters.of(Reason.class);
        int threads = 4;
        int perThread = 100_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            for (int t = 0; t < threads; t++) {
                pool.execute(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    for (int i = 0; i < perThread; i++) {
                        c.increment(Reason.values()[i % 3]);
                    }
                });
            }
            start.countDown();
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
        assertEquals((long) threads * perThread, c.sum());
        assertEquals(threads * (perThread / 3 + 1), c.get(Reason.NO_ROUTE));
    }

    @Test
    void taggedMeterReadsLiveCountsAndCloseRemovesIt() {
        EnumCounters<Reason> c = EnumCounters.of(Reason.class);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MicrometerCounters binder = MicrometerCounters.tagged("pktkit.port.drops", c, "reason",
                Tags.of("hub", "lan"));
        binder.bindTo(registry);
        c.add(Reason.TOO_BIG, 3);
        FunctionCounter m = registry.find("pktkit.port.drops").tags("hub", "lan", "reason", "too_big")
                .functionCounter();
        assertNotNull(m);
        assertEquals(3.0, m.count());
        c.increment(Reason.TOO_BIG);
        assertEquals(4.0, m.count());
        assertEquals(3, registry.find("pktkit.port.drops").functionCounters().size());
        assertThrows(IllegalStateException.class, () -> binder.bindTo(registry));

        binder.close();
        assertNull(registry.find("pktkit.port.drops").functionCounter());
    }

    @Test
    void namedMetersOnePerConstant() {
        EnumCounters<Traffic> c = EnumCounters.of(Traffic.class);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MicrometerCounters.named("pktkit.port", c, Tags.of("port", "p1")).bindTo(registry);
        c.add(Traffic.BYTES_IN, 1500);
        c.increment(Traffic.FRAMES_IN);
        assertEquals(1.0, registry.get("pktkit.port.frames.in").tag("port", "p1").functionCounter().count());
        assertEquals(1500.0, registry.get("pktkit.port.bytes.in").functionCounter().count());
    }
}

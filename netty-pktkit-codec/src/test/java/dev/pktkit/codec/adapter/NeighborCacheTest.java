package dev.pktkit.codec.adapter;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NeighborCacheTest {
    @Test
    void randomInsertsAndRemovalsAgreeWithAMap() {
        // Keys collide on purpose (few distinct low bits) so probe chains and backward-shift deletion get exercised.
        NeighborCache c = new NeighborCache(64, 4, 64);
        Map<Long, Long> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(1);
        for (int step = 0; step < 20_000; step++) {
            long key = rnd.nextInt(96) * 0x1_0000_0000L;
            int op = rnd.nextInt(3);
            int s = c.find(0, key);
            assertEquals(model.containsKey(key), s >= 0, "presence of " + key + " at step " + step);
            if (op == 0 && s < 0 && model.size() < 64) {
                long mac = rnd.nextLong() & 0xFFFF_FFFF_FFFFL;
                assertTrue(c.put(0, key, mac, Long.MAX_VALUE));
                model.put(key, mac);
            } else if (op == 1 && s >= 0) {
                c.remove(s);
                model.remove(key);
            } else if (s >= 0) {
                assertEquals((long) model.get(key), c.lookup(0, key));
            }
            assertEquals(model.size(), c.size());
        }
        for (Map.Entry<Long, Long> e : model.entrySet()) {
            assertEquals((long) e.getValue(), c.lookup(0, e.getKey()));
        }
    }

    @Test
    void fullCacheEvictsTheEntryThatExpiresFirstButNeverAnIncompleteOne() {
        NeighborCache c = new NeighborCache(3, 4, 64);
        c.put(0, 1, 0x11, 300);
        c.put(0, 2, 0x22, 100);
        c.put(0, 3, 0x33, 200);
        assertTrue(c.put(0, 4, 0x44, 400));
        assertEquals(-1, c.lookup(0, 2), "earliest expiry evicted");
        assertEquals(0x44, c.lookup(0, 4));
        NeighborCache d = new NeighborCache(2, 4, 64);
        assertTrue(d.insertIncomplete(0, 1, 0, 10) >= 0);
        assertTrue(d.insertIncomplete(0, 2, 0, 10) >= 0);
        assertEquals(-1, d.insertIncomplete(0, 3, 0, 10), "all resolving: nothing to evict");
        assertFalse(d.put(0, 3, 0x33, 100));
    }

    @Test
    void pendingQueueIsBoundedPerEntryAndInAll() {
        EmbeddedChannel ch = new EmbeddedChannel();
        NeighborCache c = new NeighborCache(8, 2, 3);
        int a = c.insertIncomplete(0, 1, 0, 10);
        ByteBuf p1 = Unpooled.buffer(1);
        ChannelPromise pr = new DefaultChannelPromise(ch);
        assertTrue(c.enqueue(a, p1, pr));
        assertTrue(c.enqueue(a, Unpooled.buffer(1), pr));
        ByteBuf rejected = Unpooled.buffer(1);
        assertFalse(c.enqueue(a, rejected, pr), "per-entry bound");
        int b = c.insertIncomplete(0, 2, 0, 10);
        assertTrue(c.enqueue(b, Unpooled.buffer(1), pr));
        assertFalse(c.enqueue(b, rejected, pr), "total bound");
        assertEquals(3, c.pendingTotal());
        assertThrows(IllegalStateException.class, () -> c.remove(c.find(0, 1)));
        NeighborCache.Pending first = c.pollPending(c.find(0, 1));
        assertSame(p1, first.packet(), "FIFO");
        for (int s : new int[] {c.find(0, 1), c.find(0, 2)}) {
            for (NeighborCache.Pending p; (p = c.pollPending(s)) != null; ) {
                p.packet().release();
            }
        }
        assertNull(c.pollPending(c.find(0, 1)));
        first.packet().release();
        rejected.release();
        assertEquals(0, c.pendingTotal());
        ch.finishAndReleaseAll();
    }

    @Test
    void learnStaleDoesNotConfirmAndDoesNotEvict() {
        NeighborCache c = new NeighborCache(1, 4, 64);
        int s = c.learnStale(0, 1, 0x11, 0);
        assertEquals(NeighborCache.STALE, c.state(s));
        assertEquals(-1, c.learnStale(0, 2, 0x22, 0), "full: no eviction for unconfirmed news");
        c.put(0, 1, 0x11, 100);
        s = c.find(0, 1);
        assertEquals(NeighborCache.REACHABLE, c.state(s));
        c.learnStale(0, 1, 0x11, 0);
        assertEquals(NeighborCache.REACHABLE, c.state(s), "same MAC keeps the state");
        c.learnStale(0, 1, 0x99, 0);
        assertEquals(NeighborCache.STALE, c.state(s), "changed MAC goes stale");
        assertEquals(0x99, c.mac(s));
    }

    @Test
    void boundsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new NeighborCache(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new NeighborCache(1, -1, 1));
    }
}

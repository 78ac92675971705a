package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.wire.Ip4;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link DhcpLeaseTable} and {@link FreeBitmap} as plain logic: no channel, the clock passed in. */
class DhcpLeaseTableTest {
    static final long S = 1_000_000_000L;
    static final int NET = Ip4.parse("10.0.0.0");
    static final int FIRST = Ip4.parse("10.0.0.10");
    static final long STATIC_MAC = 0x0200_0000_0099L;

    private final List<String> events = new ArrayList<>();

    private DhcpLeaseTable table(int poolSize, int maxBindings) {
        return new DhcpLeaseTable(NET, 16, FIRST, FIRST + poolSize - 1, Map.of(STATIC_MAC, FIRST + 1),
                Set.of(Ip4.parse("10.0.0.1"), FIRST + 2), Duration.ofSeconds(30), Duration.ofSeconds(100),
                Duration.ofSeconds(60), new DhcpLeaseTable.Budget(maxBindings),
                (kind, b) -> events.add(kind + " " + Ip4.format(b.address)));
    }

    static DhcpLeaseTable.ClientKey key(long mac) {
        return new DhcpLeaseTable.ClientKey(mac, null);
    }

    @Test
    void bitmapAgreesWithABitSetAndVisitsFewWords() {
        for (int size : new int[] {1, 63, 64, 65, 4096, 4097, 300_000}) {
            FreeBitmap bits = new FreeBitmap(size);
            BitSet free = new BitSet();
            free.set(0, size);
            Random r = new Random(size);
            for (int i = 0; i < 20_000; i++) {
                int k = r.nextInt(size);
                if (r.nextBoolean()) {
                    assertEquals(free.get(k), bits.take(k));
                    free.clear(k);
                } else {
                    assertEquals(!free.get(k), bits.release(k));
                    free.set(k);
                }
                int from = r.nextInt(size);
                int expect = free.nextSetBit(from);
                if (expect < 0) {
                    expect = free.nextSetBit(0);
                }
                long before = bits.wordsVisited();
                assertEquals(expect, bits.nextFree(from), "size " + size + " from " + from);
                assertTrue(bits.wordsVisited() - before <= 12, "O(log64 n) words: " + (bits.wordsVisited() - before));
                assertEquals(free.cardinality(), bits.free());
            }
        }
    }

    @Test
    void allocatesFromACursorSkippingExcludedAndStaticAddresses() {
        DhcpLeaseTable t = table(6, 100); // 10.0.0.10-15; .11 static, .12 excluded
        assertEquals(4, t.poolCapacity());
        assertEquals(FIRST, t.offer(key(1), 1, 0, null, 0, 0));
        t.withdrawOffer(key(1), 0);
        assertEquals(0, t.size());
        assertEquals(FIRST + 3, t.offer(key(2), 2, 0, null, 0, 0), "the cursor moves on past a freed address");
        assertEquals(FIRST + 4, t.offer(key(3), 3, 0, null, 0, 0));
        assertEquals(FIRST + 5, t.offer(key(4), 4, 0, null, 0, 0));
        assertEquals(FIRST, t.offer(key(5), 5, 0, null, 0, 0), "and wraps around");
        assertEquals(0, t.freeAddresses());
        assertEquals(FIRST + 3, t.offer(key(6), 6, 0, null, 0, 0), "full: the oldest offer is withdrawn");
        assertEquals(1, t.offersWithdrawn());
    }

    @Test
    void offersLeasesExpiryAndQuarantineOnTheCallersClock() {
        DhcpLeaseTable t = table(8, 100); // 10.0.0.10-17; .11 static, .12 excluded
        long now = 0;
        assertEquals(FIRST, t.offer(key(1), 1, 0, null, 0, now));
        assertEquals(FIRST + 3, t.offer(key(2), 2, 0, null, 0, now), "skips the static and the excluded address");
        assertEquals(FIRST + 1, t.offer(key(STATIC_MAC), STATIC_MAC, 0, null, 0, now));
        assertEquals(DhcpLeaseEvent.Kind.GRANTED, t.ack(key(1), 1, FIRST, "a", 0, now));
        assertNull(t.ack(key(3), 3, FIRST, null, 0, now), "taken");
        assertNull(t.ack(key(3), 3, FIRST + 1, null, 0, now), "someone's static address");
        assertEquals(DhcpLeaseEvent.Kind.RENEWED, t.ack(key(1), 1, FIRST, "a", 0, now + 10 * S));
        assertEquals(3, t.size());
        // offers end after 30 s, the lease 100 s after its renewal
        assertEquals(2, t.expire(now + 31 * S, 100));
        assertEquals(1, t.size());
        assertEquals(0, t.expire(now + 109 * S, 100));
        assertEquals(1, t.expire(now + 110 * S, 100));
        assertEquals(List.of("GRANTED 10.0.0.10", "RENEWED 10.0.0.10", "EXPIRED 10.0.0.10"), events);
        // decline → quarantine for 60 s
        now = 200 * S;
        int a = t.offer(key(4), 4, 0, null, 0, now);
        t.ack(key(4), 4, a, null, 0, now);
        assertTrue(t.decline(key(4), a, now));
        assertTrue(t.quarantined(a));
        assertFalse(t.usableBy(a, key(5), 5, now + 59 * S));
        assertEquals(1, t.expire(now + 60 * S, 100));
        assertTrue(t.usableBy(a, key(5), 5, now + 60 * S));
        assertEquals(0, t.size());
    }

    @Test
    void anExpiredBindingIsNeverHonouredEvenBeforeTheSweep() {
        DhcpLeaseTable t = table(8, 100);
        int a = t.offer(key(1), 1, 0, null, 0, 0);
        t.ack(key(1), 1, a, null, 0, 0);
        assertTrue(t.usableBy(a, key(2), 2, 100 * S), "expired at 100 s, though never swept");
        assertEquals(DhcpLeaseEvent.Kind.GRANTED, t.ack(key(2), 2, a, null, 0, 100 * S));
        assertEquals(List.of("GRANTED 10.0.0.10", "EXPIRED 10.0.0.10", "GRANTED 10.0.0.10"), events);
    }

    @Test
    void theBudgetWithdrawsOffersButNeverLeases() {
        DhcpLeaseTable t = table(100, 2);
        int a = t.offer(key(1), 1, 0, null, 0, 0);
        t.ack(key(1), 1, a, null, 0, 0);
        int b = t.offer(key(2), 2, 0, null, 0, 0);
        int c = t.offer(key(3), 3, 0, null, 0, S);
        assertTrue(c != DhcpLeaseTable.TABLE_FULL);
        assertEquals(1, t.offersWithdrawn(), "2's offer made room for 3");
        assertTrue(t.usableBy(b, key(9), 9, S));
        t.ack(key(3), 3, c, null, 0, S);
        assertEquals(DhcpLeaseTable.TABLE_FULL, t.offer(key(4), 4, 0, null, 0, S), "two leases: full");
        assertEquals(2, t.size());
    }

    /** RFC 2131 §4.3.1: a client that released or let expire its lease is offered the same address again if free. */
    @Test
    void aReturningClientIsOfferedItsPreviousAddress() {
        DhcpLeaseTable t = table(20, 100);
        int a = t.offer(key(1), 1, 0, null, 0, 0);
        assertEquals(DhcpLeaseEvent.Kind.GRANTED, t.ack(key(1), 1, a, null, 0, 0));
        assertTrue(t.release(key(1), a, S));
        int other = t.offer(key(2), 2, 0, null, 0, S);
        assertTrue(other != a, "the cursor moved past it: a new client gets another address");
        assertEquals(a, t.offer(key(1), 1, 0, null, 0, 2 * S), "released: offered its address again");
        assertEquals(DhcpLeaseEvent.Kind.GRANTED, t.ack(key(1), 1, a, null, 0, 2 * S));

        // expired: the same
        t.expire(2 * S + 101 * S, 100);
        assertEquals(a, t.offer(key(1), 1, 0, null, 0, 110 * S), "expired: offered its address again");
        t.withdrawOffer(key(1), 110 * S);

        // taken meanwhile by another client: a free one instead
        assertEquals(DhcpLeaseEvent.Kind.GRANTED, t.ack(key(3), 3, a, null, 0, 111 * S));
        int instead = t.offer(key(1), 1, 0, null, 0, 112 * S);
        assertTrue(instead != a && instead != 0, Ip4.format(instead));
    }
}

package dev.pktkit.slirp;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link UdpFlowTable} against a {@code HashMap} model: seeded random puts, gets and removes over a small key space
 * (so that runs, wrap-around and backward-shift deletion are exercised), every key checked after every step; keys
 * differing in one field only; the bound.
 */
class UdpFlowTableTest {
    private record F(int family, long guestHi, long guestLo, int guestPort, long dstHi, long dstLo, int dstPort)
            implements UdpFlowTable.Keyed {
    }

    private static F get(UdpFlowTable<F> t, F k) {
        return t.get(k.family(), k.guestHi(), k.guestLo(), k.guestPort(), k.dstHi(), k.dstLo(), k.dstPort());
    }

    @Test
    void behavesAsAMapUnderRandomOperations() {
        Random r = new Random(11);
        List<F> keys = new ArrayList<>();
        for (int i = 0; i < 48; i++) {
            boolean v6 = r.nextBoolean();
            keys.add(new F(v6 ? 6 : 4, v6 ? r.nextInt(3) : 0, r.nextInt(4), 1000 + r.nextInt(3), v6 ? r.nextInt(2) : 0,
                    r.nextInt(3), 53 + r.nextInt(2)));
        }
        UdpFlowTable<F> table = new UdpFlowTable<>(32);
        Map<F, F> model = new HashMap<>();
        for (int step = 0; step < 20_000; step++) {
            F k = keys.get(r.nextInt(keys.size()));
            F present = model.get(k);
            if (present == null && model.size() < 32 && r.nextBoolean()) {
                F flow = new F(k.family(), k.guestHi(), k.guestLo(), k.guestPort(), k.dstHi(), k.dstLo(),
                        k.dstPort());
                table.put(flow);
                model.put(k, flow);
            } else if (present != null && r.nextInt(3) == 0) {
                assertTrue(table.remove(present));
                model.remove(k);
                assertFalse(table.remove(present), "a second remove finds nothing");
            }
            assertEquals(model.size(), table.size());
            for (F q : keys) {
                assertSame(model.get(q), get(table, q), "step " + step + " key " + q);
            }
        }
        assertEquals(model.size(), table.snapshot().size());
        table.clear();
        assertEquals(0, table.size());
        assertNull(get(table, keys.get(0)));
    }

    @Test
    void everyFieldTellsKeysApart() {
        UdpFlowTable<F> table = new UdpFlowTable<>(16);
        F base = new F(4, 0, 0x0A00020FL, 40000, 0, 0x0A000202L, 53);
        table.put(base);
        assertSame(base, get(table, new F(4, 0, 0x0A00020FL, 40000, 0, 0x0A000202L, 53)));
        assertNull(get(table, new F(6, 0, 0x0A00020FL, 40000, 0, 0x0A000202L, 53)));
        assertNull(get(table, new F(4, 1, 0x0A00020FL, 40000, 0, 0x0A000202L, 53)));
        assertNull(get(table, new F(4, 0, 0x0A000210L, 40000, 0, 0x0A000202L, 53)));
        assertNull(get(table, new F(4, 0, 0x0A00020FL, 40001, 0, 0x0A000202L, 53)));
        assertNull(get(table, new F(4, 0, 0x0A00020FL, 40000, 1, 0x0A000202L, 53)));
        assertNull(get(table, new F(4, 0, 0x0A00020FL, 40000, 0, 0x0A000203L, 53)));
        assertNull(get(table, new F(4, 0, 0x0A00020FL, 40000, 0, 0x0A000202L, 54)));
    }

    @Test
    void refusesMoreFlowsThanItWasMadeFor() {
        UdpFlowTable<F> table = new UdpFlowTable<>(4);
        for (int i = 0; i < 4; i++) {
            table.put(new F(4, 0, i, 1, 0, 2, 3));
        }
        assertThrows(IllegalStateException.class, () -> table.put(new F(4, 0, 9, 1, 0, 2, 3)));
    }
}

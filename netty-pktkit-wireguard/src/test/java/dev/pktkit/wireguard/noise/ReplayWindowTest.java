package dev.pktkit.wireguard.noise;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplayWindowTest {
    private static final long LIMIT = -1L - (1L << 13); // 2^64 - 2^13 - 1 as unsigned

    @Test
    void windowIs8128() {
        assertEquals(8128, ReplayWindow.WINDOW);
    }

    @Test
    void inOrderDuplicatesAndReordering() {
        ReplayWindow w = new ReplayWindow();
        assertTrue(w.accept(0, LIMIT));
        assertFalse(w.accept(0, LIMIT));
        assertTrue(w.accept(2, LIMIT));
        assertTrue(w.accept(1, LIMIT));
        assertFalse(w.accept(1, LIMIT));
        assertFalse(w.accept(2, LIMIT));
        for (long i = 3; i < 20_000; i++) {
            assertTrue(w.accept(i, LIMIT));
        }
        assertFalse(w.accept(19_999, LIMIT));
    }

    @Test
    void edgesOfTheWindow() {
        ReplayWindow w = new ReplayWindow();
        long top = 100_000;
        assertTrue(w.accept(top, LIMIT));
        assertTrue(w.accept(top - ReplayWindow.WINDOW, LIMIT), "exactly WINDOW behind is still tracked");
        assertFalse(w.accept(top - ReplayWindow.WINDOW, LIMIT));
        assertFalse(w.accept(top - ReplayWindow.WINDOW - 1, LIMIT), "older than the window");
        assertTrue(w.accept(top - 1, LIMIT));
    }

    @Test
    void bigJumpClearsTheRing() {
        ReplayWindow w = new ReplayWindow();
        for (long i = 0; i < 8192; i++) {
            assertTrue(w.accept(i, LIMIT));
        }
        long far = 1L << 40;
        assertTrue(w.accept(far, LIMIT));
        for (long i = far - 100; i < far; i++) {
            assertTrue(w.accept(i, LIMIT), "bits left from the old position must be cleared: " + i);
        }
        assertFalse(w.accept(5, LIMIT));
    }

    @Test
    void limitRefused() {
        ReplayWindow w = new ReplayWindow();
        assertFalse(w.accept(LIMIT, LIMIT));
        assertFalse(w.accept(-1L, LIMIT));
        assertFalse(w.accept(10, 10));
        assertTrue(w.accept(9, 10));
    }
}

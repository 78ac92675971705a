package dev.pktkit.wireguard.noise;

/**
 * The receive-counter filter of RFC 6479 as WireGuard uses it: a ring of 128 64-bit blocks (8192 bits) whose
 * newest block is being filled, so {@link #WINDOW} = 8192 - 64 = 8128 counters behind the greatest one are
 * remembered. Each check is O(1) apart from clearing the blocks skipped by a jump (at most the whole ring).
 *
 * <p>Call {@link #accept} only after the packet authenticated, or a forged counter would advance the window.
 * Not thread-safe: the keypair's receiving thread owns it.
 */
public final class ReplayWindow {
    private static final int BLOCK_BITS = 64;
    private static final int RING_BLOCKS = 128;
    private static final int BLOCK_MASK = RING_BLOCKS - 1;
    /** Counters behind the greatest accepted one that are still tracked. */
    public static final int WINDOW = (RING_BLOCKS - 1) * BLOCK_BITS;

    private final long[] ring = new long[RING_BLOCKS];
    private long last;

    /**
     * Accepts {@code counter} if it is below {@code limit}, not older than the window and not seen before; marks
     * it seen.
     *
     * @param limit counters at or above it are refused (REJECT_AFTER_MESSAGES)
     */
    public boolean accept(long counter, long limit) {
        if (Long.compareUnsigned(counter, limit) >= 0) {
            return false;
        }
        long block = counter >>> 6;
        if (counter > last) {
            long current = last >>> 6;
            long diff = Math.min(block - current, RING_BLOCKS);
            for (long i = 1; i <= diff; i++) {
                ring[(int) ((current + i) & BLOCK_MASK)] = 0;
            }
            last = counter;
        } else if (last - counter > WINDOW) {
            return false;
        }
        int idx = (int) (block & BLOCK_MASK);
        long bit = 1L << (counter & 63);
        long old = ring[idx];
        ring[idx] = old | bit;
        return (old & bit) == 0;
    }

    /** Forgets everything. */
    public void reset() {
        java.util.Arrays.fill(ring, 0);
        last = 0;
    }
}

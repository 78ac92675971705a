package dev.pktkit.codec.dhcp;

/**
 * A token bucket on the event loop's nanosecond clock, in integer arithmetic: credit accrues one nanosecond per
 * nanosecond up to {@code burst} tokens' worth, and a message costs {@code 1e9 / rate} nanoseconds of credit. The
 * bucket's state is two longs, kept here for the global limit and in each binding for the per-client limit.
 */
final class TokenBucket {
    final long costNanos;
    final long capacityNanos;
    private long credit = -1;
    private long creditAt;

    /**
     * @param perSecond messages per second sustained, above 0
     * @param burst     messages allowed at once, at least 1
     */
    TokenBucket(double perSecond, int burst) {
        if (!(perSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("rate " + perSecond + "/s, burst " + burst);
        }
        this.costNanos = Math.max(1, (long) (1e9 / perSecond));
        this.capacityNanos = Math.multiplyHigh(costNanos, burst) != 0 ? Long.MAX_VALUE / 2 : costNanos * burst;
    }

    /** Takes one token from this bucket at {@code now}; false if empty. */
    boolean tryTake(long now) {
        long c = refill(credit, creditAt, now);
        creditAt = now;
        if (c < costNanos) {
            credit = c;
            return false;
        }
        credit = c - costNanos;
        return true;
    }

    /** Takes one token from the per-client state held in {@code b}; false if empty. */
    boolean tryTake(DhcpLeaseTable.Binding b, long now) {
        long c = refill(b.credit, b.creditAt, now);
        b.creditAt = now;
        if (c < costNanos) {
            b.credit = c;
            return false;
        }
        b.credit = c - costNanos;
        return true;
    }

    private long refill(long credit, long at, long now) {
        if (credit < 0) {
            return capacityNanos;
        }
        long elapsed = now - at;
        return elapsed <= 0 ? credit : elapsed >= capacityNanos - credit ? capacityNanos : credit + elapsed;
    }
}

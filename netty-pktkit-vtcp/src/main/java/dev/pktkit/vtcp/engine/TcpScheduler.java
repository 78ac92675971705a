package dev.pktkit.vtcp.engine;

/**
 * How the engine asks to be woken up. The engine keeps every connection's timers (retransmission, delayed ACK,
 * persist, keepalive, TIME-WAIT, tail-loss probe) itself, in one min-heap of per-connection deadlines, and asks
 * for at most one wake-up at a time: it calls {@link #wakeAt} only when its earliest deadline becomes earlier
 * than the wake-up it asked for last. There is no scheduled task per segment.
 *
 * <p>The host implements it on its event loop (for example by keeping one {@code ScheduledFuture} and replacing
 * it when an earlier deadline is asked for); tests implement it with a virtual clock. When the time comes the
 * host calls {@link TcpEngine#onTimer()}. Waking up early or spuriously is harmless; the engine asks again.
 */
@FunctionalInterface
public interface TcpScheduler {
    /**
     * Call {@link TcpEngine#onTimer()} at or after {@code deadlineNanos} (on the {@link TcpClock}'s time line).
     * Replaces any earlier request with a later deadline; the host may keep the earlier one too.
     */
    void wakeAt(long deadlineNanos);
}

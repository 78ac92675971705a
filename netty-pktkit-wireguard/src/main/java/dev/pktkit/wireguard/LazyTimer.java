package dev.pktkit.wireguard;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A re-armable one-shot timer on an event loop that costs nothing to move later: {@link #set} only stores the
 * deadline when a scheduled task already fires no later than it; the task, when it runs early, re-arms itself for
 * the rest. So the per-packet timer updates of WireGuard (keepalive, new-handshake, persistent keepalive) allocate
 * nothing in steady state. Loop-confined.
 */
final class LazyTimer implements Runnable {
    private final EventLoop loop;
    private final LongSupplier clock;
    private final Runnable action;
    /** 0 when stopped. */
    private long deadline;
    private long armedFor;
    private ScheduledFuture<?> future;

    LazyTimer(EventLoop loop, LongSupplier clock, Runnable action) {
        this.loop = loop;
        this.clock = clock;
        this.action = action;
    }

    /** (Re)starts the timer to fire {@code delayNanos} from now. */
    void set(long delayNanos) {
        long now = clock.getAsLong();
        deadline = now + Math.max(1, delayNanos);
        if (deadline == 0) {
            deadline = 1;
        }
        if (future != null && armedFor - deadline > 0) {
            future.cancel(false);
            future = null;
        }
        if (future == null) {
            arm(deadline - now);
        }
    }

    /** Starts the timer only if it is not pending. */
    void setIfStopped(long delayNanos) {
        if (deadline == 0) {
            set(delayNanos);
        }
    }

    boolean isPending() {
        return deadline != 0;
    }

    void stop() {
        deadline = 0;
    }

    /** Stops and cancels the scheduled task (when the peer goes away). */
    void cancel() {
        deadline = 0;
        if (future != null) {
            future.cancel(false);
            future = null;
        }
    }

    private void arm(long delay) {
        armedFor = clock.getAsLong() + delay;
        future = loop.schedule(this, delay, TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        future = null;
        if (deadline == 0) {
            return;
        }
        long left = deadline - clock.getAsLong();
        if (left > 0) {
            arm(left);
            return;
        }
        deadline = 0;
        action.run();
    }
}

package dev.pktkit.switching;

import java.util.concurrent.atomic.LongAdder;

/**
 * Per-port traffic counters. Ingress counters are written only by the port's own event loop; egress and drop
 * counters by whichever loops forward to the port, so they are {@link LongAdder}s (no allocation once warm,
 * no lock). Reads are approximate while traffic flows, exact when it has stopped.
 */
public final class PortCounters {
    private volatile long framesIn;
    private volatile long bytesIn;
    private final LongAdder framesOut = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder[] drops = new LongAdder[DropReason.values().length];

    PortCounters() {
        for (int i = 0; i < drops.length; i++) {
            drops[i] = new LongAdder();
        }
    }

    @SuppressWarnings("NonAtomicOperationOnVolatileField") // single writer: the port's loop
    void received(int bytes) {
        framesIn = framesIn + 1;
        bytesIn = bytesIn + bytes;
    }

    void sent(int bytes) {
        framesOut.increment();
        bytesOut.add(bytes);
    }

    void dropped(DropReason reason) {
        drops[reason.ordinal()].increment();
    }

    /** Messages received on this port (from its channel into the hub). */
    public long framesIn() {
        return framesIn;
    }

    public long bytesIn() {
        return bytesIn;
    }

    /** Messages the hub wrote to this port's channel. */
    public long framesOut() {
        return framesOut.sum();
    }

    public long bytesOut() {
        return bytesOut.sum();
    }

    /** Messages dropped for {@code reason}; ingress-side reasons count on the ingress port, egress on the egress. */
    public long drops(DropReason reason) {
        return drops[reason.ordinal()].sum();
    }

    /** All drops together. */
    public long drops() {
        long n = 0;
        for (LongAdder d : drops) {
            n += d.sum();
        }
        return n;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("in=").append(framesIn()).append('/').append(bytesIn())
                .append("B out=").append(framesOut()).append('/').append(bytesOut()).append('B');
        for (DropReason r : DropReason.values()) {
            long d = drops(r);
            if (d != 0) {
                sb.append(' ').append(r.name().toLowerCase(java.util.Locale.ROOT)).append('=').append(d);
            }
        }
        return sb.toString();
    }
}

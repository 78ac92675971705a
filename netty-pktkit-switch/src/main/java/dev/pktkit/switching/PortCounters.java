package dev.pktkit.switching;

import dev.pktkit.codec.stats.EnumCounters;

/**
 * Per-port counters: traffic ({@link PortTraffic}) and drops by {@link DropReason}, each an {@link EnumCounters}
 * (so {@link HubMetrics} or any {@code EnumCounters} exporter can publish them).
 *
 * <p>The hub adds traffic once per ingress read batch, not once per message: the ingress port sums what it received
 * and what it wrote to each destination during the batch, and adds the sums at the batch's
 * {@code channelReadComplete} (next to the flush it does anyway). So forwarding a frame costs no atomic counter
 * update, and several ingress loops may still count into one egress port. Drops count at once. Reads are exact
 * once traffic has stopped (a batch that is still being read is not in them yet), approximate while it flows.
 */
public final class PortCounters {
    private final EnumCounters<PortTraffic> traffic = EnumCounters.of(PortTraffic.class);
    private final EnumCounters<DropReason> drops = EnumCounters.of(DropReason.class);

    PortCounters() {
    }

    void received(long frames, long bytes) {
        traffic.add(PortTraffic.FRAMES_IN, frames);
        traffic.add(PortTraffic.BYTES_IN, bytes);
    }

    void sent(long frames, long bytes) {
        traffic.add(PortTraffic.FRAMES_OUT, frames);
        traffic.add(PortTraffic.BYTES_OUT, bytes);
    }

    void dropped(DropReason reason) {
        drops.increment(reason);
    }

    /** Messages received on this port (from its channel into the hub). */
    public long framesIn() {
        return traffic.get(PortTraffic.FRAMES_IN);
    }

    public long bytesIn() {
        return traffic.get(PortTraffic.BYTES_IN);
    }

    /** Messages the hub wrote to this port's channel. */
    public long framesOut() {
        return traffic.get(PortTraffic.FRAMES_OUT);
    }

    public long bytesOut() {
        return traffic.get(PortTraffic.BYTES_OUT);
    }

    /** Messages dropped for {@code reason}; ingress-side reasons count on the ingress port, egress on the egress. */
    public long drops(DropReason reason) {
        return drops.get(reason);
    }

    /** All drops together. */
    public long drops() {
        return drops.sum();
    }

    /** The traffic counts themselves (live). */
    public EnumCounters<PortTraffic> traffic() {
        return traffic;
    }

    /** The drop counts themselves (live), one per {@link DropReason}. */
    public EnumCounters<DropReason> dropCounters() {
        return drops;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("in=").append(framesIn()).append('/').append(bytesIn())
                .append("B out=").append(framesOut()).append('/').append(bytesOut()).append('B');
        String d = drops.toString();
        if (!d.isEmpty()) {
            sb.append(' ').append(d);
        }
        return sb.toString();
    }
}

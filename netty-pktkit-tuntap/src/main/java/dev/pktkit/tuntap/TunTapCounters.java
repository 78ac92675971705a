package dev.pktkit.tuntap;

import dev.pktkit.codec.stats.EnumCounters;

/**
 * Traffic counters of one TUN/TAP channel ({@link AbstractTunTapChannel#counters()}): packets and bytes in each
 * direction, large segments, read batches ({@link Traffic}), drops by {@link TunTapDropReason}.
 *
 * <p>Only the channel's event loop writes them, so the counts are {@link EnumCounters#singleWriter} counters: no
 * lock, no allocation, no fence on the data path. Reads from other threads are approximate while traffic flows
 * and exact once it has stopped. Export them with {@link TunTapMetrics}.
 *
 * <p>Packets are what the pipeline sees: with {@link OffloadMode#SEGMENT} a large segment read counts once in
 * {@link #largeSegmentsIn()} and once per segment cut from it in {@link #packetsIn()}. Bytes count packet bytes
 * without the virtio-net header.
 */
public final class TunTapCounters {
    /** What a TUN/TAP channel counts besides drops. */
    public enum Traffic {
        /** Packets (or frames) handed to the pipeline. */
        PACKETS_IN,
        /** Bytes of {@link #PACKETS_IN}. */
        BYTES_IN,
        /** Packets (or frames) the kernel took from the channel; a large segment counts once. */
        PACKETS_OUT,
        /** Bytes of {@link #PACKETS_OUT}. */
        BYTES_OUT,
        /** Reads that returned a large segment (virtio-net GSO), whatever the pipeline then saw. */
        LARGE_SEGMENTS_IN,
        /** Writes that carried a large segment for the kernel to cut. */
        LARGE_SEGMENTS_OUT,
        /** Read batches that delivered at least one packet: one {@code channelReadComplete} each. */
        READ_BATCHES
    }

    private final EnumCounters<Traffic> traffic = EnumCounters.singleWriter(Traffic.class);
    private final EnumCounters<TunTapDropReason> drops = EnumCounters.singleWriter(TunTapDropReason.class);

    TunTapCounters() {
    }

    void packetIn(int bytes) {
        traffic.increment(Traffic.PACKETS_IN);
        traffic.add(Traffic.BYTES_IN, bytes);
    }

    void packetOut(int bytes) {
        traffic.increment(Traffic.PACKETS_OUT);
        traffic.add(Traffic.BYTES_OUT, bytes);
    }

    void largeIn() {
        traffic.increment(Traffic.LARGE_SEGMENTS_IN);
    }

    void largeOut() {
        traffic.increment(Traffic.LARGE_SEGMENTS_OUT);
    }

    void readBatch() {
        traffic.increment(Traffic.READ_BATCHES);
    }

    void dropped(TunTapDropReason reason) {
        drops.increment(reason);
    }

    /** The traffic counts, live. */
    public EnumCounters<Traffic> trafficCounters() {
        return traffic;
    }

    /** The drops by reason, live. */
    public EnumCounters<TunTapDropReason> dropCounters() {
        return drops;
    }

    /** Packets (or frames) handed to the pipeline. */
    public long packetsIn() {
        return traffic.get(Traffic.PACKETS_IN);
    }

    /** Bytes of {@link #packetsIn()}. */
    public long bytesIn() {
        return traffic.get(Traffic.BYTES_IN);
    }

    /** Packets (or frames) the kernel took from the channel; a large segment counts once. */
    public long packetsOut() {
        return traffic.get(Traffic.PACKETS_OUT);
    }

    /** Bytes of {@link #packetsOut()}. */
    public long bytesOut() {
        return traffic.get(Traffic.BYTES_OUT);
    }

    /** Reads that returned a large segment (virtio-net GSO), whatever the pipeline then saw. */
    public long largeSegmentsIn() {
        return traffic.get(Traffic.LARGE_SEGMENTS_IN);
    }

    /** Writes that carried a large segment for the kernel to cut. */
    public long largeSegmentsOut() {
        return traffic.get(Traffic.LARGE_SEGMENTS_OUT);
    }

    /** Read batches that delivered at least one packet: one {@code channelReadComplete} each. */
    public long readBatches() {
        return traffic.get(Traffic.READ_BATCHES);
    }

    /** Packets dropped for {@code reason}. */
    public long drops(TunTapDropReason reason) {
        return drops.get(reason);
    }

    /** All drops together. */
    public long drops() {
        return drops.sum();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("in=").append(packetsIn()).append('/').append(bytesIn())
                .append("B out=").append(packetsOut()).append('/').append(bytesOut()).append('B');
        if (largeSegmentsIn() != 0 || largeSegmentsOut() != 0) {
            sb.append(" large in/out=").append(largeSegmentsIn()).append('/').append(largeSegmentsOut());
        }
        String d = drops.toString();
        if (!d.isEmpty()) {
            sb.append(' ').append(d);
        }
        return sb.toString();
    }
}

package dev.pktkit.tuntap;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * Traffic counters of one TUN/TAP channel ({@link AbstractTunTapChannel#counters()}): packets and bytes in each
 * direction, large segments, drops by reason.
 *
 * <p>Only the channel's event loop writes them, so updates are plain stores published with opaque writes: no
 * lock, no allocation, no fence on the data path. Reads from other threads are approximate while traffic flows
 * and exact once it has stopped.
 *
 * <p>Packets are what the pipeline sees: with {@link OffloadMode#SEGMENT} a large segment read counts once in
 * {@link #largeSegmentsIn()} and once per segment cut from it in {@link #packetsIn()}. Bytes count packet bytes
 * without the virtio-net header.
 */
public final class TunTapCounters {
    private static final VarHandle LONG = MethodHandles.arrayElementVarHandle(long[].class);

    private static final int PACKETS_IN = 0;
    private static final int BYTES_IN = 1;
    private static final int PACKETS_OUT = 2;
    private static final int BYTES_OUT = 3;
    private static final int LARGE_IN = 4;
    private static final int LARGE_OUT = 5;
    private static final int READ_BATCHES = 6;
    private static final int FIELDS = 7;

    private final long[] values = new long[FIELDS];
    private final long[] drops = new long[TunTapDropReason.values().length];

    TunTapCounters() {
    }

    private void add(int field, long n) {
        LONG.setOpaque(values, field, values[field] + n);
    }

    private long get(int field) {
        return (long) LONG.getOpaque(values, field);
    }

    void packetIn(int bytes) {
        add(PACKETS_IN, 1);
        add(BYTES_IN, bytes);
    }

    void packetOut(int bytes) {
        add(PACKETS_OUT, 1);
        add(BYTES_OUT, bytes);
    }

    void largeIn() {
        add(LARGE_IN, 1);
    }

    void largeOut() {
        add(LARGE_OUT, 1);
    }

    void readBatch() {
        add(READ_BATCHES, 1);
    }

    void dropped(TunTapDropReason reason) {
        int i = reason.ordinal();
        LONG.setOpaque(drops, i, drops[i] + 1);
    }

    /** Packets (or frames) handed to the pipeline. */
    public long packetsIn() {
        return get(PACKETS_IN);
    }

    /** Bytes of {@link #packetsIn()}. */
    public long bytesIn() {
        return get(BYTES_IN);
    }

    /** Packets (or frames) the kernel took from the channel; a large segment counts once. */
    public long packetsOut() {
        return get(PACKETS_OUT);
    }

    /** Bytes of {@link #packetsOut()}. */
    public long bytesOut() {
        return get(BYTES_OUT);
    }

    /** Reads that returned a large segment (virtio-net GSO), whatever the pipeline then saw. */
    public long largeSegmentsIn() {
        return get(LARGE_IN);
    }

    /** Writes that carried a large segment for the kernel to cut. */
    public long largeSegmentsOut() {
        return get(LARGE_OUT);
    }

    /** Read batches that delivered at least one packet: one {@code channelReadComplete} each. */
    public long readBatches() {
        return get(READ_BATCHES);
    }

    /** Packets dropped for {@code reason}. */
    public long drops(TunTapDropReason reason) {
        return (long) LONG.getOpaque(drops, reason.ordinal());
    }

    /** All drops together. */
    public long drops() {
        long n = 0;
        for (TunTapDropReason r : TunTapDropReason.values()) {
            n += drops(r);
        }
        return n;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("in=").append(packetsIn()).append('/').append(bytesIn())
                .append("B out=").append(packetsOut()).append('/').append(bytesOut()).append('B');
        if (largeSegmentsIn() != 0 || largeSegmentsOut() != 0) {
            sb.append(" large in/out=").append(largeSegmentsIn()).append('/').append(largeSegmentsOut());
        }
        for (TunTapDropReason r : TunTapDropReason.values()) {
            long d = drops(r);
            if (d != 0) {
                sb.append(' ').append(r.name().toLowerCase(Locale.ROOT)).append('=').append(d);
            }
        }
        return sb.toString();
    }
}

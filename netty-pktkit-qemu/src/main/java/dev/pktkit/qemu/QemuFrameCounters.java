package dev.pktkit.qemu;

import dev.pktkit.codec.stats.EnumCounters;
import io.netty.channel.Channel;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;

/**
 * Traffic counters of one QEMU channel: frames and bytes in each direction ({@link Traffic}), drops by
 * {@link QemuDropReason}, and why the codec cut the peer off, if it did.
 *
 * <p>The codecs of a channel share one instance, kept in the channel attribute {@link #KEY}; read it with
 * {@link #of(Channel)}. Only the channel's event loop writes (every codec method runs there), so the counts are
 * {@link EnumCounters#singleWriter} counters: no lock, no allocation, no fence on the data path. Reads from other
 * threads are approximate while traffic flows and exact once it has stopped. Export them with {@link QemuMetrics}.
 *
 * <p>Bytes count frame bytes only, without the 4-byte stream prefix. Outbound frames count when the codec hands
 * them to the transport, not when the kernel took them.
 */
public final class QemuFrameCounters {
    /** The channel attribute holding a channel's counters. */
    public static final AttributeKey<QemuFrameCounters> KEY =
            AttributeKey.valueOf(QemuFrameCounters.class, "counters");

    /** What a QEMU channel counts besides drops. */
    public enum Traffic {
        /** Frames received from the peer and passed on. */
        FRAMES_IN,
        /** Bytes of {@link #FRAMES_IN}. */
        BYTES_IN,
        /** Frames handed to the transport for the peer. */
        FRAMES_OUT,
        /** Bytes of {@link #FRAMES_OUT}. */
        BYTES_OUT
    }

    private final EnumCounters<Traffic> traffic = EnumCounters.singleWriter(Traffic.class);
    private final EnumCounters<QemuDropReason> drops = EnumCounters.singleWriter(QemuDropReason.class);
    private volatile String cutOffReason;

    QemuFrameCounters() {
    }

    /** The counters of {@code channel}, created on first use. */
    public static QemuFrameCounters of(Channel channel) {
        Attribute<QemuFrameCounters> attr = channel.attr(KEY);
        QemuFrameCounters c = attr.get();
        if (c == null) {
            QemuFrameCounters fresh = new QemuFrameCounters();
            c = attr.setIfAbsent(fresh);
            if (c == null) {
                c = fresh;
            }
        }
        return c;
    }

    void frameIn(int bytes) {
        traffic.increment(Traffic.FRAMES_IN);
        traffic.add(Traffic.BYTES_IN, bytes);
    }

    void frameOut(int bytes) {
        traffic.increment(Traffic.FRAMES_OUT);
        traffic.add(Traffic.BYTES_OUT, bytes);
    }

    void dropped(QemuDropReason reason) {
        drops.increment(reason);
    }

    void cutOff(String reason) {
        cutOffReason = reason;
    }

    /** The traffic counts, live. */
    public EnumCounters<Traffic> trafficCounters() {
        return traffic;
    }

    /** The drops by reason, live. */
    public EnumCounters<QemuDropReason> dropCounters() {
        return drops;
    }

    /** Frames received from the peer and passed on. */
    public long framesIn() {
        return traffic.get(Traffic.FRAMES_IN);
    }

    /** Bytes of {@link #framesIn()}. */
    public long bytesIn() {
        return traffic.get(Traffic.BYTES_IN);
    }

    /** Frames handed to the transport for the peer. */
    public long framesOut() {
        return traffic.get(Traffic.FRAMES_OUT);
    }

    /** Bytes of {@link #framesOut()}. */
    public long bytesOut() {
        return traffic.get(Traffic.BYTES_OUT);
    }

    /** Frames (or, for {@link QemuDropReason#SEND_FAILED}, send errors) dropped for {@code reason}. */
    public long drops(QemuDropReason reason) {
        return drops.get(reason);
    }

    /** All drops together. */
    public long drops() {
        return drops.sum();
    }

    /** Whether the codec closed the channel because the peer broke the framing. */
    public boolean isCutOff() {
        return cutOffReason != null;
    }

    /** Why the codec closed the channel (the peer broke the framing), or null if it did not. */
    public String cutOffReason() {
        return cutOffReason;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("in=").append(framesIn()).append('/').append(bytesIn())
                .append("B out=").append(framesOut()).append('/').append(bytesOut()).append('B');
        String d = drops.toString();
        if (!d.isEmpty()) {
            sb.append(' ').append(d);
        }
        String why = cutOffReason;
        if (why != null) {
            sb.append(" cut off: ").append(why);
        }
        return sb.toString();
    }
}

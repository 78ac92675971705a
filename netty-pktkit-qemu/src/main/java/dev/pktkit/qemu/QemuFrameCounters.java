package dev.pktkit.qemu;

import io.netty.channel.Channel;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * Traffic counters of one QEMU channel: frames and bytes in each direction, drops by reason, and why the codec
 * cut the peer off, if it did.
 *
 * <p>The codecs of a channel share one instance, kept in the channel attribute {@link #KEY}; read it with
 * {@link #of(Channel)}. Only the channel's event loop writes (every codec method runs there), so updates are
 * plain stores published with opaque writes: no lock, no allocation, no fence on the data path. Reads from other
 * threads are approximate while traffic flows and exact once it has stopped.
 *
 * <p>Bytes count frame bytes only, without the 4-byte stream prefix. Outbound frames count when the codec hands
 * them to the transport, not when the kernel took them.
 */
public final class QemuFrameCounters {
    /** The channel attribute holding a channel's counters. */
    public static final AttributeKey<QemuFrameCounters> KEY =
            AttributeKey.valueOf(QemuFrameCounters.class, "counters");

    private static final VarHandle FRAMES_IN;
    private static final VarHandle BYTES_IN;
    private static final VarHandle FRAMES_OUT;
    private static final VarHandle BYTES_OUT;
    private static final VarHandle DROPS = MethodHandles.arrayElementVarHandle(long[].class);

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            FRAMES_IN = l.findVarHandle(QemuFrameCounters.class, "framesIn", long.class);
            BYTES_IN = l.findVarHandle(QemuFrameCounters.class, "bytesIn", long.class);
            FRAMES_OUT = l.findVarHandle(QemuFrameCounters.class, "framesOut", long.class);
            BYTES_OUT = l.findVarHandle(QemuFrameCounters.class, "bytesOut", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private long framesIn;
    private long bytesIn;
    private long framesOut;
    private long bytesOut;
    private final long[] drops = new long[QemuDropReason.values().length];
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
        FRAMES_IN.setOpaque(this, framesIn + 1);
        BYTES_IN.setOpaque(this, bytesIn + bytes);
    }

    void frameOut(int bytes) {
        FRAMES_OUT.setOpaque(this, framesOut + 1);
        BYTES_OUT.setOpaque(this, bytesOut + bytes);
    }

    void dropped(QemuDropReason reason) {
        int i = reason.ordinal();
        DROPS.setOpaque(drops, i, drops[i] + 1);
    }

    void cutOff(String reason) {
        cutOffReason = reason;
    }

    /** Frames received from the peer and passed on. */
    public long framesIn() {
        return (long) FRAMES_IN.getOpaque(this);
    }

    /** Bytes of {@link #framesIn()}. */
    public long bytesIn() {
        return (long) BYTES_IN.getOpaque(this);
    }

    /** Frames handed to the transport for the peer. */
    public long framesOut() {
        return (long) FRAMES_OUT.getOpaque(this);
    }

    /** Bytes of {@link #framesOut()}. */
    public long bytesOut() {
        return (long) BYTES_OUT.getOpaque(this);
    }

    /** Frames (or, for {@link QemuDropReason#SEND_FAILED}, send errors) dropped for {@code reason}. */
    public long drops(QemuDropReason reason) {
        return (long) DROPS.getOpaque(drops, reason.ordinal());
    }

    /** All drops together. */
    public long drops() {
        long n = 0;
        for (QemuDropReason r : QemuDropReason.values()) {
            n += drops(r);
        }
        return n;
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
        for (QemuDropReason r : QemuDropReason.values()) {
            long d = drops(r);
            if (d != 0) {
                sb.append(' ').append(r.name().toLowerCase(Locale.ROOT)).append('=').append(d);
            }
        }
        String why = cutOffReason;
        if (why != null) {
            sb.append(" cut off: ").append(why);
        }
        return sb.toString();
    }
}

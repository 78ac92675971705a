package dev.pktkit.codec.adapter;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Locale;

/**
 * Counters of one {@link L2Adapter}. Written only by the adapter's event loop with plain ordered stores (no
 * fence, no allocation), so reads from other threads are approximate while traffic flows and exact once it stops.
 */
public final class AdapterCounters {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int PACKETS_IN = 0;
    private static final int PACKETS_OUT = 1;
    private static final int ARP_IN = 2;
    private static final int ARP_OUT = 3;
    private static final int NDP_IN = 4;
    private static final int NDP_OUT = 5;
    private static final int DHCP_IN = 6;
    private static final int DHCP_OUT = 7;
    private static final int ARP_PROBES_ANSWERED = 8;
    private static final int FIRST_DROP = 9;

    private final long[] values = new long[FIRST_DROP + AdapterDropReason.values().length];

    AdapterCounters() {
    }

    private void inc(int i) {
        LONGS.setOpaque(values, i, (long) LONGS.getOpaque(values, i) + 1);
    }

    private long get(int i) {
        return (long) LONGS.getOpaque(values, i);
    }

    void packetReceived() {
        inc(PACKETS_IN);
    }

    void packetSent() {
        inc(PACKETS_OUT);
    }

    void arpReceived() {
        inc(ARP_IN);
    }

    void arpSent() {
        inc(ARP_OUT);
    }

    void arpProbeAnswered() {
        inc(ARP_PROBES_ANSWERED);
    }

    void ndpReceived() {
        inc(NDP_IN);
    }

    void ndpSent() {
        inc(NDP_OUT);
    }

    void dhcpReceived() {
        inc(DHCP_IN);
    }

    void dhcpSent() {
        inc(DHCP_OUT);
    }

    void dropped(AdapterDropReason reason) {
        inc(FIRST_DROP + reason.ordinal());
    }

    /** IP packets passed up the pipeline (frames turned into packets). */
    public long packetsIn() {
        return get(PACKETS_IN);
    }

    /** IP packets sent down as frames. */
    public long packetsOut() {
        return get(PACKETS_OUT);
    }

    /** ARP messages received and handled. */
    public long arpIn() {
        return get(ARP_IN);
    }

    /** ARP messages sent (requests, replies, probes, announcements). */
    public long arpOut() {
        return get(ARP_OUT);
    }

    /** RFC 5227 ARP probes (sender 0.0.0.0) for the adapter's own address it answered (also in {@link #arpOut}). */
    public long arpProbesAnswered() {
        return get(ARP_PROBES_ANSWERED);
    }

    /** Neighbour discovery messages received and handled. */
    public long ndpIn() {
        return get(NDP_IN);
    }

    /** Neighbour discovery messages sent. */
    public long ndpOut() {
        return get(NDP_OUT);
    }

    /** DHCP messages accepted by the client. */
    public long dhcpIn() {
        return get(DHCP_IN);
    }

    /** DHCP messages the client sent. */
    public long dhcpOut() {
        return get(DHCP_OUT);
    }

    /** Frames or packets dropped for {@code reason}. */
    public long drops(AdapterDropReason reason) {
        return get(FIRST_DROP + reason.ordinal());
    }

    /** All drops together. */
    public long drops() {
        long n = 0;
        for (AdapterDropReason r : AdapterDropReason.values()) {
            n += drops(r);
        }
        return n;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("in=").append(packetsIn()).append(" out=").append(packetsOut())
                .append(" arp=").append(arpIn()).append('/').append(arpOut())
                .append(" ndp=").append(ndpIn()).append('/').append(ndpOut())
                .append(" dhcp=").append(dhcpIn()).append('/').append(dhcpOut());
        for (AdapterDropReason r : AdapterDropReason.values()) {
            long d = drops(r);
            if (d != 0) {
                sb.append(' ').append(r.name().toLowerCase(Locale.ROOT)).append('=').append(d);
            }
        }
        return sb.toString();
    }
}

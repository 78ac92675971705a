package dev.pktkit.codec.adapter;

import dev.pktkit.codec.stats.EnumCounters;

/**
 * Counters of one {@link L2Adapter}: {@link Traffic} counts and drops by {@link AdapterDropReason}, each an
 * {@link EnumCounters} written only by the adapter's event loop ({@link EnumCounters#singleWriter}: no fence, no
 * allocation), so reads from other threads are approximate while traffic flows and exact once it stops. Export
 * them with {@link AdapterMetrics}.
 */
public final class AdapterCounters {
    /** What the adapter counts besides drops. */
    public enum Traffic {
        /** IP packets passed up the pipeline (frames turned into packets). */
        PACKETS_IN,
        /** IP packets sent down as frames. */
        PACKETS_OUT,
        /** ARP messages received and handled. */
        ARP_IN,
        /** ARP messages sent (requests, replies, probes, announcements). */
        ARP_OUT,
        /** Neighbour discovery messages received and handled. */
        NDP_IN,
        /** Neighbour discovery messages sent. */
        NDP_OUT,
        /** DHCP messages accepted by the client. */
        DHCP_IN,
        /** DHCP messages the client sent. */
        DHCP_OUT,
        /** RFC 5227 ARP probes for the adapter's own address it answered (also in {@link #ARP_OUT}). */
        ARP_PROBES_ANSWERED
    }

    private final EnumCounters<Traffic> traffic = EnumCounters.singleWriter(Traffic.class);
    private final EnumCounters<AdapterDropReason> drops = EnumCounters.singleWriter(AdapterDropReason.class);

    AdapterCounters() {
    }

    void packetReceived() {
        traffic.increment(Traffic.PACKETS_IN);
    }

    void packetSent() {
        traffic.increment(Traffic.PACKETS_OUT);
    }

    void arpReceived() {
        traffic.increment(Traffic.ARP_IN);
    }

    void arpSent() {
        traffic.increment(Traffic.ARP_OUT);
    }

    void arpProbeAnswered() {
        traffic.increment(Traffic.ARP_PROBES_ANSWERED);
    }

    void ndpReceived() {
        traffic.increment(Traffic.NDP_IN);
    }

    void ndpSent() {
        traffic.increment(Traffic.NDP_OUT);
    }

    void dhcpReceived() {
        traffic.increment(Traffic.DHCP_IN);
    }

    void dhcpSent() {
        traffic.increment(Traffic.DHCP_OUT);
    }

    void dropped(AdapterDropReason reason) {
        drops.increment(reason);
    }

    /** The traffic counts, live. */
    public EnumCounters<Traffic> trafficCounters() {
        return traffic;
    }

    /** The drops by reason, live. */
    public EnumCounters<AdapterDropReason> dropCounters() {
        return drops;
    }

    /** IP packets passed up the pipeline (frames turned into packets). */
    public long packetsIn() {
        return traffic.get(Traffic.PACKETS_IN);
    }

    /** IP packets sent down as frames. */
    public long packetsOut() {
        return traffic.get(Traffic.PACKETS_OUT);
    }

    /** ARP messages received and handled. */
    public long arpIn() {
        return traffic.get(Traffic.ARP_IN);
    }

    /** ARP messages sent (requests, replies, probes, announcements). */
    public long arpOut() {
        return traffic.get(Traffic.ARP_OUT);
    }

    /** RFC 5227 ARP probes (sender 0.0.0.0) for the adapter's own address it answered (also in {@link #arpOut}). */
    public long arpProbesAnswered() {
        return traffic.get(Traffic.ARP_PROBES_ANSWERED);
    }

    /** Neighbour discovery messages received and handled. */
    public long ndpIn() {
        return traffic.get(Traffic.NDP_IN);
    }

    /** Neighbour discovery messages sent. */
    public long ndpOut() {
        return traffic.get(Traffic.NDP_OUT);
    }

    /** DHCP messages accepted by the client. */
    public long dhcpIn() {
        return traffic.get(Traffic.DHCP_IN);
    }

    /** DHCP messages the client sent. */
    public long dhcpOut() {
        return traffic.get(Traffic.DHCP_OUT);
    }

    /** Frames or packets dropped for {@code reason}. */
    public long drops(AdapterDropReason reason) {
        return drops.get(reason);
    }

    /** All drops together. */
    public long drops() {
        return drops.sum();
    }

    /** The non-zero counts as {@code name=count} pairs, traffic first, then drops. */
    @Override
    public String toString() {
        String t = traffic.toString();
        String d = drops.toString();
        return t.isEmpty() ? d : d.isEmpty() ? t : t + ' ' + d;
    }
}

package dev.pktkit.vtcp.host;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters of one {@link VirtualHost}: packets in and out, replies sent, and drops by {@link HostDropReason}.
 * Updated from the host's event loop and from the loops of its channels; read from any thread.
 */
public final class HostCounters {
    private static final HostDropReason[] REASONS = HostDropReason.values();
    private static final int RX = REASONS.length;
    private static final int TX = RX + 1;
    private static final int ECHO = TX + 1;
    private static final int ICMP_ERRORS_SENT = ECHO + 1;
    private static final int ICMP_ERRORS_DELIVERED = ICMP_ERRORS_SENT + 1;
    private static final int UDP_IN = ICMP_ERRORS_DELIVERED + 1;
    private static final int UDP_OUT = UDP_IN + 1;
    private static final int TCP_IN = UDP_OUT + 1;
    private static final int SIZE = TCP_IN + 1;

    private final AtomicLongArray values = new AtomicLongArray(SIZE);

    HostCounters() {
    }

    void drop(HostDropReason reason) {
        values.getAndIncrement(reason.ordinal());
    }

    void countReceived() {
        values.getAndIncrement(RX);
    }

    void countTransmitted() {
        values.getAndIncrement(TX);
    }

    void echoReply() {
        values.getAndIncrement(ECHO);
    }

    void icmpErrorSent() {
        values.getAndIncrement(ICMP_ERRORS_SENT);
    }

    void icmpErrorDelivered() {
        values.getAndIncrement(ICMP_ERRORS_DELIVERED);
    }

    void udpIn() {
        values.getAndIncrement(UDP_IN);
    }

    void udpOut() {
        values.getAndIncrement(UDP_OUT);
    }

    void tcpIn() {
        values.getAndIncrement(TCP_IN);
    }

    /** Packets dropped for {@code reason}. */
    public long dropped(HostDropReason reason) {
        return values.get(reason.ordinal());
    }

    /** Packets dropped for any reason. */
    public long dropped() {
        long n = 0;
        for (int i = 0; i < RX; i++) {
            n += values.get(i);
        }
        return n;
    }

    /** IP packets read from the device channel. */
    public long received() {
        return values.get(RX);
    }

    /** IP packets written to the device channel. */
    public long transmitted() {
        return values.get(TX);
    }

    /** ICMP and ICMPv6 echo replies sent. */
    public long echoReplies() {
        return values.get(ECHO);
    }

    /** ICMP errors this host sent (port, protocol unreachable). */
    public long icmpErrorsSent() {
        return values.get(ICMP_ERRORS_SENT);
    }

    /** ICMP errors received and handed to the flow they quote. */
    public long icmpErrorsDelivered() {
        return values.get(ICMP_ERRORS_DELIVERED);
    }

    /** UDP datagrams handed to a channel. */
    public long udpDelivered() {
        return values.get(UDP_IN);
    }

    /** UDP datagrams sent. */
    public long udpSent() {
        return values.get(UDP_OUT);
    }

    /** TCP segments received. */
    public long tcpReceived() {
        return values.get(TCP_IN);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("HostCounters(rx=").append(received()).append(", tx=")
                .append(transmitted()).append(", udpIn=").append(udpDelivered()).append(", udpOut=")
                .append(udpSent()).append(", echo=").append(echoReplies());
        for (HostDropReason r : REASONS) {
            long v = dropped(r);
            if (v != 0) {
                sb.append(", ").append(r).append('=').append(v);
            }
        }
        return sb.append(')').toString();
    }
}

package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.wire.Dhcp4;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters of one {@link DhcpServer}: messages received per DHCP type, replies sent, drops per reason, lease events
 * per kind, offers withdrawn. Written on
 * the server's event loop; readable from any thread.
 */
public final class DhcpServerCounters {
    private static final int TYPES = Dhcp4.INFORM + 1;
    private final AtomicLongArray received = new AtomicLongArray(TYPES);
    private final AtomicLongArray sent = new AtomicLongArray(TYPES);
    private final AtomicLongArray drops = new AtomicLongArray(DhcpDropReason.values().length);
    private final AtomicLongArray events = new AtomicLongArray(DhcpLeaseEvent.Kind.values().length);
    private final AtomicLong offersWithdrawn = new AtomicLong();

    DhcpServerCounters() {
    }

    void countReceived(int type) {
        received.incrementAndGet(type);
    }

    void countSent(int type) {
        sent.incrementAndGet(type);
    }

    void dropped(DhcpDropReason reason) {
        drops.incrementAndGet(reason.ordinal());
    }

    void leaseEvent(DhcpLeaseEvent.Kind kind) {
        events.incrementAndGet(kind.ordinal());
    }

    void offerWithdrawn() {
        offersWithdrawn.incrementAndGet();
    }

    /** Lease events of {@code kind} fired ({@link DhcpLeaseEvent}). */
    public long leaseEvents(DhcpLeaseEvent.Kind kind) {
        return events.get(kind.ordinal());
    }

    /** Pending offers withdrawn to make room for another client when the pool or the table was full. */
    public long offersWithdrawn() {
        return offersWithdrawn.get();
    }

    /** Messages of DHCP {@code type} ({@link Dhcp4#DISCOVER} ... {@link Dhcp4#INFORM}) accepted for handling. */
    public long received(int type) {
        return type > 0 && type < TYPES ? received.get(type) : 0;
    }

    /** Replies of DHCP {@code type} ({@link Dhcp4#OFFER}, {@link Dhcp4#ACK}, {@link Dhcp4#NAK}) sent. */
    public long sent(int type) {
        return type > 0 && type < TYPES ? sent.get(type) : 0;
    }

    public long drops(DhcpDropReason reason) {
        return drops.get(reason.ordinal());
    }

    public long drops() {
        long n = 0;
        for (int i = 0; i < drops.length(); i++) {
            n += drops.get(i);
        }
        return n;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("discover=").append(received(Dhcp4.DISCOVER))
                .append(" request=").append(received(Dhcp4.REQUEST))
                .append(" decline=").append(received(Dhcp4.DECLINE))
                .append(" release=").append(received(Dhcp4.RELEASE))
                .append(" inform=").append(received(Dhcp4.INFORM))
                .append(" offer=").append(sent(Dhcp4.OFFER))
                .append(" ack=").append(sent(Dhcp4.ACK))
                .append(" nak=").append(sent(Dhcp4.NAK));
        if (offersWithdrawn() != 0) {
            sb.append(" offers_withdrawn=").append(offersWithdrawn());
        }
        for (DhcpDropReason r : DhcpDropReason.values()) {
            if (drops(r) != 0) {
                sb.append(' ').append(r.name().toLowerCase(Locale.ROOT)).append('=').append(drops(r));
            }
        }
        return sb.toString();
    }
}

package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.stats.EnumCounters;
import dev.pktkit.codec.wire.Dhcp4;

/**
 * Counters of one {@link DhcpServer}: messages received and replies sent per DHCP {@link MessageType}, drops per
 * {@link DhcpDropReason}, lease events per {@link DhcpLeaseEvent.Kind}, offers withdrawn. Each is an
 * {@link EnumCounters} written only on the server's event loop ({@link EnumCounters#singleWriter}) and readable from
 * any thread. Export them with {@link DhcpServerMetrics}.
 */
public final class DhcpServerCounters {
    /** The DHCP message types (RFC 2132 §9.6), in code order: {@code code() == ordinal() + 1}. */
    public enum MessageType {
        DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM;

        private static final MessageType[] BY_CODE = values();

        /** The option 53 value. */
        public int code() {
            return ordinal() + 1;
        }

        /** The type with option 53 value {@code code}, or null if there is none. */
        public static MessageType ofCode(int code) {
            return code >= 1 && code <= BY_CODE.length ? BY_CODE[code - 1] : null;
        }
    }

    /** What the server counts besides messages, drops and lease events. */
    public enum Event {
        /** A pending offer withdrawn to make room for another client when the pool or the table was full. */
        OFFERS_WITHDRAWN
    }

    private final EnumCounters<MessageType> received = EnumCounters.singleWriter(MessageType.class);
    private final EnumCounters<MessageType> sent = EnumCounters.singleWriter(MessageType.class);
    private final EnumCounters<DhcpDropReason> drops = EnumCounters.singleWriter(DhcpDropReason.class);
    private final EnumCounters<DhcpLeaseEvent.Kind> leaseEvents =
            EnumCounters.singleWriter(DhcpLeaseEvent.Kind.class);
    private final EnumCounters<Event> events = EnumCounters.singleWriter(Event.class);

    DhcpServerCounters() {
    }

    void countReceived(int type) {
        MessageType t = MessageType.ofCode(type);
        if (t != null) {
            received.increment(t);
        }
    }

    void countSent(int type) {
        MessageType t = MessageType.ofCode(type);
        if (t != null) {
            sent.increment(t);
        }
    }

    void dropped(DhcpDropReason reason) {
        drops.increment(reason);
    }

    void leaseEvent(DhcpLeaseEvent.Kind kind) {
        leaseEvents.increment(kind);
    }

    void offerWithdrawn() {
        events.increment(Event.OFFERS_WITHDRAWN);
    }

    /** Messages accepted for handling, per type, live. */
    public EnumCounters<MessageType> receivedCounters() {
        return received;
    }

    /** Replies sent, per type, live. */
    public EnumCounters<MessageType> sentCounters() {
        return sent;
    }

    /** Drops by reason, live. */
    public EnumCounters<DhcpDropReason> dropCounters() {
        return drops;
    }

    /** Lease events by kind, live. */
    public EnumCounters<DhcpLeaseEvent.Kind> leaseEventCounters() {
        return leaseEvents;
    }

    /** The other events, live. */
    public EnumCounters<Event> eventCounters() {
        return events;
    }

    /** Lease events of {@code kind} fired ({@link DhcpLeaseEvent}). */
    public long leaseEvents(DhcpLeaseEvent.Kind kind) {
        return leaseEvents.get(kind);
    }

    /** Pending offers withdrawn to make room for another client when the pool or the table was full. */
    public long offersWithdrawn() {
        return events.get(Event.OFFERS_WITHDRAWN);
    }

    /** Messages of DHCP {@code type} ({@link Dhcp4#DISCOVER} ... {@link Dhcp4#INFORM}) accepted for handling. */
    public long received(int type) {
        MessageType t = MessageType.ofCode(type);
        return t == null ? 0 : received.get(t);
    }

    /** Replies of DHCP {@code type} ({@link Dhcp4#OFFER}, {@link Dhcp4#ACK}, {@link Dhcp4#NAK}) sent. */
    public long sent(int type) {
        MessageType t = MessageType.ofCode(type);
        return t == null ? 0 : sent.get(t);
    }

    /** Messages dropped for {@code reason}. */
    public long drops(DhcpDropReason reason) {
        return drops.get(reason);
    }

    /** All drops together. */
    public long drops() {
        return drops.sum();
    }

    /** The non-zero counts: {@code in: discover=.. out: offer=..} then events and drops. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("in: ").append(received).append(" out: ").append(sent);
        for (EnumCounters<?> c : new EnumCounters<?>[] {events, drops}) {
            String s = c.toString();
            if (!s.isEmpty()) {
                sb.append(' ').append(s);
            }
        }
        return sb.toString();
    }
}

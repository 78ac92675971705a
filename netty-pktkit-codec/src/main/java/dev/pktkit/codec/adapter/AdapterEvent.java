package dev.pktkit.codec.adapter;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * User events an {@link L2Adapter} fires up its pipeline ({@code userEventTriggered}) when its configuration
 * changes, so the devices above it can follow.
 */
public sealed interface AdapterEvent {
    /**
     * The IPv4 address changed: assigned ({@code previous} null), replaced, or removed ({@code address} null).
     */
    record Ipv4AddressChanged(Inet4Address previous, Inet4Address address, int prefixLength)
            implements AdapterEvent {
    }

    /** An IPv6 address passed duplicate address detection and is now in use. */
    record Ipv6AddressAdded(Inet6Address address, int prefixLength) implements AdapterEvent {
    }

    /** An IPv6 address was removed (its lifetime ended). */
    record Ipv6AddressRemoved(Inet6Address address) implements AdapterEvent {
    }

    /** Duplicate address detection found {@code address} in use by another node; it will not be used. */
    record Ipv6DuplicateAddress(Inet6Address address) implements AdapterEvent {
    }

    /** Another station claimed the adapter's IPv4 address in ARP. */
    record Ipv4AddressConflict(Inet4Address address, long otherMac) implements AdapterEvent {
    }

    /** The DHCP client's lease state changed. */
    record DhcpLeaseChanged(Kind kind, DhcpLease lease) implements AdapterEvent {
        /** What happened to the lease. */
        public enum Kind {
            /** A new lease was bound (after DISCOVER/OFFER/REQUEST/ACK). */
            BOUND,
            /** The lease was extended (RENEW or REBIND answered). */
            RENEWED,
            /** The lease ended: expired, refused by NAK, or declined for a conflict. {@code lease} is the old one. */
            LOST,
            /** The client released the lease (on close). */
            RELEASED
        }
    }
}

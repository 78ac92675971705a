package dev.pktkit.codec.dhcp;

import java.net.Inet4Address;
import java.time.Duration;

/**
 * A change of a lease in a {@link DhcpServer}'s table, fired as a user event ({@code fireUserEventTriggered}) on
 * the server's event loop to the handlers after the server in its pipeline, so applications can follow leases
 * without polling {@link DhcpServer#bindings()}. Offers are not leases and fire no events.
 *
 * @param kind       what happened
 * @param mac        client hardware address (chaddr)
 * @param clientId   client identifier (option 61) as hex, or null when the client sent none
 * @param address    the leased address
 * @param hostName   the host name the client sent (option 12), or null
 * @param leaseTime  the lease time granted ({@link Kind#GRANTED}, {@link Kind#RENEWED}); {@link Duration#ZERO}
 *                   for the other kinds
 * @param relay      the relay agent (giaddr) the client is behind, or null for a client on the server's own link
 */
public record DhcpLeaseEvent(Kind kind, long mac, String clientId, Inet4Address address, String hostName,
                             Duration leaseTime, Inet4Address relay) {
    /** What happened to the lease. */
    public enum Kind {
        /** A client was given a lease on an address it did not hold (REQUEST in SELECTING or INIT-REBOOT). */
        GRANTED,
        /** A client's lease on an address it held was extended (RENEWING, REBINDING, or a repeated REQUEST). */
        RENEWED,
        /** The client released the lease (DHCPRELEASE). */
        RELEASED,
        /** The lease ran out without being renewed. */
        EXPIRED,
        /** The client declined the address (DHCPDECLINE): it is in use on the link and now quarantined. */
        DECLINED
    }
}

package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Dhcp4;

import java.net.Inet4Address;
import java.time.Duration;
import java.util.List;

/**
 * A DHCPv4 lease as the {@link L2Adapter}'s client applied it.
 *
 * @param address         the leased address (yiaddr)
 * @param prefixLength    from the subnet mask option; 24 when the server sent none
 * @param routers         the router option, in the server's order; ignored for routing when {@code routes} is
 *                        non-empty (RFC 3442)
 * @param dnsServers      the domain name server option
 * @param domainName      the domain name option, or null
 * @param routes          classless static routes (option 121), possibly including a default route
 * @param server          the server identifier (option 54)
 * @param leaseTime       the lease time (option 51)
 * @param renewalTime     T1 (option 58, default half the lease)
 * @param rebindingTime   T2 (option 59, default 7/8 of the lease)
 * @param mtu             the interface MTU option, or 0
 */
public record DhcpLease(Inet4Address address, int prefixLength, List<Inet4Address> routers,
                        List<Inet4Address> dnsServers, String domainName, List<Dhcp4.Route> routes,
                        Inet4Address server, Duration leaseTime, Duration renewalTime, Duration rebindingTime,
                        int mtu) {
    public DhcpLease {
        routers = List.copyOf(routers);
        dnsServers = List.copyOf(dnsServers);
        routes = List.copyOf(routes);
    }

    /** The first router, or null. */
    public Inet4Address router() {
        return routers.isEmpty() ? null : routers.get(0);
    }
}

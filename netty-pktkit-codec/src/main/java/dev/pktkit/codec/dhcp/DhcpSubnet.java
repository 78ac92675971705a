package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Ip4;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A subnet a {@link DhcpServer} serves through DHCP relay agents (RFC 2131 §4.1, RFC 1542): requests whose
 * {@code giaddr} lies in {@link #network()}/{@link #prefixLength()} are served from this subnet's pool and options,
 * and the replies go back to the relay agent. Added with {@link DhcpServer.Builder#relayedSubnet}. DNS servers,
 * domain name and lease time default to the server's when not set here. Immutable.
 *
 * <pre>{@code
 * DhcpSubnet branch = DhcpSubnet.builder("10.80.0.0", 24).pool("10.80.0.100", "10.80.0.199")
 *         .router("10.80.0.1").build();
 * }</pre>
 */
public final class DhcpSubnet {
    final int network;
    final int prefixLength;
    final int poolStart;
    final int poolEnd;
    final int[] routers;
    final int[] dns;
    final String domainName;
    final Duration leaseTime;
    final List<Dhcp4.Route> routes;
    final Map<Long, Integer> staticLeases;

    private DhcpSubnet(Builder b) {
        network = b.network;
        prefixLength = b.prefixLength;
        poolStart = b.poolStart;
        poolEnd = b.poolEnd;
        routers = b.routers.stream().mapToInt(Integer::intValue).toArray();
        dns = b.dns == null ? null : b.dns.stream().mapToInt(Integer::intValue).toArray();
        domainName = b.domainName;
        leaseTime = b.leaseTime;
        routes = List.copyOf(b.routes);
        staticLeases = Map.copyOf(b.staticLeases);
    }

    /** A subnet, e.g. {@code builder("10.80.0.0", 24)}; host bits of {@code network} are ignored. */
    public static Builder builder(String network, int prefixLength) {
        if (prefixLength < 1 || prefixLength > 30) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " not in [1, 30]");
        }
        return new Builder(Ip4.parse(network) & Ip4.mask(prefixLength), prefixLength);
    }

    /** The subnet address. */
    public String network() {
        return Ip4.format(network);
    }

    public int prefixLength() {
        return prefixLength;
    }

    /** Pool size (first to last, inclusive). */
    int poolSize() {
        return poolEnd - poolStart + 1;
    }

    boolean contains(int a) {
        return (a & Ip4.mask(prefixLength)) == network;
    }

    boolean overlaps(int otherNetwork, int otherPrefix) {
        int m = Ip4.mask(Math.min(prefixLength, otherPrefix));
        return (network & m) == (otherNetwork & m);
    }

    @Override
    public String toString() {
        return "DhcpSubnet(" + Ip4.format(network) + "/" + prefixLength + " pool " + Ip4.format(poolStart) + "-"
                + Ip4.format(poolEnd) + ")";
    }

    /** Validates a pool and static leases against the subnet {@code network}/{@code prefixLength}. */
    static void validate(int network, int prefixLength, int poolStart, int poolEnd, Map<Long, Integer> statics,
                         int excluded) {
        int m = Ip4.mask(prefixLength);
        String cidr = Ip4.format(network & m) + "/" + prefixLength;
        if (poolStart == 0) {
            throw new IllegalStateException("a pool is required for " + cidr);
        }
        if (((poolStart ^ network) & m) != 0 || ((poolEnd ^ network) & m) != 0) {
            throw new IllegalStateException("pool " + Ip4.format(poolStart) + "-" + Ip4.format(poolEnd)
                    + " is not inside " + cidr);
        }
        if ((poolStart & ~m) == 0 || (poolEnd & ~m) == ~m) {
            throw new IllegalStateException("pool must not contain the network or broadcast address of " + cidr);
        }
        Map<Integer, Long> seen = new HashMap<>();
        for (Map.Entry<Long, Integer> e : statics.entrySet()) {
            int a = e.getValue();
            if (((a ^ network) & m) != 0 || a == excluded || (a & ~m) == 0 || (a & ~m) == ~m) {
                throw new IllegalStateException("static lease " + Ip4.format(a) + " outside " + cidr
                        + " or the server's own address");
            }
            if (seen.put(a, e.getKey()) != null) {
                throw new IllegalStateException("static address " + Ip4.format(a) + " given twice");
            }
        }
    }

    /** Configuration of a {@link DhcpSubnet}. */
    public static final class Builder {
        private final int network;
        private final int prefixLength;
        private int poolStart;
        private int poolEnd;
        private final List<Integer> routers = new ArrayList<>();
        private List<Integer> dns;
        private String domainName;
        private Duration leaseTime;
        private final List<Dhcp4.Route> routes = new ArrayList<>();
        private final Map<Long, Integer> staticLeases = new LinkedHashMap<>();

        private Builder(int network, int prefixLength) {
            this.network = network;
            this.prefixLength = prefixLength;
        }

        /** The pool, inclusive, inside the subnet. Required. */
        public Builder pool(String first, String last) {
            int a = Ip4.parse(first);
            int b = Ip4.parse(last);
            if (Integer.compareUnsigned(a, b) > 0) {
                throw new IllegalArgumentException("pool start after pool end");
            }
            poolStart = a;
            poolEnd = b;
            return this;
        }

        /** A router (option 3), in order of preference: usually the relay agent's address on this subnet. */
        public Builder router(String address) {
            routers.add(Ip4.parse(address));
            return this;
        }

        /** A DNS server (option 6) for this subnet; when none is set, the server's are sent. */
        public Builder dnsServer(String address) {
            (dns == null ? dns = new ArrayList<>() : dns).add(Ip4.parse(address));
            return this;
        }

        /** The domain name (option 15) for this subnet; default the server's. */
        public Builder domainName(String name) {
            this.domainName = DhcpServer.Builder.checkDomain(name);
            return this;
        }

        /** Lease time for this subnet; default the server's. At least 10 s. */
        public Builder leaseTime(Duration leaseTime) {
            this.leaseTime = DhcpServer.Builder.checkLease(leaseTime);
            return this;
        }

        /** A classless static route (option 121, sent to clients that ask for it). */
        public Builder route(String destination, int prefixLength, String router) {
            routes.add(DhcpServer.Builder.route0(destination, prefixLength, router));
            return this;
        }

        /** Always give {@code mac} the address {@code address} when it asks through this subnet's relay. */
        public Builder staticLease(long mac, String address) {
            staticLeases.put(mac, Ip4.parse(address));
            return this;
        }

        public DhcpSubnet build() {
            validate(network, prefixLength, poolStart, poolEnd, staticLeases, 0);
            return new DhcpSubnet(this);
        }
    }
}

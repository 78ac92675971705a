package dev.pktkit.nat;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.nat.nat64.Nat64Prefix;
import io.netty.util.internal.ObjectUtil;

import java.time.Duration;
import java.util.Arrays;

/**
 * Immutable configuration of a NAT ({@link NatEngine}, {@link Nat}). Build with {@link #builder()}; every bound
 * has the default named on its builder method.
 */
public final class NatConfig {
    /** Default first and last outside port of the dynamic range (RFC 6056 suggests 1024–65535). */
    public static final int DEFAULT_PORT_MIN = 1024;
    public static final int DEFAULT_PORT_MAX = 65535;
    public static final int DEFAULT_MAX_MAPPINGS = 65536;
    public static final int DEFAULT_MAX_MAPPINGS_PER_NAMESPACE = 16384;
    public static final int DEFAULT_MAX_MAPPINGS_PER_HOST = 4096;
    public static final int DEFAULT_MAX_SESSIONS_PER_MAPPING = 1024;
    public static final int DEFAULT_MAX_EXPECTATIONS = 1024;
    public static final int DEFAULT_MAX_EXPECTATIONS_PER_FLOW = 8;
    public static final int DEFAULT_MAX_NAMESPACES = 4096;
    public static final int DEFAULT_MAX_STATIC = 1024;
    /** Session-table slots visited by the expiry per tick (see {@link Builder#expiryScanPerTick}). */
    public static final int DEFAULT_EXPIRY_SCAN_PER_TICK = 65536;
    public static final int DEFAULT_MTU = 1500;
    public static final int DEFAULT_IPV6_ROUTE_CACHE = 1024;

    final int[] outsideAddresses;
    final int insideAddress;
    final int portMin;
    final int portMax;
    final Filtering filtering;
    final boolean portPreservation;
    final boolean portParity;
    final boolean hairpinning;
    final int tcpTransitorySeconds;
    final int tcpEstablishedSeconds;
    final int udpSeconds;
    final int icmpSeconds;
    final int maxMappings;
    final int maxMappingsPerNamespace;
    final int maxMappingsPerHost;
    final int maxSessions;
    final int maxSessionsPerMapping;
    final int maxExpectations;
    final int maxExpectationsPerFlow;
    final int maxNamespaces;
    final int maxStatic;
    final int expiryScanPerTick;
    final Ipv6Policy ipv6Policy;
    final int ipv6RouteCache;
    final int outsideMtu;
    final int insideMtu;
    final NatListener listener;
    final Nat64Prefix nat64;

    private NatConfig(Builder b) {
        if (b.outside.length == 0) {
            throw new IllegalArgumentException("at least one outside address is required");
        }
        outsideAddresses = b.outside.clone();
        insideAddress = b.insideAddress;
        portMin = b.portMin;
        portMax = b.portMax;
        filtering = b.filtering;
        portPreservation = b.portPreservation;
        portParity = b.portParity;
        hairpinning = b.hairpinning;
        tcpTransitorySeconds = b.tcpTransitory;
        tcpEstablishedSeconds = b.tcpEstablished;
        udpSeconds = b.udp;
        icmpSeconds = b.icmp;
        maxMappings = b.maxMappings;
        maxMappingsPerNamespace = b.maxMappingsPerNamespace;
        maxMappingsPerHost = b.maxMappingsPerHost;
        maxSessions = b.maxSessions > 0 ? b.maxSessions : Math.max(b.maxMappings, 1) * 2;
        maxSessionsPerMapping = b.maxSessionsPerMapping;
        maxExpectations = b.maxExpectations;
        maxExpectationsPerFlow = b.maxExpectationsPerFlow;
        maxNamespaces = b.maxNamespaces;
        maxStatic = b.maxStatic;
        expiryScanPerTick = b.expiryScanPerTick;
        ipv6Policy = b.ipv6Policy;
        ipv6RouteCache = b.ipv6RouteCache;
        outsideMtu = b.outsideMtu;
        insideMtu = b.insideMtu;
        listener = b.listener;
        nat64 = b.nat64;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The outside addresses, in the order given. */
    public int[] outsideAddresses() {
        return outsideAddresses.clone();
    }

    /** The NAT's own inside address (source of the ICMP errors it sends), or 0 if none. */
    public int insideAddress() {
        return insideAddress;
    }

    public Filtering filtering() {
        return filtering;
    }

    public int outsideMtu() {
        return outsideMtu;
    }

    public int insideMtu() {
        return insideMtu;
    }

    public int maxMappings() {
        return maxMappings;
    }

    public int maxSessions() {
        return maxSessions;
    }

    /** The NAT64 prefix, or null when NAT64 is off. */
    public Nat64Prefix nat64Prefix() {
        return nat64;
    }

    @Override
    public String toString() {
        return "NatConfig{outside=" + Arrays.stream(outsideAddresses).mapToObj(Ip4::format).toList()
                + ", ports=" + portMin + "-" + portMax + ", filtering=" + filtering + ", maxMappings=" + maxMappings
                + '}';
    }

    /** Builder of {@link NatConfig}. */
    public static final class Builder {
        private int[] outside = new int[0];
        private int insideAddress;
        private int portMin = DEFAULT_PORT_MIN;
        private int portMax = DEFAULT_PORT_MAX;
        private Filtering filtering = Filtering.ADDRESS_AND_PORT_DEPENDENT;
        private boolean portPreservation = true;
        private boolean portParity = true;
        private boolean hairpinning = true;
        private int tcpTransitory = 240;
        private int tcpEstablished = 7440;
        private int udp = 120;
        private int icmp = 60;
        private int maxMappings = DEFAULT_MAX_MAPPINGS;
        private int maxMappingsPerNamespace = DEFAULT_MAX_MAPPINGS_PER_NAMESPACE;
        private int maxMappingsPerHost = DEFAULT_MAX_MAPPINGS_PER_HOST;
        private int maxSessions;
        private int maxSessionsPerMapping = DEFAULT_MAX_SESSIONS_PER_MAPPING;
        private int maxExpectations = DEFAULT_MAX_EXPECTATIONS;
        private int maxExpectationsPerFlow = DEFAULT_MAX_EXPECTATIONS_PER_FLOW;
        private int maxNamespaces = DEFAULT_MAX_NAMESPACES;
        private int maxStatic = DEFAULT_MAX_STATIC;
        private int expiryScanPerTick = DEFAULT_EXPIRY_SCAN_PER_TICK;
        private Ipv6Policy ipv6Policy = Ipv6Policy.DROP;
        private int ipv6RouteCache = DEFAULT_IPV6_ROUTE_CACHE;
        private int outsideMtu = DEFAULT_MTU;
        private int insideMtu = DEFAULT_MTU;
        private NatListener listener;
        private Nat64Prefix nat64;

        private Builder() {
        }

        /** The outside addresses (at least one; required). A host's mappings all use one of them (paired pooling). */
        public Builder outsideAddresses(String... addresses) {
            int[] a = new int[addresses.length];
            for (int i = 0; i < a.length; i++) {
                a[i] = Ip4.parse(addresses[i]);
            }
            return outsideAddresses(a);
        }

        public Builder outsideAddresses(int... addresses) {
            for (int a : addresses) {
                if (a == 0 || Ip4.isMulticast(a) || a == Ip4.BROADCAST) {
                    throw new IllegalArgumentException("not a unicast outside address: " + Ip4.format(a));
                }
            }
            this.outside = addresses.clone();
            return this;
        }

        /** The NAT's own address on the inside networks: the source of ICMP errors it sends; answers ping. */
        public Builder insideAddress(String address) {
            this.insideAddress = Ip4.parse(address);
            return this;
        }

        /** Outside ports for dynamic mappings of TCP and UDP; default 1024–65535. ICMP identifiers use 1–65535. */
        public Builder portRange(int min, int max) {
            if (min < 1 || max > 65535 || min > max) {
                throw new IllegalArgumentException("bad port range " + min + "-" + max);
            }
            this.portMin = min;
            this.portMax = max;
            return this;
        }

        /** Default {@link Filtering#ADDRESS_AND_PORT_DEPENDENT}. Mapping is always endpoint-independent. */
        public Builder filtering(Filtering filtering) {
            this.filtering = ObjectUtil.checkNotNull(filtering, "filtering");
            return this;
        }

        /** Keep the inside port as outside port when it is free and in range (RFC 4787 REQ-3); default on. */
        public Builder portPreservation(boolean on) {
            this.portPreservation = on;
            return this;
        }

        /** Keep the parity of the inside port (RFC 4787 REQ-4); default on. */
        public Builder portParity(boolean on) {
            this.portParity = on;
            return this;
        }

        /** Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8); default on. */
        public Builder hairpinning(boolean on) {
            this.hairpinning = on;
            return this;
        }

        /** TCP timeouts: transitory (default 4 min) and established (default 2 h 4 min), RFC 5382 / RFC 7857. */
        public Builder tcpTimeouts(Duration transitory, Duration established) {
            this.tcpTransitory = seconds(transitory);
            this.tcpEstablished = seconds(established);
            return this;
        }

        /** UDP session timeout; default 2 min (RFC 4787 REQ-5). */
        public Builder udpTimeout(Duration timeout) {
            this.udp = seconds(timeout);
            return this;
        }

        /** ICMP query (echo) session timeout; default 60 s (RFC 5508 REQ-1). */
        public Builder icmpTimeout(Duration timeout) {
            this.icmp = seconds(timeout);
            return this;
        }

        /** Mappings in total (default 65536); the tables are sized for this at construction. */
        public Builder maxMappings(int n) {
            this.maxMappings = positive(n, "maxMappings");
            return this;
        }

        /** Mappings per namespace (default 16384). */
        public Builder maxMappingsPerNamespace(int n) {
            this.maxMappingsPerNamespace = positive(n, "maxMappingsPerNamespace");
            return this;
        }

        /** Mappings per inside host (namespace + address; default 4096). */
        public Builder maxMappingsPerHost(int n) {
            this.maxMappingsPerHost = positive(n, "maxMappingsPerHost");
            return this;
        }

        /** Sessions (mapping + remote endpoint) in total; default twice {@link #maxMappings}. */
        public Builder maxSessions(int n) {
            this.maxSessions = positive(n, "maxSessions");
            return this;
        }

        /** Sessions per mapping (remote endpoints one inside endpoint talks to); default 1024. */
        public Builder maxSessionsPerMapping(int n) {
            this.maxSessionsPerMapping = positive(n, "maxSessionsPerMapping");
            return this;
        }

        /** Pending expectations in total (default 1024) and per control flow (default 8). */
        public Builder maxExpectations(int total, int perFlow) {
            this.maxExpectations = positive(total, "maxExpectations");
            this.maxExpectationsPerFlow = positive(perFlow, "maxExpectationsPerFlow");
            return this;
        }

        /** Namespaces (default 4096). */
        public Builder maxNamespaces(int n) {
            this.maxNamespaces = positive(n, "maxNamespaces");
            return this;
        }

        /** Static mappings, port forwards and address mappings together (default 1024). */
        public Builder maxStaticMappings(int n) {
            this.maxStatic = positive(n, "maxStaticMappings");
            return this;
        }

        /**
         * Session-table slots the expiry visits per tick (once a second; default 65536). The expiry walks the table
         * with a cursor, so a tick costs at most this many slot reads plus the removals among them, whatever the
         * table's size; a session is removed at most {@code ceil(maxSessions / n)} ticks after it is due (2 s with
         * the default tables, 31 s at 1,000,000 mappings). A value at least {@code maxSessions} sweeps the whole
         * table every tick.
         */
        public Builder expiryScanPerTick(int n) {
            this.expiryScanPerTick = positive(n, "expiryScanPerTick");
            return this;
        }

        /** IPv6 that is not NAT64-bound; default {@link Ipv6Policy#DROP}. */
        public Builder ipv6Policy(Ipv6Policy policy) {
            this.ipv6Policy = ObjectUtil.checkNotNull(policy, "policy");
            return this;
        }

        /** Entries of the inside-port cache for routed IPv6 (default 1024). */
        public Builder ipv6RouteCache(int n) {
            this.ipv6RouteCache = positive(n, "ipv6RouteCache");
            return this;
        }

        /** MTU towards the outside (default 1500): larger packets are fragmented, or refused when DF is set. */
        public Builder outsideMtu(int mtu) {
            this.outsideMtu = mtu(mtu);
            return this;
        }

        /** MTU towards the inside ports (default 1500). */
        public Builder insideMtu(int mtu) {
            this.insideMtu = mtu(mtu);
            return this;
        }

        /**
         * Stateful NAT64 (RFC 6146) for IPv6 inside hosts: packets to {@code prefix} (RFC 6052) are translated
         * (RFC 7915) to IPv4 from the outside addresses, sharing the IPv4 mapping tables and bounds. Null: off
         * (the default).
         */
        public Builder nat64(Nat64Prefix prefix) {
            this.nat64 = prefix;
            return this;
        }

        /** {@link #nat64(Nat64Prefix)} with the well-known prefix {@code 64:ff9b::/96}. */
        public Builder nat64() {
            return nat64(Nat64Prefix.WELL_KNOWN);
        }

        public Builder listener(NatListener listener) {
            this.listener = listener;
            return this;
        }

        public NatConfig build() {
            if (maxMappingsPerNamespace > maxMappings) {
                maxMappingsPerNamespace = maxMappings;
            }
            return new NatConfig(this);
        }

        private static int mtu(int mtu) {
            if (mtu < 576 || mtu > 65535) {
                throw new IllegalArgumentException("MTU out of range 576..65535: " + mtu);
            }
            return mtu;
        }

        private static int positive(int n, String name) {
            if (n <= 0) {
                throw new IllegalArgumentException(name + " must be positive: " + n);
            }
            return n;
        }

        private static int seconds(Duration d) {
            long s = d.toSeconds();
            if (s <= 0 || s > Integer.MAX_VALUE / 2) {
                throw new IllegalArgumentException("timeout out of range: " + d);
            }
            return (int) s;
        }
    }
}

package dev.pktkit.nat.portcontrol;

import io.netty.util.internal.ObjectUtil;

import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * Settings of a {@link PortControl}. Every table is bounded; the NAT's own {@code maxStaticMappings} bounds the
 * leases too, since each lease is a port forward in the NAT.
 */
public final class PortControlConfig {
    /** UDP port of NAT-PMP and PCP (RFC 6886 §3, RFC 6887 §19.1). */
    public static final int PCP_PORT = 5351;
    /** Where NAT-PMP and PCP clients listen for unsolicited announcements (on 224.0.0.1). */
    public static final int PCP_CLIENT_PORT = 5350;
    /** SSDP's port and group (UPnP Device Architecture 1.1 §1). */
    public static final int SSDP_PORT = 1900;
    public static final String SSDP_GROUP = "239.255.255.250";

    final boolean upnp;
    final boolean natPmp;
    final boolean pcp;
    final int httpPort;
    final int maxLeases;
    final int maxLeasesPerHost;
    final int maxLeaseSeconds;
    final int defaultNatPmpSeconds;
    final boolean allowThirdParty;
    final int maxSoapBytes;
    final int maxSsdpBytes;
    final int ssdpMaxAge;
    final int maxHttpConnections;
    final int portMin;
    final int portMax;
    final int maxFiltersPerMapping;
    final int announceCount;
    final long announceFirstIntervalMillis;
    final int ssdpNotifyIntervalSeconds;
    final int ssdpCopies;
    final int maxSsdpPending;
    final Random random;
    final String friendlyName;
    final UUID uuid;
    final LongSupplier nanoClock;

    private PortControlConfig(Builder b) {
        upnp = b.upnp;
        natPmp = b.natPmp;
        pcp = b.pcp;
        httpPort = b.httpPort;
        maxLeases = b.maxLeases;
        maxLeasesPerHost = b.maxLeasesPerHost;
        maxLeaseSeconds = b.maxLeaseSeconds;
        defaultNatPmpSeconds = b.defaultNatPmpSeconds;
        allowThirdParty = b.allowThirdParty;
        maxSoapBytes = b.maxSoapBytes;
        maxSsdpBytes = b.maxSsdpBytes;
        ssdpMaxAge = b.ssdpMaxAge;
        maxHttpConnections = b.maxHttpConnections;
        portMin = b.portMin;
        portMax = b.portMax;
        maxFiltersPerMapping = b.maxFiltersPerMapping;
        announceCount = b.announceCount;
        announceFirstIntervalMillis = b.announceFirstIntervalMillis;
        ssdpNotifyIntervalSeconds = b.ssdpNotifyIntervalSeconds; // 0: random per period
        ssdpCopies = b.ssdpCopies;
        maxSsdpPending = b.maxSsdpPending;
        random = b.random;
        friendlyName = b.friendlyName;
        uuid = b.uuid == null ? UUID.randomUUID() : b.uuid;
        nanoClock = b.nanoClock;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static PortControlConfig defaults() {
        return builder().build();
    }

    public int httpPort() {
        return httpPort;
    }

    public int maxLeases() {
        return maxLeases;
    }

    public int maxLeasesPerHost() {
        return maxLeasesPerHost;
    }

    public int maxLeaseSeconds() {
        return maxLeaseSeconds;
    }

    public boolean allowThirdParty() {
        return allowThirdParty;
    }

    public int maxSoapBytes() {
        return maxSoapBytes;
    }

    public int maxFiltersPerMapping() {
        return maxFiltersPerMapping;
    }

    /** How many unsolicited NAT-PMP / PCP announcements a port's endpoints send when they start. */
    public int announceCount() {
        return announceCount;
    }

    /** Seconds between the periodic {@code ssdp:alive} sets. */
    /** The explicit {@link Builder#ssdpNotifyInterval}, or 0 for the default (random per period). */
    public int ssdpNotifyIntervalSeconds() {
        return ssdpNotifyIntervalSeconds;
    }

    /**
     * Milliseconds to the next periodic {@code ssdp:alive} set: the explicit interval, or else (UDA 1.1 §1.2.2: a
     * randomly distributed interval less than half the max-age) uniform in [max-age / 4, max-age / 2), drawn
     * from {@link #randomBelow} for each period.
     */
    long ssdpNotifyDelayMillis() {
        if (ssdpNotifyIntervalSeconds > 0) {
            return ssdpNotifyIntervalSeconds * 1000L;
        }
        long lo = ssdpMaxAge * 1000L / 4;
        long hi = ssdpMaxAge * 1000L / 2;
        return lo + randomBelow(hi - lo);
    }

    public int ssdpMaxAge() {
        return ssdpMaxAge;
    }

    /** A random number in [0, bound), from {@link Builder#random} or else {@link ThreadLocalRandom}. */
    long randomBelow(long bound) {
        return random != null ? random.nextLong(bound) : ThreadLocalRandom.current().nextLong(bound);
    }

    public UUID uuid() {
        return uuid;
    }

    public static final class Builder {
        private boolean upnp = true;
        private boolean natPmp = true;
        private boolean pcp = true;
        private int httpPort = 5000;
        private int maxLeases = 1024;
        private int maxLeasesPerHost = 64;
        private int maxLeaseSeconds = 86400;
        private int defaultNatPmpSeconds = 7200;
        private boolean allowThirdParty;
        private int maxSoapBytes = 8192;
        private int maxSsdpBytes = 1500;
        private int ssdpMaxAge = 1800;
        private int maxHttpConnections = 32;
        private int portMin = 1024;
        private int portMax = 65535;
        private int maxFiltersPerMapping = 4;
        private int announceCount = 10;
        private long announceFirstIntervalMillis = 250;
        private int ssdpNotifyIntervalSeconds;
        private int ssdpCopies = 2;
        private int maxSsdpPending = 32;
        private Random random;
        private String friendlyName = "netty-pktkit NAT";
        private UUID uuid;
        private LongSupplier nanoClock = System::nanoTime;

        private Builder() {
        }

        /** UPnP IGD (SSDP + HTTP/SOAP); on by default. */
        public Builder upnp(boolean on) {
            upnp = on;
            return this;
        }

        /** NAT-PMP on UDP 5351; on by default. */
        public Builder natPmp(boolean on) {
            natPmp = on;
            return this;
        }

        /** PCP on UDP 5351; on by default. */
        public Builder pcp(boolean on) {
            pcp = on;
            return this;
        }

        /** TCP port of the UPnP description and control endpoint on the NAT's inside address (default 5000). */
        public Builder httpPort(int port) {
            httpPort = ObjectUtil.checkInRange(port, 1, 65535, "port");
            return this;
        }

        /** Leases in total (default 1024) and per inside host (default 64). */
        public Builder maxLeases(int total, int perHost) {
            maxLeases = ObjectUtil.checkPositive(total, "total");
            maxLeasesPerHost = ObjectUtil.checkPositive(perHost, "perHost");
            return this;
        }

        /**
         * The longest lease granted (default 86400 s); longer requests are cut to it, and UPnP's lease 0 ("as
         * long as possible" in v2, "permanent" in v1) becomes it.
         */
        public Builder maxLeaseSeconds(int seconds) {
            maxLeaseSeconds = ObjectUtil.checkPositive(seconds, "seconds");
            return this;
        }

        /**
         * Lets a host ask for mappings to another inside address (UPnP {@code NewInternalClient}, PCP
         * THIRD_PARTY). Off by default: a request for another address is refused (UPnP 606, PCP NOT_AUTHORIZED).
         */
        public Builder allowThirdParty(boolean on) {
            allowThirdParty = on;
            return this;
        }

        /** Largest SOAP request (headers excluded) accepted, default 8192 bytes; larger ones get 413. */
        public Builder maxSoapBytes(int n) {
            maxSoapBytes = ObjectUtil.checkInRange(n, 512, 1 << 20, "maxSoapBytes");
            return this;
        }

        /** Concurrent HTTP connections per inside port (default 32); more are refused with RST. */
        public Builder maxHttpConnections(int n) {
            maxHttpConnections = ObjectUtil.checkPositive(n, "maxHttpConnections");
            return this;
        }

        /** The outside ports leases may use (default 1024–65535). */
        public Builder portRange(int min, int max) {
            if (min < 1 || max > 65535 || min > max) {
                throw new IllegalArgumentException("bad port range " + min + "-" + max);
            }
            portMin = min;
            portMax = max;
            return this;
        }

        /**
         * The most remote-peer filters one PCP mapping may hold (FILTER option, RFC 6887 §13.3; default 4, at
         * least 1 as the RFC asks); a MAP request that would leave more is refused with EXCESSIVE_REMOTE_PEERS.
         */
        public Builder maxFiltersPerMapping(int n) {
            maxFiltersPerMapping = ObjectUtil.checkInRange(n, 1, 64, "maxFiltersPerMapping");
            return this;
        }

        /**
         * The unsolicited announcements to 224.0.0.1:5350 when a port's endpoints start (the epoch starts then):
         * NAT-PMP's external-address response (RFC 6886 §3.2.1) and PCP's ANNOUNCE response (RFC 6887 §14.1.3),
         * {@code count} of each, the first at once, then after {@code firstIntervalMillis}, doubling each time.
         * Default 10 and 250 ms (RFC 6886 §3.2.1's schedule: 250 ms, 500 ms, 1 s, … 64 s). Closing stops them.
         */
        public Builder announcements(int count, long firstIntervalMillis) {
            announceCount = ObjectUtil.checkInRange(count, 0, 16, "count");
            announceFirstIntervalMillis = ObjectUtil.checkInRange(firstIntervalMillis, 1, 60_000,
                    "firstIntervalMillis");
            return this;
        }

        /** SSDP's {@code CACHE-CONTROL: max-age} in seconds (default 1800, as UDA 1.1 recommends at least). */
        public Builder ssdpMaxAge(int seconds) {
            ssdpMaxAge = ObjectUtil.checkInRange(seconds, 10, 86400, "seconds");
            return this;
        }

        /**
         * Seconds between the periodic {@code ssdp:alive} sets, fixed; must be below half the max-age (UDA 1.1
         * §1.2.2). The default is random per period, uniform in [max-age / 4, max-age / 2), from {@link #random}.
         */
        public Builder ssdpNotifyInterval(int seconds) {
            ssdpNotifyIntervalSeconds = ObjectUtil.checkPositive(seconds, "seconds");
            return this;
        }

        /**
         * How many times each {@code ssdp:alive} set is sent, 200 ms apart (default 2; UDA 1.1 §1.2.2: more than
         * once over UDP, at most three times).
         */
        public Builder ssdpCopies(int copies) {
            ssdpCopies = ObjectUtil.checkInRange(copies, 1, 3, "copies");
            return this;
        }

        /**
         * M-SEARCH answers waiting for their {@code MX} delay, per port (default 32 searches); more searches meanwhile
         * are dropped and counted ({@link PortControlCounter#SSDP_PENDING_FULL}).
         */
        public Builder maxSsdpPending(int searches) {
            maxSsdpPending = ObjectUtil.checkInRange(searches, 1, 4096, "searches");
            return this;
        }

        /** The random source of the SSDP delays (default {@link ThreadLocalRandom}), for tests. */
        public Builder random(Random random) {
            this.random = ObjectUtil.checkNotNull(random, "random");
            return this;
        }

        public Builder friendlyName(String name) {
            friendlyName = ObjectUtil.checkNotNull(name, "name");
            return this;
        }

        /** The device UUID in SSDP and the description (default: random per instance). */
        public Builder uuid(UUID uuid) {
            this.uuid = uuid;
            return this;
        }

        /** The clock leases are timed by (nanoseconds; default {@code System::nanoTime}), for tests. */
        public Builder clock(LongSupplier nanoClock) {
            this.nanoClock = ObjectUtil.checkNotNull(nanoClock, "nanoClock");
            return this;
        }

        public PortControlConfig build() {
            if (ssdpNotifyIntervalSeconds > 0 && ssdpNotifyIntervalSeconds * 2L >= ssdpMaxAge) {
                throw new IllegalArgumentException("ssdpNotifyInterval " + ssdpNotifyIntervalSeconds
                        + " s must be below half of ssdpMaxAge " + ssdpMaxAge + " s (UDA 1.1 §1.2.2)");
            }
            return new PortControlConfig(this);
        }
    }
}

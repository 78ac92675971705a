package dev.pktkit.nat.defrag;

import java.time.Duration;

/** Bounds of a {@link Defragmenter}; {@link #builder()} names the defaults. */
public final class DefragConfig {
    public static final int DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
    public static final int DEFAULT_MAX_DATAGRAMS = 256;
    public static final int DEFAULT_MAX_FRAGMENTS_PER_DATAGRAM = 64;
    public static final int DEFAULT_TIMEOUT_SECONDS = 30;

    final int maxBytes;
    final int maxDatagrams;
    final int maxFragmentsPerDatagram;
    final int timeoutSeconds;
    final boolean ipv6;

    private DefragConfig(Builder b) {
        maxBytes = b.maxBytes;
        maxDatagrams = b.maxDatagrams;
        maxFragmentsPerDatagram = b.maxFragments;
        timeoutSeconds = b.timeout;
        ipv6 = b.ipv6;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int maxBytes = DEFAULT_MAX_BYTES;
        private int maxDatagrams = DEFAULT_MAX_DATAGRAMS;
        private int maxFragments = DEFAULT_MAX_FRAGMENTS_PER_DATAGRAM;
        private int timeout = DEFAULT_TIMEOUT_SECONDS;
        private boolean ipv6;

        private Builder() {
        }

        /** Buffer memory held by incomplete datagrams, counted by buffer capacity; default 4 MiB. */
        public Builder maxBytes(int n) {
            if (n < 65536) {
                throw new IllegalArgumentException("maxBytes below 64 KiB: " + n);
            }
            maxBytes = n;
            return this;
        }

        /** Datagrams being reassembled at once; default 256. */
        public Builder maxDatagrams(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxDatagrams must be positive");
            }
            maxDatagrams = n;
            return this;
        }

        /** Fragments per datagram (the per-flow bound; 64 KiB per datagram always); default 64. */
        public Builder maxFragmentsPerDatagram(int n) {
            if (n < 2) {
                throw new IllegalArgumentException("maxFragmentsPerDatagram below 2");
            }
            maxFragments = n;
            return this;
        }

        /** Reassembly timeout; default 30 s (Linux's ipfrag_time). */
        public Builder timeout(Duration d) {
            long s = d.toSeconds();
            if (s < 1 || s > 3600) {
                throw new IllegalArgumentException("timeout out of range: " + d);
            }
            timeout = (int) s;
            return this;
        }

        /** Also reassemble IPv6 (default off: the IPv4 NAT passes IPv6 fragments through untouched). */
        public Builder ipv6(boolean on) {
            ipv6 = on;
            return this;
        }

        public DefragConfig build() {
            return new DefragConfig(this);
        }
    }
}

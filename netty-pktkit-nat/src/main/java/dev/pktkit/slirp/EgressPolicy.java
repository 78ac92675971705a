package dev.pktkit.slirp;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Which real destinations guests may reach, by prefix and port: an ordered list of allow and deny rules, the
 * first rule that matches deciding, and a default for destinations no rule matches (allow unless told
 * otherwise). For {@link Slirp.Builder#egress}; the host's loopback is refused by slirp before any policy is
 * asked (the gateway address, when mapped to it with {@code hostLoopback}, is not subject to the policy).
 *
 * <pre>{@code
 * Slirp.builder().egress(EgressPolicy.builder()
 *         .deny("10.0.0.0/8").deny("192.168.0.0/16")      // not the host's private networks
 *         .allow("0.0.0.0/0", 80, 443).allow("::/0", 80, 443)
 *         .defaultAllow(false)                             // and nothing else
 *         .build())
 * }</pre>
 *
 * <p>Immutable and thread-safe; a test costs one pass over the rules (compared as two longs per address).
 */
public final class EgressPolicy implements Predicate<InetSocketAddress> {
    private final Rule[] rules;
    private final boolean defaultAllow;

    private record Rule(boolean allow, boolean v6, long hi, long lo, int prefix, int lowPort, int highPort) {
        boolean matches(boolean isV6, long aHi, long aLo, int port) {
            if (isV6 != v6 || port < lowPort || port > highPort) {
                return false;
            }
            int bits = v6 ? prefix : prefix + 96; // IPv4 in the low 32 bits of lo
            return maskedEquals(aHi, aLo, hi, lo, bits, v6);
        }
    }

    private static boolean maskedEquals(long aHi, long aLo, long bHi, long bLo, int bits, boolean v6) {
        if (!v6) {
            int p = bits - 96;
            long mask = p == 0 ? 0 : (0xFFFF_FFFFL << (32 - p)) & 0xFFFF_FFFFL;
            return (aLo & mask) == (bLo & mask);
        }
        if (bits <= 64) {
            long mask = bits == 0 ? 0 : -1L << (64 - bits);
            return (aHi & mask) == (bHi & mask);
        }
        long mask = bits == 128 ? -1L : -1L << (128 - bits);
        return aHi == bHi && (aLo & mask) == (bLo & mask);
    }

    private EgressPolicy(Builder b) {
        this.rules = b.rules.toArray(Rule[]::new);
        this.defaultAllow = b.defaultAllow;
    }

    /** A policy with no rules yet, allowing by default. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public boolean test(InetSocketAddress dst) {
        byte[] a = dst.getAddress().getAddress();
        boolean v6 = a.length == 16;
        long hi = v6 ? word(a, 0) : 0;
        long lo = v6 ? word(a, 8) : (((a[0] & 0xFFL) << 24) | ((a[1] & 0xFF) << 16) | ((a[2] & 0xFF) << 8) | (a[3] & 0xFF));
        int port = dst.getPort();
        for (Rule r : rules) {
            if (r.matches(v6, hi, lo, port)) {
                return r.allow();
            }
        }
        return defaultAllow;
    }

    private static long word(byte[] a, int from) {
        long v = 0;
        for (int i = from; i < from + 8; i++) {
            v = (v << 8) | (a[i] & 0xFF);
        }
        return v;
    }

    @Override
    public String toString() {
        return "EgressPolicy(" + rules.length + " rules, default " + (defaultAllow ? "allow" : "deny") + ")";
    }

    /** Builds an {@link EgressPolicy}; rules are tried in the order they are added. */
    public static final class Builder {
        private final List<Rule> rules = new ArrayList<>();
        private boolean defaultAllow = true;

        private Builder() {
        }

        /** Allows {@code cidr} (such as {@code 198.51.100.0/24}, {@code 2001:db8::/32}), every port. */
        public Builder allow(String cidr) {
            return rule(true, cidr, 0, 65535);
        }

        /** Allows {@code cidr}, ports {@code lowPort} to {@code highPort}. */
        public Builder allow(String cidr, int lowPort, int highPort) {
            return rule(true, cidr, lowPort, highPort);
        }

        /** Denies {@code cidr}, every port. */
        public Builder deny(String cidr) {
            return rule(false, cidr, 0, 65535);
        }

        /** Denies {@code cidr}, ports {@code lowPort} to {@code highPort}. */
        public Builder deny(String cidr, int lowPort, int highPort) {
            return rule(false, cidr, lowPort, highPort);
        }

        /** What a destination no rule matches gets (default: allowed). */
        public Builder defaultAllow(boolean allow) {
            this.defaultAllow = allow;
            return this;
        }

        private Builder rule(boolean allow, String cidr, int lowPort, int highPort) {
            Objects.requireNonNull(cidr, "cidr");
            if (lowPort < 0 || highPort > 65535 || lowPort > highPort) {
                throw new IllegalArgumentException("ports " + lowPort + ".." + highPort);
            }
            int slash = cidr.indexOf('/');
            String addr = slash < 0 ? cidr : cidr.substring(0, slash);
            byte[] literal = io.netty.util.NetUtil.createByteArrayFromIpAddressString(addr); // no name look-ups
            if (literal == null) {
                throw new IllegalArgumentException("not an address literal: " + cidr);
            }
            InetAddress a;
            try {
                a = InetAddress.getByAddress(literal);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an address: " + cidr, e);
            }
            boolean v6 = !(a instanceof Inet4Address);
            int max = v6 ? 128 : 32;
            int prefix = slash < 0 ? max : Integer.parseInt(cidr.substring(slash + 1));
            if (prefix < 0 || prefix > max) {
                throw new IllegalArgumentException("prefix length out of range: " + cidr);
            }
            byte[] b = a.getAddress();
            long hi = v6 ? word(b, 0) : 0;
            long lo = v6 ? word(b, 8)
                    : (((b[0] & 0xFFL) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF));
            rules.add(new Rule(allow, v6, hi, lo, prefix, lowPort, highPort));
            return this;
        }

        public EgressPolicy build() {
            return new EgressPolicy(this);
        }
    }
}

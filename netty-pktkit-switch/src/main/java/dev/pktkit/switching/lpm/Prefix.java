package dev.pktkit.switching.lpm;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;

/**
 * An IPv4 or IPv6 prefix (network address and prefix length), always normalised: host bits are zero.
 *
 * <p>IPv4 addresses are {@code int}s in network order value ({@code 10.0.0.1 == 0x0A000001}); IPv6 addresses are
 * two {@code long}s, {@link #hi()} holding bytes 0-7 and {@link #lo()} bytes 8-15, big-endian. Instances are
 * immutable, usable as map keys, and ordered IPv4 first, then by address (unsigned), then by length. This class is
 * for configuration, display and tests; the route tables' lookup paths never allocate one.
 */
public final class Prefix implements Comparable<Prefix> {
    private final boolean ipv6;
    private final long hi;
    private final long lo;
    private final int length;

    private Prefix(boolean ipv6, long hi, long lo, int length) {
        this.ipv6 = ipv6;
        this.hi = hi;
        this.lo = lo;
        this.length = length;
    }

    /**
     * An IPv4 prefix; host bits of {@code address} beyond {@code length} are cleared.
     *
     * @throws IllegalArgumentException if {@code length} is not in 0..32
     */
    public static Prefix ipv4(int address, int length) {
        checkLength(length, 32);
        return new Prefix(false, 0, (address & Ip4.mask(length)) & 0xFFFF_FFFFL, length);
    }

    /**
     * An IPv6 prefix; host bits of ({@code hi}, {@code lo}) beyond {@code length} are cleared.
     *
     * @throws IllegalArgumentException if {@code length} is not in 0..128
     */
    public static Prefix ipv6(long hi, long lo, int length) {
        checkLength(length, 128);
        return new Prefix(true, hi & Ip6.maskHi(length), lo & Ip6.maskLo(length), length);
    }

    /** The prefix of the same family and address with {@code length} bits (host bits cleared). */
    Prefix withLength(int length) {
        return ipv6 ? ipv6(hi, lo, length) : ipv4((int) lo, length);
    }

    /**
     * Parses {@code "10.0.0.0/8"}, {@code "2001:db8::/32"}, or a bare address (a host prefix, /32 or /128).
     * IPv6 accepts {@code ::} compression and a dotted IPv4 tail ({@code ::ffff:192.0.2.1}); zone ids are not
     * accepted. Host bits are cleared, so {@code "10.1.2.3/8"} gives {@code 10.0.0.0/8}.
     *
     * @throws IllegalArgumentException on malformed text, with the text in the message
     */
    public static Prefix parse(String text) {
        int slash = text.indexOf('/');
        String address = slash < 0 ? text : text.substring(0, slash);
        boolean v6 = address.indexOf(':') >= 0;
        int max = v6 ? 128 : 32;
        int length = max;
        if (slash >= 0) {
            length = parseDecimal(text, slash + 1, text.length(), max);
            if (length < 0) {
                throw new IllegalArgumentException("bad prefix length in \"" + text + "\"");
            }
        }
        try {
            if (v6) {
                return ipv6(Ip6.parseHi(address), Ip6.parseLo(address), length);
            }
            return ipv4(Ip4.parse(address), length);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad IP" + (v6 ? "v6" : "v4") + " address in \"" + text + "\"", e);
        }
    }

    /** True for an IPv6 prefix, false for IPv4. */
    public boolean isIpv6() {
        return ipv6;
    }

    /** The prefix length: 0..32 for IPv4, 0..128 for IPv6. */
    public int length() {
        return length;
    }

    /**
     * The IPv4 network address (host bits zero).
     *
     * @throws IllegalStateException for an IPv6 prefix
     */
    public int ipv4Address() {
        if (ipv6) {
            throw new IllegalStateException("not an IPv4 prefix: " + this);
        }
        return (int) lo;
    }

    /**
     * Bytes 0-7 of the IPv6 network address, big-endian.
     *
     * @throws IllegalStateException for an IPv4 prefix
     */
    public long hi() {
        if (!ipv6) {
            throw new IllegalStateException("not an IPv6 prefix: " + this);
        }
        return hi;
    }

    /**
     * Bytes 8-15 of the IPv6 network address, big-endian.
     *
     * @throws IllegalStateException for an IPv4 prefix
     */
    public long lo() {
        if (!ipv6) {
            throw new IllegalStateException("not an IPv6 prefix: " + this);
        }
        return lo;
    }

    /** Whether this IPv4 prefix contains {@code address}; false for an IPv6 prefix. */
    public boolean contains(int address) {
        return !ipv6 && (address & Ip4.mask(length)) == (int) lo;
    }

    /** Whether this IPv6 prefix contains the address ({@code hi}, {@code lo}); false for an IPv4 prefix. */
    public boolean contains(long hi, long lo) {
        return ipv6 && (hi & Ip6.maskHi(length)) == this.hi && (lo & Ip6.maskLo(length)) == this.lo;
    }

    @Override
    public String toString() {
        return (ipv6 ? Ip6.format(hi, lo) : Ip4.format((int) lo)) + "/" + length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prefix p && p.ipv6 == ipv6 && p.hi == hi && p.lo == lo && p.length == length;
    }

    @Override
    public int hashCode() {
        long h = (hi * 0x9E37_79B9_7F4A_7C15L) ^ lo ^ ((long) length << 56) ^ (ipv6 ? 0x5555L : 0);
        h *= 0xC2B2_AE3D_27D4_EB4FL;
        return (int) (h ^ (h >>> 32));
    }

    @Override
    public int compareTo(Prefix o) {
        if (ipv6 != o.ipv6) {
            return ipv6 ? 1 : -1;
        }
        int c = Long.compareUnsigned(hi, o.hi);
        if (c == 0) {
            c = Long.compareUnsigned(lo, o.lo);
        }
        return c != 0 ? c : Integer.compare(length, o.length);
    }

    private static void checkLength(int length, int max) {
        if (length < 0 || length > max) {
            throw new IllegalArgumentException("prefix length " + length + " not in 0.." + max);
        }
    }

    /** A decimal number in s[from, to) no larger than max, or -1. At most 3 digits. */
    private static int parseDecimal(String s, int from, int to, int max) {
        if (to <= from || to - from > 3) {
            return -1;
        }
        int v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v <= max ? v : -1;
    }

}

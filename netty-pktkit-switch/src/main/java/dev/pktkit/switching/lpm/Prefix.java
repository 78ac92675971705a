package dev.pktkit.switching.lpm;

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
        return new Prefix(false, 0, (address & ipv4Mask(length)) & 0xFFFF_FFFFL, length);
    }

    /**
     * An IPv6 prefix; host bits of ({@code hi}, {@code lo}) beyond {@code length} are cleared.
     *
     * @throws IllegalArgumentException if {@code length} is not in 0..128
     */
    public static Prefix ipv6(long hi, long lo, int length) {
        checkLength(length, 128);
        return new Prefix(true, hi & maskHi(length), lo & maskLo(length), length);
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
        if (v6) {
            long[] hl = new long[2];
            if (!parseIpv6(address, hl)) {
                throw new IllegalArgumentException("bad IPv6 address in \"" + text + "\"");
            }
            return ipv6(hl[0], hl[1], length);
        }
        long a = parseIpv4(address, 0, address.length());
        if (a < 0) {
            throw new IllegalArgumentException("bad IPv4 address in \"" + text + "\"");
        }
        return ipv4((int) a, length);
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
        return !ipv6 && (address & ipv4Mask(length)) == (int) lo;
    }

    /** Whether this IPv6 prefix contains the address ({@code hi}, {@code lo}); false for an IPv4 prefix. */
    public boolean contains(long hi, long lo) {
        return ipv6 && (hi & maskHi(length)) == this.hi && (lo & maskLo(length)) == this.lo;
    }

    /** The netmask of an IPv4 prefix length (0 for /0, -1 for /32). */
    public static int ipv4Mask(int length) {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    /** The high 64 bits of the netmask of an IPv6 prefix length 0..128. */
    public static long maskHi(int length) {
        return length == 0 ? 0L : length >= 64 ? -1L : -1L << (64 - length);
    }

    /** The low 64 bits of the netmask of an IPv6 prefix length 0..128. */
    public static long maskLo(int length) {
        return length <= 64 ? 0L : -1L << (128 - length);
    }

    /**
     * Parses a dotted-quad IPv4 address ({@code "192.0.2.1"}) to its int value.
     *
     * @throws IllegalArgumentException on malformed text
     */
    public static int parseIpv4Address(String text) {
        long a = parseIpv4(text, 0, text.length());
        if (a < 0) {
            throw new IllegalArgumentException("bad IPv4 address \"" + text + "\"");
        }
        return (int) a;
    }

    /** Formats an IPv4 address as a dotted quad. */
    public static String formatIpv4(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "."
                + (address & 0xFF);
    }

    /** Formats an IPv6 address in RFC 5952 form (lower case, longest run of two or more zero groups as ::). */
    public static String formatIpv6(long hi, long lo) {
        int[] g = new int[8];
        for (int i = 0; i < 4; i++) {
            g[i] = (int) (hi >>> (48 - 16 * i)) & 0xFFFF;
            g[i + 4] = (int) (lo >>> (48 - 16 * i)) & 0xFFFF;
        }
        int bestStart = -1;
        int bestLen = 1; // a single zero group is not compressed
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return (ipv6 ? formatIpv6(hi, lo) : formatIpv4((int) lo)) + "/" + length;
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

    /** The dotted-quad address in s[from, to) as an unsigned value, or -1. */
    private static long parseIpv4(String s, int from, int to) {
        long a = 0;
        int start = from;
        for (int part = 0; part < 4; part++) {
            int end = start;
            while (end < to && s.charAt(end) != '.') {
                end++;
            }
            if ((part < 3) == (end >= to)) {
                return -1; // too few or too many parts
            }
            int octet = parseDecimal(s, start, end, 255);
            if (octet < 0) {
                return -1;
            }
            a = (a << 8) | octet;
            start = end + 1;
        }
        return a;
    }

    /** Parses IPv6 text into out[0] (hi) and out[1] (lo); false if malformed. */
    private static boolean parseIpv6(String s, long[] out) {
        int[] groups = new int[8];
        int n = 0;          // groups written
        int gap = -1;       // index in groups where "::" stands
        int len = s.length();
        int i = 0;
        if (s.startsWith("::")) {
            gap = 0;
            i = 2;
            if (i == len) {
                out[0] = 0;
                out[1] = 0;
                return true;
            }
        } else if (s.startsWith(":")) {
            return false;
        }
        while (i < len) {
            int end = i;
            while (end < len && s.charAt(end) != ':') {
                end++;
            }
            if (end == i) {
                return false; // empty group: ":::" or a misplaced "::"
            }
            if (end == len && s.indexOf('.', i) >= 0) {
                long v4 = parseIpv4(s, i, end);
                if (v4 < 0 || n > 6) {
                    return false;
                }
                groups[n++] = (int) (v4 >>> 16);
                groups[n++] = (int) v4 & 0xFFFF;
                i = end;
                break;
            }
            if (end - i > 4 || n == 8) {
                return false;
            }
            int g = 0;
            for (int k = i; k < end; k++) {
                int d = Character.digit(s.charAt(k), 16);
                if (d < 0) {
                    return false;
                }
                g = (g << 4) | d;
            }
            groups[n++] = g;
            if (end == len) {
                i = end;
                break;
            }
            // end points at ':'
            if (end + 1 < len && s.charAt(end + 1) == ':') {
                if (gap >= 0) {
                    return false; // second "::"
                }
                gap = n;
                i = end + 2;
            } else if (end + 1 == len) {
                return false; // trailing single ':'
            } else {
                i = end + 1;
            }
        }
        if (gap < 0 ? n != 8 : n > 7) {
            return false;
        }
        int[] full = new int[8];
        if (gap < 0) {
            full = groups;
        } else {
            System.arraycopy(groups, 0, full, 0, gap);
            int tail = n - gap;
            System.arraycopy(groups, gap, full, 8 - tail, tail);
        }
        long hi = 0;
        long lo = 0;
        for (int k = 0; k < 4; k++) {
            hi = (hi << 16) | full[k];
            lo = (lo << 16) | full[k + 4];
        }
        out[0] = hi;
        out[1] = lo;
        return true;
    }
}

package dev.pktkit.nat.nat64;

import dev.pktkit.codec.wire.Ip6;

/**
 * An RFC 6052 IPv4-embedded IPv6 prefix: /32, /40, /48, /56, /64 or /96; bits 64–71 (the "u" octet) stay zero.
 * {@link #WELL_KNOWN} is {@code 64:ff9b::/96}. Immutable; {@link #extract} and {@link #embedHi}/{@link #embedLo}
 * allocate nothing.
 */
public final class Nat64Prefix {
    /** The well-known prefix {@code 64:ff9b::/96} (RFC 6052 §2.1). */
    public static final Nat64Prefix WELL_KNOWN = parse("64:ff9b::/96");

    private final long hi;
    private final long lo;
    private final int length;

    private Nat64Prefix(long hi, long lo, int length) {
        this.hi = hi;
        this.lo = lo;
        this.length = length;
    }

    /** Parses {@code "addr/len"}. @throws IllegalArgumentException for a length RFC 6052 does not allow */
    public static Nat64Prefix parse(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("prefix without length: " + cidr);
        }
        int len = Integer.parseInt(cidr.substring(slash + 1));
        if (len != 32 && len != 40 && len != 48 && len != 56 && len != 64 && len != 96) {
            throw new IllegalArgumentException("RFC 6052 prefix lengths are 32, 40, 48, 56, 64, 96: " + cidr);
        }
        String a = cidr.substring(0, slash);
        long h = Ip6.parseHi(a) & Ip6.maskHi(len);
        long l = Ip6.parseLo(a) & Ip6.maskLo(len);
        return new Nat64Prefix(h, l, len);
    }

    public int length() {
        return length;
    }

    /** Whether the IPv6 address is in this prefix. */
    public boolean contains(long aHi, long aLo) {
        return (aHi & Ip6.maskHi(length)) == hi && (aLo & Ip6.maskLo(length)) == lo;
    }

    /** The IPv4 address embedded in an address of this prefix. */
    public int extract(long aHi, long aLo) {
        if (length == 96) {
            return (int) aLo;
        }
        byte[] b = new byte[16];
        bytes(aHi, aLo, b);
        int v = 0;
        int at = length / 8;
        for (int i = 0; i < 4; i++, at++) {
            if (at == 8) {
                at++;
            }
            v = (v << 8) | (b[at] & 0xFF);
        }
        return v;
    }

    /** High 64 bits of the IPv6 address embedding {@code v4}. */
    public long embedHi(int v4) {
        return length == 96 ? hi : embed(v4, true);
    }

    /** Low 64 bits of the IPv6 address embedding {@code v4}. */
    public long embedLo(int v4) {
        return length == 96 ? lo | (v4 & 0xFFFF_FFFFL) : embed(v4, false);
    }

    private long embed(int v4, boolean high) {
        byte[] b = new byte[16];
        bytes(hi, lo, b);
        int at = length / 8;
        for (int i = 0; i < 4; i++, at++) {
            if (at == 8) {
                at++;
            }
            b[at] = (byte) (v4 >>> (24 - 8 * i));
        }
        long r = 0;
        for (int i = high ? 0 : 8, n = i + 8; i < n; i++) {
            r = (r << 8) | (b[i] & 0xFF);
        }
        return r;
    }

    private static void bytes(long h, long l, byte[] b) {
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (h >>> (56 - 8 * i));
            b[8 + i] = (byte) (l >>> (56 - 8 * i));
        }
    }

    @Override
    public String toString() {
        return Ip6.format(hi, lo) + "/" + length;
    }
}

package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.util.NetUtil;

import java.net.Inet6Address;
import java.net.UnknownHostException;

/**
 * IPv6 address helpers over the two-{@code long} form used on the data path: {@code hi} holds octets 0-7 and
 * {@code lo} octets 8-15, each big-endian ({@code 2001:db8::1} is {@code hi = 0x2001_0DB8_0000_0000L},
 * {@code lo = 1}). Views that read an address from a short buffer return 0 for both halves ({@code ::});
 * callers validate the header first.
 */
public final class Ip6 {
    private Ip6() {
    }

    /** Length of an address in octets. */
    public static final int LENGTH = 16;

    /** {@code ff02::1} (all nodes, link scope): high half. */
    public static final long ALL_NODES_HI = 0xFF02_0000_0000_0000L;
    /** {@code ff02::1} (all nodes, link scope): low half. */
    public static final long ALL_NODES_LO = 1L;
    /** {@code ff02::2} (all routers, link scope): high half. */
    public static final long ALL_ROUTERS_HI = 0xFF02_0000_0000_0000L;
    /** {@code ff02::2} (all routers, link scope): low half. */
    public static final long ALL_ROUTERS_LO = 2L;
    /** {@code fe80::/64}: high half of every link-local address. */
    public static final long LINK_LOCAL_PREFIX_HI = 0xFE80_0000_0000_0000L;
    /** {@code ff02::1:ff00:0/104}: high half of every solicited-node multicast address. */
    public static final long SOLICITED_NODE_HI = 0xFF02_0000_0000_0000L;

    /** Octets 0-7 of {@code address} as a big-endian {@code long}. */
    public static long hi(Inet6Address address) {
        return bytesToLong(address.getAddress(), 0);
    }

    /** Octets 8-15 of {@code address} as a big-endian {@code long}. */
    public static long lo(Inet6Address address) {
        return bytesToLong(address.getAddress(), 8);
    }

    /** An {@link Inet6Address} for {@code (hi, lo)} without scope (no name lookup). */
    public static Inet6Address toInet(long hi, long lo) {
        try {
            return Inet6Address.getByAddress(null, toBytes(hi, lo), -1);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // cannot happen: the length is 16
        }
    }

    /** The 16 octets of {@code (hi, lo)}. */
    public static byte[] toBytes(long hi, long lo) {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (hi >>> (56 - 8 * i));
            b[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        return b;
    }

    private static long bytesToLong(byte[] b, int from) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[from + i] & 0xFF);
        }
        return v;
    }

    /**
     * RFC 5952 text: lower-case hexadecimal, leading zeros dropped, the longest run of two or more zero groups
     * (the first of equal runs) written as {@code ::} ({@link NetUtil#bytesToIpAddress}). Addresses are always
     * written in hexadecimal groups.
     */
    public static String format(long hi, long lo) {
        return NetUtil.bytesToIpAddress(toBytes(hi, lo));
    }

    /**
     * Parses RFC 4291 §2.2 text ({@code "2001:db8::1"}, {@code "::ffff:192.0.2.1"}, {@code "64:ff9b::192.0.2.33"})
     * into 16 octets with Netty's {@link NetUtil#isValidIpV6Address} grammar. An embedded IPv4 part is allowed in
     * the last 32 bits of any address (form 3 of §2.2, which RFC 6052's NAT64 prefixes use), with no leading zeros
     * (see {@link Ip4#parse}); no zone index and no brackets (the two-{@code long} form has no scope), no host
     * names. This is the one IPv6 text parser of the project.
     *
     * @throws IllegalArgumentException if {@code text} is not an IPv6 address literal
     */
    public static byte[] parseBytes(String text) {
        String hex = text;
        if (text.indexOf('.') >= 0) {
            // Netty accepts embedded IPv4 only after "::" or "::ffff:"; rewrite it as two hex groups instead
            int v4 = text.lastIndexOf(':') + 1;
            if (v4 == 0) {
                throw bad(text);
            }
            int ip;
            try {
                ip = Ip4.parse(text.substring(v4));
            } catch (IllegalArgumentException e) {
                throw bad(text);
            }
            hex = text.substring(0, v4) + Integer.toHexString(ip >>> 16) + ':' + Integer.toHexString(ip & 0xFFFF);
        }
        if (hex.indexOf('%') >= 0 || hex.indexOf('[') >= 0 || !NetUtil.isValidIpV6Address(hex)) {
            throw bad(text);
        }
        Inet6Address a = NetUtil.getByName(hex, false);
        if (a == null) {
            throw bad(text);
        }
        return a.getAddress();
    }

    private static IllegalArgumentException bad(String text) {
        return new IllegalArgumentException("not an IPv6 address: " + text);
    }

    /** The high half of {@link #parseBytes parsed} text. */
    public static long parseHi(String text) {
        return bytesToLong(parseBytes(text), 0);
    }

    /** The low half of {@link #parseBytes parsed} text. */
    public static long parseLo(String text) {
        return bytesToLong(parseBytes(text), 8);
    }

    /** Whether the address is in {@code ff00::/8}; needs only the high half. */
    public static boolean isMulticast(long hi) {
        return (hi >>> 56) == 0xFF;
    }

    /** Whether the address is in {@code fe80::/10}; needs only the high half. */
    public static boolean isLinkLocal(long hi) {
        return (hi >>> 54) == (0xFE80L >>> 6);
    }

    /** Whether the address is {@code ::}. */
    public static boolean isUnspecified(long hi, long lo) {
        return hi == 0 && lo == 0;
    }

    /** Whether the address is {@code ::1}. */
    public static boolean isLoopback(long hi, long lo) {
        return hi == 0 && lo == 1;
    }

    /** Whether the address is in {@code ff02::1:ff00:0/104}. */
    public static boolean isSolicitedNode(long hi, long lo) {
        return hi == SOLICITED_NODE_HI && (lo & 0xFFFF_FFFF_FF00_0000L) == 0x0000_0001_FF00_0000L;
    }

    /** High half of the solicited-node multicast address of any unicast address (RFC 4291 §2.7.1). */
    public static long solicitedNodeHi() {
        return SOLICITED_NODE_HI;
    }

    /** Low half of the solicited-node multicast address of an address whose low half is {@code lo}. */
    public static long solicitedNodeLo(long lo) {
        return 0x0000_0001_FF00_0000L | (lo & 0xFF_FFFFL);
    }

    /**
     * Low half of the link-local address ({@code fe80::/64}, high half {@link #LINK_LOCAL_PREFIX_HI}) whose
     * interface identifier is the modified EUI-64 of {@code mac} (RFC 4291 appendix A).
     */
    public static long linkLocalLoFromMac(long mac) {
        long oui = (mac >>> 24) & 0xFF_FFFF;
        long nic = mac & 0xFF_FFFF;
        return ((oui ^ 0x02_0000L) << 40) | (0xFFFEL << 24) | nic;
    }

    /**
     * The high 64 bits of the netmask for {@code prefixLength}.
     *
     * @throws IllegalArgumentException if {@code prefixLength} is not in 0..128
     */
    public static long maskHi(int prefixLength) {
        checkPrefix(prefixLength);
        if (prefixLength >= 64) {
            return -1L;
        }
        return prefixLength == 0 ? 0L : -1L << (64 - prefixLength);
    }

    /**
     * The low 64 bits of the netmask for {@code prefixLength}.
     *
     * @throws IllegalArgumentException if {@code prefixLength} is not in 0..128
     */
    public static long maskLo(int prefixLength) {
        checkPrefix(prefixLength);
        if (prefixLength <= 64) {
            return 0L;
        }
        return -1L << (128 - prefixLength);
    }

    private static void checkPrefix(int prefixLength) {
        if (prefixLength < 0 || prefixLength > 128) {
            throw new IllegalArgumentException("prefix length " + prefixLength);
        }
    }

    /** Whether {@code (hi, lo)} lies in {@code (netHi, netLo)/prefixLength}. */
    public static boolean inSubnet(long hi, long lo, long netHi, long netLo, int prefixLength) {
        long mh = maskHi(prefixLength);
        long ml = maskLo(prefixLength);
        return ((hi ^ netHi) & mh) == 0 && ((lo ^ netLo) & ml) == 0;
    }

    /** Reads octets 0-7 of an address at absolute index {@code off}; 0 if the 16 octets are not all readable. */
    public static long readHi(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 16) ? buf.getLong(off) : 0L;
    }

    /** Reads octets 8-15 of an address at absolute index {@code off}; 0 if the 16 octets are not all readable. */
    public static long readLo(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 16) ? buf.getLong(off + 8) : 0L;
    }

    /** Appends the 16 octets of {@code (hi, lo)} at {@code out.writerIndex()}. */
    public static void write(ByteBuf out, long hi, long lo) {
        out.writeLong(hi);
        out.writeLong(lo);
    }
}

package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

import java.util.concurrent.ThreadLocalRandom;

/**
 * A 48-bit IEEE 802 MAC address: static helpers over the {@code long} form used on the data path, and an
 * immutable value type for configuration and tests.
 *
 * <p>The {@code long} form holds the address in its low 48 bits, first octet most significant:
 * {@code 02:00:00:00:00:01 == 0x0200_0000_0001L}. Negative values are never addresses; views return -1 for
 * "buffer too short".
 */
public final class MacAddress {
    /** {@code ff:ff:ff:ff:ff:ff}. */
    public static final long BROADCAST = 0xFFFF_FFFF_FFFFL;
    /** {@code 00:00:00:00:00:00}, used as "unknown" in ARP requests. */
    public static final long ZERO = 0L;
    /** Length of an address in octets. */
    public static final int LENGTH = 6;

    private static final long MASK = 0xFFFF_FFFF_FFFFL;
    private static final long GROUP_BIT = 0x0100_0000_0000L;
    private static final long LOCAL_BIT = 0x0200_0000_0000L;

    private final long value;

    private MacAddress(long value) {
        this.value = value;
    }

    /** The value object for {@code mac}; only the low 48 bits are kept. */
    public static MacAddress of(long mac) {
        return new MacAddress(mac & MASK);
    }

    /** The value object for six octets, first octet first. */
    public static MacAddress of(byte[] octets) {
        return new MacAddress(fromBytes(octets));
    }

    /** The value object for text in {@link #parse} form. */
    public static MacAddress valueOf(String text) {
        return new MacAddress(parse(text));
    }

    /** This address in the {@code long} form. */
    public long toLong() {
        return value;
    }

    /** This address as six new octets. */
    public byte[] toBytes() {
        return toBytes(value);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MacAddress m && m.value == value;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(value);
    }

    /** Lower-case, colon-separated: {@code 02:00:5e:10:00:01}. */
    @Override
    public String toString() {
        return format(value);
    }

    // ---- static helpers over long ----

    /**
     * Parses six hexadecimal octets of one or two digits separated by {@code ':'} or {@code '-'}
     * ({@code "aa:bb:cc:dd:ee:ff"}, {@code "AA-BB-CC-DD-EE-FF"}).
     *
     * @throws IllegalArgumentException if {@code text} is not in that form
     */
    public static long parse(String text) {
        long mac = 0;
        int octets = 0;
        int i = 0;
        int n = text.length();
        char sep = 0;
        while (true) {
            int start = i;
            int v = 0;
            while (i < n && i - start < 2) {
                int d = Character.digit(text.charAt(i), 16);
                if (d < 0) {
                    break;
                }
                v = v * 16 + d;
                i++;
            }
            if (i == start) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            mac = (mac << 8) | v;
            octets++;
            if (octets == 6) {
                break;
            }
            if (i >= n) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            char c = text.charAt(i);
            if ((c != ':' && c != '-') || (sep != 0 && c != sep)) {
                throw new IllegalArgumentException("not a MAC address: " + text);
            }
            sep = c;
            i++;
        }
        if (i != n) {
            throw new IllegalArgumentException("not a MAC address: " + text);
        }
        return mac;
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** Lower-case, colon-separated text of the low 48 bits of {@code mac}. */
    public static String format(long mac) {
        char[] out = new char[17];
        for (int i = 0; i < 6; i++) {
            int b = (int) (mac >>> (40 - 8 * i)) & 0xFF;
            out[i * 3] = HEX[b >>> 4];
            out[i * 3 + 1] = HEX[b & 0xF];
            if (i < 5) {
                out[i * 3 + 2] = ':';
            }
        }
        return new String(out);
    }

    /** Whether the group (I/G) bit is set: multicast, including broadcast. */
    public static boolean isMulticast(long mac) {
        return (mac & GROUP_BIT) != 0;
    }

    /** Whether {@code mac} is {@code ff:ff:ff:ff:ff:ff}. */
    public static boolean isBroadcast(long mac) {
        return (mac & MASK) == BROADCAST;
    }

    /** Whether the group bit is clear. */
    public static boolean isUnicast(long mac) {
        return (mac & GROUP_BIT) == 0;
    }

    /** Whether the locally administered (U/L) bit is set. */
    public static boolean isLocallyAdministered(long mac) {
        return (mac & LOCAL_BIT) != 0;
    }

    /** A random unicast, locally administered address (first octet {@code x2}, {@code x6}, {@code xa}, {@code xe}). */
    public static long randomLocallyAdministered() {
        long r = ThreadLocalRandom.current().nextLong() & MASK;
        return (r | LOCAL_BIT) & ~GROUP_BIT;
    }

    /** The Ethernet group address for an IPv4 multicast group (RFC 1112 §6.4): 01:00:5e + low 23 bits. */
    public static long ofIpv4Multicast(int group) {
        return 0x0100_5E00_0000L | (group & 0x7F_FFFF);
    }

    /** The Ethernet group address for an IPv6 multicast group (RFC 2464 §7): 33:33 + low 32 bits. */
    public static long ofIpv6Multicast(long groupLo) {
        return 0x3333_0000_0000L | (groupLo & 0xFFFF_FFFFL);
    }

    /** Six octets, first octet first, as a {@code long}. */
    public static long fromBytes(byte[] octets) {
        if (octets.length != 6) {
            throw new IllegalArgumentException("MAC address needs 6 octets, got " + octets.length);
        }
        long mac = 0;
        for (byte b : octets) {
            mac = (mac << 8) | (b & 0xFF);
        }
        return mac;
    }

    /** The low 48 bits of {@code mac} as six new octets. */
    public static byte[] toBytes(long mac) {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (mac >>> (40 - 8 * i));
        }
        return b;
    }

    /**
     * Reads six octets at absolute index {@code off}; -1 if they do not lie within {@code [0, writerIndex)}.
     * Does not move any index.
     */
    public static long read(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, 6)) {
            return -1;
        }
        return ((long) buf.getUnsignedShort(off) << 32) | buf.getUnsignedInt(off + 2);
    }

    /** Appends the six octets of {@code mac} at {@code out.writerIndex()}. */
    public static void write(ByteBuf out, long mac) {
        out.writeShort((int) (mac >>> 32));
        out.writeInt((int) mac);
    }

    /**
     * Overwrites six octets at absolute index {@code off} with {@code mac} (in-place MAC rewrite). The caller must
     * own the bytes exclusively and ensure {@code off + 6 <= capacity}; indices do not move.
     */
    public static void set(ByteBuf buf, int off, long mac) {
        buf.setShort(off, (int) (mac >>> 32));
        buf.setInt(off + 2, (int) mac);
    }
}

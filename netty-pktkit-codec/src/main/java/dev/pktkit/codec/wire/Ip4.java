package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.util.NetUtil;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IPv4 address helpers over the {@code int} form used on the data path: the address as a big-endian value,
 * {@code 10.0.0.1 == 0x0A000001}. Every value of an {@code int} is an address, so views that read an address
 * from a short buffer return 0 ({@code 0.0.0.0}): callers validate the header first.
 */
public final class Ip4 {
    private Ip4() {
    }

    /** {@code 0.0.0.0}. */
    public static final int ANY = 0;
    /** {@code 255.255.255.255}, the limited broadcast address. */
    public static final int BROADCAST = 0xFFFF_FFFF;
    /** {@code 127.0.0.1}. */
    public static final int LOOPBACK = 0x7F00_0001;
    /** Length of an address in octets. */
    public static final int LENGTH = 4;

    /**
     * Parses dotted-quad text ({@code "192.0.2.1"}) with Netty's {@link NetUtil#isValidIpV4Address} grammar
     * (exactly four decimal parts 0..255, no host names: nothing is ever looked up), and no leading zeros in a
     * part: {@code inet_aton} reads {@code "010"} as octal 8 where Netty reads 10, so such text would name
     * different hosts to different tools. This is the one IPv4 text parser of the project.
     *
     * @throws IllegalArgumentException if {@code text} is not in that form
     */
    public static int parse(String text) {
        if (!NetUtil.isValidIpV4Address(text) || hasLeadingZero(text, 0)) {
            throw new IllegalArgumentException("not an IPv4 address: " + text);
        }
        return fromBytes(NetUtil.createByteArrayFromIpAddressString(text), 0);
    }

    /** Whether a dotted-quad part of {@code text} from {@code from} on starts with 0 and has more digits. */
    static boolean hasLeadingZero(String text, int from) {
        for (int i = from; i + 1 < text.length(); i++) {
            if (text.charAt(i) == '0' && (i == from || text.charAt(i - 1) == '.')
                    && Character.isDigit(text.charAt(i + 1))) {
                return true;
            }
        }
        return false;
    }

    /** Dotted-quad text of {@code addr} ({@link NetUtil#intToIpAddress}). */
    public static String format(int addr) {
        return NetUtil.intToIpAddress(addr);
    }

    private static int fromBytes(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
    }

    /** The {@code int} form of {@code address}. */
    public static int of(Inet4Address address) {
        return NetUtil.ipv4AddressToInt(address);
    }

    /** An {@link Inet4Address} for {@code addr} (no name lookup). */
    public static Inet4Address toInet(int addr) {
        byte[] b = {(byte) (addr >>> 24), (byte) (addr >>> 16), (byte) (addr >>> 8), (byte) addr};
        try {
            return (Inet4Address) InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // cannot happen: the length is 4
        }
    }

    /**
     * The netmask for a prefix length: {@code mask(24) == 0xFFFFFF00}, {@code mask(0) == 0}.
     *
     * @throws IllegalArgumentException if {@code prefixLength} is not in 0..32
     */
    public static int mask(int prefixLength) {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLength);
        }
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    /** Whether {@code addr} lies in {@code network/prefixLength}. */
    public static boolean inSubnet(int addr, int network, int prefixLength) {
        int m = mask(prefixLength);
        return (addr & m) == (network & m);
    }

    /** Whether {@code addr} is in 224.0.0.0/4. */
    public static boolean isMulticast(int addr) {
        return (addr & 0xF000_0000) == 0xE000_0000;
    }

    /** Whether {@code addr} is the limited broadcast address 255.255.255.255. */
    public static boolean isBroadcast(int addr) {
        return addr == BROADCAST;
    }

    /**
     * Whether {@code addr} is the limited broadcast address or the directed broadcast address of
     * {@code network/prefixLength} (all host bits set; prefixes /31 and /32 have none, RFC 3021).
     */
    public static boolean isBroadcast(int addr, int network, int prefixLength) {
        if (addr == BROADCAST) {
            return true;
        }
        if (prefixLength >= 31) {
            return false;
        }
        int m = mask(prefixLength);
        return (addr & m) == (network & m) && (addr | m) == -1;
    }

    /** Whether {@code addr} is in 127.0.0.0/8. */
    public static boolean isLoopback(int addr) {
        return (addr >>> 24) == 127;
    }

    /** Whether {@code addr} is in 169.254.0.0/16. */
    public static boolean isLinkLocal(int addr) {
        return (addr >>> 16) == 0xA9FE;
    }

    /** Whether {@code addr} is 0.0.0.0. */
    public static boolean isUnspecified(int addr) {
        return addr == 0;
    }

    /** Reads four octets at absolute index {@code off}; 0 if they do not lie within {@code [0, writerIndex)}. */
    public static int read(ByteBuf buf, int off) {
        return Bounds.has(buf, off, 4) ? buf.getInt(off) : 0;
    }

    /** Appends the four octets of {@code addr} at {@code out.writerIndex()}. */
    public static void write(ByteBuf out, int addr) {
        out.writeInt(addr);
    }
}

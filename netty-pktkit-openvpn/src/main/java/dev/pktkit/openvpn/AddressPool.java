package dev.pktkit.openvpn;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.BitSet;

/**
 * The IPv4 pool of {@code server NETWORK NETMASK} with {@code topology subnet}: the server takes the first host
 * address, clients get the following ones up to the last before broadcast. Bounded by the subnet (and at most
 * 65534 addresses). Not thread-safe: used on the server's event loop.
 */
public final class AddressPool {
    private final int network;
    private final int prefixLength;
    private final int size;
    private final BitSet used;
    private int next;

    /** @param prefixLength 16..30 */
    public AddressPool(Inet4Address network, int prefixLength) {
        if (prefixLength < 16 || prefixLength > 30) {
            throw new IllegalArgumentException("pool prefix /" + prefixLength + " must be /16../30");
        }
        int mask = -1 << (32 - prefixLength);
        this.network = toInt(network) & mask;
        this.prefixLength = prefixLength;
        this.size = (1 << (32 - prefixLength)) - 3; // network, server, broadcast excluded
        this.used = new BitSet(size);
    }

    /** Parses {@code "10.8.0.0 255.255.255.0"} (OpenVPN's {@code server} directive arguments). */
    public static AddressPool parse(String networkAndMask) {
        String[] p = networkAndMask.trim().split("\\s+");
        if (p.length != 2) {
            throw new IllegalArgumentException("expected 'NETWORK NETMASK': " + networkAndMask);
        }
        int mask = toInt(v4(p[1]));
        int len = Integer.bitCount(mask);
        if (mask != (len == 0 ? 0 : -1 << (32 - len))) {
            throw new IllegalArgumentException("not a contiguous netmask: " + p[1]);
        }
        return new AddressPool(v4(p[0]), len);
    }

    static Inet4Address v4(String s) {
        if (!s.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("not an IPv4 address: " + s); // checked first: never a name lookup
        }
        try {
            InetAddress a = InetAddress.getByName(s);
            if (a instanceof Inet4Address v4) {
                return v4;
            }
        } catch (UnknownHostException e) {
            // fall through
        }
        throw new IllegalArgumentException("not an IPv4 address: " + s);
    }

    public int prefixLength() {
        return prefixLength;
    }

    /** The server's own address in the subnet (the first host address). */
    public Inet4Address serverAddress() {
        return fromInt(network + 1);
    }

    public Inet4Address netmask() {
        return fromInt(-1 << (32 - prefixLength));
    }

    /** Addresses clients can get. */
    public int capacity() {
        return size;
    }

    /** Takes a free address, or null when the pool is exhausted. */
    public Inet4Address allocate() {
        int i = used.nextClearBit(next);
        if (i >= size) {
            i = used.nextClearBit(0);
            if (i >= size) {
                return null;
            }
        }
        used.set(i);
        next = i + 1;
        return fromInt(network + 2 + i);
    }

    /** Returns an address taken by {@link #allocate()}. */
    public void release(Inet4Address a) {
        int i = toInt(a) - network - 2;
        if (i >= 0 && i < size) {
            used.clear(i);
        }
    }

    public int inUse() {
        return used.cardinality();
    }

    static int toInt(Inet4Address a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    static Inet4Address fromInt(int v) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16),
                    (byte) (v >>> 8), (byte) v});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}

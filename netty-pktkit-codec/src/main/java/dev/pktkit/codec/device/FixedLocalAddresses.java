package dev.pktkit.codec.device;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;

/** An immutable {@link LocalAddresses}: a few arrays searched linearly (hosts have a handful of addresses). */
final class FixedLocalAddresses implements LocalAddresses {
    private final int[] v4;
    private final long[] v6; // hi, lo pairs

    private FixedLocalAddresses(int[] v4, long[] v6) {
        this.v4 = v4;
        this.v6 = v6;
    }

    static FixedLocalAddresses of(InetAddress... addresses) {
        int[] v4 = new int[addresses.length];
        long[] v6 = new long[addresses.length * 2];
        int n4 = 0;
        int n6 = 0;
        for (InetAddress a : addresses) {
            if (a instanceof Inet4Address a4) {
                v4[n4++] = Ip4.of(a4);
            } else if (a instanceof Inet6Address a6) {
                v6[n6++] = Ip6.hi(a6);
                v6[n6++] = Ip6.lo(a6);
            } else {
                throw new IllegalArgumentException("not an IP address: " + a);
            }
        }
        return new FixedLocalAddresses(Arrays.copyOf(v4, n4), Arrays.copyOf(v6, n6));
    }

    @Override
    public boolean isLocalIpv4(int address) {
        for (int a : v4) {
            if (a == address) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean isLocalIpv6(long hi, long lo) {
        for (int i = 0; i < v6.length; i += 2) {
            if (v6[i] == hi && v6[i + 1] == lo) {
                return true;
            }
        }
        return false;
    }
}

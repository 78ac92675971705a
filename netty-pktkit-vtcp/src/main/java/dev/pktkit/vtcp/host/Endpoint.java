package dev.pktkit.vtcp.host;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.UnresolvedAddressException;

/**
 * An address and port as the port tables compare them: {@code family} 4 or 6, or 0 for the wildcard (which
 * matches both families, as the JDK's dual-stack sockets do). IPv4-mapped IPv6 addresses are taken as IPv4.
 */
record Endpoint(int family, int v4, long hi, long lo, int port) {
    static final Endpoint WILDCARD = new Endpoint(0, 0, 0, 0, 0);

    static Endpoint of(InetSocketAddress a) {
        if (a.isUnresolved()) {
            throw new UnresolvedAddressException();
        }
        return of(a.getAddress(), a.getPort());
    }

    static Endpoint of(InetAddress addr, int port) {
        if (addr == null || addr.isAnyLocalAddress()) {
            return new Endpoint(0, 0, 0, 0, port);
        }
        if (addr instanceof Inet4Address a4) {
            return new Endpoint(4, Ip4.of(a4), 0, 0, port);
        }
        Inet6Address a6 = (Inet6Address) addr;
        long hi = Ip6.hi(a6);
        long lo = Ip6.lo(a6);
        if (hi == 0 && (lo >>> 32) == 0xFFFFL) {
            return new Endpoint(4, (int) lo, 0, 0, port);
        }
        return new Endpoint(6, 0, hi, lo, port);
    }

    Endpoint withPort(int p) {
        return new Endpoint(family, v4, hi, lo, p);
    }

    boolean isWildcard() {
        return family == 0;
    }

    boolean matches4(int addr) {
        return family == 0 || (family == 4 && v4 == addr);
    }

    boolean matches6(long h, long l) {
        return family == 0 || (family == 6 && hi == h && lo == l);
    }

    boolean overlaps(Endpoint o) {
        return family == 0 || o.family == 0 || this.equalsAddress(o);
    }

    boolean equalsAddress(Endpoint o) {
        return family == o.family && v4 == o.v4 && hi == o.hi && lo == o.lo;
    }

    InetSocketAddress toSocketAddress() {
        return switch (family) {
            case 4 -> new InetSocketAddress(Ip4.toInet(v4), port);
            case 6 -> new InetSocketAddress(Ip6.toInet(hi, lo), port);
            default -> new InetSocketAddress(port);
        };
    }

    @Override
    public String toString() {
        return switch (family) {
            case 4 -> Ip4.format(v4) + ":" + port;
            case 6 -> "[" + Ip6.format(hi, lo) + "]:" + port;
            default -> "*:" + port;
        };
    }
}

package dev.pktkit.qemu;

import io.netty.util.internal.ObjectUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/**
 * A socket address as QEMU's netdev options name it: a Unix socket path ({@code addr.type=unix}) or an inet host
 * and port ({@code addr.type=inet}). Independent of the Netty transport: {@link QemuNetdev} turns it into the
 * transport's own address type.
 */
public sealed interface QemuAddress permits QemuAddress.Unix, QemuAddress.Inet {
    /** A Unix socket at {@code path}. */
    static Unix unix(Path path) {
        return new Unix(path);
    }

    /** A Unix socket at {@code path}. */
    static Unix unix(String path) {
        return new Unix(Path.of(path));
    }

    /**
     * An inet address: a literal IPv4/IPv6 address, or a host name, which is resolved (blocking) when a bootstrap
     * or transport address is made from it: prefer literals, and never make one on an event loop from a name.
     */
    static Inet inet(String host, int port) {
        return new Inet(host, port);
    }

    /** The inet address of {@code address} (its literal address if it is resolved). */
    static Inet inet(InetSocketAddress address) {
        InetAddress a = address.getAddress();
        return new Inet(a != null ? a.getHostAddress() : address.getHostString(), address.getPort());
    }

    /**
     * The QEMU address of a transport address: {@link InetSocketAddress}, {@link UnixDomainSocketAddress} (NIO) or
     * Netty's {@code DomainSocketAddress} (epoll, io_uring, kqueue).
     *
     * @throws IllegalArgumentException for any other kind
     */
    static QemuAddress of(SocketAddress address) {
        ObjectUtil.checkNotNull(address, "address");
        if (address instanceof InetSocketAddress inet) {
            return inet(inet);
        }
        if (address instanceof UnixDomainSocketAddress uds) {
            return new Unix(uds.getPath());
        }
        String path = QemuTransports.nettyUnixPath(address);
        if (path != null) {
            return unix(path);
        }
        throw new IllegalArgumentException("not an inet or Unix socket address: " + address + " ("
                + address.getClass().getName() + ")");
    }

    /** A Unix socket path. */
    record Unix(Path path) implements QemuAddress {
        public Unix {
            ObjectUtil.checkNotNull(path, "path");
            if (path.toString().isEmpty()) {
                throw new IllegalArgumentException("empty Unix socket path");
            }
        }

        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    /** An inet host and port; port 0 asks for an ephemeral port when binding. */
    record Inet(String host, int port) implements QemuAddress {
        public Inet {
            ObjectUtil.checkNonEmpty(host, "host");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }

        /** Whether {@link #host} is an IPv6 literal (it contains a colon). */
        public boolean isIpv6Literal() {
            return host.indexOf(':') >= 0;
        }

        /** {@code host:port}, with brackets around an IPv6 literal, as legacy QEMU options and URIs write it. */
        public String hostAndPort() {
            return (isIpv6Literal() ? "[" + host + "]" : host) + ":" + port;
        }

        @Override
        public String toString() {
            return "inet:" + hostAndPort();
        }
    }
}

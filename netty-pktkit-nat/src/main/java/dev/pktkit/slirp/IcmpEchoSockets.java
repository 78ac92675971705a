package dev.pktkit.slirp;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;

/**
 * Where slirp sends guests' ICMP echo requests: host ICMP sockets. The ICMP message (type, code, checksum,
 * identifier, sequence, data) is sent as it came, through a socket of the host; the reply is the host's. Nothing
 * is forged: when no socket can be opened, slirp answers the guest with ICMP administratively prohibited and
 * counts it ({@link SlirpCounters#icmpProhibited()}).
 *
 * <p>{@link #system()} finds {@code dev.pktkit.linux.IcmpSocket} (module {@code netty-pktkit-linux}, Java 22+) on
 * the class path and uses its ICMP datagram sockets ({@code SOCK_DGRAM}, {@code IPPROTO_ICMP}/{@code ICMPV6}),
 * which need the process's group in {@code net.ipv4.ping_group_range}; where that is refused, a raw ICMP socket,
 * which needs {@code CAP_NET_RAW}; without either (or without the module) every open fails and slirp answers
 * administratively prohibited. Looked up by name so that slirp itself stays at Java 21. Why a socket did not open
 * (the module missing, native access refused, {@code EACCES} for the datagram socket, {@code EPERM} for the raw
 * one) is kept in {@link SlirpCounters#icmpOpenFailure()}.
 */
public interface IcmpEchoSockets extends Closeable {
    /** Receives echo replies, on the socket's own reader thread. */
    interface Receiver {
        /** An ICMP message of {@code length} bytes (no IP header) from {@code from}. */
        void onMessage(byte[] message, int length, InetAddress from);
    }

    /** One host ICMP socket. A datagram socket's kernel rewrites the echo identifier to its own. */
    interface Socket extends Closeable {
        /** Sends one ICMP message; must not block (a full socket buffer drops it). */
        void send(byte[] message, int length, InetAddress to) throws IOException;

        /** True when the kernel rewrites the identifier (datagram sockets), false for raw sockets. */
        boolean rewritesIdentifier();
    }

    /** Opens a socket for IPv4 ({@code ipv6} false) or IPv6 echo, whose replies go to {@code receiver}. */
    Socket open(boolean ipv6, Receiver receiver) throws IOException;

    @Override
    default void close() {
    }

    /** Never opens a socket: every echo request is answered with administratively prohibited. */
    static IcmpEchoSockets none() {
        return unavailable("ICMP echo forwarding is off");
    }

    /**
     * Never opens a socket, every open failing with {@code reason} (which {@link SlirpCounters#icmpOpenFailure()}
     * then shows): every echo request is answered with administratively prohibited.
     */
    static IcmpEchoSockets unavailable(String reason) {
        return (ipv6, receiver) -> {
            throw new IOException(reason);
        };
    }

    /** The host's ICMP datagram sockets through {@code netty-pktkit-linux}, or {@link #none()} without it. */
    static IcmpEchoSockets system() {
        return LinuxIcmpSockets.lookup(null, true);
    }

    /**
     * As {@link #system()}, the sockets opened in the network namespace at {@code namespacePath} (such as
     * {@code /run/netns/NAME}): pings then leave from that namespace.
     */
    static IcmpEchoSockets linux(String namespacePath) {
        return LinuxIcmpSockets.lookup(namespacePath, true);
    }

    /**
     * As {@link #linux(String)}; {@code allowRaw} false never opens a raw socket, as a process without
     * {@code CAP_NET_RAW} cannot (echo requests are then answered with administratively prohibited unless the
     * datagram socket opens).
     */
    static IcmpEchoSockets linux(String namespacePath, boolean allowRaw) {
        return LinuxIcmpSockets.lookup(namespacePath, allowRaw);
    }
}

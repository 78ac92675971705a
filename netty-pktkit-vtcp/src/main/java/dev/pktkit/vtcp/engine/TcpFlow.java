package dev.pktkit.vtcp.engine;

/**
 * The addresses and ports of a flow, as primitives: an IPv4 address is an {@code int}, an IPv6 address two
 * {@code long}s (high and low 64 bits), ports are 0..65535. "Local" is this engine's side. Implemented by
 * {@link TcpConnection} and by a reused scratch object for stateless replies (RST, SYN-ACK with a cookie), which
 * is valid only during the call it is passed to.
 */
public interface TcpFlow {
    /** Whether the flow is IPv6. */
    boolean isIpv6();

    /** The local IPv4 address (meaningful when not {@link #isIpv6()}). */
    int localV4();

    /** The remote IPv4 address (meaningful when not {@link #isIpv6()}). */
    int remoteV4();

    /** High 64 bits of the local IPv6 address. */
    long localHi();

    /** Low 64 bits of the local IPv6 address. */
    long localLo();

    /** High 64 bits of the remote IPv6 address. */
    long remoteHi();

    /** Low 64 bits of the remote IPv6 address. */
    long remoteLo();

    int localPort();

    int remotePort();
}

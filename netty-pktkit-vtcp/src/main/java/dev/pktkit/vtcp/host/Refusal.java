package dev.pktkit.vtcp.host;

/** How a deferred TCP connection is refused ({@link VirtualSocketChannel#refuseConnection(Refusal)}). */
public enum Refusal {
    /** Answer the SYN with RST: the peer sees "connection refused". */
    RESET,
    /** Answer with ICMP (v6) destination unreachable, port unreachable. */
    ICMP_UNREACHABLE,
    /** Say nothing: the peer retransmits its SYN and eventually times out. */
    DROP
}

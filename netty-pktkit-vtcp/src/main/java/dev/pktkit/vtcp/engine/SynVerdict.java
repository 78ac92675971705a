package dev.pktkit.vtcp.engine;

/** What a {@link TcpListener} decides for an inbound SYN ({@link TcpListener#onSyn}). */
public enum SynVerdict {
    /** Answer with a SYN-ACK now (or a SYN cookie when the backlog or half-open table is full). */
    ACCEPT,
    /**
     * Keep the SYN without answering until the application decides ({@link TcpListener#onDeferred}): then
     * {@link TcpConnection#acceptDeferred()} sends the SYN-ACK, {@link TcpConnection#refuseDeferred} refuses.
     * Retransmitted SYNs of a deferred flow are absorbed. A deferred entry counts against the listener's backlog
     * and the half-open table; when either is full the SYN is dropped (no cookie: a cookie cannot wait).
     */
    DEFER,
    /** Answer with a RST (the peer sees "connection refused"). */
    REJECT_RST,
    /** Ask the host to answer with ICMP destination unreachable ({@link SegmentSink#sendUnreachable}). */
    REJECT_ICMP,
    /** Drop the SYN silently (the peer retries, then times out). */
    DROP
}

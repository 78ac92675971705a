package dev.pktkit.vtcp.engine;

/**
 * Why the engine dropped an inbound segment (or refused an event), indexing {@link TcpEngine#drops(DropReason)}.
 * A dropped segment is released and counted, never thrown.
 */
public enum DropReason {
    /** Shorter than a TCP header, or the data offset points outside the segment. */
    MALFORMED_HEADER,
    /** An option's length is invalid (RFC 9293 §3.1, MUST-64/68). */
    MALFORMED_OPTION,
    /** Checksum did not verify (RFC 9293 §3.1, MUST-2/3). */
    BAD_CHECKSUM,
    /** Source or destination port 0, or a broadcast/multicast/unspecified address pair. */
    BAD_ADDRESS,
    /** Flag combinations no state accepts (SYN+FIN, SYN+RST, no ACK in a synchronized state, none at all). */
    BAD_FLAGS,
    /** Sequence number outside the receive window (RFC 9293 §3.10.7.4 first check); an ACK was sent. */
    OUT_OF_WINDOW,
    /** ACK of data never sent (RFC 9293 §3.10.7.4 fifth check; RFC 5961 §5.2). */
    ACK_UNSENT,
    /** ACK older than the acceptable range (RFC 5961 §5.2 MAX.SND.WND check). */
    ACK_TOO_OLD,
    /** RST not exactly at RCV.NXT: answered with a challenge ACK (RFC 5961 §3.2). */
    RST_CHALLENGED,
    /** RST outside the window (RFC 5961 §3.2). */
    RST_OUT_OF_WINDOW,
    /** SYN in a synchronized state: answered with a challenge ACK (RFC 5961 §4.2). */
    SYN_CHALLENGED,
    /** Challenge ACK not sent because of the per-second limit (RFC 5961 §7). */
    CHALLENGE_ACK_LIMITED,
    /** Timestamp older than TS.Recent (RFC 7323 §5.3 PAWS). */
    PAWS,
    /** Segment with no connection and no listener (answered with RST unless it was a RST). */
    NO_CONNECTION,
    /** SYN refused because the connection table is full. */
    CONNECTION_LIMIT,
    /** SYN dropped: backlog or half-open table full and no cookie possible (cookies off or deferring listener). */
    SYN_QUEUE_FULL,
    /** The listener's {@link TcpListener#onSyn} said DROP/REJECT, or it threw. */
    LISTENER_REFUSED,
    /** ACK that should complete a SYN cookie handshake but carries no valid cookie. */
    BAD_COOKIE,
    /** Out-of-order data that does not fit the out-of-order bound. */
    OUT_OF_ORDER_FULL,
    /** Data arriving after the application closed the receive side (answered with RST, RFC 9293 §3.6). */
    DATA_AFTER_CLOSE,
    /** Segment for a TIME-WAIT entry that is not a new SYN or a FIN retransmission. */
    TIME_WAIT,
    /** ICMP error that could not be matched to a connection or whose quoted sequence number is not in flight. */
    ICMP_UNMATCHED,
    /** The TIME-WAIT table was full: a connection skipped TIME-WAIT (counted per connection, not per segment). */
    TIME_WAIT_TABLE_FULL,
    /**
     * A segment (or ICMP error) that arrived while the engine was busy (a sink answering synchronously) found the
     * deferred-input queue full ({@link TcpEngineConfig#maxDeferredInputs()}).
     */
    DEFERRED_INPUT_FULL,
    /** Any other segment a state ignores (RFC 9293 §3.10.7: "drop the segment and return"). */
    IGNORED
}

package dev.pktkit.codec.dhcp;

/** Why a {@link DhcpServer} dropped a message addressed to it; counted per reason in {@link DhcpServerCounters}. */
public enum DhcpDropReason {
    /** IPv4 or UDP header invalid: bad lengths, header checksum, fragment. */
    MALFORMED_IP,
    /** UDP checksum wrong. */
    BAD_CHECKSUM,
    /** The BOOTP/DHCP message failed validation (truncated, bad cookie, options running past their area). */
    MALFORMED_DHCP,
    /** Not a BOOTREQUEST (op 1). */
    WRONG_OP,
    /** Hardware type not Ethernet or hardware length not 6. */
    BAD_HARDWARE,
    /** No message type option (53), or a type a server does not receive. */
    BAD_MESSAGE_TYPE,
    /** Relayed (giaddr set) from a relay agent whose giaddr lies in no subnet this server serves. */
    RELAYED,
    /** A REQUEST or DECLINE without the options or addresses its state requires. */
    INCOMPLETE_REQUEST,
    /** No free address in the pool for a DISCOVER (and no pending offer to withdraw). */
    POOL_EXHAUSTED,
    /** The lease table holds {@code maxBindings} bindings, all of them leases. */
    TABLE_FULL,
    /** The client sent more than its per-client rate limit allows. */
    RATE_LIMITED_CLIENT,
    /** The server received more than its global rate limit allows. */
    RATE_LIMITED_GLOBAL,
    /** A reply was not sent: {@code maxQueuedReplies} replies already wait unwritten in the channel. */
    REPLY_QUEUE_FULL
}

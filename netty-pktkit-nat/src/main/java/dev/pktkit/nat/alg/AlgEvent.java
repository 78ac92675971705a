package dev.pktkit.nat.alg;

/** What each ALG counts ({@link Alg#counters()}). */
public enum AlgEvent {
    /** Control flows (sessions) the ALG claimed. */
    FLOWS,
    /** Payload packets it looked at. */
    PACKETS,
    /** Messages it understood (a command, reply or request it acts on). */
    MESSAGES,
    /** Messages rewritten. */
    REWRITTEN,
    /** Related flows announced to the NAT ({@link dev.pktkit.nat.NatEngine#expect}). */
    EXPECTED,
    /** Expectations the NAT refused (bounds), the message passed unchanged. */
    EXPECT_REFUSED,
    /** Messages whose address is not the sender's own (bogus, spoofed or for a third party): passed unchanged. */
    FOREIGN_ADDRESS,
    /** Malformed messages (bad numbers, missing delimiters, over the line bound): passed unchanged. */
    MALFORMED,
    /** Rewrites that did not fit (the packet would grow beyond the bound): passed unchanged. */
    REWRITE_FAILED
}

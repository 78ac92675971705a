package dev.pktkit.nat;

/** What the NAT does with IPv6 packets that are not NAT64-bound. */
public enum Ipv6Policy {
    /** Dropped and counted ({@link NatDropReason#IPV6_DROPPED}). The default. */
    DROP,
    /**
     * Passed unchanged: from an inside port to the outside, and from the outside to the inside port that last sent
     * from the destination address (a bounded, overwriting cache), or to the only inside port when there is one.
     */
    ROUTE
}

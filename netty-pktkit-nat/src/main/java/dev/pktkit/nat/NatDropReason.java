package dev.pktkit.nat;

/** Why the NAT dropped a packet; every drop is counted per reason in {@link NatCounters}. */
public enum NatDropReason {
    /** Not a well-formed IPv4/IPv6 packet (header, lengths, checksum of the IPv4 header, transport header). */
    MALFORMED,
    /** A fragment reached the translator (defragmentation off, or a non-first fragment it could not place). */
    FRAGMENT,
    /** An IPv4 protocol other than TCP, UDP and ICMP without a configured address mapping. */
    UNSUPPORTED_PROTOCOL,
    /** An ICMP type the NAT does not translate (neither echo nor an error it can relate to a session). */
    UNSUPPORTED_ICMP,
    /** IPv6 under {@link Ipv6Policy#DROP}, or routed IPv6 with no known inside port. */
    IPV6_DROPPED,
    /** Inbound to an outside address and port with no mapping. */
    NO_MAPPING,
    /** Inbound refused by the filtering behaviour (no session, no expectation, not a port forward). */
    FILTERED,
    /**
     * Inbound that would open a session on a mapping with remote filters (PCP FILTER, {@link
     * NatEngine#setRemoteFilters}) from a remote none of them matches.
     */
    REMOTE_FILTERED,
    /** Inbound TCP without SYN that matches no session. */
    TCP_NO_SESSION,
    /** An ICMP error whose embedded packet matches no session (RFC 5508 REQ-4). */
    ICMP_NO_SESSION,
    /** New flow refused: the total mapping bound is reached. */
    MAPPINGS_FULL,
    /** New flow refused: the namespace's mapping bound is reached. */
    NAMESPACE_FULL,
    /** New flow refused: the inside host's mapping bound is reached. */
    HOST_FULL,
    /** New flow refused: the session bound (total or per mapping) is reached. */
    SESSIONS_FULL,
    /** New flow refused: no free outside port in the range on the host's outside address. */
    PORTS_EXHAUSTED,
    /** Addressed to the NAT's own inside address and not an echo request. */
    LOCAL,
    /** Destination is multicast or broadcast: a NAT forwards unicast only. */
    NOT_UNICAST,
    /** Inside source address is not a unicast host (0/8, loopback, multicast, broadcast) or is an outside address. */
    BAD_SOURCE,
    /** No outside channel attached, or the target inside port is gone. */
    NO_ROUTE,
    /** The target channel was not writable. */
    CONGESTED,
    /** Larger than the egress MTU with DF set; an ICMP fragmentation-needed went back to the sender. */
    TOO_BIG,
    /** Dropped by the defragmenter (see its own counters for the detail). */
    DEFRAG,
    /** NAT64: the hop limit or TTL would reach zero. */
    HOP_LIMIT,
    /** NAT64: an IPv6 packet with extension headers the translator does not handle, or to an outside address. */
    NAT64_UNSUPPORTED,
    /** Hairpinned traffic between namespaces while that is off. */
    HAIRPIN_REFUSED
}

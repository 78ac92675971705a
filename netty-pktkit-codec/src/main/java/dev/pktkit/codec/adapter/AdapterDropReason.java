package dev.pktkit.codec.adapter;

/** Why an {@link L2Adapter} dropped a frame or a packet; counted per reason in {@link AdapterCounters}. */
public enum AdapterDropReason {
    /** Inbound frame or outbound packet too short or malformed for its headers (bad version, bad lengths). */
    MALFORMED,
    /** Inbound frame addressed to another station or to a multicast group the adapter has not joined. */
    NOT_FOR_US,
    /** Inbound frame with an EtherType the adapter does not carry (not IPv4, ARP or IPv6), or VLAN-tagged. */
    UNSUPPORTED_ETHERTYPE,
    /** Inbound frame whose source MAC is the adapter's own (a loop). */
    LOOPED,
    /** ARP or NDP message that failed validation (lengths, hop limit, checksum, options). */
    BAD_NEIGHBOR_MESSAGE,
    /** DHCP message for the client that failed validation or did not match its transaction. */
    BAD_DHCP,
    /** Outbound packet with no route: not on-link and no gateway (or no address yet). */
    NO_ROUTE,
    /** The neighbour cache is full of entries that are all being resolved. */
    CACHE_FULL,
    /** The pending queue of the next hop, or all pending queues together, reached their bound. */
    PENDING_FULL,
    /** Next-hop resolution failed after all retries; the packet's sender gets ICMP unreachable. */
    UNRESOLVED,
    /** Queued packets dropped because the adapter closed or its address changed. */
    FLUSHED,
    /**
     * A message the adapter originates (ARP/NDP reply or request, DHCP) not sent because the channel was not
     * writable: the adapter bounds what it queues at the write-buffer high water mark.
     */
    CONGESTED
}

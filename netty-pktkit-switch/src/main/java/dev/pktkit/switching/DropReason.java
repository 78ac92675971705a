package dev.pktkit.switching;

/** Why a hub dropped a message; each port counts drops per reason ({@link PortCounters#drops(DropReason)}). */
public enum DropReason {
    /** Not a ByteBuf, or too short / malformed for the hub to read its addresses. */
    MALFORMED,
    /** Ethernet source address is a group address: never learned, never forwarded. */
    BAD_SOURCE,
    /** Tagged with a VLAN the ingress port is not a member of, or untagged on a trunk without a native VLAN. */
    VLAN,
    /** The learned destination is the ingress port itself (filtered, as a switch does). */
    SAME_PORT,
    /** The egress channel was not writable (its outbound buffer is past its high water mark). */
    CONGESTED,
    /** The egress channel was not active. */
    INACTIVE,
    /** No route for the destination address (L3). */
    NO_ROUTE,
    /** TTL or hop limit exhausted (L3 router mode). */
    TTL_EXCEEDED,
    /** The egress write failed. */
    WRITE_FAILED,
    /**
     * Larger than the egress port's MTU ({@link L3PortOptions#mtu}): IPv6, and IPv4 with DF set, answered in
     * router mode with ICMPv6 Packet Too Big / ICMP Fragmentation Needed; IPv4 without DF dropped too (the hub
     * does not fragment).
     */
    PACKET_TOO_BIG
}

package dev.pktkit.vtcp.host;

/** Why a {@link VirtualHost} dropped a packet; each reason has a counter in {@link HostCounters}. */
public enum HostDropReason {
    /** Not a ByteBuf, or an IP header that fails its checks (version, lengths, header checksum). */
    MALFORMED_IP,
    /** A UDP datagram with a bad length or checksum. */
    MALFORMED_UDP,
    /** An ICMP or ICMPv6 message with a bad length or checksum. */
    MALFORMED_ICMP,
    /** A TCP segment with a bad length or checksum. */
    MALFORMED_TCP,
    /** An IPv4 fragment or an IPv6 packet with a fragment header: this host does not reassemble. */
    FRAGMENT,
    /** Addressed to an address that is not the host's, with no any-address listener for it. */
    NOT_LOCAL,
    /** A protocol the host does not speak (answered with ICMP protocol unreachable where allowed). */
    UNKNOWN_PROTOCOL,
    /** A UDP datagram for a port nobody listens on (answered with ICMP port unreachable where allowed). */
    NO_LISTENER,
    /** A datagram for a channel whose receive queue was full (packets or SO_RCVBUF bytes). */
    RECEIVE_QUEUE_FULL,
    /** An ICMP message the host has no use for (echo replies, redirects, router messages, ...). */
    ICMP_IGNORED,
    /** An ICMP error that quotes no flow of this host. */
    ICMP_NO_FLOW,
    /** An ICMP error not sent because the error rate limit was reached. */
    ICMP_RATE_LIMITED,
    /** An outbound packet dropped because the device channel's outbound buffer was over its bound. */
    DEVICE_QUEUE_FULL,
    /** An outbound packet dropped because the host is not (or no longer) in a channel's pipeline. */
    NOT_ATTACHED,
    /** An outbound packet dropped because no source address of the needed family is configured yet. */
    NO_SOURCE_ADDRESS
}

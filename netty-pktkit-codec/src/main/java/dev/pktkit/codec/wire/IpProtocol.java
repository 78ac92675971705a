package dev.pktkit.codec.wire;

/**
 * IP protocol numbers (the IPv4 Protocol field, the IPv6 Next Header field), as assigned by IANA.
 * The IPv6 extension header numbers are here too, since they share the number space.
 */
public final class IpProtocol {
    private IpProtocol() {
    }

    /** IPv6 Hop-by-Hop Options extension header (RFC 8200). */
    public static final int HOPOPT = 0;
    /** ICMP for IPv4 (RFC 792). */
    public static final int ICMP = 1;
    /** IGMP (RFC 3376). */
    public static final int IGMP = 2;
    /** IPv4 in IP encapsulation (RFC 2003). */
    public static final int IPV4 = 4;
    /** TCP (RFC 9293). */
    public static final int TCP = 6;
    /** UDP (RFC 768). */
    public static final int UDP = 17;
    /** IPv6 encapsulation (RFC 2473). */
    public static final int IPV6 = 41;
    /** IPv6 Routing extension header. */
    public static final int IPV6_ROUTE = 43;
    /** IPv6 Fragment extension header. */
    public static final int IPV6_FRAG = 44;
    /** GRE (RFC 2784). */
    public static final int GRE = 47;
    /** Encapsulating Security Payload (RFC 4303): opaque, ends header parsing. */
    public static final int ESP = 50;
    /** Authentication Header (RFC 4302): its length is in 4-octet units, minus 2. */
    public static final int AH = 51;
    /** ICMP for IPv6 (RFC 4443). */
    public static final int ICMPV6 = 58;
    /** IPv6 No Next Header: nothing follows. */
    public static final int IPV6_NONXT = 59;
    /** IPv6 Destination Options extension header. */
    public static final int IPV6_OPTS = 60;
    /** SCTP (RFC 9260). */
    public static final int SCTP = 132;
    /** Mobility Header (RFC 6275), an IPv6 extension header in 8-octet units. */
    public static final int MOBILITY = 135;
    /** UDP-Lite (RFC 3828). */
    public static final int UDPLITE = 136;

    /**
     * Whether {@code nextHeader} names an IPv6 extension header that {@link Ipv6} walks past (hop-by-hop,
     * routing, fragment, destination options, AH, mobility). ESP and No Next Header are not included: parsing
     * stops there.
     */
    public static boolean isIpv6ExtensionHeader(int nextHeader) {
        return switch (nextHeader) {
            case HOPOPT, IPV6_ROUTE, IPV6_FRAG, IPV6_OPTS, AH, MOBILITY -> true;
            default -> false;
        };
    }

    /** A short lower-case name ("tcp", "udp", "icmp"...) or the number in decimal. */
    public static String name(int protocol) {
        return switch (protocol) {
            case HOPOPT -> "hopopt";
            case ICMP -> "icmp";
            case IGMP -> "igmp";
            case IPV4 -> "ipv4";
            case TCP -> "tcp";
            case UDP -> "udp";
            case IPV6 -> "ipv6";
            case IPV6_ROUTE -> "ipv6-route";
            case IPV6_FRAG -> "ipv6-frag";
            case GRE -> "gre";
            case ESP -> "esp";
            case AH -> "ah";
            case ICMPV6 -> "ipv6-icmp";
            case IPV6_NONXT -> "ipv6-nonxt";
            case IPV6_OPTS -> "ipv6-opts";
            case SCTP -> "sctp";
            case MOBILITY -> "mobility";
            case UDPLITE -> "udplite";
            default -> Integer.toString(protocol);
        };
    }
}

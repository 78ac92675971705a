package dev.pktkit.vtcp.engine;

/**
 * The kind of an ICMP (v4 or v6) error the host delivers with {@link TcpEngine#icmpError4}/{@link
 * TcpEngine#icmpError6}. The host maps type/code; the engine applies RFC 1122 §4.2.3.9 and RFC 5927.
 */
public enum IcmpError {
    /** ICMPv4 type 3 code 4 (fragmentation needed and DF set) or ICMPv6 packet too big: PMTU (RFC 1191/8201). */
    PACKET_TOO_BIG(false),
    /** Network unreachable: soft. */
    NET_UNREACHABLE(false),
    /** Host unreachable (or ICMPv6 address unreachable): soft. */
    HOST_UNREACHABLE(false),
    /** Protocol unreachable: hard (RFC 1122). */
    PROTOCOL_UNREACHABLE(true),
    /** Port unreachable: hard (RFC 1122). */
    PORT_UNREACHABLE(true),
    /** Administratively prohibited (ICMPv4 codes 9, 10, 13; ICMPv6 code 1): hard, as Linux treats it. */
    ADMIN_PROHIBITED(true),
    /** Source route failed or other codes: soft. */
    OTHER_UNREACHABLE(false),
    /** Time exceeded: soft. */
    TIME_EXCEEDED(false),
    /** Parameter problem: soft. */
    PARAMETER_PROBLEM(false);

    private final boolean hard;

    IcmpError(boolean hard) {
        this.hard = hard;
    }

    /**
     * Whether RFC 1122 calls it a hard error. Following RFC 5927 §4.1 (and Linux), a hard error aborts only a
     * connection in SYN-SENT or SYN-RECEIVED; in synchronized states every error is soft: it is remembered and
     * reported as the cause if the connection later times out.
     */
    public boolean isHard() {
        return hard;
    }
}

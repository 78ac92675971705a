package dev.pktkit.codec.wire;

/**
 * Error codes returned by the validating entry points of the wire views ({@code check}, {@code headerLength},
 * {@code payloadOffset} and similar).
 *
 * <p>Every code is negative, so a caller tests {@code result < 0} and then, if it cares why, compares with these
 * constants or logs {@link #name(int)}. A non-negative result is always a length or an offset whose meaning the
 * method documents. Codes -1 to -15 belong to the L2/L3 views; codes from {@link #FIRST_TRANSPORT_CODE} down are
 * left for the transport and application views (UDP, TCP, DHCP), which define their own codes there.
 */
public final class WireError {
    private WireError() {
    }

    /** The buffer ends before the bytes the header or its length fields say are there. */
    public static final int TRUNCATED = -1;
    /** The version field is not the one the view handles (IPv4: 4, IPv6: 6, ARP: hardware/protocol kind). */
    public static final int BAD_VERSION = -2;
    /** A header length field is out of range (IPv4 IHL &lt; 5, an option or extension header length). */
    public static final int BAD_HEADER_LENGTH = -3;
    /** A total or payload length field is smaller than the header or larger than the buffer allows. */
    public static final int BAD_TOTAL_LENGTH = -4;
    /** A checksum does not verify. */
    public static final int BAD_CHECKSUM = -5;
    /** An option is malformed (zero length, runs past its container, wrong length for its kind). */
    public static final int BAD_OPTION = -6;
    /** More chained headers (VLAN tags, IPv6 extension headers) than the documented limit allows. */
    public static final int TOO_MANY_HEADERS = -7;
    /** A type, code or operation value that the view does not accept in this position. */
    public static final int BAD_TYPE = -8;
    /** An address field that may not appear there (e.g. multicast source, wrong hardware address length). */
    public static final int BAD_ADDRESS = -9;
    /** A field whose value the RFC fixes (hop limit 255 for NDP, ICMP code 0) has another value. */
    public static final int BAD_FIELD = -10;

    /** The first (highest) code free for the transport views; their codes go from here downwards. */
    public static final int FIRST_TRANSPORT_CODE = -16;

    /**
     * A short upper-case name for a code of this class, for logs and counters; {@code "OK"} for a non-negative
     * value and {@code "ERROR(n)"} for a negative code this class does not define.
     */
    public static String name(int code) {
        if (code >= 0) {
            return "OK";
        }
        return switch (code) {
            case TRUNCATED -> "TRUNCATED";
            case BAD_VERSION -> "BAD_VERSION";
            case BAD_HEADER_LENGTH -> "BAD_HEADER_LENGTH";
            case BAD_TOTAL_LENGTH -> "BAD_TOTAL_LENGTH";
            case BAD_CHECKSUM -> "BAD_CHECKSUM";
            case BAD_OPTION -> "BAD_OPTION";
            case TOO_MANY_HEADERS -> "TOO_MANY_HEADERS";
            case BAD_TYPE -> "BAD_TYPE";
            case BAD_ADDRESS -> "BAD_ADDRESS";
            case BAD_FIELD -> "BAD_FIELD";
            default -> "ERROR(" + code + ")";
        };
    }
}

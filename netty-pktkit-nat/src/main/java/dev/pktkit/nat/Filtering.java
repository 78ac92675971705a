package dev.pktkit.nat;

/**
 * Which inbound packets an existing mapping admits (RFC 4787 §5, RFC 5382 §4.3).
 */
public enum Filtering {
    /** Any remote endpoint may send to a mapped address and port ("full cone"). */
    ENDPOINT_INDEPENDENT,
    /** Only remote addresses the inside endpoint has sent to ("restricted cone"). */
    ADDRESS_DEPENDENT,
    /** Only remote address-and-port pairs the inside endpoint has sent to ("port restricted"). The default. */
    ADDRESS_AND_PORT_DEPENDENT
}

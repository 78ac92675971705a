package dev.pktkit.nat.portcontrol;

/** What {@link PortControlCounters} counts. */
public enum PortControlCounter {
    /** SSDP M-SEARCH requests answered. */
    SSDP_ANSWERED,
    /** SSDP datagrams dropped: not an M-SEARCH, malformed, oversized, or a search target we are not. */
    SSDP_DROPPED,
    /** HTTP requests for a description document answered. */
    HTTP_DESCRIPTIONS,
    /** HTTP requests refused (unknown path, wrong method): 404 / 405. */
    HTTP_REFUSED,
    /** SOAP requests above the size bound: 413 and the connection closed. */
    SOAP_OVERSIZED,
    /** SOAP bodies that did not parse (malformed XML, a DOCTYPE / entity, no action): 500 with UPnP error 401/402. */
    SOAP_MALFORMED,
    /** SOAP actions that succeeded. */
    SOAP_OK,
    /** SOAP actions answered with a UPnP error. */
    SOAP_ERROR,
    /** NAT-PMP requests answered with success. */
    NATPMP_OK,
    /** NAT-PMP requests answered with an error result. */
    NATPMP_ERROR,
    /** NAT-PMP datagrams dropped (truncated, a response, trailing junk). */
    NATPMP_DROPPED,
    /** PCP requests answered with success. */
    PCP_OK,
    /** PCP requests answered with an error result. */
    PCP_ERROR,
    /** PCP datagrams dropped (shorter than 4 bytes, a response). */
    PCP_DROPPED,
    /** Leases created. */
    LEASE_CREATED,
    /** Leases renewed (same owner, same mapping). */
    LEASE_RENEWED,
    /** Leases deleted by their owner. */
    LEASE_DELETED,
    /** Leases expired. */
    LEASE_EXPIRED,
    /** Lease requests refused: a conflict, a bound, another host's address. */
    LEASE_REFUSED,
    /** Packets from the control endpoints that could not go back to their port (closed or unwritable). */
    REPLY_DROPPED,
    /** SSDP NOTIFY datagrams sent (ssdp:alive and ssdp:byebye, one per notification type). */
    SSDP_NOTIFY_SENT,
    /**
     * Unsolicited NAT-PMP address and PCP ANNOUNCE responses sent to 224.0.0.1:5350 after a port is attached (each
     * datagram of the repeated series).
     */
    ANNOUNCEMENTS_SENT,
    /** M-SEARCH requests dropped because {@code maxSsdpPending} answers were already waiting for their MX delay. */
    SSDP_PENDING_FULL
}

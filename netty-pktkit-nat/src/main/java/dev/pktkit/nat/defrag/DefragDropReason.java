package dev.pktkit.nat.defrag;

/** Why the defragmenter dropped a fragment (or a whole datagram); counted in {@link DefragCounters}. */
public enum DefragDropReason {
    /** A fragment whose IP header or lengths are invalid (a non-last fragment not a multiple of 8, beyond 65535). */
    MALFORMED,
    /** Overlaps a fragment already held (other than an exact duplicate): the whole datagram is discarded. */
    OVERLAP,
    /** An exact duplicate of a held fragment: the duplicate is dropped, the datagram kept. */
    DUPLICATE,
    /** A first fragment too short to hold the transport header, or TCP at offset 8 (RFC 1858, 3128, 7112). */
    TINY_FRAGMENT,
    /** The memory bound was reached: the new fragment is dropped (as Linux does above its high threshold). */
    MEMORY_FULL,
    /** The bound on datagrams being reassembled was reached. */
    TOO_MANY_DATAGRAMS,
    /** One datagram's fragments would exceed the per-datagram bound. */
    DATAGRAM_TOO_LARGE,
    /** Not complete within the reassembly timeout: its fragments were released. */
    TIMEOUT
}

package dev.pktkit.switching.vxlan;

/** What a {@link VxlanTunnel} counts besides drops ({@link VxlanTunnel#traffic()}). */
public enum VxlanTraffic {
    /** Datagrams received and passed into a VNI's hub port. */
    DECAPSULATED,
    /** Frames from the hubs encapsulated (once per frame, however many VTEPs it went to). */
    ENCAPSULATED,
    /** Datagrams sent: a unicast frame to a learned VTEP sends one; a flood one per remote VTEP of its VNI. */
    DATAGRAMS_SENT,
    /** Frames flooded by head-end replication (broadcast, multicast, unknown unicast). */
    FLOODED,
    /** New (VNI, MAC) → VTEP entries learned. */
    LEARNED,
    /** Station moves: a known (VNI, MAC) seen from another VTEP. */
    MOVED,
    /** Entries not learned because the table was full (the frame still went through). */
    LEARN_REFUSED,
    /** Learned entries removed by aging. */
    AGED,
    /** VTEPs learned from an accepted prefix. */
    VTEPS_LEARNED
}

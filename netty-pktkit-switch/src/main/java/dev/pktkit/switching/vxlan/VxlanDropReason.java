package dev.pktkit.switching.vxlan;

/** Why a {@link VxlanTunnel} dropped a datagram or a frame; counted in {@link VxlanTunnel#drops()}. */
public enum VxlanDropReason {
    /** A datagram shorter than the VXLAN header plus an Ethernet header (22 bytes). */
    TOO_SHORT,
    /** The header's I flag is clear (RFC 7348: it must be set for a valid VNI). */
    BAD_FLAGS,
    /** The VNI is not one this tunnel carries. */
    UNKNOWN_VNI,
    /**
     * The sender is neither a configured remote VTEP nor inside an accepted prefix, or the table of learned VTEPs
     * is full.
     */
    UNKNOWN_SOURCE,
    /** Not a {@code DatagramPacket} with a {@code ByteBuf} (inbound) or not a {@code ByteBuf} frame (outbound). */
    NOT_A_FRAME,
    /** An inner frame larger than the configured MTU allows (the tunnel never fragments), or shorter than 14 bytes. */
    BAD_SIZE,
    /** A frame that had to be flooded, in a VNI with no remote VTEP to flood to. */
    NO_PEER,
    /** The UDP channel (outbound) or the VNI's port (inbound) was not writable. */
    CONGESTED,
    /** A trunk-mode frame whose VLAN maps to no VNI, or an untagged one. */
    VLAN,
    /** The tunnel was not active (its UDP channel closed or not yet bound). */
    INACTIVE
}

package dev.pktkit.tuntap;

/** Why a TUN/TAP channel dropped a packet; counted per channel ({@link TunTapCounters#drops(TunTapDropReason)}). */
public enum TunTapDropReason {
    /**
     * A read did not fit the read buffer (sized from the device's MTU): someone raised the MTU behind the
     * channel's back. The channel re-reads the MTU and sizes later reads to it.
     */
    TRUNCATED,
    /** A read shorter than the virtio-net header, or an empty packet, in either direction. */
    TOO_SHORT,
    /** A virtio-net header inconsistent with its packet: segmentation or checksum completion was impossible. */
    BAD_OFFLOAD,
    /** A large segment of a kind this module does not cut in Java (UDP fragmentation or segmentation). */
    UNSUPPORTED_OFFLOAD,
    /** An outbound message that is neither a {@code ByteBuf} nor a {@code VirtioNetPacket}. */
    UNSUPPORTED_MESSAGE,
    /**
     * A write while the interface is down ({@code EIO}): the kernel discards it, as a NIC without carrier does.
     * Counted, not an error: the write's promise succeeds.
     */
    LINK_DOWN,
    /**
     * The kernel refused a write for another reason (for example {@code EINVAL} for a packet it cannot parse,
     * {@code ENOBUFS}). The channel stays open; the write's promise fails with the error.
     */
    WRITE_FAILED
}

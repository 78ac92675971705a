package dev.pktkit.qemu;

/** Why a QEMU codec dropped a frame; counted per channel ({@link QemuFrameCounters#drops(QemuDropReason)}). */
public enum QemuDropReason {
    /**
     * Shorter than an Ethernet header ({@value QemuFraming#MIN_FRAME_LENGTH} bytes). Inbound on a stream this is
     * an announced length, and the peer is cut off.
     */
    TOO_SHORT,
    /**
     * Longer than the configured maximum (by default {@value QemuFraming#DEFAULT_MAX_FRAME_LENGTH} bytes, QEMU's
     * own limit). Inbound on a stream this is an announced length, and the peer is cut off.
     */
    TOO_LONG,
    /** A stream ended in the middle of a frame; the partial frame is discarded. */
    TRUNCATED,
    /** An outbound message that is not a {@code ByteBuf} (a frame), or an inbound one that is not a datagram. */
    UNSUPPORTED_MESSAGE,
    /** Datagram: an outbound frame before any peer address was configured or seen. */
    NO_PEER,
    /** Datagram: the kernel reported a failed send (peer socket missing or port unreachable). */
    SEND_FAILED,
    /**
     * Datagram, inbound: sent by someone other than the locked peer (the configured remote, or the first sender
     * when none was configured), or by an unnamed Unix socket that cannot be answered. The peer does not change.
     */
    FOREIGN_SENDER
}

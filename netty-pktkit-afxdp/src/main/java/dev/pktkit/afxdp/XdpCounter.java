package dev.pktkit.afxdp;

/** What an {@link XdpChannel} counts ({@link XdpChannel#counters()}). */
public enum XdpCounter {
    /** Frames received and passed to the pipeline. */
    FRAMES_IN,
    /** Bytes of those frames. */
    BYTES_IN,
    /** Received frames copied into a buffer of the channel's allocator because the lending bound was reached. */
    FRAMES_COPIED_OUT,
    /** Frames handed to the kernel for sending. */
    FRAMES_OUT,
    /** Bytes of those frames. */
    BYTES_OUT,
    /** {@code sendto} calls that kicked transmission. */
    TX_WAKEUPS,
    /** {@code recvfrom} calls that asked the driver to refill. */
    RX_WAKEUPS,
    /** Times a write found no free TX chunk and had to wait for completions. */
    TX_CHUNKS_EXHAUSTED,
    /** Dropped: a received descriptor shorter than an Ethernet header. */
    DROPPED_TRUNCATED_DESCRIPTOR,
    /** Dropped: a received descriptor outside this socket's chunks, not lent to the kernel, or overrunning its chunk. */
    DROPPED_BAD_DESCRIPTOR,
    /** A ring's peer index was out of range (clamped). */
    RING_OVERRUNS,
    /** Ignored: a completion for a chunk that was not sent. */
    BAD_COMPLETIONS,
    /** Dropped on write: a frame larger than a chunk. */
    DROPPED_TOO_BIG,
    /** Dropped on write: an empty frame or one shorter than an Ethernet header. */
    DROPPED_TOO_SHORT,
    /** Dropped on write: not a {@code ByteBuf}. */
    DROPPED_UNSUPPORTED_MESSAGE,
    /** The device went away (the channel closed). */
    DEVICE_GONE
}

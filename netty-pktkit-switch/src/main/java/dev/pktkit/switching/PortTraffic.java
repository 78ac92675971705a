package dev.pktkit.switching;

/**
 * What a hub port counts besides drops ({@link PortCounters#traffic()}): messages and bytes in each direction. "In"
 * is from the port's channel into the hub, "out" is what the hub wrote to the channel.
 */
public enum PortTraffic {
    /** Messages received on the port (from its channel into the hub). */
    FRAMES_IN,
    /** Bytes of those messages (readable bytes as they arrived). */
    BYTES_IN,
    /** Messages the hub wrote to the port's channel. */
    FRAMES_OUT,
    /** Bytes of those messages. */
    BYTES_OUT
}

package dev.pktkit.tuntap;

/**
 * How a TUN/TAP channel uses the kernel's offloads (a virtio-net header before each packet, {@code IFF_VNET_HDR},
 * with TSO for IPv4 and IPv6 and checksum offload switched on with {@code TUNSETOFFLOAD}). With offloads the
 * kernel passes whole large TCP segments (up to 64 KiB) through the device in one read or write, instead of
 * MTU-sized packets, and leaves transport checksums to the reader.
 *
 * <p>Fixed when the channel binds.
 */
public enum OffloadMode {
    /** No virtio-net header: every message is one ordinary IP packet (TUN) or frame (TAP), at most MTU-sized. */
    NONE,
    /**
     * Offloads on; the channel reads large segments but hands the pipeline ordinary MTU-sized packets with
     * complete checksums, cutting large segments in Java ({@link dev.pktkit.tuntap.vnet.GsoSegmenter}). Handlers
     * see exactly what they would see with {@link #NONE}; reads cost one system call per large segment.
     * Writes of {@code ByteBuf}s go out as ordinary packets; writes of
     * {@link dev.pktkit.tuntap.vnet.VirtioNetPacket}s go out with their header (the kernel segments them).
     */
    SEGMENT,
    /**
     * Offloads on; packets that carry offload state (a large segment, or a checksum still to complete) reach the
     * pipeline as {@link dev.pktkit.tuntap.vnet.VirtioNetPacket}s with the header parsed, everything else as a
     * plain {@code ByteBuf}. Writes accept both. The cheapest way to move large segments between devices;
     * {@link VirtioNetCodec} adapts such a channel to handlers that read only {@code ByteBuf}s.
     */
    LARGE
}

package dev.pktkit.codec.capture;

/**
 * The link-layer header type of captured packets, as numbered in the pcap and pcapng link-type registry.
 */
public enum LinkType {
    /** {@code LINKTYPE_ETHERNET} (1): Ethernet frames from the destination MAC, no preamble or FCS; L2 messages. */
    ETHERNET(1),
    /** {@code LINKTYPE_RAW} (101): a bare IPv4 or IPv6 packet, told apart by its version nibble; L3 messages. */
    RAW(101);

    private final int value;

    LinkType(int value) {
        this.value = value;
    }

    /** The registry number written into the file. */
    public int value() {
        return value;
    }
}

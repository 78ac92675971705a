package dev.pktkit.codec.capture;

/** The file format a {@link PacketCapture} writes. */
public enum CaptureFormat {
    /** Classic pcap: one link type, no interface names or directions; see {@link PcapWriter}. */
    PCAP,
    /** pcapng: one interface per handler name, directions, comments; see {@link PcapngWriter}. */
    PCAPNG
}

package dev.pktkit.codec.capture;

/**
 * Which way a captured packet travelled through the handler that recorded it, as pcapng's {@code epb_flags}
 * direction bits encode it. Classic pcap has no place for it.
 */
public enum CaptureDirection {
    /** Not recorded; pcapng writes no {@code epb_flags} option. */
    UNKNOWN(0),
    /** Read by the handler ({@code channelRead}): travelling from the port towards the application. */
    INBOUND(1),
    /** Written through the handler ({@code write}): travelling from the application towards the port. */
    OUTBOUND(2);

    private final int flagBits;

    CaptureDirection(int flagBits) {
        this.flagBits = flagBits;
    }

    /** The value of bits 0-1 of {@code epb_flags}. */
    public int flagBits() {
        return flagBits;
    }
}

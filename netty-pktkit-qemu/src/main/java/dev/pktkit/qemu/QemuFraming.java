package dev.pktkit.qemu;

import dev.pktkit.codec.wire.Ethernet;

/**
 * The constants of QEMU's socket netdev framing, in one place.
 *
 * <p>Stream netdevs ({@code -netdev stream}, legacy {@code -netdev socket,listen=/connect=}) send each Ethernet
 * frame after a 4-byte big-endian length; datagram netdevs ({@code -netdev dgram}, legacy
 * {@code -netdev socket,udp=}) send one frame per datagram with no prefix. Neither has a handshake. Frames carry
 * no preamble and no FCS, and QEMU does not pad short frames.
 */
public final class QemuFraming {
    private QemuFraming() {
    }

    /** Bytes of the big-endian length that precedes every frame on a stream netdev. */
    public static final int LENGTH_FIELD_LENGTH = 4;

    /** Shortest frame accepted either way: an Ethernet header (two addresses and the type), 14 bytes. */
    public static final int MIN_FRAME_LENGTH = Ethernet.HEADER_LENGTH;

    /**
     * Longest frame accepted by default either way: 69,632 bytes, QEMU's own receive buffer
     * ({@code NET_BUFSIZE} in {@code include/net/net.h}: a 64 KiB GSO packet plus 4 KiB for headers). QEMU cuts
     * a stream peer off that announces more ({@code net_fill_rstate}), so sending more would be pointless.
     */
    public static final int DEFAULT_MAX_FRAME_LENGTH = 4096 + 65536;

    /** Largest payload of a UDP datagram over IPv4 (65,535 - 20 - 8); a longer dgram frame cannot be sent. */
    public static final int MAX_UDP_PAYLOAD = 65_507;

    /** Checks a configured maximum frame length: at least {@link #MIN_FRAME_LENGTH}, and room for the prefix. */
    static int checkMaxFrameLength(int maxFrameLength) {
        if (maxFrameLength < MIN_FRAME_LENGTH || maxFrameLength > Integer.MAX_VALUE - LENGTH_FIELD_LENGTH) {
            throw new IllegalArgumentException("maxFrameLength must be in [" + MIN_FRAME_LENGTH + ", "
                    + (Integer.MAX_VALUE - LENGTH_FIELD_LENGTH) + "]: " + maxFrameLength);
        }
        return maxFrameLength;
    }

    /** The drop reason for a frame of {@code length} bytes, or null if it is acceptable. */
    static QemuDropReason checkLength(long length, int maxFrameLength) {
        if (length < MIN_FRAME_LENGTH) {
            return QemuDropReason.TOO_SHORT;
        }
        if (length > maxFrameLength) {
            return QemuDropReason.TOO_LONG;
        }
        return null;
    }
}

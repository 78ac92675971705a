package dev.pktkit.wireguard.wire;

/** WireGuard message types (first byte, followed by three zero bytes) and their fixed lengths. */
public final class MessageType {
    /** Handshake initiation. */
    public static final int INITIATION = 1;
    /** Handshake response. */
    public static final int RESPONSE = 2;
    /** Cookie reply. */
    public static final int COOKIE_REPLY = 3;
    /** Transport data. */
    public static final int TRANSPORT = 4;

    /** Length of an initiation. */
    public static final int INITIATION_LEN = 148;
    /** Length of a response. */
    public static final int RESPONSE_LEN = 92;
    /** Length of a cookie reply. */
    public static final int COOKIE_REPLY_LEN = 64;
    /** Transport header: type, reserved, receiver index, counter. */
    public static final int TRANSPORT_HEADER_LEN = 16;
    /** Smallest transport message: header plus an empty (keepalive) payload's tag. */
    public static final int TRANSPORT_MIN_LEN = TRANSPORT_HEADER_LEN + 16;

    private MessageType() {
    }
}

package dev.pktkit.openvpn.wire;

/**
 * OpenVPN packet opcodes (the high 5 bits of a packet's first byte; the low 3 bits are the key ID), as OpenVPN
 * 2.6 numbers them ({@code ssl_pkt.h}).
 */
public final class Opcode {
    /** Key method 1 client reset; obsolete, never accepted. */
    public static final int CONTROL_HARD_RESET_CLIENT_V1 = 1;
    /** Key method 1 server reset; obsolete, never accepted. */
    public static final int CONTROL_HARD_RESET_SERVER_V1 = 2;
    /** A new key (renegotiation) on an existing session. */
    public static final int CONTROL_SOFT_RESET_V1 = 3;
    /** A control message: a TLS record fragment carried reliably. */
    public static final int CONTROL_V1 = 4;
    /** Acknowledgements only, no message ID or payload. */
    public static final int ACK_V1 = 5;
    /** Data packet without peer-id. */
    public static final int DATA_V1 = 6;
    /** Key method 2 client reset, starts a session. */
    public static final int CONTROL_HARD_RESET_CLIENT_V2 = 7;
    /** Key method 2 server reset. */
    public static final int CONTROL_HARD_RESET_SERVER_V2 = 8;
    /** Data packet with a 24-bit peer-id. */
    public static final int DATA_V2 = 9;
    /** Client reset of a tls-crypt-v2 client: the wrapped client key follows the packet. */
    public static final int CONTROL_HARD_RESET_CLIENT_V3 = 10;
    /** Control message that also carries the tls-crypt-v2 wrapped client key (2.6 stateless handshake). */
    public static final int CONTROL_WKC_V1 = 11;

    /** Lowest and highest opcode value in use. */
    public static final int MIN = 1;
    public static final int MAX = 11;

    private Opcode() {
    }

    /** The opcode of a packet whose first byte is {@code b}. */
    public static int of(int b) {
        return (b & 0xff) >>> 3;
    }

    /** The key ID (0..7) of a packet whose first byte is {@code b}. */
    public static int keyId(int b) {
        return b & 0x07;
    }

    /** The first byte of a packet with this opcode and key ID. */
    public static int firstByte(int opcode, int keyId) {
        return (opcode << 3) | (keyId & 0x07);
    }

    /** Whether packets with this opcode travel on the control channel (session ID, acks). */
    public static boolean isControl(int opcode) {
        return opcode >= MIN && opcode <= MAX && opcode != DATA_V1 && opcode != DATA_V2;
    }

    /** Whether packets with this opcode carry a message ID and are retransmitted until acknowledged. */
    public static boolean isReliable(int opcode) {
        return isControl(opcode) && opcode != ACK_V1;
    }

    /** Whether this is a data channel opcode. */
    public static boolean isData(int opcode) {
        return opcode == DATA_V1 || opcode == DATA_V2;
    }

    /** Whether a 2.6 server accepts this opcode at all (key method 1 resets are not). */
    public static boolean isSupported(int opcode) {
        return opcode >= CONTROL_SOFT_RESET_V1 && opcode <= MAX;
    }

    /** OpenVPN's name for an opcode, for logs and errors. */
    public static String name(int opcode) {
        return switch (opcode) {
            case CONTROL_HARD_RESET_CLIENT_V1 -> "P_CONTROL_HARD_RESET_CLIENT_V1";
            case CONTROL_HARD_RESET_SERVER_V1 -> "P_CONTROL_HARD_RESET_SERVER_V1";
            case CONTROL_SOFT_RESET_V1 -> "P_CONTROL_SOFT_RESET_V1";
            case CONTROL_V1 -> "P_CONTROL_V1";
            case ACK_V1 -> "P_ACK_V1";
            case DATA_V1 -> "P_DATA_V1";
            case CONTROL_HARD_RESET_CLIENT_V2 -> "P_CONTROL_HARD_RESET_CLIENT_V2";
            case CONTROL_HARD_RESET_SERVER_V2 -> "P_CONTROL_HARD_RESET_SERVER_V2";
            case DATA_V2 -> "P_DATA_V2";
            case CONTROL_HARD_RESET_CLIENT_V3 -> "P_CONTROL_HARD_RESET_CLIENT_V3";
            case CONTROL_WKC_V1 -> "P_CONTROL_WKC_V1";
            default -> "P_UNKNOWN_" + opcode;
        };
    }
}

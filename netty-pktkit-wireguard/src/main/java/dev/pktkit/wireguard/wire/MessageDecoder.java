package dev.pktkit.wireguard.wire;

import io.netty.buffer.ByteBuf;

/**
 * The first check on every datagram: which message kind it is, or why it is none. No crypto, no allocation.
 */
public final class MessageDecoder {
    /** Not a WireGuard message: shorter than 4 bytes, unknown type, non-zero reserved bytes or wrong length. */
    public static final int INVALID = -1;

    private MessageDecoder() {
    }

    /**
     * Classifies {@code len} bytes at absolute offset {@code off}: one of {@link MessageType}'s types, or
     * {@link #INVALID}. Handshake messages and cookie replies must have their exact length; transport data at
     * least {@link MessageType#TRANSPORT_MIN_LEN} bytes and a sealed part that is a multiple of 16 bytes plus the
     * tag is not required (peers pad to 16 but the last packet of an MTU may not be), only its minimum.
     */
    public static int classify(ByteBuf b, int off, int len) {
        if (len < 4 || off < 0 || off + len > b.writerIndex()) {
            return INVALID;
        }
        int word = b.getIntLE(off);
        if ((word & 0xFFFFFF00) != 0) {
            return INVALID;
        }
        return switch (word) {
            case MessageType.INITIATION -> len == MessageType.INITIATION_LEN ? MessageType.INITIATION : INVALID;
            case MessageType.RESPONSE -> len == MessageType.RESPONSE_LEN ? MessageType.RESPONSE : INVALID;
            case MessageType.COOKIE_REPLY -> len == MessageType.COOKIE_REPLY_LEN ? MessageType.COOKIE_REPLY : INVALID;
            case MessageType.TRANSPORT -> len >= MessageType.TRANSPORT_MIN_LEN ? MessageType.TRANSPORT : INVALID;
            default -> INVALID;
        };
    }
}

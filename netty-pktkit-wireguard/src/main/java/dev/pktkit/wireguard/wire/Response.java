package dev.pktkit.wireguard.wire;

import io.netty.buffer.ByteBuf;

/**
 * Handshake response (type 2, 92 bytes): type, 3 reserved, sender index, receiver index, unencrypted ephemeral
 * (32), encrypted nothing (16, the tag), mac1 (16), mac2 (16).
 */
public final class Response {
    public static final int SENDER = 4;
    public static final int RECEIVER = 8;
    public static final int EPHEMERAL = 12;
    public static final int EMPTY = 44;
    public static final int MAC1 = 60;
    public static final int MAC2 = 76;

    private Response() {
    }

    public static int sender(ByteBuf b, int off) {
        return b.getIntLE(off + SENDER);
    }

    public static int receiver(ByteBuf b, int off) {
        return b.getIntLE(off + RECEIVER);
    }
}

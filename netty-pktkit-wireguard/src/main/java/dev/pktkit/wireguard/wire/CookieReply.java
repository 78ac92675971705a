package dev.pktkit.wireguard.wire;

import io.netty.buffer.ByteBuf;

/** Cookie reply (type 3, 64 bytes): type, 3 reserved, receiver index, nonce (24), encrypted cookie (16 + 16). */
public final class CookieReply {
    public static final int RECEIVER = 4;
    public static final int NONCE = 8;
    public static final int COOKIE = 32;
    public static final int COOKIE_LEN = 32;

    private CookieReply() {
    }

    public static int receiver(ByteBuf b, int off) {
        return b.getIntLE(off + RECEIVER);
    }
}

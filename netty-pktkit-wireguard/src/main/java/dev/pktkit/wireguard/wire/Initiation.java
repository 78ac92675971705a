package dev.pktkit.wireguard.wire;

import io.netty.buffer.ByteBuf;

/**
 * Handshake initiation (type 1, 148 bytes): type, 3 reserved, sender index (LE), unencrypted ephemeral (32),
 * encrypted static (32 + 16), encrypted timestamp (12 + 16), mac1 (16), mac2 (16). Offsets are relative to the
 * message start.
 */
public final class Initiation {
    public static final int SENDER = 4;
    public static final int EPHEMERAL = 8;
    public static final int STATIC = 40;
    public static final int STATIC_LEN = 48;
    public static final int TIMESTAMP = 88;
    public static final int TIMESTAMP_LEN = 28;
    public static final int MAC1 = 116;
    public static final int MAC2 = 132;

    private Initiation() {
    }

    /** The sender index at message offset {@code off}. */
    public static int sender(ByteBuf b, int off) {
        return b.getIntLE(off + SENDER);
    }
}

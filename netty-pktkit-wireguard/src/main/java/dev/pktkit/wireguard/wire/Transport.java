package dev.pktkit.wireguard.wire;

import io.netty.buffer.ByteBuf;

/**
 * Transport data (type 4): type, 3 reserved, receiver index (LE), counter (64-bit LE), then the sealed packet
 * (plaintext padded to a multiple of 16, plus a 16-byte tag). An empty plaintext is a keepalive.
 */
public final class Transport {
    public static final int RECEIVER = 4;
    public static final int COUNTER = 8;
    public static final int PAYLOAD = 16;

    private Transport() {
    }

    public static int receiver(ByteBuf b, int off) {
        return b.getIntLE(off + RECEIVER);
    }

    public static long counter(ByteBuf b, int off) {
        return b.getLongLE(off + COUNTER);
    }

    /** Padded length for a plaintext of {@code len} bytes: the next multiple of 16 (at most {@code mtu}). */
    public static int paddedLength(int len, int mtu) {
        int padded = (len + 15) & ~15;
        return Math.max(len, Math.min(padded, mtu));
    }
}

package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/** Bounds tests shared by the views: the valid region of a buffer is {@code [0, writerIndex())}. */
final class Bounds {
    private Bounds() {
    }

    /**
     * Whether {@code n} bytes at absolute index {@code off} lie in {@code [0, buf.writerIndex())}; false for a
     * negative {@code off} or {@code n}. No int overflow: {@code writerIndex - n} cannot overflow for
     * {@code n >= 0}.
     */
    static boolean has(ByteBuf buf, int off, int n) {
        return off >= 0 && n >= 0 && off <= buf.writerIndex() - n;
    }
}

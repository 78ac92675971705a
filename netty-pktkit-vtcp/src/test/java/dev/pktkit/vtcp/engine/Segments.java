package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;

/** Builds raw TCP segments with valid checksums for injecting into an engine. */
final class Segments {
    private Segments() {
    }

    static ByteBuf build(int src, int dst, int sport, int dport, int seq, int ack, int flags, int window,
                         ByteBuf options, byte[] payload) {
        ByteBuf b = TestNet.ALLOC.buffer(60 + (payload == null ? 0 : payload.length));
        Tcp.writeHeader(b, sport, dport, seq & 0xFFFF_FFFFL, ack & 0xFFFF_FFFFL, flags, window, 0, options, 0,
                options == null ? 0 : options.readableBytes());
        if (payload != null) {
            b.writeBytes(payload);
        }
        Tcp.fillChecksumV4(b, 0, b.readableBytes(), src, dst);
        return b;
    }
}

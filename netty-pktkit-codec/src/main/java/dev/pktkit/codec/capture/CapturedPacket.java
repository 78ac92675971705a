package dev.pktkit.codec.capture;

import io.netty.buffer.ByteBuf;

/** One packet copied on an event loop and waiting for the writer. Owns {@code data} until written or dropped. */
record CapturedPacket(int interfaceId, long timestampNanos, CaptureDirection direction, int originalLength,
                      ByteBuf data) {
}

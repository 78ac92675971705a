package dev.pktkit.openvpn.crypto;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Control-channel protection ({@code tls-auth}, {@code tls-crypt}, {@code tls-crypt-v2}'s per-client key): turns
 * a plain control packet ({@code opcode|key-id, session-id, ack array, ...}) into its wire form and back. Not
 * thread-safe: one instance per session or per event loop.
 */
public interface ControlWrap {
    /** Bytes the protection adds to a plain control packet. */
    int overhead();

    /**
     * Verifies (and decrypts) the wire packet of {@code len} bytes at {@code off} in place, so that the plain
     * packet starts at the returned offset and ends where the input ended.
     *
     * @return the plain packet's offset, or -1 if it is too short or does not authenticate
     */
    int unwrap(ByteBuf buf, int off, int len);

    /** The packet-id of the last packet {@link #unwrap} accepted (for the caller's {@link ReplayWindow}). */
    long lastPacketId();

    /**
     * Builds the wire form of the plain control packet {@code plain} (its readable bytes; not released).
     *
     * @return a new buffer the caller owns
     */
    ByteBuf wrap(ByteBufAllocator alloc, ByteBuf plain, long packetId, long netTime);
}

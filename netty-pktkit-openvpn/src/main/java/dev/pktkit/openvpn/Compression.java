package dev.pktkit.openvpn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Compression framing without compression ({@code compress stub-v2}, {@code compress stub}, {@code comp-lzo
 * no}): the data channel's plaintext carries the framing of a compressor that never compresses. The server pushes
 * the matching directive. A packet that arrives actually compressed is dropped (counted as
 * {@link OpenVpnDropReason#COMPRESSED}); we never compress.
 */
public enum Compression {
    /** No framing (no {@code compress} / {@code comp-lzo} directive). */
    NONE(null),
    /** {@code compress stub-v2}: packets as they are, unless the first byte is 0x50, which is escaped as 0x50 0x00. */
    STUB_V2("compress stub-v2"),
    /** {@code compress stub} (v1 with swap): 0xFB first, the payload's first byte moved to the end. */
    STUB("compress stub"),
    /** {@code comp-lzo no}: 0xFA before every packet. */
    LZO_NO("comp-lzo no");

    static final int V2_INDICATOR = 0x50;
    static final int NO_COMPRESS = 0xfa;
    static final int NO_COMPRESS_SWAP = 0xfb;

    /** The directive pushed to clients, or null. */
    public final String directive;

    Compression(String directive) {
        this.directive = directive;
    }

    /**
     * Removes the framing from a decrypted packet in place (its reader/writer indexes move).
     *
     * @return false if the packet is compressed or its framing is wrong (the caller drops it)
     */
    boolean unframe(ByteBuf b) {
        if (this == NONE || !b.isReadable()) {
            return true;
        }
        int r = b.readerIndex();
        int first = b.getUnsignedByte(r);
        switch (this) {
            case STUB_V2:
                if (first != V2_INDICATOR) {
                    return true;
                }
                if (b.readableBytes() < 2 || b.getUnsignedByte(r + 1) != 0) {
                    return false;
                }
                b.skipBytes(2);
                return true;
            case LZO_NO:
                if (first != NO_COMPRESS) {
                    return false;
                }
                b.skipBytes(1);
                return true;
            default: // STUB
                if (first != NO_COMPRESS_SWAP) {
                    return false;
                }
                int w = b.writerIndex();
                b.setByte(r, b.getByte(w - 1));
                b.writerIndex(w - 1);
                return true;
        }
    }

    /**
     * Frames an outgoing packet: returns {@code b} itself when no bytes change (stub-v2 without 0x50 first), or a
     * new buffer (and releases {@code b}).
     */
    ByteBuf frame(ByteBufAllocator alloc, ByteBuf b) {
        if (this == NONE || !b.isReadable()) {
            return b;
        }
        int r = b.readerIndex();
        int len = b.readableBytes();
        int first = b.getUnsignedByte(r);
        if (this == STUB_V2 && first != V2_INDICATOR) {
            return b;
        }
        ByteBuf out = alloc.heapBuffer(len + 2);
        switch (this) {
            case STUB_V2 -> out.writeByte(V2_INDICATOR).writeByte(0).writeBytes(b, r, len);
            case LZO_NO -> out.writeByte(NO_COMPRESS).writeBytes(b, r, len);
            default -> out.writeByte(NO_COMPRESS_SWAP).writeBytes(b, r + 1, len - 1).writeByte(first);
        }
        b.release();
        return out;
    }
}

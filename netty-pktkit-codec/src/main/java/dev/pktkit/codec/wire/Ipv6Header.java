package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * The 40-byte fixed IPv6 header of one packet, read at once: a reusable, mutable view for code that needs several
 * fields of the same header. {@link #read} checks the bounds once and loads the header in five 8-byte reads; the
 * accessors then cost no buffer access ({@link Ipv6}'s static accessors do one bounds test and one read per field;
 * see {@link EthernetHeader}). Extension headers are not walked: {@link Ipv6#upperLayerOffset} does that.
 *
 * <p>Not thread-safe and not tied to the buffer: the fields are a copy taken by the last successful
 * {@link #read}; keep one instance per handler (or per loop) and reuse it. Allocates nothing.
 */
public final class Ipv6Header {
    private long w0; // version, traffic class, flow label, payload length, next header, hop limit
    private long srcHi;
    private long srcLo;
    private long dstHi;
    private long dstLo;

    /**
     * Loads the fixed header at absolute index {@code off}; false (fields unchanged) if its 40 bytes are not within
     * {@code [0, writerIndex())}. Does not move indices; a released buffer throws as its getters do.
     */
    public boolean read(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, Ipv6.HEADER_LENGTH)) {
            return false;
        }
        w0 = buf.getLong(off);
        srcHi = buf.getLong(off + 8);
        srcLo = buf.getLong(off + 16);
        dstHi = buf.getLong(off + 24);
        dstLo = buf.getLong(off + 32);
        return true;
    }

    /** Version nibble (6 for IPv6). */
    public int version() {
        return (int) (w0 >>> 60);
    }

    /** Traffic class octet. */
    public int trafficClass() {
        return (int) (w0 >>> 52) & 0xFF;
    }

    /** Flow label (20 bits). */
    public int flowLabel() {
        return (int) (w0 >>> 32) & 0xF_FFFF;
    }

    /** Payload length field (bytes after the fixed header). */
    public int payloadLength() {
        return (int) (w0 >>> 16) & 0xFFFF;
    }

    /** Next header ({@link IpProtocol}, or an extension header type). */
    public int nextHeader() {
        return (int) (w0 >>> 8) & 0xFF;
    }

    /** Hop limit. */
    public int hopLimit() {
        return (int) w0 & 0xFF;
    }

    /** Upper 64 bits of the source address. */
    public long srcHi() {
        return srcHi;
    }

    /** Lower 64 bits of the source address. */
    public long srcLo() {
        return srcLo;
    }

    /** Upper 64 bits of the destination address. */
    public long dstHi() {
        return dstHi;
    }

    /** Lower 64 bits of the destination address. */
    public long dstLo() {
        return dstLo;
    }
}

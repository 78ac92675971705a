package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

/**
 * The 14-byte Ethernet header of one frame, read at once: a reusable, mutable view for code that needs several
 * fields of the same header (a switch reads destination, source and type of every frame).
 *
 * <p>{@link #read} checks the bounds once and loads the header in two 8-byte reads; the accessors then cost no
 * buffer access at all. The per-field static accessors of {@link Ethernet} do one bounds test and one
 * {@code ByteBuf} read per field instead; on direct buffers without {@code Unsafe} (JDK 25's default) each
 * {@code ByteBuf} read carries Netty's capacity and reference-count checks and a {@code ByteBuffer} access, which
 * is what this view saves (see the benchmarks README, "Wire accessors side by side").
 *
 * <p>Not thread-safe and not tied to the buffer: the fields are a copy taken by the last successful
 * {@link #read}; keep one instance per handler (or per loop) and reuse it. Allocates nothing.
 */
public final class EthernetHeader {
    private long w0; // bytes 0..7: destination (6), source (first 2)
    private long w6; // bytes 6..13: source (6), type (2)

    /**
     * Loads the header of the frame at absolute index {@code off}; false (fields unchanged) if the 14 bytes are
     * not within {@code [0, writerIndex())}. Does not move indices; a released buffer throws as its getters do.
     */
    public boolean read(ByteBuf buf, int off) {
        if (!Bounds.has(buf, off, Ethernet.HEADER_LENGTH)) {
            return false;
        }
        w0 = buf.getLong(off);
        w6 = buf.getLong(off + Ethernet.SRC_OFFSET);
        return true;
    }

    /** Destination address (low 48 bits). */
    public long dst() {
        return w0 >>> 16;
    }

    /** Source address (low 48 bits). */
    public long src() {
        return w6 >>> 16;
    }

    /** The outer type field: an EtherType, or a TPID ({@link Ethernet#isTagType}) if tagged. */
    public int etherType() {
        return (int) w6 & 0xFFFF;
    }
}

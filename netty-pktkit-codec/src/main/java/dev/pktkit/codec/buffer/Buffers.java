package dev.pktkit.codec.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Ownership helpers for devices that rewrite packets in place (TTL, NAT, MAC rewrite).
 *
 * <p>A hub that floods sends {@code retainedDuplicate()}s that share memory; a device that received one of them
 * must not write into it, or every other receiver sees the change. {@link #exclusive} hands back a buffer the
 * caller may modify: the same one when nobody else can see its memory, otherwise a copy.
 */
public final class Buffers {
    private Buffers() {
    }

    /**
     * Whether {@code buf}'s readable bytes are seen by no other holder: its reference count is 1 and so is that
     * of every buffer it derives from, and it is writable.
     */
    public static boolean isExclusive(ByteBuf buf) {
        if (buf.isReadOnly()) {
            return false;
        }
        for (ByteBuf b = buf; b != null; b = b.unwrap()) {
            if (b.refCnt() != 1) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns {@code buf} if {@link #isExclusive exclusive}, else a copy of its readable bytes from {@code alloc}
     * (releasing {@code buf}). Either way the caller owns the result and may modify its readable bytes.
     */
    public static ByteBuf exclusive(ByteBuf buf, ByteBufAllocator alloc) {
        if (isExclusive(buf)) {
            return buf;
        }
        int len = buf.readableBytes();
        ByteBuf copy = alloc.buffer(len);
        try {
            copy(buf, buf.readerIndex(), copy, 0, len);
            copy.writerIndex(len);
        } catch (RuntimeException e) {
            copy.release();
            throw e;
        }
        buf.release();
        return copy;
    }

    /**
     * Up to this many bytes, {@link #copy} moves 8 bytes at a time through the buffers' own getters and setters
     * into direct memory instead of a bulk {@code setBytes}.
     */
    public static final int WORD_COPY_MAX = 2048;

    /**
     * Copies {@code len} bytes from {@code src} at {@code srcIndex} to {@code dst} at {@code dstIndex} (absolute
     * indices; neither buffer's indices move), allocating nothing for a packet-sized copy into direct memory.
     *
     * <p>Why not {@code dst.setBytes(dstIndex, src, srcIndex, len)}: the buffers of Netty 4.2's default allocator
     * ({@code AdaptiveByteBufAllocator}) serve every bulk copy into direct memory through an NIO view of their
     * chunk that each recycled buffer creates anew on its first bulk copy (two {@code ByteBuffer} objects, 128 B),
     * with or without {@code Unsafe}. Up to {@link #WORD_COPY_MAX} bytes into a buffer without a backing array are
     * therefore copied with {@code getLong}/{@code setLong} (then the tail); heap destinations and longer copies
     * use {@code setBytes}.
     */
    public static void copy(ByteBuf src, int srcIndex, ByteBuf dst, int dstIndex, int len) {
        if (dst.hasArray() || len > WORD_COPY_MAX) {
            dst.setBytes(dstIndex, src, srcIndex, len);
            return;
        }
        int i = 0;
        for (int words = len & ~7; i < words; i += 8) {
            dst.setLong(dstIndex + i, src.getLong(srcIndex + i));
        }
        if (len - i >= 4) {
            dst.setInt(dstIndex + i, src.getInt(srcIndex + i));
            i += 4;
        }
        for (; i < len; i++) {
            dst.setByte(dstIndex + i, src.getByte(srcIndex + i));
        }
    }
}

package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.codec.wire.Checksums;
import io.netty.buffer.ByteBuf;

/**
 * Copies between direct buffers that allocate nothing on JDK 24+ defaults.
 *
 * <p>Without {@code sun.misc.Unsafe} (the JDK 24+ default, {@code --sun-misc-unsafe-memory-access} not
 * {@code allow}), Netty serves a bulk copy out of or into a direct buffer ({@code getBytes}, {@code setBytes},
 * {@code writeBytes}) through a {@code ByteBuffer} duplicate of its memory made per call (64 B; 128 with the
 * adaptive allocator). Here packet-sized direct copies go 8 bytes at a time through {@code getLong}/{@code setLong};
 * with {@code Unsafe} (or for heap buffers, or copies over {@link #WORD_COPY_MAX}) the bulk paths are used, which
 * then allocate nothing.
 *
 * <p>The copy is codec's {@link Buffers#copy}; the allocation-free checksum is codec's {@link Checksums#partial}
 * (which sums direct buffers in place when Netty has no {@code Unsafe}), used by the engine directly.
 */
public final class DirectBytes {
    /** Copies up to this many bytes into direct memory word by word; longer ones use the bulk copy. */
    public static final int WORD_COPY_MAX = Buffers.WORD_COPY_MAX;

    private DirectBytes() {
    }

    /**
     * Copies {@code len} bytes from {@code src} at {@code srcIndex} to {@code dst} at {@code dstIndex} (absolute
     * indices; no index of either buffer moves): codec's {@link Buffers#copy}.
     */
    public static void copy(ByteBuf src, int srcIndex, ByteBuf dst, int dstIndex, int len) {
        Buffers.copy(src, srcIndex, dst, dstIndex, len);
    }

    /** Appends {@code len} bytes of {@code src} from {@code srcIndex} to {@code dst} (its writer index moves). */
    public static void append(ByteBuf src, int srcIndex, ByteBuf dst, int len) {
        dst.ensureWritable(len);
        int w = dst.writerIndex();
        copy(src, srcIndex, dst, w, len);
        dst.writerIndex(w + len);
    }
}

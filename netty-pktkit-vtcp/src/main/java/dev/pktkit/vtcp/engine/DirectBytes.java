package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.codec.wire.Checksums;
import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;

/**
 * Copies and checksums between direct buffers that allocate nothing on JDK 24+ defaults.
 *
 * <p>Without {@code sun.misc.Unsafe} (the JDK 24+ default, {@code --sun-misc-unsafe-memory-access} not
 * {@code allow}), Netty serves a bulk copy out of or into a direct buffer ({@code getBytes}, {@code setBytes},
 * {@code writeBytes}) through a {@code ByteBuffer} duplicate of its memory made per call (64 B; 128 with the
 * adaptive allocator, whose recycled buffers also make their NIO view anew). The codec's
 * {@code Checksums.partial} reads a direct buffer of 128 bytes or more through such a bulk copy into a scratch
 * array. Together they cost about 310 B per segment through the engine. Here packet-sized direct copies go 8 bytes
 * at a time through {@code getLong}/{@code setLong}, and direct checksums sum {@code getLong} words in place; with
 * {@code Unsafe} (or for heap buffers, or copies over {@link #WORD_COPY_MAX}) the bulk paths are used, which then
 * allocate nothing.
 *
 * <p>The copy is codec's {@link Buffers#copy}. The checksum stays here for now: codec's {@code Checksums.partial}
 * copies direct ranges into a scratch array because that is faster without {@code Unsafe}, at the price of the
 * allocation above; the engine takes the allocation-free sum at about 0.8 times the speed. Moving that choice
 * into codec waits for a measurement of every codec caller.
 */
public final class DirectBytes {
    /** Whether Netty's bulk paths for direct memory allocate nothing (they use Unsafe). */
    static final boolean BULK_OK = PlatformDependent.hasUnsafe();
    /** Copies up to this many bytes into direct memory word by word; longer ones use the bulk copy. */
    public static final int WORD_COPY_MAX = Buffers.WORD_COPY_MAX;
    private static final long LOW32 = 0xFFFF_FFFFL;

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

    /**
     * {@code Checksums.partial}: the one's-complement running sum of {@code len} bytes at {@code off} added to
     * {@code initial}, to be finished with {@code Checksums.finish}; a direct buffer without {@code Unsafe} is
     * summed in place.
     */
    public static long partial(ByteBuf buf, int off, int len, long initial) {
        if (BULK_OK || buf.hasArray() || len < 128) {
            return Checksums.partial(buf, off, len, initial);
        }
        if (off < 0 || len < 0 || off > buf.capacity() - len) {
            throw new IndexOutOfBoundsException("checksum range " + off + "+" + len + " outside capacity "
                    + buf.capacity());
        }
        // 32-bit halves of big-endian 64-bit words: congruent mod 0xFFFF to the sum of their 16-bit words
        long sum = (initial >>> 32) + (initial & LOW32);
        int end = off + len;
        int i = off;
        while (end - i >= 8) {
            long w = buf.getLong(i);
            sum += (w >>> 32) + (w & LOW32);
            i += 8;
        }
        if (end - i >= 4) {
            sum += buf.getUnsignedInt(i);
            i += 4;
        }
        if (end - i >= 2) {
            sum += buf.getUnsignedShort(i);
            i += 2;
        }
        if (end - i == 1) {
            sum += buf.getUnsignedByte(i) << 8;
        }
        return sum;
    }
}

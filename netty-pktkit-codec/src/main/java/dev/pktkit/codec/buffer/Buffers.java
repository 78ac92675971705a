package dev.pktkit.codec.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.internal.MathUtil;

import java.nio.ReadOnlyBufferException;

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
     * into direct memory; longer copies take an allocation-free bulk route where the pair of buffers has one (it
     * was 2048 while the bulk copies allocated: at 1500 bytes the word copy measured 146 ns, Netty's bulk copy
     * 70 ns).
     */
    public static final int WORD_COPY_MAX = 256;

    /**
     * Netty 4.2's adaptive allocator's buffer class ({@code AdaptivePoolingAllocator.AdaptiveByteBuf}), or null if
     * this Netty has none: its bulk copies build an NIO view per buffer unless both sides are of this class.
     */
    static final Class<?> ADAPTIVE = adaptiveClass();

    /**
     * Whether Netty copies between direct buffers with {@code Unsafe.copyMemory}. Not the same as
     * {@code hasMemoryAddress()}: on JDK 25 Netty reports memory addresses without using {@code Unsafe}.
     */
    private static final boolean UNSAFE = io.netty.util.internal.PlatformDependent.hasUnsafe();

    private static Class<?> adaptiveClass() {
        try {
            return Class.forName("io.netty.buffer.AdaptivePoolingAllocator$AdaptiveByteBuf", false,
                    ByteBuf.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    /**
     * Copies {@code len} bytes from {@code src} at {@code srcIndex} to {@code dst} at {@code dstIndex} (absolute
     * indices; neither buffer's indices move), allocating nothing with Netty's pooled (adaptive and classic),
     * unpooled and composite buffers (measured on JDK 25 without {@code Unsafe}; with it the routes are Netty's
     * {@code copyMemory} or the same ones).
     *
     * <p>Why not simply {@code dst.setBytes(dstIndex, src, srcIndex, len)}: without {@code Unsafe} (the JDK 24+
     * default) Netty copies between direct buffers through {@code ByteBuffer} views, and only some pairs reuse a
     * view they keep: a pooled ({@code PooledByteBufAllocator}) destination reuses its chunk's cached view, and two
     * buffers of the adaptive allocator (Netty 4.2's default) copy between their chunks' views with an absolute
     * {@code put}; any other pair makes a view of the source (64 B) per call, and an adaptive destination builds
     * its own view (two {@code ByteBuffer}s, 128 B) anew after every recycling. So:
     * <ul>
     *   <li>into direct memory, up to {@link #WORD_COPY_MAX} bytes: 8 bytes at a time with
     *       {@code getLong}/{@code setLong} (then the tail);</li>
     *   <li>longer, from a heap source: {@code setBytes(int, byte[], int, int)} (an absolute put into the
     *       destination's kept view);</li>
     *   <li>longer, with {@code Unsafe} and both with memory addresses: Netty's bulk copy ({@code copyMemory});</li>
     *   <li>longer, both of the adaptive allocator (directly, or duplicates, slices or wrappers of such buffers,
     *       their offset in it found from the memory addresses): Netty's bulk copy between the chunks' views, on
     *       the underlying adaptive buffers;</li>
     *   <li>longer, into any other direct buffer that keeps its view (pooled, unpooled; not adaptive, not
     *       composite): {@code src.getBytes(srcIndex, dst, dstIndex, len)}, which puts into that view from the
     *       source's memory without a view of the source;</li>
     *   <li>into a heap buffer: from a heap source an array copy, from any other 8 bytes at a time;</li>
     *   <li>everything else (an adaptive or composite destination with a source of another kind): 8 bytes at a
     *       time.</li>
     * </ul>
     * The source's memory is only read (no view of it changes position), so other threads may read duplicates of
     * it meanwhile.
     *
     * @throws IndexOutOfBoundsException if a range is outside its buffer's capacity
     * @throws io.netty.util.IllegalReferenceCountException if a buffer is released
     * @throws ReadOnlyBufferException if {@code dst} is read-only (checked first: the routes that unwrap a buffer
     *         to its adaptive base would otherwise write through a read-only wrapper)
     */
    public static void copy(ByteBuf src, int srcIndex, ByteBuf dst, int dstIndex, int len) {
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        if (dst.hasArray()) {
            if (src.hasArray()) {
                checkRange(src, srcIndex, len);
                dst.setBytes(dstIndex, src.array(), src.arrayOffset() + srcIndex, len);
            } else {
                wordCopy(src, srcIndex, dst, dstIndex, len);
            }
            return;
        }
        if (len > WORD_COPY_MAX) {
            if (src.hasArray()) {
                checkRange(src, srcIndex, len);
                dst.setBytes(dstIndex, src.array(), src.arrayOffset() + srcIndex, len);
                return;
            }
            if (UNSAFE && src.hasMemoryAddress() && dst.hasMemoryAddress()) {
                src.getBytes(srcIndex, dst, dstIndex, len);
                return;
            }
            ByteBuf s = adaptiveBase(src);
            ByteBuf d = s == null ? null : adaptiveBase(dst);
            if (d != null) {
                long so = offsetIn(s, src);
                long dOff = offsetIn(d, dst);
                if (so >= 0 && dOff >= 0) {
                    if (s != src) {
                        checkRange(src, srcIndex, len);
                    }
                    if (d != dst) {
                        checkRange(dst, dstIndex, len);
                    }
                    d.setBytes(dstIndex + (int) dOff, s, srcIndex + (int) so, len);
                    return;
                }
            }
            if (!buildsViews(dst)) {
                src.getBytes(srcIndex, dst, dstIndex, len);
                return;
            }
        }
        wordCopy(src, srcIndex, dst, dstIndex, len);
    }

    /**
     * Appends {@code len} bytes of {@code src} from absolute index {@code srcIndex} at {@code dst}'s writer index
     * (growing it if needed; its writer index moves by {@code len}, nothing of {@code src} moves), with
     * {@link #copy}.
     */
    public static void append(ByteBuf src, int srcIndex, ByteBuf dst, int len) {
        dst.ensureWritable(len);
        int w = dst.writerIndex();
        copy(src, srcIndex, dst, w, len);
        dst.writerIndex(w + len);
    }

    private static void wordCopy(ByteBuf src, int srcIndex, ByteBuf dst, int dstIndex, int len) {
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

    /**
     * The adaptive allocator's buffer whose memory {@code b} is: {@code b} itself, or the buffer it wraps or derives
     * from (a duplicate, a slice, a leak-detection or read-only wrapper); null for any other kind or a composite.
     */
    private static ByteBuf adaptiveBase(ByteBuf b) {
        for (int depth = 0; b != null && depth < 8 && ADAPTIVE != null; depth++) {
            if (b.getClass() == ADAPTIVE) {
                return b;
            }
            if (b instanceof CompositeByteBuf) {
                return null;
            }
            b = b.unwrap();
        }
        return null;
    }

    /**
     * The index in {@code base} of {@code b}'s index 0, from their memory addresses (which Netty reports on JDK 25
     * without {@code Unsafe} too), or -1 if unknown or outside {@code base}.
     */
    private static long offsetIn(ByteBuf base, ByteBuf b) {
        if (b == base) {
            return 0;
        }
        if (!b.hasMemoryAddress() || !base.hasMemoryAddress()) {
            return -1;
        }
        long off = b.memoryAddress() - base.memoryAddress();
        return off >= 0 && off <= base.capacity() ? off : -1;
    }

    /**
     * Whether a bulk copy into {@code b} would build an NIO view for it: its memory is an adaptive allocator's
     * (anywhere down its chain of wrapped buffers), or it is composite (no single view).
     */
    private static boolean buildsViews(ByteBuf b) {
        for (int depth = 0; b != null && depth < 8; depth++) {
            if (b.getClass() == ADAPTIVE || b instanceof CompositeByteBuf) {
                return true;
            }
            b = b.unwrap();
        }
        return b != null; // deeper than we look: assume the worst
    }

    /** The checks Netty's own copy makes on a buffer we bypass: range within capacity, not released. */
    private static void checkRange(ByteBuf b, int index, int len) {
        if (MathUtil.isOutOfBounds(index, len, b.capacity())) {
            throw new IndexOutOfBoundsException("index " + index + " length " + len + " capacity " + b.capacity());
        }
        if (b.refCnt() == 0) {
            throw new IllegalReferenceCountException(0);
        }
    }
}

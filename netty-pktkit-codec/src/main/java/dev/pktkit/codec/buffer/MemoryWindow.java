package dev.pktkit.codec.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.GatheringByteChannel;
import java.util.Objects;

/**
 * Checked, allocation-free reads of several fields of one {@link ByteBuf}, as fast as a {@link ByteBuffer} held
 * across reads, on JDK 25's defaults (no {@code Unsafe}, no native access, no JVM flags).
 *
 * <p>A {@code ByteBuf} read on a direct buffer without {@code Unsafe} pays Netty's reference-count test, its
 * capacity test and a {@code ByteBuffer} access with its own checks, per read. A window does the
 * {@code ByteBuf}-level work once: {@link #open} tests the range against {@code writerIndex()} and the reference
 * count (through {@link ByteBuf#memoryAddress()}, which throws on a released buffer as every getter does), and
 * finds, by the buffer's memory address, a {@code ByteBuffer} over the memory Netty allocated it from (a pooled
 * chunk, or an adaptive allocator's slot), taken once per such region and kept in a JVM-wide table. The
 * {@code get*} methods then read that {@code ByteBuffer} at absolute indices: one range test against the opened
 * window and the {@code ByteBuffer}'s own limit and liveness checks, nothing else.
 *
 * <pre>{@code
 * private final MemoryWindow w = new MemoryWindow();     // a field of the handler: one per event loop
 * ...
 * if (w.open(pkt, off, 20)) {                            // false: the 20 bytes are not within [0, writerIndex())
 *     long a = w.getLong(off), b = w.getLong(off + 8);
 *     int dst = w.getInt(off + 16);
 * }
 * }</pre>
 *
 * <p>Which memory it reads:
 * <ul>
 *   <li><b>Heap buffers</b> (pooled or unpooled): the backing array, through a big-endian {@link VarHandle} (one
 *       array bounds check per read).</li>
 *   <li><b>Direct buffers of Netty's allocators on JDK 25+ without {@code Unsafe}:</b> the region table above.
 *       There, Netty allocates direct memory from shared {@code Arena}s and frees it by closing them, so every
 *       {@code ByteBuffer} the table holds is scope-checked by the JDK: a read of freed memory throws
 *       {@code IllegalStateException} instead of touching it. {@link #open} also tests the region's scope is alive,
 *       so a region whose chunk was freed (and whose addresses a new chunk may reuse) is replaced, never read.
 *       This is the memory safety Netty's own getters have in that mode; a region's memory in the JDK's global
 *       scope (never freed through the JDK) is refused.</li>
 *   <li><b>Everything else</b> reads through the buffer's own getters, exactly as before: composite buffers,
 *       wrapped {@code ByteBuffer}s without an address, buffers of other libraries, and every direct buffer when
 *       Netty runs with {@code Unsafe} (its getters are then already at the floor and its memory is
 *       {@code malloc}'d, not scope-checked), when Netty's module has native access (Netty then allocates with
 *       {@code malloc} as well), on JDKs before 25, or with {@code -Dpktkit.memoryWindow=false}.
 *       {@link #route()} says which case holds in this JVM.</li>
 * </ul>
 *
 * <p>Limits: reads must lie inside the opened range (else {@link IndexOutOfBoundsException}); the window is valid
 * until the next {@link #open} and only while the caller holds its reference to the buffer; it is not thread-safe
 * (one per handler or per loop; the region table behind it is shared and safe). The table holds
 * {@value #DEFAULT_REGIONS} regions by default ({@code -Dpktkit.memoryWindow.regions=N}, a power of two); a buffer
 * whose region is not in it costs one lookup through the buffer ({@code getBytes} into a capturing channel: two
 * {@code ByteBuffer} duplicates, about 130 B) and then hits. A pooled allocator's chunk is one region (4 MiB by
 * default), an adaptive allocator's buffer slot is one region (its chunks are not reachable through Netty's
 * public API), so traffic that cycles through more slots than the table holds keeps allocating on misses.
 */
public final class MemoryWindow {
    /** Default number of regions in the JVM-wide table. */
    public static final int DEFAULT_REGIONS = 1024;

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private static final String ROUTE;
    private static final boolean REGIONS_ON;
    private static final Region[] TABLE;
    private static final int MASK;
    private static final Region[] WIDE = new Region[8];
    private static int wideNext; // racy round-robin: any slot will do
    private static final MethodHandle SCOPE_OF;    // (ByteBuffer)Object: MemorySegment.ofBuffer(b).scope(), JDK 22+
    private static final MethodHandle SCOPE_ALIVE; // (Object)boolean: MemorySegment.Scope.isAlive()
    private static final Object GLOBAL_SCOPE;      // Arena.global().scope()

    static {
        int n = Integer.getInteger("pktkit.memoryWindow.regions", DEFAULT_REGIONS);
        n = Integer.highestOneBit(Math.max(16, Math.min(n, 1 << 20)));
        TABLE = new Region[n];
        MASK = n - 1;
        MethodHandle scopeOf = null;
        MethodHandle alive = null;
        Object global = null;
        String why = null;
        if ("false".equals(System.getProperty("pktkit.memoryWindow"))) {
            why = "getters: disabled by -Dpktkit.memoryWindow=false";
        } else if (Runtime.version().feature() < 25) {
            why = "getters: JDK " + Runtime.version().feature() + " (Netty's direct memory is scope-checked from 25)";
        } else if (PlatformDependent.hasUnsafe()) {
            why = "getters: Netty uses Unsafe (its getters read memory directly)";
        } else if (nativeAccessEnabled(PlatformDependent.class)) {
            why = "getters: Netty's module has native access (Netty then allocates direct memory with malloc)";
        } else {
            try {
                MethodHandles.Lookup l = MethodHandles.publicLookup();
                Class<?> seg = Class.forName("java.lang.foreign.MemorySegment");
                Class<?> arena = Class.forName("java.lang.foreign.Arena");
                Class<?> scope = Class.forName("java.lang.foreign.MemorySegment$Scope");
                scopeOf = MethodHandles.filterReturnValue(
                        l.findStatic(seg, "ofBuffer", MethodType.methodType(seg, java.nio.Buffer.class)),
                        l.findVirtual(seg, "scope", MethodType.methodType(scope)))
                        .asType(MethodType.methodType(Object.class, ByteBuffer.class));
                alive = l.findVirtual(scope, "isAlive", MethodType.methodType(boolean.class))
                        .asType(MethodType.methodType(boolean.class, Object.class));
                global = l.findVirtual(arena, "scope", MethodType.methodType(scope))
                        .invoke(l.findStatic(arena, "global", MethodType.methodType(arena)).invoke());
            } catch (Throwable t) {
                why = "getters: java.lang.foreign unavailable (" + t + ")";
            }
        }
        REGIONS_ON = why == null;
        ROUTE = why == null ? "regions: direct buffers of Netty's allocators are read through scope-checked ByteBuffers"
                : why;
        SCOPE_OF = why == null ? scopeOf : null;
        SCOPE_ALIVE = why == null ? alive : null;
        GLOBAL_SCOPE = why == null ? global : null;
    }

    /**
     * A direct {@code ByteBuffer} whose index 0 is at address {@code base}; covers {@code [base, base + size)}; its
     * memory lives as long as {@code scope} is alive.
     */
    private static final class Region {
        final long base;
        final long size;
        final ByteBuffer view;
        final Object scope;

        Region(long base, ByteBuffer view, Object scope) {
            this.base = base;
            this.size = view.capacity();
            this.view = view;
            this.scope = scope;
        }

        /** Whether {@code [a, a + end)} lies inside. */
        boolean covers(long a, int end) {
            long rel = a - base;
            return rel >= 0 && rel <= size - end;
        }

        boolean alive() {
            try {
                return (boolean) SCOPE_ALIVE.invokeExact(scope);
            } catch (Throwable t) {
                return false;
            }
        }
    }

    // What the opened window reads: a region's ByteBuffer, a heap buffer's array, or the ByteBuf itself (getters).
    // One reference field, stored only when it changes: a reference store costs a GC write barrier, and in steady
    // state every buffer of a pooled chunk (or heap array) has the same target.
    private Object target;
    private int base; // index of the buffer's index 0 in target (0 for the getters)
    private int lo;
    private int hi;

    /** An unopened window; allocates nothing until a direct buffer's region is first met. */
    public MemoryWindow() {
    }

    /**
     * How this JVM reads direct buffers through windows: a line starting with {@code regions:} (the fast route) or
     * {@code getters:} (and why).
     */
    public static String route() {
        return ROUTE;
    }

    /** Whether direct buffers of Netty's allocators are read through the region table in this JVM. */
    public static boolean regionsEnabled() {
        return REGIONS_ON;
    }

    /**
     * Opens the window on {@code [off, off + len)} of {@code buf} (absolute indices). False, leaving the window as
     * it was, if that range is not within {@code [0, writerIndex())}. A released buffer throws Netty's
     * {@code IllegalReferenceCountException}, as its getters do. Moves no indices.
     */
    public boolean open(ByteBuf buf, int off, int len) {
        if (off < 0 || len < 0 || off > buf.writerIndex() - len) {
            return false;
        }
        int end = off + len;
        lo = off;
        hi = end;
        Object t;
        if (buf.hasArray()) {
            t = buf.array();
            base = buf.arrayOffset();
        } else {
            t = REGIONS_ON && buf.hasMemoryAddress() ? bind(buf, end) : null;
            if (t == null) {
                t = buf;
                base = 0;
            }
        }
        if (target != t) {
            target = t;
        }
        return true;
    }

    /** The region view for {@code buf} (and {@link #base} set), or null: read through the getters. */
    private ByteBuffer bind(ByteBuf buf, int end) {
        long a = buf.memoryAddress();
        Region r = TABLE[slot(a)];
        if (r == null || !r.covers(a, end) || !r.alive()) {
            r = fill(buf, a, end);
            if (r == null) {
                return null;
            }
        }
        base = (int) (a - r.base);
        return r.view;
    }

    /** The opened range: start (inclusive). */
    public int start() {
        return lo;
    }

    /** The opened range: end (exclusive). */
    public int end() {
        return hi;
    }

    /** Whether the last {@link #open} reads direct memory through the region table (for tests and diagnostics). */
    public boolean throughRegion() {
        return target instanceof ByteBuffer;
    }

    /** The big-endian long at absolute index {@code i} of the opened buffer. */
    public long getLong(int i) {
        Objects.checkFromIndexSize(i - lo, 8, hi - lo);
        Object t = target;
        if (t instanceof ByteBuffer b) {
            return b.getLong(base + i);
        }
        if (t instanceof byte[] a) {
            return (long) LONG.get(a, base + i);
        }
        return ((ByteBuf) t).getLong(i);
    }

    /** The big-endian int at absolute index {@code i} of the opened buffer. */
    public int getInt(int i) {
        Objects.checkFromIndexSize(i - lo, 4, hi - lo);
        Object t = target;
        if (t instanceof ByteBuffer b) {
            return b.getInt(base + i);
        }
        if (t instanceof byte[] a) {
            return (int) INT.get(a, base + i);
        }
        return ((ByteBuf) t).getInt(i);
    }

    /** The big-endian unsigned short at absolute index {@code i} of the opened buffer. */
    public int getUnsignedShort(int i) {
        Objects.checkFromIndexSize(i - lo, 2, hi - lo);
        Object t = target;
        if (t instanceof ByteBuffer b) {
            return b.getShort(base + i) & 0xFFFF;
        }
        if (t instanceof byte[] a) {
            return (short) SHORT.get(a, base + i) & 0xFFFF;
        }
        return ((ByteBuf) t).getUnsignedShort(i);
    }

    /** The unsigned byte at absolute index {@code i} of the opened buffer. */
    public int getUnsignedByte(int i) {
        Objects.checkIndex(i - lo, hi - lo);
        Object t = target;
        if (t instanceof ByteBuffer b) {
            return b.get(base + i) & 0xFF;
        }
        if (t instanceof byte[] a) {
            return a[base + i] & 0xFF;
        }
        return ((ByteBuf) t).getUnsignedByte(i);
    }

    private static int slot(long a) {
        long h = a * 0x9E37_79B9_7F4A_7C15L;
        return (int) (h >>> 40) & MASK;
    }

    /** Finds or makes the region of {@code buf}'s memory and enters it in the table; null: use the getters. */
    private static Region fill(ByteBuf buf, long a, int end) {
        for (int i = 0; i < WIDE.length; i++) {
            Region w = WIDE[i];
            if (w != null && w.covers(a, end)) {
                if (w.alive()) {
                    TABLE[slot(a)] = w;
                    return w;
                }
                WIDE[i] = null;
            }
        }
        // Only Netty's own buffers: on this route their direct memory is arena-allocated, hence scope-checked.
        if (!buf.getClass().getName().startsWith("io.netty.buffer.") || buf.capacity() < 1) {
            return null;
        }
        Capture c = new Capture();
        try {
            buf.getBytes(0, c, 1);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        ByteBuffer seen = c.seen;
        if (seen == null || !seen.isDirect() || seen.remaining() != 1) {
            return null;
        }
        int pos = seen.position();
        ByteBuffer view = seen.duplicate().clear().order(ByteOrder.BIG_ENDIAN);
        Object scope;
        try {
            scope = SCOPE_OF.invokeExact(view);
        } catch (Throwable t) {
            return null;
        }
        // The global scope is memory nobody frees through the JDK (malloc'd, or mapped by someone else): not ours.
        if (scope == null || scope.equals(GLOBAL_SCOPE) || view.get(pos) != buf.getByte(0)) {
            return null;
        }
        Region r = new Region(a - pos, view, scope);
        if (!r.covers(a, end) || !r.alive()) {
            return null;
        }
        TABLE[slot(a)] = r;
        if (r.size > buf.capacity()) { // wider than this buffer (a pooled chunk): other buffers will fall in it
            WIDE[(wideNext++) & (WIDE.length - 1)] = r;
        }
        return r;
    }

    /** Receives the {@code ByteBuffer} a buffer's {@code getBytes(int, GatheringByteChannel, int)} writes from. */
    private static final class Capture implements GatheringByteChannel {
        ByteBuffer seen;

        @Override
        public int write(ByteBuffer src) {
            if (seen == null) {
                seen = src;
            }
            return 0;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            if (length > 0 && seen == null) {
                seen = srcs[offset];
            }
            return 0;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static boolean nativeAccessEnabled(Class<?> c) {
        try {
            MethodHandle m = MethodHandles.publicLookup().findVirtual(Module.class, "isNativeAccessEnabled",
                    MethodType.methodType(boolean.class));
            return (boolean) m.invoke(c.getModule());
        } catch (Throwable t) {
            return true; // cannot tell: do not take the region route
        }
    }
}

package dev.pktkit.afxdp;

import dev.pktkit.linux.LibC;
import dev.pktkit.linux.LinuxException;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A UMEM: one anonymous, populated memory mapping cut into equal chunks, which the kernel fills with received
 * frames and reads frames to send from. The first {@link XdpChannel} opened on it registers it with the kernel
 * ({@code XDP_UMEM_REG}); later channels, on other queues or interfaces, bind with {@code XDP_SHARED_UMEM} to
 * that first socket and bring their own fill and completion rings (several sockets sharing one UMEM across
 * queues). Each channel reserves a range of chunks of its own at open (its fill-ring chunks, the chunks it may
 * lend to the pipeline, and its TX chunks), so channels on different event loops never share a free list.
 *
 * <h2>Life</h2>
 * Reference-counted: the creator holds one reference ({@link #close()} drops it), every channel opened on it one
 * more, dropped when the channel has closed <em>and</em> every frame it lent to the pipeline has been released.
 * The mapping is unmapped when the last reference goes, exactly once ({@link #unmapCount()}), so a frame buffer
 * the application still holds never points into unmapped memory.
 *
 * <p>Thread-safe.
 */
public final class Umem implements AutoCloseable {
    /** Default chunk size: one 1514-byte frame and the kernel's headroom fit. */
    public static final int DEFAULT_CHUNK_SIZE = 2048;

    private final MemorySegment area;
    private final int chunkSize;
    private final int chunkCount;
    private final AtomicInteger refs = new AtomicInteger(1);
    private final AtomicInteger unmaps = new AtomicInteger();
    private int nextChunk;
    /** The socket that registered this UMEM, -1 before; later sockets share through it. */
    private int ownerFd = -1;
    /** Whether the registering socket bound with need-wakeup: sockets sharing the UMEM inherit its bind flags. */
    private boolean ownerNeedWakeup;
    private boolean closedByCreator;

    private Umem(MemorySegment area, int chunkSize, int chunkCount) {
        this.area = area;
        this.chunkSize = chunkSize;
        this.chunkCount = chunkCount;
    }

    /**
     * Maps {@code chunkCount} chunks of {@code chunkSize} bytes (a power of two from 2048 to the page size:
     * the kernel's aligned mode).
     *
     * @throws LinuxException if the mapping fails (out of memory, locked-memory limit)
     */
    public static Umem allocate(int chunkSize, int chunkCount) {
        if (Integer.bitCount(chunkSize) != 1 || chunkSize < 2048 || chunkSize > 4096) {
            throw new IllegalArgumentException("chunk size must be 2048 or 4096 (aligned mode): " + chunkSize);
        }
        if (chunkCount < 2) {
            throw new IllegalArgumentException("at least two chunks: " + chunkCount);
        }
        long length = (long) chunkSize * chunkCount;
        long addr = LinuxException.check(LibC.mmap(length, LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_POPULATE, -1, 0), "mapping a UMEM of " + length
                + " bytes");
        return new Umem(MemorySegment.ofAddress(addr).reinterpret(length), chunkSize, chunkCount);
    }

    /** The mapped memory. */
    public MemorySegment area() {
        return area;
    }

    /** Bytes per chunk. */
    public int chunkSize() {
        return chunkSize;
    }

    /** Chunks in the UMEM. */
    public int chunkCount() {
        return chunkCount;
    }

    /** Chunks not yet reserved by a channel. */
    public synchronized int unreservedChunks() {
        return chunkCount - nextChunk;
    }

    /** How many times the mapping was unmapped: 0 while in use, 1 after; never more. */
    public int unmapCount() {
        return unmaps.get();
    }

    /** Whether the mapping is gone. */
    public boolean isFreed() {
        return unmaps.get() != 0;
    }

    /** Reserves {@code count} chunks for a channel, with a reference: the first chunk's index. */
    synchronized int reserve(int count) {
        if (closedByCreator && refs.get() == 0 || isFreed()) {
            throw new IllegalStateException("the UMEM is freed");
        }
        if (chunkCount - nextChunk < count) {
            throw new IllegalArgumentException("the UMEM has " + (chunkCount - nextChunk) + " unreserved chunks, "
                    + "a channel needs " + count + " (allocate a larger Umem or smaller rings)");
        }
        int first = nextChunk;
        nextChunk += count;
        refs.incrementAndGet();
        return first;
    }

    /** Gives back what a channel whose open failed reserved (if it was the last reservation) and its reference. */
    synchronized void unreserve(int first, int count) {
        if (first + count == nextChunk) {
            nextChunk = first;
        }
        release();
    }

    /** The socket that registered this UMEM, or -1 if none did yet (the caller then registers). */
    synchronized int ownerFd() {
        return ownerFd;
    }

    synchronized void registeredBy(int fd, boolean needWakeup) {
        ownerFd = fd;
        ownerNeedWakeup = needWakeup;
    }

    /** The need-wakeup mode of the registering socket, which a socket sharing the UMEM inherits. */
    synchronized boolean ownerNeedWakeup() {
        return ownerNeedWakeup;
    }

    /** The registering socket closed: later channels register a new UMEM with the kernel. */
    synchronized void ownerClosed(int fd) {
        if (ownerFd == fd) {
            ownerFd = -1;
        }
    }

    /** Drops one reference; unmaps on the last. */
    void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            if (unmaps.incrementAndGet() == 1) {
                LibC.munmap(area.address(), area.byteSize());
            }
        } else if (r < 0) {
            refs.incrementAndGet();
            throw new IllegalStateException("UMEM released more often than referenced");
        }
    }

    /** Drops the creator's reference (once; later calls do nothing): unmaps when no channel or frame uses it. */
    @Override
    public void close() {
        synchronized (this) {
            if (closedByCreator) {
                return;
            }
            closedByCreator = true;
        }
        release();
    }

    @Override
    public String toString() {
        return "Umem(" + chunkCount + " x " + chunkSize + " B" + (isFreed() ? ", freed)" : ")");
    }
}

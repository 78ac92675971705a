package dev.pktkit.afxdp;

import dev.pktkit.codec.stats.EnumCounters;
import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;
import dev.pktkit.linux.LinuxException;
import dev.pktkit.linux.Xsk;
import dev.pktkit.linux.netlink.RtNetlink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One AF_XDP socket with its rings and its share of a {@link Umem}: the setup ({@link #open}) and the data path
 * an {@link XdpChannel} drives on its event loop.
 *
 * <h2>Chunks</h2>
 * The socket owns {@code rxChunks + txChunks} consecutive chunks of the UMEM. An RX chunk is on the fill ring or
 * in the RX ring ({@code KERNEL}), on the free stack ({@code FREE}), or lent to the pipeline as an
 * {@link XdpFrameBuf} ({@code LENT}); at most {@code maxLent} are lent, past that a frame is copied into a
 * buffer of the allocator and its chunk goes straight back, so the fill ring never starves. A TX chunk is free or
 * with the kernel until its address comes back on the completion ring. A descriptor or completion that names a
 * chunk in the wrong state (or outside the socket's range, or overrunning its chunk) is counted and ignored,
 * which keeps the accounting right even against a confused peer.
 *
 * <h2>Threads</h2>
 * Everything but {@link #frameReleased} runs on the channel's loop. A frame released on another thread is put on
 * a lock-free return queue and the loop is asked, once per burst, to drain it.
 */
final class XdpSocket {
    static final int STATE_KERNEL = 0;
    static final int STATE_FREE = 1;
    static final int STATE_LENT = 2;
    /** An Ethernet header: a received frame shorter than this is a truncated descriptor. */
    static final int MIN_FRAME = 14;

    final int fd;
    final int queue;
    final String ifname;
    final boolean zeroCopy;
    final boolean needWakeupMode;
    private final Umem umem;
    private final int chunkSize;
    private final int chunkShift;
    private final long rxBase;
    private final long txBase;
    final int rxChunks;
    final int txChunks;
    final int maxLent;

    final XdpRing fill;
    final XdpRing completion;
    final XdpRing rx;
    final XdpRing tx;
    private final long[] ringMaps; // address, length pairs to unmap (none for rings over other memory)

    private final byte[] rxState;
    private final int[] rxFree;
    private int rxFreeTop;
    private final XdpFrameBuf[] frames;
    private final byte[] txState;
    private final int[] txFree;
    private int txFreeTop;
    /** The UMEM range of this socket's TX chunks as one buffer, for copying frames in. */
    private final ByteBuffer txView;
    private final MemorySegment txSegment;
    private int txPending;

    private final AtomicInteger lent = new AtomicInteger();
    private final ChunkReturnQueue returns;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final AtomicBoolean umemReleased = new AtomicBoolean();
    private volatile boolean closed;
    /** Set by the channel: runs a drain on the loop (null in tests: drained on the next batch). */
    volatile java.util.concurrent.Executor loop;
    private final Runnable drainTask = this::drainOnLoop;
    private final Xsk.Waker waker;
    private final Arena arena = Arena.ofShared();
    final EnumCounters<XdpCounter> counters;
    final XdpProgram ownProgram;
    final XdpAttachment ownAttachment;
    final XskMap map;
    private final boolean ownsUmem;
    private long lastOverruns;

    /** What {@link #receive} hands frames to. */
    interface FrameSink {
        void frame(ByteBuf frame);
    }

    XdpSocket(int fd, int queue, String ifname, boolean zeroCopy, boolean needWakeupMode, Umem umem,
              boolean ownsUmem, int firstChunk, XdpSocketConfig cfg, XdpRing fill, XdpRing completion, XdpRing rx,
              XdpRing tx, long[] ringMaps, ByteBufAllocator alloc, EnumCounters<XdpCounter> counters,
              XdpProgram ownProgram, XdpAttachment ownAttachment, XskMap map) {
        this.fd = fd;
        this.queue = queue;
        this.ifname = ifname;
        this.zeroCopy = zeroCopy;
        this.needWakeupMode = needWakeupMode;
        this.umem = umem;
        this.ownsUmem = ownsUmem;
        this.chunkSize = umem.chunkSize();
        this.chunkShift = Integer.numberOfTrailingZeros(chunkSize);
        this.maxLent = cfg.maxLent();
        this.rxChunks = cfg.ringSize() + cfg.maxLent();
        this.txChunks = cfg.ringSize();
        this.rxBase = (long) firstChunk * chunkSize;
        this.txBase = rxBase + (long) rxChunks * chunkSize;
        this.fill = fill;
        this.completion = completion;
        this.rx = rx;
        this.tx = tx;
        this.ringMaps = ringMaps;
        this.counters = counters;
        this.ownProgram = ownProgram;
        this.ownAttachment = ownAttachment;
        this.map = map;
        this.waker = new Xsk.Waker(arena);
        this.returns = new ChunkReturnQueue(rxChunks);
        MemorySegment area = umem.area();
        rxState = new byte[rxChunks];
        rxFree = new int[rxChunks];
        frames = new XdpFrameBuf[rxChunks];
        for (int i = 0; i < rxChunks; i++) {
            long off = rxBase + (long) i * chunkSize;
            MemorySegment chunk = area.asSlice(off, chunkSize);
            frames[i] = new XdpFrameBuf(alloc, chunk.asByteBuffer(), chunk.address(), this, i);
            rxState[i] = STATE_FREE;
            rxFree[rxFreeTop++] = rxChunks - 1 - i; // lowest chunk on top
        }
        txState = new byte[txChunks];
        txFree = new int[txChunks];
        for (int i = 0; i < txChunks; i++) {
            txState[i] = STATE_FREE;
            txFree[txFreeTop++] = txChunks - 1 - i;
        }
        txSegment = area.asSlice(txBase, (long) txChunks * chunkSize);
        txView = txSegment.asByteBuffer();
        refill();
    }

    // ---- setup ----

    /** Sets the socket up on the calling thread (which must be in the interface's namespace). */
    static XdpSocket open(XdpSocketConfig cfg, ByteBufAllocator alloc, EnumCounters<XdpCounter> counters) {
        int ifindex;
        try (RtNetlink nl = RtNetlink.open()) {
            var link = nl.findLink(cfg.ifname());
            if (link.isEmpty()) {
                throw new XdpException(XdpException.Reason.NO_SUCH_DEVICE, "no interface " + cfg.ifname(), 0, null);
            }
            ifindex = link.get().index();
        }
        int fd = Xsk.socket();
        if (fd < 0) {
            throw XdpException.of("socket(AF_XDP)", fd);
        }
        boolean ownsUmem = cfg.umem() == null;
        Umem umem = ownsUmem ? Umem.allocate(Umem.DEFAULT_CHUNK_SIZE, cfg.chunksNeeded()) : cfg.umem();
        int firstChunk = -1;
        long[] maps = new long[8];
        XdpProgram program = null;
        XdpAttachment attachment = null;
        boolean registered = false;
        try {
            firstChunk = umem.reserve(cfg.chunksNeeded());
            int owner = umem.ownerFd();
            if (owner < 0) {
                check(Xsk.registerUmem(fd, umem.area().address(), umem.area().byteSize(), umem.chunkSize(), 0),
                        "XDP_UMEM_REG");
                registered = true;
            }
            int n = cfg.ringSize();
            check(Xsk.setRingSize(fd, Xsk.XDP_UMEM_FILL_RING, n), "XDP_UMEM_FILL_RING");
            check(Xsk.setRingSize(fd, Xsk.XDP_UMEM_COMPLETION_RING, n), "XDP_UMEM_COMPLETION_RING");
            check(Xsk.setRingSize(fd, Xsk.XDP_RX_RING, n), "XDP_RX_RING");
            check(Xsk.setRingSize(fd, Xsk.XDP_TX_RING, n), "XDP_TX_RING");
            Xsk.MmapOffsets off = Xsk.mmapOffsets(fd);
            XdpRing fill = mapRing(fd, off.fill(), Xsk.XDP_UMEM_PGOFF_FILL_RING, n, 8, true, maps, 0);
            XdpRing comp = mapRing(fd, off.completion(), Xsk.XDP_UMEM_PGOFF_COMPLETION_RING, n, 8, false, maps, 2);
            XdpRing rx = mapRing(fd, off.rx(), Xsk.XDP_PGOFF_RX_RING, n, 16, false, maps, 4);
            XdpRing tx = mapRing(fd, off.tx(), Xsk.XDP_PGOFF_TX_RING, n, 16, true, maps, 6);
            int flags = cfg.needWakeup() ? Xsk.XDP_USE_NEED_WAKEUP : 0;
            flags |= switch (cfg.bindMode()) {
                case COPY -> Xsk.XDP_COPY;
                case ZERO_COPY -> Xsk.XDP_ZEROCOPY;
                case AUTO -> 0;
            };
            boolean needWakeup = cfg.needWakeup();
            if (owner >= 0) {
                // a socket sharing a UMEM may not give bind flags: it inherits the registering socket's mode
                flags = Xsk.XDP_SHARED_UMEM;
                needWakeup = umem.ownerNeedWakeup();
            }
            int b = Xsk.bind(fd, ifindex, cfg.queue(), flags, owner);
            if (b < 0) {
                if (cfg.bindMode() == XdpBindMode.ZERO_COPY && (b == -Errno.EOPNOTSUPP || b == -Errno.EINVAL
                        || b == -Errno.EPROTONOSUPPORT)) {
                    throw new XdpException(XdpException.Reason.ZERO_COPY_REFUSED, "the driver of " + cfg.ifname()
                            + " refused a zero-copy AF_XDP bind on queue " + cfg.queue() + " (" + Errno.name(-b)
                            + "); veth and generic-mode devices offer only copy mode: bind with "
                            + "XdpBindMode.COPY or AUTO", b, null);
                }
                throw XdpException.of("binding the AF_XDP socket to " + cfg.ifname() + " queue " + cfg.queue(), b);
            }
            if (registered) {
                umem.registeredBy(fd, needWakeup);
            }
            int opts = Xsk.options(fd);
            boolean zc = opts >= 0 && (opts & Xsk.XDP_OPTIONS_ZEROCOPY) != 0;
            XskMap map = cfg.xskMap();
            if (cfg.attachMode() != null) {
                program = XdpProgram.load(cfg.queue() + 1);
                map = program.xskMap();
            }
            if (map != null) {
                map.put(cfg.queue(), fd);
            }
            if (program != null) {
                attachment = program.attach(null, cfg.ifname(), cfg.attachMode());
            }
            return new XdpSocket(fd, cfg.queue(), cfg.ifname(), zc, needWakeup, umem, ownsUmem, firstChunk,
                    cfg, fill, comp, rx, tx, maps, alloc, counters, program, attachment, map);
        } catch (RuntimeException e) {
            if (attachment != null) {
                attachment.close();
            }
            if (program != null) {
                program.close();
            }
            unmapRings(maps);
            if (registered) {
                umem.ownerClosed(fd);
            }
            LibC.close(fd);
            if (firstChunk >= 0) {
                umem.unreserve(firstChunk, cfg.chunksNeeded());
            }
            if (ownsUmem) {
                umem.close();
            }
            throw e;
        }
    }

    private static void check(int r, String what) {
        if (r < 0) {
            throw XdpException.of(what, r);
        }
    }

    private static XdpRing mapRing(int fd, Xsk.RingOffsets off, long pgoff, int entries, int entrySize,
                                   boolean producer, long[] maps, int slot) {
        long length = off.desc() + (long) entries * entrySize;
        long addr = LinuxException.check(LibC.mmap(length, LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_SHARED | LibC.MAP_POPULATE, fd, pgoff), "mapping an AF_XDP ring");
        maps[slot] = addr;
        maps[slot + 1] = length;
        MemorySegment m = MemorySegment.ofAddress(addr).reinterpret(length);
        return new XdpRing(m, off.producer(), off.consumer(), off.flags(), off.desc(), entries, entrySize, producer);
    }

    private static void unmapRings(long[] maps) {
        if (maps == null) {
            return;
        }
        for (int i = 0; i < maps.length; i += 2) {
            if (maps[i] != 0) {
                LibC.munmap(maps[i], maps[i + 1]);
                maps[i] = 0;
            }
        }
    }

    // ---- receive ----

    /** Frames lent to the pipeline now. */
    int lent() {
        return lent.get();
    }

    /** RX chunks on the free stack (not with the kernel, not lent). */
    int rxFreeChunks() {
        return rxFreeTop;
    }

    /** TX chunks free. */
    int txFreeChunks() {
        return txFreeTop;
    }

    /** RX chunks the kernel holds (fill ring and RX ring). */
    int rxKernelChunks() {
        int n = 0;
        for (byte s : rxState) {
            if (s == STATE_KERNEL) {
                n++;
            }
        }
        return n;
    }

    /**
     * Takes up to {@code max} received frames off the RX ring and hands each to {@code sink} (lent in place, or
     * copied out past the lending bound); refills the fill ring. Returns how many descriptors were consumed.
     */
    int receive(int max, ByteBufAllocator alloc, FrameSink sink) {
        drainReturns();
        int n = rx.available(max);
        for (int i = 0; i < n; i++) {
            long addr = rx.address(i);
            int len = rx.length(i);
            int options = rx.options(i);
            long rel = addr - rxBase;
            int chunk = (int) (rel >> chunkShift);
            if (rel < 0 || chunk >= rxChunks || rxState[chunk] != STATE_KERNEL) {
                counters.increment(XdpCounter.DROPPED_BAD_DESCRIPTOR); // not ours to recycle
                continue;
            }
            int from = (int) (rel & (chunkSize - 1));
            if (len < MIN_FRAME) {
                counters.increment(XdpCounter.DROPPED_TRUNCATED_DESCRIPTOR);
                recycle(chunk);
                continue;
            }
            if (from + len > chunkSize || options != 0) {
                counters.increment(XdpCounter.DROPPED_BAD_DESCRIPTOR);
                recycle(chunk);
                continue;
            }
            counters.increment(XdpCounter.FRAMES_IN);
            counters.add(XdpCounter.BYTES_IN, len);
            XdpFrameBuf frame = frames[chunk].lend(from, from + len);
            if (lent.get() < maxLent) {
                rxState[chunk] = STATE_LENT;
                lent.incrementAndGet();
                sink.frame(frame);
            } else {
                ByteBuf copy = alloc.directBuffer(len);
                copy.writeBytes(frame, from, len);
                recycle(chunk);
                counters.increment(XdpCounter.FRAMES_COPIED_OUT);
                sink.frame(copy);
            }
        }
        if (n > 0) {
            rx.release(n);
        }
        refill();
        noteOverruns();
        return n;
    }

    private void recycle(int chunk) {
        rxState[chunk] = STATE_FREE;
        rxFree[rxFreeTop++] = chunk;
    }

    /** Puts free RX chunks on the fill ring; wakes the driver if it asked for that. */
    void refill() {
        if (closed || rxFreeTop == 0) {
            return;
        }
        int n = fill.free(rxFreeTop);
        for (int i = 0; i < n; i++) {
            int chunk = rxFree[--rxFreeTop];
            rxState[chunk] = STATE_KERNEL;
            fill.putAddress(i, rxBase + ((long) chunk << chunkShift));
        }
        if (n > 0) {
            fill.submit(n);
            if (needWakeupMode && fill.needsWakeup()) {
                counters.increment(XdpCounter.RX_WAKEUPS);
                waker.wakeRx(fd);
            }
        }
    }

    /** Any thread: the pipeline released a lent frame. */
    void frameReleased(XdpFrameBuf frame) {
        java.util.concurrent.Executor l = loop;
        if (closed) {
            lentReturned();
            return;
        }
        if (l instanceof io.netty.util.concurrent.EventExecutor e && e.inEventLoop()) {
            if (rxState[frame.chunk] == STATE_LENT) {
                recycle(frame.chunk);
            }
            lentReturned();
            return;
        }
        returns.offer(frame.chunk);
        lentReturned();
        if (l != null && drainScheduled.compareAndSet(false, true)) {
            try {
                l.execute(drainTask);
            } catch (java.util.concurrent.RejectedExecutionException ignored) {
                drainScheduled.set(false); // the loop is gone; the channel is closing
            }
        }
    }

    private void lentReturned() {
        if (lent.decrementAndGet() == 0 && closed) {
            releaseUmem();
        }
    }

    private void drainOnLoop() {
        drainScheduled.set(false);
        drainReturns();
        refill();
    }

    private void drainReturns() {
        for (int c; (c = returns.poll()) >= 0; ) {
            if (rxState[c] == STATE_LENT) {
                recycle(c);
            }
        }
    }

    private void noteOverruns() {
        long o = fill.overruns() + completion.overruns() + rx.overruns() + tx.overruns();
        if (o != lastOverruns) {
            counters.add(XdpCounter.RING_OVERRUNS, o - lastOverruns);
            lastOverruns = o;
        }
    }

    // ---- transmit ----

    /** What {@link #queueTx} did. */
    static final int TX_QUEUED = 0;
    static final int TX_NO_ROOM = 1;
    static final int TX_TOO_BIG = 2;
    static final int TX_TOO_SHORT = 3;

    /** Copies {@code frame}'s readable bytes into a free TX chunk and reserves a TX descriptor for it. */
    int queueTx(ByteBuf frame) {
        int len = frame.readableBytes();
        if (len > chunkSize) {
            return TX_TOO_BIG;
        }
        if (len < MIN_FRAME) {
            return TX_TOO_SHORT;
        }
        if (txFreeTop == 0) {
            reapCompletions();
            if (txFreeTop == 0) {
                return TX_NO_ROOM;
            }
        }
        if (tx.free(txPending + 1) < txPending + 1) {
            return TX_NO_ROOM;
        }
        int chunk = txFree[--txFreeTop];
        txState[chunk] = STATE_LENT;
        int off = chunk << chunkShift;
        ByteBuffer dst = txView;
        dst.limit(off + len).position(off);
        frame.getBytes(frame.readerIndex(), dst);
        tx.putDescriptor(txPending++, txBase + off, len);
        counters.increment(XdpCounter.FRAMES_OUT);
        counters.add(XdpCounter.BYTES_OUT, len);
        return TX_QUEUED;
    }

    /**
     * Publishes the queued TX descriptors and kicks the kernel if it needs that; returns 0, or the
     * {@code -errno} of a kick that says the device is gone.
     */
    int flushTx() {
        if (txPending > 0) {
            tx.submit(txPending);
            txPending = 0;
        }
        int r = 0;
        if (!needWakeupMode || tx.needsWakeup()) {
            // copy mode sends at most 32 frames per call and says EAGAIN while more are queued
            for (int i = 0, max = tx.size() / 32 + 2; i < max; i++) {
                counters.increment(XdpCounter.TX_WAKEUPS);
                r = waker.wakeTx(fd);
                if (r != -Errno.EAGAIN) {
                    break;
                }
            }
        }
        reapCompletions();
        noteOverruns();
        if (r == -Errno.ENXIO || r == -Errno.ENETDOWN || r == -Errno.ENODEV || r == -Errno.EBADF) {
            return r;
        }
        return 0;
    }

    /** Whether TX descriptors are with the kernel (their completions not yet seen). */
    boolean txOutstanding() {
        return txFreeTop < txChunks;
    }

    /** Takes sent chunks off the completion ring. */
    void reapCompletions() {
        int n = completion.available(txChunks);
        for (int i = 0; i < n; i++) {
            long rel = completion.address(i) - txBase;
            int chunk = (int) (rel >> chunkShift);
            if (rel < 0 || chunk >= txChunks || txState[chunk] != STATE_LENT) {
                counters.increment(XdpCounter.BAD_COMPLETIONS);
                continue;
            }
            txState[chunk] = STATE_FREE;
            txFree[txFreeTop++] = chunk;
        }
        if (n > 0) {
            completion.release(n);
        }
    }

    /** The kernel's own counters for this socket. */
    Xsk.Statistics statistics() {
        return Xsk.statistics(fd);
    }

    private static final int SO_ERROR = 4;

    /**
     * The socket's pending error ({@code getsockopt(SO_ERROR)}, which also clears it): 0, or the errno the kernel
     * left. The kernel sets {@code ENETDOWN} when the bound device unregisters (deleted, or moved to another
     * namespace) and unbinds the socket, after which poll reports nothing: this is how a receive-only socket
     * learns that its device is gone. A negative result is the {@code -errno} of the call itself.
     */
    int pendingError() {
        if (closed || fd < 0) {
            return 0;
        }
        try (Arena a = Arena.ofConfined()) {
            java.lang.foreign.MemorySegment v = a.allocate(java.lang.foreign.ValueLayout.JAVA_INT);
            int r = dev.pktkit.linux.LibC.getsockopt(fd, dev.pktkit.linux.LibC.SOL_SOCKET, SO_ERROR, v);
            return r < 0 ? r : v.get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
        }
    }

    // ---- close ----

    /**
     * On the loop, once: leaves the XSKMAP, detaches the channel's own program, unmaps the rings and closes the
     * socket. The UMEM reference goes when the last lent frame is back.
     */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        try {
            if (ownAttachment != null) {
                ownAttachment.close();
            }
            if (ownProgram != null) {
                ownProgram.close();
            } else if (map != null && fd >= 0) {
                map.remove(queue);
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        unmapRings(ringMaps);
        if (fd >= 0) {
            umem.ownerClosed(fd);
            LibC.close(fd);
        }
        if (lent.get() == 0) {
            releaseUmem();
        }
        if (failure != null) {
            throw failure;
        }
    }

    boolean isClosed() {
        return closed;
    }

    private void releaseUmem() {
        if (umemReleased.compareAndSet(false, true)) {
            umem.release();
            if (ownsUmem) {
                umem.close();
            }
            arena.close();
        }
    }
}

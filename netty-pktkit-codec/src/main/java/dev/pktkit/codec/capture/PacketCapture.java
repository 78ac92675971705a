package dev.pktkit.codec.capture;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.internal.ObjectUtil;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * A capture file being written from pipelines: open one, add its {@link #newHandler handlers} to any pipelines at
 * any positions, and {@link #close()} it to flush and close the file.
 *
 * <pre>{@code
 * try (PacketCapture capture = PacketCapture.pcapng(Path.of("lan.pcapng"), LinkType.ETHERNET)) {
 *     port1.pipeline().addFirst(capture.newHandler("port1"));
 *     port2.pipeline().addFirst(capture.newHandler("port2"));
 *     ...
 * }   // flushed and closed; drops, if any, in capture.packetsDropped()
 * }</pre>
 *
 * <p><b>Threads.</b> Handlers copy each packet (up to the snap length) into a pooled buffer from the channel's
 * allocator and append it to a lock-free queue bounded by {@linkplain Builder#maxQueuedPackets packets} and
 * {@linkplain Builder#maxQueuedBytes bytes}; one writer task drains the queue into the file and flushes when the
 * queue runs empty. The writer runs on a daemon thread this capture starts, or on an {@link Executor} you supply
 * (tasks for one capture never run concurrently). When the queue is full the packet is left out of the file and
 * counted in {@link #packetsDropped()}; the message itself always passes on. Handlers on any number of channels on
 * any event loops may share one capture.
 *
 * <p><b>Interfaces.</b> In pcapng each distinct handler name is one interface (an IDB with {@code if_name}, its
 * link type and {@code if_tsresol} 9), and records carry their direction in {@code epb_flags} unless turned off. A
 * classic pcap file has one link type and keeps neither names nor directions.
 *
 * <p><b>Ownership.</b> The capture owns the file or channel it writes and closes it. Handlers never take or
 * release the messages they see; the copies belong to the capture, which releases each once written or dropped.
 *
 * <p><b>Closing.</b> {@link #close()} stops recording (later packets pass without being recorded or counted),
 * writes what is queued, writes the IDB of every interface (also those that saw no packet), flushes, closes the
 * file, and waits for that: do not call it on an event loop; use {@link #closeAsync()} there. An unclosed capture
 * loses its queued tail. A write error stops the capture: later packets count as dropped, {@link #failure()}
 * reports it and {@code close()} throws it.
 */
public final class PacketCapture implements Closeable {
    /** Seconds the capture's own writer thread lingers without work before it ends (a new one starts on demand). */
    private static final long WRITER_IDLE_SECONDS = 10;

    private final CaptureFormat format;
    private final LinkType defaultLinkType;
    private final CaptureWriter writer;
    private final int snapLength;
    private final int maxQueuedPackets;
    private final long maxQueuedBytes;
    private final boolean recordDirection;
    private final LongSupplier clock;
    private final Executor executor;
    /** The executor this capture started, shut down on close; null when the user supplied one. */
    private final ExecutorService ownExecutor;

    private final Queue<CapturedPacket> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedPackets = new AtomicInteger();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drain;

    /** Serialises writer tasks on executors with several threads; never taken on an event loop. */
    private final ReentrantLock writerLock = new ReentrantLock();
    /** Interfaces in id order; guarded by itself. The writer writes IDBs from it lazily, in order. */
    private final List<PacketCaptureHandler> interfaces = new ArrayList<>();
    private final Map<String, PacketCaptureHandler> handlersByName = new HashMap<>();
    /** IDBs written so far; writer side only. */
    private int interfacesWritten;

    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    /** Set once close begins: handlers stop recording. */
    private volatile boolean closed;
    /** Set once the final drain is done: anything queued later is released, not written. */
    private volatile boolean terminated;
    private volatile IOException failure;

    private PacketCapture(Builder b, CaptureWriter writer, String threadName) {
        this.format = b.format;
        this.defaultLinkType = b.linkType;
        this.writer = writer;
        this.snapLength = b.snapLength;
        this.maxQueuedPackets = b.maxQueuedPackets;
        this.maxQueuedBytes = b.maxQueuedBytes;
        this.recordDirection = b.recordDirection;
        this.clock = b.clock != null ? b.clock : systemClock();
        if (b.executor != null) {
            this.executor = b.executor;
            this.ownExecutor = null;
        } else {
            ThreadPoolExecutor writerThread = new ThreadPoolExecutor(1, 1, WRITER_IDLE_SECONDS, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), task -> {
                        Thread t = new Thread(task, threadName);
                        t.setDaemon(true); // an unclosed capture must not keep the JVM alive
                        return t;
                    });
            writerThread.allowCoreThreadTimeOut(true); // no idle thread per quiet (or forgotten) capture
            this.ownExecutor = writerThread;
            this.executor = writerThread;
        }
    }

    /** A pcapng capture into {@code file} (created or truncated) with default settings. Blocking: opens the file. */
    public static PacketCapture pcapng(Path file, LinkType linkType) throws IOException {
        return builder(CaptureFormat.PCAPNG, linkType).open(file);
    }

    /** A classic pcap capture (microsecond timestamps) into {@code file} with default settings. Blocking. */
    public static PacketCapture pcap(Path file, LinkType linkType) throws IOException {
        return builder(CaptureFormat.PCAP, linkType).open(file);
    }

    /**
     * A builder for a capture in {@code format} whose handlers record {@code linkType} packets unless
     * {@link #newHandler(String, LinkType)} says otherwise (pcapng only).
     */
    public static Builder builder(CaptureFormat format, LinkType linkType) {
        return new Builder(format, linkType);
    }

    /** A handler recording under {@code interfaceName} with the capture's link type; see the two-argument form. */
    public PacketCaptureHandler newHandler(String interfaceName) {
        return newHandler(interfaceName, defaultLinkType);
    }

    /**
     * The handler for {@code interfaceName}: a new pcapng interface on first use of the name, the same
     * {@link io.netty.channel.ChannelHandler.Sharable sharable} handler on later calls. Does no I/O; safe on an
     * event loop (e.g. in a {@code ChannelInitializer}). Each distinct name is kept for the capture's life.
     *
     * @throws IllegalArgumentException the name is known with another link type, or a classic pcap capture is
     *                                  asked for a link type other than its own
     * @throws IllegalStateException    the capture is closed
     */
    public PacketCaptureHandler newHandler(String interfaceName, LinkType linkType) {
        ObjectUtil.checkNotNull(interfaceName, "interfaceName");
        ObjectUtil.checkNotNull(linkType, "linkType");
        if (format == CaptureFormat.PCAP && linkType != defaultLinkType) {
            throw new IllegalArgumentException("a pcap file has one link type, " + defaultLinkType + "; got "
                    + linkType + " (use pcapng for mixed link types)");
        }
        synchronized (interfaces) {
            if (closed) {
                throw new IllegalStateException("capture is closed");
            }
            PacketCaptureHandler existing = handlersByName.get(interfaceName);
            if (existing != null) {
                if (existing.linkType() != linkType) {
                    throw new IllegalArgumentException("interface " + interfaceName + " is "
                            + existing.linkType() + ", not " + linkType);
                }
                return existing;
            }
            int id = format == CaptureFormat.PCAP ? 0 : interfaces.size();
            PacketCaptureHandler handler = new PacketCaptureHandler(this, id, interfaceName, linkType);
            handlersByName.put(interfaceName, handler);
            interfaces.add(handler);
            return handler;
        }
    }

    public CaptureFormat format() {
        return format;
    }

    public int snapLength() {
        return snapLength;
    }

    /** Packets written to the file so far. */
    public long packetsWritten() {
        return written.sum();
    }

    /**
     * Packets seen by handlers but left out of the file: queue full, allocation failure, or after a write error.
     * Packets seen after {@link #close()} began are not counted.
     */
    public long packetsDropped() {
        return dropped.sum();
    }

    /** Packets waiting for the writer now. */
    public int packetsQueued() {
        return queuedPackets.get();
    }

    /** The write error that stopped this capture, or null. */
    public IOException failure() {
        return failure;
    }

    /** Called by handlers on their event loop: copies and queues, or drops and counts. Never throws. */
    void record(int interfaceId, CaptureDirection direction, ByteBuf msg, ByteBufAllocator alloc) {
        if (closed) {
            return;
        }
        if (failure != null) {
            dropped.increment();
            return;
        }
        long timestamp = clock.getAsLong();
        int originalLength = msg.readableBytes();
        int length = Math.min(originalLength, snapLength);
        if (!reserve(length)) {
            dropped.increment();
            return;
        }
        ByteBuf copy = null;
        try {
            copy = alloc.buffer(length, length);
            copy.writeBytes(msg, msg.readerIndex(), length); // absolute read: msg's indices stay as they are
        } catch (RuntimeException | OutOfMemoryError e) {
            if (copy != null) {
                copy.release();
            }
            unreserve(length);
            dropped.increment();
            return;
        }
        queue.offer(new CapturedPacket(interfaceId, timestamp,
                recordDirection ? direction : CaptureDirection.UNKNOWN, originalLength, copy));
        if (terminated) {
            releaseQueued(); // raced with the final drain: nobody else will look at the queue again
        } else {
            scheduleDrain();
        }
    }

    private boolean reserve(int length) {
        if (queuedPackets.incrementAndGet() > maxQueuedPackets) {
            queuedPackets.decrementAndGet();
            return false;
        }
        if (queuedBytes.addAndGet(length) > maxQueuedBytes) {
            unreserve(length);
            return false;
        }
        return true;
    }

    private void unreserve(int length) {
        queuedBytes.addAndGet(-length);
        queuedPackets.decrementAndGet();
    }

    private void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            try {
                executor.execute(drainTask);
            } catch (RejectedExecutionException e) {
                // The packets stay queued (bounded) for the next drain or for close().
                drainScheduled.set(false);
            }
        }
    }

    private void drain() {
        writerLock.lock();
        try {
            for (;;) {
                writeQueued();
                drainScheduled.set(false);
                // A producer that queued after writeQueued() saw drainScheduled true and did not schedule.
                if (queue.isEmpty() || !drainScheduled.compareAndSet(false, true)) {
                    return;
                }
            }
        } finally {
            writerLock.unlock();
        }
    }

    /** Writes every queued packet, then flushes; writer lock held. */
    private void writeQueued() {
        boolean any = false;
        CapturedPacket p;
        while ((p = queue.poll()) != null) {
            any = true;
            ByteBuf data = p.data();
            int length = data.readableBytes();
            try {
                if (failure == null && !terminated) {
                    writeInterfacesUpTo(p.interfaceId());
                    writer.writePacket(p.interfaceId(), p.timestampNanos(), p.direction(), data, p.originalLength());
                    written.increment();
                } else {
                    dropped.increment();
                }
            } catch (IOException | RuntimeException e) {
                fail(e);
                dropped.increment();
            } finally {
                data.release();
                unreserve(length);
            }
        }
        if (any && failure == null && !terminated) {
            try {
                writer.flush();
            } catch (IOException | RuntimeException e) {
                fail(e);
            }
        }
    }

    /** Writes the IDBs of interfaces up to {@code lastId} not yet written (pcapng); writer lock held. */
    private void writeInterfacesUpTo(int lastId) throws IOException {
        while (interfacesWritten <= lastId) {
            PacketCaptureHandler h;
            synchronized (interfaces) {
                h = interfaces.get(interfacesWritten);
            }
            int added = writer.addInterface(h.interfaceName(), h.linkType());
            assert added == h.interfaceId() : "interface ids out of step";
            interfacesWritten++;
        }
    }

    private void fail(Throwable cause) {
        if (failure == null) {
            failure = cause instanceof IOException io ? io : new IOException("capture write failed", cause);
        }
    }

    /** Releases everything queued without writing it, counting it dropped. */
    private void releaseQueued() {
        CapturedPacket p;
        while ((p = queue.poll()) != null) {
            int length = p.data().readableBytes();
            p.data().release();
            unreserve(length);
            dropped.increment();
        }
    }

    /**
     * Begins closing (see the class comment) and returns a future completed when the file is closed: normally,
     * or exceptionally with the write error. Idempotent; does not block.
     */
    public CompletableFuture<Void> closeAsync() {
        if (closeStarted.compareAndSet(false, true)) {
            synchronized (interfaces) {
                closed = true;
            }
            try {
                executor.execute(this::finish);
            } catch (RejectedExecutionException e) {
                finish(); // the user's executor is gone: finish on this thread rather than leak the queue
            }
        }
        return closeFuture;
    }

    private void finish() {
        writerLock.lock();
        try {
            writeQueued();
            if (failure == null && format == CaptureFormat.PCAPNG) {
                int count;
                synchronized (interfaces) {
                    count = interfaces.size();
                }
                try {
                    writeInterfacesUpTo(count - 1); // interfaces that never saw a packet still appear
                } catch (IOException | RuntimeException e) {
                    fail(e);
                }
            }
            terminated = true;
            releaseQueued();
            try {
                writer.close();
            } catch (IOException | RuntimeException e) {
                fail(e);
            }
        } finally {
            writerLock.unlock();
            if (ownExecutor != null) {
                ownExecutor.shutdown();
            }
            IOException f = failure;
            if (f == null) {
                closeFuture.complete(null);
            } else {
                closeFuture.completeExceptionally(f);
            }
        }
    }

    /**
     * Closes the capture and waits until the file is flushed and closed. Blocking: not on an event loop.
     *
     * @throws IOException the write error that stopped the capture, if any
     */
    @Override
    public void close() throws IOException {
        try {
            closeAsync().join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    /** Nanoseconds since the epoch from one wall-clock reading plus the monotonic clock: no syscall, no garbage. */
    private static LongSupplier systemClock() {
        Instant start = Instant.now();
        long startEpochNanos = start.getEpochSecond() * 1_000_000_000L + start.getNano();
        long startNanoTime = System.nanoTime();
        return () -> startEpochNanos + (System.nanoTime() - startNanoTime);
    }

    /** Settings of a {@link PacketCapture}; {@code open} creates it. Not thread-safe. */
    public static final class Builder {
        private final CaptureFormat format;
        private final LinkType linkType;
        private int snapLength = PcapFormat.DEFAULT_SNAP_LENGTH;
        private int maxQueuedPackets = PcapFormat.DEFAULT_MAX_QUEUED_PACKETS;
        private long maxQueuedBytes = PcapFormat.DEFAULT_MAX_QUEUED_BYTES;
        private boolean recordDirection = true;
        private boolean nanosecondTimestamps;
        private String comment;
        private Executor executor;
        private LongSupplier clock;

        private Builder(CaptureFormat format, LinkType linkType) {
            this.format = ObjectUtil.checkNotNull(format, "format");
            this.linkType = ObjectUtil.checkNotNull(linkType, "linkType");
        }

        /** Most bytes kept per packet, 1 to {@link PcapFormat#MAX_SNAP_LENGTH}; default 262144. */
        public Builder snapLength(int snapLength) {
            this.snapLength = CaptureWriter.checkSnapLength(snapLength);
            return this;
        }

        /** Bound on packets waiting for the writer; default {@link PcapFormat#DEFAULT_MAX_QUEUED_PACKETS}. */
        public Builder maxQueuedPackets(int maxQueuedPackets) {
            this.maxQueuedPackets = ObjectUtil.checkPositive(maxQueuedPackets, "maxQueuedPackets");
            return this;
        }

        /** Bound on captured bytes waiting for the writer; default {@link PcapFormat#DEFAULT_MAX_QUEUED_BYTES}. */
        public Builder maxQueuedBytes(long maxQueuedBytes) {
            this.maxQueuedBytes = ObjectUtil.checkPositive(maxQueuedBytes, "maxQueuedBytes");
            return this;
        }

        /** pcapng: write each packet's direction as {@code epb_flags}; default true. */
        public Builder recordDirection(boolean recordDirection) {
            this.recordDirection = recordDirection;
            return this;
        }

        /** Classic pcap: nanosecond timestamps (magic {@code a1b23c4d}); default false, microseconds. */
        public Builder nanosecondTimestamps(boolean nanosecondTimestamps) {
            this.nanosecondTimestamps = nanosecondTimestamps;
            return this;
        }

        /** pcapng: the section's {@code opt_comment}; null for none. Classic pcap has no place for it. */
        public Builder comment(String comment) {
            this.comment = comment;
            return this;
        }

        /**
         * Runs the writer task on {@code executor} (it may block on file I/O, so not an event loop) instead of a
         * thread of the capture's own. The capture does not shut it down.
         */
        public Builder executor(Executor executor) {
            this.executor = executor;
            return this;
        }

        /** Source of timestamps, nanoseconds since the epoch; called on event loops. Default: system clock. */
        public Builder clock(LongSupplier epochNanos) {
            this.clock = epochNanos;
            return this;
        }

        /** Creates or truncates {@code file} and starts the capture. Blocking: opens the file, writes its header. */
        public PacketCapture open(Path file) throws IOException {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
            return open(channel, "pktkit-capture-" + file.getFileName());
        }

        /** Starts a capture writing to {@code out}, which it owns and closes. Writes the header at once. */
        public PacketCapture open(WritableByteChannel out) throws IOException {
            return open(out, "pktkit-capture");
        }

        /** Starts a capture writing to {@code out}, which it owns and closes. Writes the header at once. */
        public PacketCapture open(OutputStream out) throws IOException {
            return open(Channels.newChannel(out), "pktkit-capture");
        }

        private PacketCapture open(WritableByteChannel out, String threadName) throws IOException {
            CaptureWriter writer;
            try {
                if (format == CaptureFormat.PCAP) {
                    if (comment != null) {
                        throw new IllegalStateException("classic pcap has no place for a comment; use pcapng");
                    }
                    writer = new PcapWriter(out, linkType, snapLength, nanosecondTimestamps);
                } else {
                    writer = new PcapngWriter(out, snapLength, comment);
                }
                writer.flush(); // the file is a valid, empty capture from now on
            } catch (IOException | RuntimeException e) {
                out.close();
                throw e;
            }
            return new PacketCapture(this, writer, threadName);
        }
    }
}

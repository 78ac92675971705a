package dev.pktkit.tuntap;

import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A TUN/TAP descriptor on an io_uring loop: the reads and writes themselves are io_uring operations.
 *
 * <p><b>Reads.</b> While idle the engine keeps one {@code POLL_ADD(POLLIN)} on the descriptor. When it fires,
 * it submits a batch of up to {@code MAX_MESSAGES_PER_READ} {@code READ}s (as many as the device held last
 * time, plus one; doubling while batches come back full) with {@code RWF_NOWAIT}, hard-linked so that the kernel
 * runs them in order: each returns a packet or {@code -EAGAIN} at once (a plain read on a TUN
 * descriptor would instead wait for a packet, {@code O_NONBLOCK} or not). Packets go up the pipeline as their
 * completions arrive; the batch's last completion fires {@code channelReadComplete} and, if every read returned
 * a packet, submits the next batch right away, else re-arms the poll. Read buffers stay with the engine across
 * batches unless a packet took them.
 *
 * <p><b>Writes.</b> A flush submits up to {@code MAX_MESSAGES_PER_WRITE} {@code WRITE}s (or {@code WRITEV}s with
 * the virtio-net header), hard-linked so that packets leave in order, all in one {@code io_uring_enter}. Each
 * in-flight write holds its own reference to its buffer, so closing the channel meanwhile (which fails and
 * releases what is queued) cannot free memory the kernel is still reading. Messages leave the outbound buffer
 * as their completions arrive; the next batch starts when the last one has.
 *
 * <p><b>Closing.</b> The poll is cancelled ({@code ASYNC_CANCEL}); the descriptor is closed, and the
 * registration cancelled, once no operation on it is left. Operation ids are slot numbers (short user data, so
 * Netty's fast path); the opcode tells kinds apart.
 */
final class IoUringTunTapIo extends TunTapIo implements IoUringIoHandle {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(IoUringTunTapIo.class);

    // io_uring ABI (linux/io_uring.h)
    static final byte IORING_OP_WRITEV = 2;
    static final byte IORING_OP_POLL_ADD = 6;
    static final byte IORING_OP_ASYNC_CANCEL = 14;
    static final byte IORING_OP_READ = 22;
    static final byte IORING_OP_WRITE = 23;
    static final byte IOSQE_IO_HARDLINK = 1 << 3;
    static final int RWF_NOWAIT = 0x8;
    static final int POLLIN = 0x1;

    /** Upper bound on reads or writes in flight per channel (the loop's submission queue is shared). */
    static final int MAX_SLOTS = 256;
    /** Per write slot: a virtio-net header (padded to 16) and two iovecs. */
    private static final int WRITE_SLOT_BYTES = 16 + 2 * LibC.IOVEC_SIZE;

    private ByteBuf[] readBufs = new ByteBuf[0];
    private int readsInFlight;
    private int batchReads;
    private boolean batchEmptied;
    private int readError;
    private boolean pollInFlight;
    /**
     * Reads in the next batch: adapts between 1 and {@code MAX_MESSAGES_PER_READ} to what the device held last
     * time (doubling while batches come back full), so that a trickle does not cost a full batch of reads that
     * return {@code EAGAIN}.
     */
    private int nextBatch = 2;
    private boolean endingBatch;
    private long pollId;
    private int cancelsInFlight;

    private final Object[] writeMsgs;
    private final MemorySegment writeScratch;
    private int writesInFlight;
    private long fatalWrite;
    /** In-flight writes already taken out of the outbound buffer (the channel left this loop). */
    private boolean writesDetached;
    private final WriteCollector collector = new WriteCollector();

    private boolean stopped;
    private boolean closing;
    private boolean finished;

    IoUringTunTapIo(AbstractTunTapChannel ch) {
        super(ch);
        int slots = Math.min(Math.max(1, ch.config().getMaxMessagesPerWrite()), MAX_SLOTS);
        writeMsgs = new Object[slots];
        // GC-managed: the engine (reachable from the loop's registration) outlives every write that uses it
        writeScratch = Arena.ofAuto().allocate((long) slots * WRITE_SLOT_BYTES, 16);
    }

    @Override
    IoHandle handle() {
        return this;
    }

    private int inFlight() {
        return readsInFlight + writesInFlight + (pollInFlight ? 1 : 0) + cancelsInFlight;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        IoUringIoEvent e = (IoUringIoEvent) event;
        int res = e.res();
        switch (e.opcode()) {
            case IORING_OP_POLL_ADD -> pollDone(res);
            case IORING_OP_READ -> readDone((int) e.userData(), res);
            case IORING_OP_WRITE, IORING_OP_WRITEV -> writeDone((int) e.userData(), res);
            case IORING_OP_ASYNC_CANCEL -> cancelsInFlight--;
            default -> logger.debug("unexpected io_uring completion {}", e);
        }
        if ((closing || stopped) && inFlight() == 0) {
            finish();
        }
    }

    // ---- reads ----

    @Override
    void beginRead() {
        // not while a batch ends: its channelReadComplete asks for more (auto-read), and the batch's end decides
        if (!stopped && !endingBatch && !pollInFlight && readsInFlight == 0 && ch.isActive()) {
            armPoll();
        }
    }

    private void armPoll() {
        pollInFlight = true;
        pollId = registration.submit(new IoUringIoOps(IORING_OP_POLL_ADD, (byte) 0, (short) 0, ch.fd, 0L, 0L, 0,
                POLLIN, 0L, (short) 0, (short) 0, 0, 0L));
    }

    private void pollDone(int res) {
        pollInFlight = false;
        pollId = 0;
        if (stopped || res == -Errno.ECANCELED) {
            return;
        }
        if (res < 0) {
            ch.reader.readFailed(-res);
            return;
        }
        if (ch.reader.wantsRead()) {
            submitReads(); // on POLLERR the reads report the error
        }
    }

    private void submitReads() {
        int n = ch.config().isAutoRead() ? Math.min(Math.min(nextBatch, ch.reader.maxMessagesPerRead()), MAX_SLOTS) : 1;
        if (readBufs.length < n) {
            readBufs = java.util.Arrays.copyOf(readBufs, n);
        }
        int length = ch.reader.readLength();
        for (int i = 0; i < n; i++) {
            ByteBuf buf = readBufs[i];
            if (buf == null || buf.capacity() != length) {
                if (buf != null) {
                    buf.release();
                }
                buf = ch.reader.newReadBuffer();
                readBufs[i] = buf;
            }
        }
        batchReads = 0;
        batchEmptied = false;
        readsInFlight = n;
        for (int i = 0; i < n; i++) {
            ByteBuf buf = readBufs[i];
            byte flags = i < n - 1 ? IOSQE_IO_HARDLINK : 0;
            registration.submit(new IoUringIoOps(IORING_OP_READ, flags, (short) 0, ch.fd, 0L, buf.memoryAddress(),
                    buf.capacity(), RWF_NOWAIT, i, (short) 0, (short) 0, 0, 0L));
        }
    }

    private void readDone(int slot, int res) {
        readsInFlight--;
        if (res > 0) {
            if (!stopped && ch.isActive()) {
                batchReads++;
                if (ch.reader.onRead(readBufs[slot], res)) {
                    readBufs[slot] = null;
                }
            }
        } else if (res == -Errno.EAGAIN || res == 0) {
            batchEmptied = true;
        } else if (res != -Errno.ECANCELED && res != -Errno.EINTR && readError == 0) {
            readError = -res;
        }
        if (readsInFlight > 0) {
            return;
        }
        endingBatch = true;
        try {
            ch.reader.readBatchDone(batchReads);
        } finally {
            endingBatch = false;
        }
        if (stopped || !ch.isOpen()) {
            return;
        }
        if (readError != 0) {
            int err = readError;
            readError = 0;
            ch.reader.readFailed(err);
            return;
        }
        if (!ch.reader.wantsRead()) {
            return; // idle until beginRead
        }
        if (batchEmptied) {
            nextBatch = Math.max(2, batchReads + 1);
            armPoll();
        } else {
            nextBatch = Math.min(2 * nextBatch, MAX_SLOTS);
            submitReads();
        }
    }

    // ---- writes ----

    @Override
    void write(ChannelOutboundBuffer in) throws Exception {
        if (fatalWrite != 0) {
            long r = fatalWrite;
            fatalWrite = 0;
            throw new IOException("writing to " + ch.localAddress() + " failed: " + Errno.name((int) -r));
        }
        if (writesInFlight > 0 || stopped) {
            return; // the last completion resumes the flush
        }
        for (;;) {
            collector.reset(Math.min(writeMsgs.length, Math.max(1, ch.config().getMaxMessagesPerWrite())));
            in.forEachFlushedMessage(collector);
            int n = collector.count;
            if (n > 0) {
                submitWrites(n);
                return;
            }
            if (!collector.softwareFirst) {
                return; // nothing flushed
            }
            // the head needs cutting in Java: written synchronously, with nothing in flight before it
            Object msg = in.current();
            long r = ch.writer.writeNow(msg);
            if (r < 0 && TunTapWriter.isFatalWriteError(r)) {
                throw new IOException("writing to " + ch.localAddress() + " failed: " + Errno.name((int) -r));
            }
            Throwable failure = ch.writer.writeDone(msg, r);
            if (failure == null) {
                in.remove();
            } else {
                in.remove(failure);
            }
        }
    }

    private void submitWrites(int n) {
        boolean vnet = ch.vnetLength != 0;
        long base = writeScratch.address();
        writesInFlight = n;
        writesDetached = false;
        for (int i = 0; i < n; i++) {
            Object msg = writeMsgs[i];
            ReferenceCountUtil.retain(msg); // ours until the completion, whatever happens to the channel
            ByteBuf pkt = TunTapWriter.packetOf(msg);
            long addr = TunTapWriter.addressOf(pkt);
            int len = pkt.readableBytes();
            byte flags = i < n - 1 ? IOSQE_IO_HARDLINK : 0;
            IoUringIoOps op;
            if (vnet) {
                long slot = (long) i * WRITE_SLOT_BYTES;
                MemorySegment s = writeScratch;
                TunTapWriter.writeHeader(s, slot, msg);
                s.set(ValueLayout.JAVA_LONG, slot + 16, base + slot);
                s.set(ValueLayout.JAVA_LONG, slot + 24, VirtioNetHeader.LENGTH);
                s.set(ValueLayout.JAVA_LONG, slot + 32, addr);
                s.set(ValueLayout.JAVA_LONG, slot + 40, len);
                op = new IoUringIoOps(IORING_OP_WRITEV, flags, (short) 0, ch.fd, 0L, base + slot + 16, 2, 0, i,
                        (short) 0, (short) 0, 0, 0L);
            } else {
                op = new IoUringIoOps(IORING_OP_WRITE, flags, (short) 0, ch.fd, 0L, addr, len, 0, i, (short) 0,
                        (short) 0, 0, 0L);
            }
            registration.submit(op);
        }
    }

    private void writeDone(int slot, int res) {
        writesInFlight--;
        Object msg = writeMsgs[slot];
        writeMsgs[slot] = null;
        try {
            ChannelOutboundBuffer in = ch.unsafe().outboundBuffer();
            if (!writesDetached && !closing && in != null) {
                long bytes = res > 0 && ch.vnetLength != 0 ? res - VirtioNetHeader.LENGTH : res;
                if (res < 0 && TunTapWriter.isFatalWriteError(res)) {
                    if (fatalWrite == 0) {
                        fatalWrite = res;
                    }
                } else if (in.current() == msg) {
                    Throwable failure = ch.writer.writeDone(msg, bytes);
                    if (failure == null) {
                        in.remove();
                    } else {
                        in.remove(failure);
                    }
                } else {
                    logger.debug("write completion out of order on {}", ch);
                }
            } else if (writesDetached && res >= 0) {
                ch.writer.writeDone(msg, res > 0 && ch.vnetLength != 0 ? res - VirtioNetHeader.LENGTH : res);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
        if (writesInFlight == 0 && !closing && !stopped) {
            ch.resumeFlush(); // the next batch, or the fatal error
        }
    }

    /** Picks the flushed messages of the next write batch, stopping before one that needs cutting in Java. */
    private final class WriteCollector implements ChannelOutboundBuffer.MessageProcessor {
        int limit;
        int count;
        boolean softwareFirst;

        void reset(int limit) {
            this.limit = limit;
            this.count = 0;
            this.softwareFirst = false;
        }

        @Override
        public boolean processMessage(Object msg) {
            if (ch.writer.needsSoftwareOffload(msg)) {
                softwareFirst = count == 0;
                return false;
            }
            writeMsgs[count++] = msg;
            return count < limit;
        }
    }

    // ---- end of life ----

    @Override
    void channelClosed() {
        closing = true;
        stop();
        if (inFlight() == 0) {
            finish();
        }
    }

    @Override
    void deregister() {
        if (closing) {
            return;
        }
        stop();
        // submitted writes count as written: the channel may continue on another loop, which must not send them
        // again, while their completions still arrive here
        ChannelOutboundBuffer in = ch.unsafe().outboundBuffer();
        if (in != null && writesInFlight > 0 && !writesDetached) {
            for (int i = 0; i < writesInFlight && in.current() != null; i++) {
                in.remove();
            }
        }
        writesDetached = true;
        if (inFlight() == 0) {
            finish();
        }
    }

    private void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        if (registration != null && registration.isValid()) {
            if (pollInFlight) {
                cancel(pollId);
            }
        }
    }

    private void cancel(long id) {
        cancelsInFlight++;
        registration.submit(new IoUringIoOps(IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1, 0L, id, 0, 0, 0L,
                (short) 0, (short) 0, 0, 0L));
    }

    /** Nothing is in flight any more: release the buffers, close the descriptor if the channel closed, leave. */
    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        releaseReadBuffers();
        if (closing) {
            ch.closeFd();
        }
        IoRegistration r = registration;
        if (r != null) {
            r.cancel();
        }
    }

    private void releaseReadBuffers() {
        for (int i = 0; i < readBufs.length; i++) {
            if (readBufs[i] != null) {
                readBufs[i].release();
                readBufs[i] = null;
            }
        }
    }

    @Override
    public void unregistered() {
        releaseReadBuffers();
        if (!ch.isOpen()) {
            ch.closeFd();
        }
    }

    /** The loop is shutting down (or asked us to close): close the channel. */
    @Override
    public void close() {
        if (ch.isOpen()) {
            ch.unsafe().close(ch.unsafe().voidPromise());
        } else if (!finished) {
            channelClosed();
        }
    }
}

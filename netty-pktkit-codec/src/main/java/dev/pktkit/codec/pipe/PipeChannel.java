package dev.pktkit.codec.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;

import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

/**
 * One end of a {@link PacketPipe}: a message channel whose writes are reads on its peer, one message per write,
 * frame boundaries kept (nothing is merged or split).
 *
 * <p>It registers with any {@link EventLoop} (NIO, epoll, io_uring, kqueue, {@code DefaultEventLoop}): it needs
 * no file descriptor, only the loop's task queue. When both ends share a loop a flush delivers synchronously
 * into the peer's pipeline (bounded re-entrance, then one task); across loops each flush hands its messages
 * over in one batch with at most one wake-up task per batch. On a shared loop the peer may therefore answer
 * before {@code flush()} returns: record what you wait for before you write.
 *
 * <p>Hand-over: each end reads from a single-producer ring (the peer's loop writes, this end's loop reads) of
 * {@link PacketPipe#maxMessagesInFlight()} slots; a flush publishes its whole batch at once, so a reader never
 * sees half a flush and reads it in {@code ceil(batch / maxMessagesPerRead)} read batches, each ended by one
 * {@code channelReadComplete}. The size of each message is taken once, when it is handed over, and stored with
 * it; what the reader subtracts is exactly what the writer added.
 *
 * <p>Back-pressure: at most {@link PacketPipe#inFlightLimit()} bytes and {@link PacketPipe#maxMessagesInFlight()}
 * messages may wait unread at the peer (an empty message costs a slot, so empty messages cannot pile up
 * either). Beyond that, writes stay in this channel's outbound buffer, so its writability follows Netty's usual
 * write-buffer water marks; they move on as the peer reads. A peer with auto-read off keeps messages queued
 * until it calls {@code read()}.
 *
 * <p>Closing either end closes the other after the messages already handed to it have been delivered (if it
 * is reading) or released. An end whose peer closes before it registered closes when it registers. An end
 * whose event loop refuses tasks (shut down) counts as closed: writes to it fail, and once its loop has
 * terminated what was handed to it is released.
 */
public final class PipeChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);
    /** Depth of synchronous same-loop deliveries on this thread; beyond the limit we hop through a task. */
    private static final FastThreadLocal<int[]> DELIVERY_DEPTH = new FastThreadLocal<>() {
        @Override
        protected int[] initialValue() {
            return new int[1];
        }
    };
    private static final int MAX_SYNC_DEPTH = 8;
    /** Batches delivered per task before yielding the loop to other work. */
    private static final int BATCHES_PER_TASK = 4;

    private static final AtomicLongFieldUpdater<PipeChannel> PENDING_BYTES =
            AtomicLongFieldUpdater.newUpdater(PipeChannel.class, "pendingBytes");
    private static final AtomicLongFieldUpdater<PipeChannel> TAIL =
            AtomicLongFieldUpdater.newUpdater(PipeChannel.class, "tail");
    private static final AtomicIntegerFieldUpdater<PipeChannel> WAKEUP =
            AtomicIntegerFieldUpdater.newUpdater(PipeChannel.class, "wakeup");
    private static final AtomicIntegerFieldUpdater<PipeChannel> RELEASING =
            AtomicIntegerFieldUpdater.newUpdater(PipeChannel.class, "releasing");
    private static final AtomicReferenceFieldUpdater<PipeChannel, State> STATE =
            AtomicReferenceFieldUpdater.newUpdater(PipeChannel.class, State.class, "state");

    private enum State { OPEN, ACTIVE, CLOSED }

    private final PacketPipe pipe;
    private final PipeAddress address;
    private final ChannelConfig config = new DefaultChannelConfig(this);
    /** Messages written by the peer, waiting to be read here: slots [head, tail) of a power-of-two ring. */
    private final Object[] ring;
    /** The size each message in {@link #ring} was counted with when it was handed over. */
    private final int[] sizes;
    private final int mask;
    private final Runnable drainTask = this::drainFromTask;
    private final Runnable resumeWritesTask = this::resumeWrites;

    private volatile State state = State.OPEN;
    /** Next slot the peer fills; written only by the peer's loop, published once per flush. */
    private volatile long tail;
    /** Next slot this end reads; written by this end's reader. */
    private volatile long head;
    /** Bytes in {@link #ring}; written by both loops. */
    private volatile long pendingBytes;
    /** 1 while a drain is scheduled or running; producers wake the reader only on 0 → 1. */
    private volatile int wakeup;
    /** 1 while some thread releases the ring's contents (close paths only). */
    private volatile int releasing;
    /** Set by the peer when it stopped writing because our ring was full; read on our loop. */
    private volatile boolean writerBlocked;
    private PipeChannel peer;
    private boolean readRequested;
    private boolean draining;

    PipeChannel(PacketPipe pipe, PipeAddress address, int slots) {
        super(null);
        this.pipe = pipe;
        this.address = address;
        this.ring = new Object[slots];
        this.sizes = new int[slots];
        this.mask = slots - 1;
    }

    void peer(PipeChannel peer) {
        this.peer = peer;
    }

    /** The other end of the pipe. */
    public PipeChannel peer() {
        return peer;
    }

    /** The pipe this channel is an end of. */
    public PacketPipe pipe() {
        return pipe;
    }

    /** Bytes written by the peer and not yet read by this end. */
    public long pendingBytes() {
        return pendingBytes;
    }

    /** Messages written by the peer and not yet read by this end. */
    public int pendingMessages() {
        return (int) (tail - head);
    }

    /** Whether a wake-up of this end's reader is scheduled or running (for tests). */
    boolean wakeupPending() {
        return wakeup != 0;
    }

    private boolean ringEmpty() {
        return tail == head;
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return state != State.CLOSED;
    }

    @Override
    public boolean isActive() {
        return state == State.ACTIVE;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public PipeAddress localAddress() {
        return (PipeAddress) super.localAddress();
    }

    @Override
    public PipeAddress remoteAddress() {
        return (PipeAddress) super.remoteAddress();
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new PipeUnsafe();
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return true; // needs nothing but the loop's task queue
    }

    @Override
    protected SocketAddress localAddress0() {
        return address;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        PipeChannel p = peer;
        return p == null ? null : p.address;
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        // A CAS, not check-then-set: the peer may close us from its loop while we register on ours.
        if (STATE.compareAndSet(this, State.OPEN, State.ACTIVE) || state == State.ACTIVE) {
            promise.setSuccess();
            return;
        }
        // The peer closed us after Netty's open check: finish registering, then close on our own loop.
        promise.setSuccess();
        eventLoop().execute(() -> unsafe().close(unsafe().voidPromise()));
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("a pipe end is bound to its pipe");
    }

    @Override
    protected void doDisconnect() throws Exception {
        doClose();
    }

    @Override
    protected void doClose() {
        State previous = STATE.getAndSet(this, State.CLOSED);
        releaseInbound();
        if (previous != State.CLOSED) {
            closePeer();
        }
    }

    /** Tells the peer we closed: it closes after reading what we handed it, on its own loop. */
    private void closePeer() {
        PipeChannel p = peer;
        for (;;) {
            State s = p.state;
            if (s == State.CLOSED) {
                return;
            }
            if (s == State.OPEN) {
                // Not registered (or registering): it closes itself when it registers (Netty's open check or
                // our doRegister). Nobody reads its ring now, so release what waits there.
                if (STATE.compareAndSet(p, State.OPEN, State.CLOSED)) {
                    p.releaseAll();
                    return;
                }
                continue;
            }
            try {
                p.eventLoop().execute(p::closeAfterDrain);
            } catch (RejectedExecutionException e) {
                p.loopGone();
            }
            return;
        }
    }

    /**
     * Our loop refuses tasks (it is shutting down). On that loop we close properly; from another thread we only
     * count as closed (writes to us fail) and, once the loop has terminated and nobody can read us any more,
     * free what waits in our ring.
     */
    private void loopGone() {
        if (eventLoop().inEventLoop()) {
            unsafe().close(unsafe().voidPromise());
            return;
        }
        STATE.set(this, State.CLOSED);
        if (eventLoop().isTerminated()) {
            releaseAll();
        }
    }

    @Override
    protected void doBeginRead() {
        readRequested = true;
        if (!draining) {
            drain();
        }
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        PipeChannel p = peer;
        if (!p.isOpen()) {
            // The peer is gone: the messages fail instead of vanishing.
            ClosedChannelException cause = new ClosedChannelException();
            while (in.remove(cause)) {
                // fails each promise and releases each message
            }
            return;
        }
        long limit = pipe.inFlightLimit();
        int slots = p.ring.length;
        long t = p.tail; // we are the only writer of p.tail
        long h = p.head;
        long pending = p.pendingBytes;
        long added = 0;
        for (;;) {
            Object msg = in.current();
            if (msg == null) {
                break;
            }
            if (pending + added >= limit || t - h >= slots) {
                h = p.head;
                pending = p.pendingBytes;
                if (pending + added >= limit || t - h >= slots) {
                    // Full: keep the rest in our outbound buffer; the peer resumes us after it has read. Flag
                    // first, then look again, so a reader that drained meanwhile cannot miss the flag.
                    p.writerBlocked = true;
                    h = p.head;
                    pending = p.pendingBytes;
                    if (pending + added >= limit || t - h >= slots) {
                        break;
                    }
                    p.writerBlocked = false;
                }
            }
            int size = sizeOf(msg);
            ReferenceCountUtil.retain(msg);
            in.remove(); // releases our reference and completes the promise; the peer now owns the retained one
            int i = (int) t & p.mask;
            p.ring[i] = msg;
            p.sizes[i] = size;
            t++;
            added += size;
        }
        if (t != p.tail) {
            PENDING_BYTES.addAndGet(p, added);
            TAIL.lazySet(p, t); // publishes the batch: slots before t are visible to the reader
        }
        if (!p.isOpen()) {
            // The peer closed while we were handing over: its close already emptied its ring once.
            p.releaseInboundOnItsLoop();
        }
    }

    private void releaseInboundOnItsLoop() {
        if (!isRegistered() || eventLoop().inEventLoop()) {
            releaseInbound();
            return;
        }
        try {
            eventLoop().execute(this::releaseInbound);
        } catch (RejectedExecutionException e) {
            loopGone();
        }
    }

    private static int sizeOf(Object msg) {
        if (msg instanceof ByteBuf buf) {
            return buf.readableBytes();
        }
        if (msg instanceof ByteBufHolder holder) {
            return holder.content().readableBytes();
        }
        return 8;
    }

    /** After a flush: make the peer read what we handed it, synchronously when it shares our loop. */
    private void notifyPeer() {
        PipeChannel p = peer;
        if (p.ringEmpty()) {
            return;
        }
        if (!p.isRegistered()) {
            return; // p drains on its first read after registration
        }
        EventLoop loop = p.eventLoop();
        if (loop.inEventLoop()) {
            int[] depth = DELIVERY_DEPTH.get();
            if (depth[0] < MAX_SYNC_DEPTH && !p.draining) {
                depth[0]++;
                try {
                    p.drain();
                } finally {
                    depth[0]--;
                }
                return;
            }
        }
        p.scheduleDrain();
    }

    /** Wakes this end's reader through one task, unless one is already scheduled. */
    private void scheduleDrain() {
        if (!WAKEUP.compareAndSet(this, 0, 1)) {
            return;
        }
        try {
            eventLoop().execute(drainTask);
        } catch (RejectedExecutionException e) {
            // The loop refuses tasks (shutting down): clear the flag so that a later flush can try again
            // instead of finding it set forever, and free what waits once the loop is gone for good.
            wakeup = 0;
            loopGone();
        }
    }

    private void drainFromTask() {
        drain();
        wakeup = 0;
        // A producer that saw wakeup == 1 did not schedule us: look again after clearing the flag.
        if (!ringEmpty() && readRequested && isActive()) {
            scheduleDrain();
        }
    }

    /** Delivers queued messages into this channel's pipeline; runs on this channel's loop. */
    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            if (!isOpen()) {
                return; // released in finally
            }
            ChannelPipeline pipeline = pipeline();
            int maxPerBatch = maxMessagesPerRead();
            Object[] ring = this.ring;
            int[] sizes = this.sizes;
            long h = head;
            for (int batch = 0; batch < BATCHES_PER_TASK; batch++) {
                long t = tail;
                if (!readRequested || !isActive() || h == t) {
                    break;
                }
                readRequested = config.isAutoRead();
                long end = Math.min(t, h + maxPerBatch);
                long readBytes = 0;
                while (h < end) {
                    int i = (int) h & mask;
                    Object msg = ring[i];
                    ring[i] = null;
                    readBytes += sizes[i];
                    h++;
                    pipeline.fireChannelRead(msg);
                    if (state == State.CLOSED) {
                        break; // closed by a handler: the rest is released below
                    }
                }
                head = h;
                PENDING_BYTES.addAndGet(this, -readBytes);
                if (state == State.CLOSED) {
                    break;
                }
                pipeline.fireChannelReadComplete(); // auto-read calls read() again from here
                resumeWriterIfRoom();
            }
            if (!ringEmpty() && readRequested && isActive()) {
                scheduleDrain(); // more left: yield, then go on
            }
        } finally {
            draining = false;
            if (!isOpen()) {
                releaseAll();
            }
        }
    }

    private void resumeWriterIfRoom() {
        if (writerBlocked && pendingBytes < pipe.inFlightLimit() / 2 && tail - head <= ring.length / 2) {
            writerBlocked = false;
            PipeChannel p = peer;
            if (p.isRegistered() && p.isOpen()) {
                try {
                    p.eventLoop().execute(p.resumeWritesTask);
                } catch (RejectedExecutionException e) {
                    p.loopGone();
                }
            }
        }
    }

    private void resumeWrites() {
        ((PipeUnsafe) unsafe()).resume();
    }

    private void closeAfterDrain() {
        if (!isOpen()) {
            releaseInbound();
            return;
        }
        // Deliver everything already handed over (not only one task's worth) while the reader keeps reading.
        while (readRequested && isActive() && !ringEmpty()) {
            drain();
        }
        unsafe().close(unsafe().voidPromise());
    }

    private int maxMessagesPerRead() {
        RecvByteBufAllocator alloc = config.getRecvByteBufAllocator();
        if (alloc instanceof MaxMessagesRecvByteBufAllocator m) {
            return Math.max(1, m.maxMessagesPerRead());
        }
        return METADATA.defaultMaxMessagesPerRead();
    }

    /** Releases what waits in the ring, unless a drain on this thread is running (it releases when it ends). */
    private void releaseInbound() {
        if (draining) {
            return;
        }
        releaseAll();
    }

    /** Releases everything in the ring; safe against another thread doing the same. */
    private void releaseAll() {
        do {
            if (!RELEASING.compareAndSet(this, 0, 1)) {
                return; // the holder looks again after letting go
            }
            try {
                long h = head;
                long t = tail;
                long released = 0;
                while (h < t) {
                    int i = (int) h & mask;
                    Object msg = ring[i];
                    ring[i] = null;
                    released += sizes[i];
                    h++;
                    ReferenceCountUtil.release(msg);
                }
                head = h;
                PENDING_BYTES.addAndGet(this, -released);
            } finally {
                releasing = 0;
            }
        } while (!ringEmpty());
    }

    @Override
    public String toString() {
        return "PipeChannel(" + address + (isOpen() ? "" : ", closed") + ")";
    }

    private final class PipeUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            safeSetFailure(promise, new AlreadyConnectedException());
        }

        @Override
        protected void flush0() {
            super.flush0();
            notifyPeer();
        }

        void resume() {
            flush0();
        }
    }
}

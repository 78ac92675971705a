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
import io.netty.util.internal.PlatformDependent;

import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

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
 * <p>Back-pressure: at most {@link PacketPipe#inFlightLimit()} bytes may wait unread at the peer. Beyond it,
 * writes stay in this channel's outbound buffer, so its writability follows Netty's usual write-buffer water
 * marks; they move on as the peer reads. A peer with auto-read off keeps messages queued until it calls
 * {@code read()}.
 *
 * <p>Closing either end closes the other after the messages already handed to it have been delivered (if it
 * is reading) or released.
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
    private static final AtomicIntegerFieldUpdater<PipeChannel> WAKEUP =
            AtomicIntegerFieldUpdater.newUpdater(PipeChannel.class, "wakeup");

    private enum State { OPEN, ACTIVE, CLOSED }

    private final PacketPipe pipe;
    private final PipeAddress address;
    private final ChannelConfig config = new DefaultChannelConfig(this);
    /** Messages written by the peer, waiting to be read here. Multi-producer: the peer's loop and close tasks. */
    private final Queue<Object> inbound = PlatformDependent.newMpscQueue();
    private final Runnable drainTask = this::drainFromTask;
    private final Runnable resumeWritesTask = this::resumeWrites;

    private volatile State state = State.OPEN;
    /** Bytes in {@link #inbound}; written by both loops. */
    private volatile long pendingBytes;
    /** 1 while a drain is scheduled or running; producers wake the reader only on 0 → 1. */
    private volatile int wakeup;
    /** Set by the peer when it stopped writing because our queue was full; read on our loop. */
    private volatile boolean writerBlocked;
    private PipeChannel peer;
    private boolean readRequested;
    private boolean draining;

    PipeChannel(PacketPipe pipe, PipeAddress address) {
        super(null);
        this.pipe = pipe;
        this.address = address;
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
        if (state == State.OPEN) {
            state = State.ACTIVE;
        }
        promise.setSuccess();
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
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        releaseInbound();
        PipeChannel p = peer;
        if (p.isOpen()) {
            // Let the peer first read what we already handed it, then close on its own loop.
            if (p.isRegistered()) {
                p.eventLoop().execute(p::closeAfterDrain);
            } else {
                p.unsafe().close(p.unsafe().voidPromise());
            }
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
        for (;;) {
            Object msg = in.current();
            if (msg == null) {
                break;
            }
            if (p.pendingBytes >= limit) {
                // Full: keep the rest in our outbound buffer; the peer resumes us after it has read.
                p.writerBlocked = true;
                if (p.pendingBytes >= limit) {
                    break;
                }
                p.writerBlocked = false;
            }
            int size = sizeOf(msg);
            ReferenceCountUtil.retain(msg);
            in.remove(); // releases our reference and completes the promise; the peer now owns the retained one
            PENDING_BYTES.addAndGet(p, size);
            p.inbound.offer(msg);
        }
        if (!p.isOpen()) {
            // The peer closed while we were handing over: its close already emptied its queue once.
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
        } catch (java.util.concurrent.RejectedExecutionException e) {
            releaseInbound(); // the loop is gone: nobody else polls the queue any more
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
        if (p.inbound.isEmpty()) {
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
        if (WAKEUP.compareAndSet(p, 0, 1)) {
            loop.execute(p.drainTask);
        }
    }

    private void drainFromTask() {
        drain();
        wakeup = 0;
        // A producer that saw wakeup == 1 did not schedule us: look again after clearing the flag.
        if (!inbound.isEmpty() && readRequested && isActive() && WAKEUP.compareAndSet(this, 0, 1)) {
            eventLoop().execute(drainTask);
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
                releaseInbound();
                return;
            }
            ChannelPipeline pipeline = pipeline();
            int maxPerBatch = maxMessagesPerRead();
            for (int batch = 0; batch < BATCHES_PER_TASK; batch++) {
                if (!readRequested || !isActive() || inbound.isEmpty()) {
                    break;
                }
                readRequested = config.isAutoRead();
                long readBytes = 0;
                for (int i = 0; i < maxPerBatch; i++) {
                    Object msg = inbound.poll();
                    if (msg == null) {
                        break;
                    }
                    int size = sizeOf(msg);
                    readBytes += size;
                    pipeline.fireChannelRead(msg);
                }
                PENDING_BYTES.addAndGet(this, -readBytes);
                pipeline.fireChannelReadComplete(); // auto-read calls read() again from here
                resumeWriterIfRoom();
            }
            if (!inbound.isEmpty() && readRequested && isActive() && WAKEUP.compareAndSet(this, 0, 1)) {
                eventLoop().execute(drainTask); // more left: yield, then go on
            }
        } finally {
            draining = false;
        }
    }

    private void resumeWriterIfRoom() {
        if (writerBlocked && pendingBytes < pipe.inFlightLimit() / 2) {
            writerBlocked = false;
            PipeChannel p = peer;
            if (p.isRegistered() && p.isOpen()) {
                p.eventLoop().execute(p.resumeWritesTask);
            }
        }
    }

    private void resumeWrites() {
        ((PipeUnsafe) unsafe()).resume();
    }

    private void closeAfterDrain() {
        if (!isOpen()) {
            return;
        }
        // Deliver everything already handed over (not only one task's worth) while the reader keeps reading.
        while (readRequested && isActive() && !inbound.isEmpty()) {
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

    private void releaseInbound() {
        long released = 0;
        for (;;) {
            Object msg = inbound.poll();
            if (msg == null) {
                break;
            }
            released += sizeOf(msg);
            ReferenceCountUtil.release(msg);
        }
        PENDING_BYTES.addAndGet(this, -released);
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

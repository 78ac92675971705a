package dev.pktkit.vtcp.host;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.AbstractChannel;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;

import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the virtual channels share: registration on any event loop (they need only its task queue, as
 * {@code PipeChannel} does), and a bounded inbound queue filled on the host's loop and read on the channel's
 * loop, honouring {@code read()}, {@code AUTO_READ} and {@code maxMessagesPerRead}.
 *
 * <p>A message in the queue is handed to {@code fireChannelRead}; a {@link Throwable} is handed to
 * {@code fireExceptionCaught}; a {@link Runnable} runs on the channel's loop in queue order (for events such as
 * end of input that must follow the data before them).
 */
abstract class AbstractVirtualChannel extends AbstractChannel {
    private static final FastThreadLocal<int[]> DEPTH = new FastThreadLocal<>() {
        @Override
        protected int[] initialValue() {
            return new int[1];
        }
    };
    private static final int MAX_SYNC_DEPTH = 8;
    private static final int BATCHES_PER_TASK = 4;

    final VirtualHost host;
    private final Queue<Object> inbound = PlatformDependent.newMpscQueue();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicInteger wakeup = new AtomicInteger();
    private final Runnable drainTask = this::drainFromTask;
    private boolean readRequested;
    private boolean draining;

    AbstractVirtualChannel(Channel parent, VirtualHost host) {
        super(parent);
        this.host = host;
    }

    /** The host this channel belongs to. */
    public VirtualHost host() {
        return host;
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return true;
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        promise.setSuccess();
    }

    /** Bytes and messages waiting to be read. */
    long queuedBytes() {
        return queuedBytes.get();
    }

    int queuedMessages() {
        return queued.get();
    }

    /**
     * Queues {@code msg} for this channel's pipeline from any thread; takes ownership. Returns false (and
     * releases {@code msg}) when the channel is closed or the queue is over {@code maxMessages} or
     * {@code maxBytes}; a {@code maxMessages} of 0 means no bound (the caller bounds it some other way).
     */
    final boolean offer(Object msg, int bytes, int maxMessages, long maxBytes) {
        if (!isOpen()) {
            ReferenceCountUtil.release(msg);
            return false;
        }
        if (maxMessages > 0 && (queued.get() >= maxMessages || queuedBytes.get() + bytes > maxBytes)) {
            ReferenceCountUtil.release(msg);
            return false;
        }
        queued.incrementAndGet();
        queuedBytes.addAndGet(bytes);
        inbound.offer(msg);
        wake();
        return true;
    }

    /** Makes the channel look at its queue: synchronously when on its loop, else through one task. */
    final void wake() {
        if (!isRegistered()) {
            return; // drains on its first read
        }
        EventLoop l = eventLoop();
        if (l.inEventLoop() && !draining) {
            int[] d = DEPTH.get();
            if (d[0] < MAX_SYNC_DEPTH) {
                d[0]++;
                try {
                    drain();
                } finally {
                    d[0]--;
                }
                return;
            }
        }
        if (wakeup.compareAndSet(0, 1)) {
            try {
                l.execute(drainTask);
            } catch (RejectedExecutionException e) {
                wakeup.set(0);
                releaseQueued();
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

    private void drainFromTask() {
        wakeup.set(0);
        drain();
    }

    /** Whether nothing waits in the inbound queue. */
    final boolean inboundEmpty() {
        return inbound.isEmpty();
    }

    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            if (!isOpen()) {
                releaseQueued();
                return;
            }
            ChannelPipeline p = pipeline();
            int max = maxMessagesPerRead();
            for (int batch = 0; batch < BATCHES_PER_TASK; batch++) {
                if (!readRequested || !isOpen() || inbound.isEmpty()) {
                    break;
                }
                readRequested = config().isAutoRead();
                boolean read = false;
                for (int i = 0; i < max; i++) {
                    Object m = inbound.peek();
                    if (m == null) {
                        break;
                    }
                    if (m instanceof Runnable r) {
                        inbound.poll();
                        queued.decrementAndGet();
                        if (read) {
                            p.fireChannelReadComplete();
                            read = false;
                        }
                        // What the pipeline read so far is reported before the event runs: a handler that
                        // closes on it (a peer FIN) must find those bytes consumed, or TCP's close sees unread
                        // data and resets the connection instead of sending its FIN (RFC 2525 §2.17).
                        reportRead();
                        r.run();
                        if (!isOpen()) {
                            break;
                        }
                        continue;
                    }
                    inbound.poll();
                    queued.decrementAndGet();
                    if (m instanceof Throwable t) {
                        p.fireExceptionCaught(t);
                        continue;
                    }
                    int size = sizeOf(m);
                    readNotReported += size; // before the pipeline sees it: a close from channelRead counts it
                    queuedBytes.addAndGet(-size);
                    read = true;
                    p.fireChannelRead(m);
                    if (!isOpen()) {
                        break;
                    }
                }
                if (read) {
                    p.fireChannelReadComplete();
                }
                reportRead();
                if (!isOpen()) {
                    releaseQueued();
                    return;
                }
            }
            if (!inbound.isEmpty() && readRequested && wakeup.compareAndSet(0, 1)) {
                eventLoop().execute(drainTask);
            }
        } finally {
            draining = false;
        }
    }

    /** Bytes the pipeline was handed but {@link #afterRead} was not told of yet (channel loop only). */
    private long readNotReported;

    private void reportRead() {
        long n = readNotReported;
        if (n > 0) {
            readNotReported = 0;
            afterRead(n);
        }
    }

    /**
     * Takes the bytes the pipeline was handed in the current read batch but not yet reported through
     * {@link #afterRead}: a close from inside {@code channelRead} (an HTTP server closing after its response) must
     * count them as read, or TCP would see unread data at close and reset instead of sending its FIN.
     */
    final long takeReadNotReported() {
        long n = readNotReported;
        readNotReported = 0;
        return n;
    }

    /** Called on the channel's loop after {@code bytes} were read by the pipeline (TCP opens its window). */
    void afterRead(long bytes) {
    }

    static int sizeOf(Object m) {
        if (m instanceof ByteBuf b) {
            return b.readableBytes();
        }
        if (m instanceof ByteBufHolder h) {
            return h.content().readableBytes();
        }
        return 0;
    }

    private int maxMessagesPerRead() {
        RecvByteBufAllocator a = config().getRecvByteBufAllocator();
        if (a instanceof MaxMessagesRecvByteBufAllocator m) {
            return Math.max(1, m.maxMessagesPerRead());
        }
        return 16;
    }

    /** Releases what waits unread (on close). */
    final void releaseQueued() {
        for (;;) {
            Object m = inbound.poll();
            if (m == null) {
                return;
            }
            queued.decrementAndGet();
            queuedBytes.addAndGet(-sizeOf(m));
            if (m instanceof Channel child) {
                child.unsafe().closeForcibly(); // an accepted child nobody read: it resets
            } else {
                ReferenceCountUtil.release(m);
            }
        }
    }
}

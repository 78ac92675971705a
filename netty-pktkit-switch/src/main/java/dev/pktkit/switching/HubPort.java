package dev.pktkit.switching;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.offload.Offloads;
import dev.pktkit.codec.pipe.Attachment;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;

/**
 * One port of a hub: the attached channel, its counters, and the inbound handler the hub puts on the channel's
 * pipeline. Frames read on the channel enter the hub through this handler on the channel's own event loop.
 *
 * <p>Egress is batched per ingress port: a destination written during a read batch is flushed once, at the
 * batch's {@code channelReadComplete}, not once per message, and only the destinations written are flushed,
 * however many there are. The same batch bookkeeping sums the traffic counters (see {@link PortCounters}).
 */
public abstract class HubPort implements Attachment {
    private static final int INITIAL_DIRTY_SLOTS = 8;

    final AbstractHub<?> hub;
    final Channel channel;
    final PortCounters counters = new PortCounters();
    final Ingress ingress = new Ingress();
    volatile boolean attached = true;
    /**
     * Where the last ingress batch that wrote to this port listed it (see {@link Ingress#markSent}). Written and read
     * by every ingress loop without synchronisation: a reader trusts it only after checking its own list.
     */
    int dirtySlot = -1;
    /** Set for a cable the hub made ({@code attach(EventLoop, ChannelHandler)}): detaching closes it. */
    volatile boolean closeOnDetach;

    protected HubPort(AbstractHub<?> hub, Channel channel) {
        this.hub = hub;
        this.channel = channel;
    }

    @Override
    public Channel port() {
        return channel;
    }

    /** The hub this port belongs to. */
    public AbstractHub<?> hub() {
        return hub;
    }

    public PortCounters counters() {
        return counters;
    }

    @Override
    public boolean isAttached() {
        return attached;
    }

    /**
     * Removes the port from the hub. The channel stays open — except for a cable the hub made with
     * {@code attach(EventLoop, ChannelHandler)}, which is closed (its device end with it).
     */
    @Override
    public Future<Void> detach() {
        if (closeOnDetach) {
            hub.remove(channel);
            io.netty.util.concurrent.Promise<Void> done = io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE
                    .newPromise();
            channel.close().addListener(f -> done.trySuccess(null));
            return done;
        }
        if (!attached) {
            return ImmediateEventExecutor.INSTANCE.newSucceededFuture(null);
        }
        hub.remove(channel);
        return removeHandler();
    }

    Future<Void> removeHandler() {
        if (!channel.isRegistered()) {
            removeHandlerNow();
            return ImmediateEventExecutor.INSTANCE.newSucceededFuture(null);
        }
        return channel.eventLoop().submit(this::removeHandlerNow, null);
    }

    private void removeHandlerNow() {
        if (channel.pipeline().context(ingress) != null) {
            channel.pipeline().remove(ingress);
        }
        channel.flush(); // frames written to us in a batch whose flush skipped us after we left the port array
    }

    /**
     * Writes {@code msg} to this port's channel, taking ownership. Checks writability first: a congested or
     * inactive port drops (and counts) instead of queueing without bound.
     *
     * @param from the ingress port, whose batch will flush this port
     */
    final void send(HubPort from, ByteBuf msg) {
        Channel ch = channel;
        if (!admits(ch, msg)) {
            return;
        }
        from.ingress.markSent(this, msg.readableBytes());
        ch.write(msg, ch.voidPromise());
    }

    /** Whether {@code ch} takes a write now; if not, counts the drop and releases {@code msg}. */
    private boolean admits(Channel ch, io.netty.util.ReferenceCounted msg) {
        if (!ch.isActive()) {
            counters.dropped(DropReason.INACTIVE);
            msg.release();
            return false;
        }
        if (!ch.isWritable()) {
            counters.dropped(DropReason.CONGESTED);
            msg.release();
            return false;
        }
        return true;
    }

    /**
     * Writes {@code p} to this port's channel with its offload state if the channel accepts that
     * ({@link OffloadPacket#ACCEPTS}), else as a plain packet with the state completed in Java; takes ownership.
     *
     * @param ethernet whether the content is a frame (L2) rather than an IP packet
     */
    final void send(HubPort from, OffloadPacket p, boolean ethernet) {
        Channel ch = channel;
        if (!OffloadPacket.acceptedBy(ch)) {
            ByteBuf plain = Offloads.complete(p, ch.alloc(), ethernet);
            if (plain == null) {
                from.counters.dropped(DropReason.MALFORMED); // offload state that does not fit the packet
                return;
            }
            send(from, plain);
            return;
        }
        if (!admits(ch, p)) {
            return;
        }
        from.ingress.markSent(this, p.content().readableBytes());
        ch.write(p, ch.voidPromise());
    }

    /** Handles one inbound message of this port; owns {@code msg}. Runs on this port's event loop. */
    protected abstract void receive(ByteBuf msg);

    /**
     * Handles one inbound packet with offload state; owns {@code p}. This default completes the state in Java and
     * handles the plain packet; {@code L2Port} and {@code L3Port} forward the state instead.
     */
    protected void receive(OffloadPacket p) {
        ByteBuf plain = Offloads.complete(p, channel.alloc(), this instanceof L2Port);
        if (plain == null) {
            counters.dropped(DropReason.MALFORMED);
            return;
        }
        receive(plain);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + channel + ", " + counters + ")";
    }

    /** The per-port inbound handler; not sharable: it holds this port's batch state. */
    final class Ingress extends ChannelInboundHandlerAdapter {
        /** Destinations written in the current batch; grows (rarely) up to the number of ports, then stays. */
        private HubPort[] dirty = new HubPort[INITIAL_DIRTY_SLOTS];
        /** Messages and bytes written to {@code dirty[i]} in this batch, added to its counters at the flush. */
        private long[] dirtyFrames = new long[INITIAL_DIRTY_SLOTS];
        private long[] dirtyBytes = new long[INITIAL_DIRTY_SLOTS];
        private int dirtyCount;
        /** Received in this batch, not yet added to the port's counters. */
        private long framesIn;
        private long bytesIn;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf buf)) {
                if (msg instanceof OffloadPacket p && attached) {
                    framesIn++;
                    bytesIn += p.content().readableBytes();
                    receive(p);
                    return;
                }
                counters.dropped(attached ? DropReason.MALFORMED : DropReason.INACTIVE);
                ReferenceCountUtil.release(msg);
                return;
            }
            if (!attached) {
                // Detached, but our handler is still in the pipeline until its removal task runs.
                counters.dropped(DropReason.INACTIVE);
                buf.release();
                return;
            }
            framesIn++;
            bytesIn += buf.readableBytes();
            receive(buf);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            flushBatch();
            ctx.fireChannelReadComplete();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            flushBatch(); // a batch cut short by detaching: its writes and counts are not lost
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Failed void-promise writes of the hub land here; count them, and let the application see every
            // exception (including read-side errors of the transport) as usual.
            counters.dropped(DropReason.WRITE_FAILED);
            ctx.fireExceptionCaught(cause);
        }

        /**
         * Remembers {@code port} for this batch's flush, once, and sums what was written to it. The slot hint on the
         * destination is written by every ingress port that sends to it, on their own loops, without
         * synchronisation: we use it only if our own list holds the port at that slot, so a lost race lists a
         * destination twice (one extra, harmless flush; its sums split over two slots), never misses one.
         */
        void markSent(HubPort port, int bytes) {
            int i = port.dirtySlot;
            if (i < 0 || i >= dirtyCount || dirty[i] != port) {
                i = dirtyCount;
                if (i == dirty.length) {
                    int n = i * 2;
                    dirty = java.util.Arrays.copyOf(dirty, n);
                    dirtyFrames = java.util.Arrays.copyOf(dirtyFrames, n);
                    dirtyBytes = java.util.Arrays.copyOf(dirtyBytes, n);
                }
                dirty[i] = port;
                dirtyCount = i + 1;
                port.dirtySlot = i;
            }
            dirtyFrames[i]++;
            dirtyBytes[i] += bytes;
        }

        void flushBatch() {
            if (framesIn != 0) {
                counters.received(framesIn, bytesIn);
                framesIn = 0;
                bytesIn = 0;
            }
            // A flush may re-enter (a device on the same loop answers at once): entries listed meanwhile are
            // appended and flushed by this loop too, and a nested flushBatch takes what it finds (leaving nulls).
            for (int i = 0; i < dirtyCount; i++) {
                HubPort p = dirty[i];
                if (p == null) {
                    continue;
                }
                dirty[i] = null;
                long frames = dirtyFrames[i];
                long bytes = dirtyBytes[i];
                dirtyFrames[i] = 0;
                dirtyBytes[i] = 0;
                p.counters.sent(frames, bytes);
                p.channel.flush();
            }
            dirtyCount = 0;
        }
    }
}

package dev.pktkit.switching;

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
 * however many there are (a per-port batch tag replaces a fixed set that fell back to flushing every port).
 */
public abstract class HubPort implements Attachment {
    private static final int INITIAL_DIRTY_SLOTS = 8;
    /** Batch tags are unique across all ports: each ingress reserves a block of them at a time. */
    private static final java.util.concurrent.atomic.AtomicLong EPOCHS = new java.util.concurrent.atomic.AtomicLong();
    private static final long EPOCH_BLOCK = 1 << 16;

    final AbstractHub<?> hub;
    final Channel channel;
    final PortCounters counters = new PortCounters();
    final Ingress ingress = new Ingress();
    volatile boolean attached = true;
    /** The epoch of the last ingress batch that listed this port for flushing (see {@link Ingress#markDirty}). */
    volatile long dirtyEpoch;
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
        if (!ch.isActive()) {
            counters.dropped(DropReason.INACTIVE);
            msg.release();
            return;
        }
        if (!ch.isWritable()) {
            counters.dropped(DropReason.CONGESTED);
            msg.release();
            return;
        }
        counters.sent(msg.readableBytes());
        ch.write(msg, ch.voidPromise());
        from.ingress.markDirty(this);
    }

    /** Handles one inbound message of this port; owns {@code msg}. Runs on this port's event loop. */
    protected abstract void receive(ByteBuf msg);

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + channel + ", " + counters + ")";
    }

    /** The per-port inbound handler; not sharable: it holds this port's batch state. */
    final class Ingress extends ChannelInboundHandlerAdapter {
        /** Destinations written in the current batch; grows (rarely) up to the number of ports, then stays. */
        private HubPort[] dirty = new HubPort[INITIAL_DIRTY_SLOTS];
        private int dirtyCount;
        /** Tags destinations already in {@link #dirty}: unique per batch across every port of every hub. */
        private long epoch;
        private long epochLimit;

        Ingress() {
            nextEpoch();
        }

        private void nextEpoch() {
            if (++epoch >= epochLimit) {
                epoch = EPOCHS.getAndAdd(EPOCH_BLOCK) + 1; // never 0, the tag of a port never listed
                epochLimit = epoch - 1 + EPOCH_BLOCK;
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf buf)) {
                counters.dropped(DropReason.MALFORMED);
                ReferenceCountUtil.release(msg);
                return;
            }
            if (!attached) {
                // Detached, but our handler is still in the pipeline until its removal task runs.
                counters.dropped(DropReason.INACTIVE);
                buf.release();
                return;
            }
            counters.received(buf.readableBytes());
            receive(buf);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            flushBatch();
            ctx.fireChannelReadComplete();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // Failed void-promise writes of the hub land here; count them, and let the application see every
            // exception (including read-side errors of the transport) as usual.
            counters.dropped(DropReason.WRITE_FAILED);
            ctx.fireExceptionCaught(cause);
        }

        /**
         * Remembers {@code port} for this batch's flush, once. The tag on the destination is written by every
         * ingress port that sends to it, on their own loops: a lost race only lists a destination twice (one
         * extra, harmless flush), never misses one, because no other ingress port ever writes our epoch.
         */
        void markDirty(HubPort port) {
            long e = epoch;
            if (port.dirtyEpoch == e) {
                return;
            }
            port.dirtyEpoch = e;
            if (dirtyCount == dirty.length) {
                dirty = java.util.Arrays.copyOf(dirty, dirty.length * 2);
            }
            dirty[dirtyCount++] = port;
        }

        void flushBatch() {
            HubPort[] d = dirty;
            for (int i = 0; i < dirtyCount; i++) {
                d[i].channel.flush();
                d[i] = null;
            }
            dirtyCount = 0;
            nextEpoch();
        }
    }
}

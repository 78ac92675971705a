package dev.pktkit.codec.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;

import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.Objects;

/**
 * The far end of a point-to-point tunnel as a packet port: a child {@link Channel} of the tunnel's transport
 * channel (the UDP or TCP channel the tunnel's packets travel in), the way HTTP/2 streams are children of their
 * connection. Reads are the packets that came out of the tunnel (decrypted); writes are packets to put into it.
 * Tunnel endpoints (WireGuard peers, OpenVPN clients and servers) subclass it and supply the tunnel side: what a
 * written packet becomes ({@link #writePacket}), when the transport is flushed ({@link #flushPackets}), what
 * closing means ({@link #closed}) and the addresses.
 *
 * <p>What this class does for them, the same for every tunnel:
 * <ul>
 *   <li>it is always connected and never bound: {@code connect} and {@code bind} fail with
 *       {@link UnsupportedOperationException}; it is active from registration until it is closed;</li>
 *   <li>it carries {@link ByteBuf}s only: any other write is released and fails with
 *       {@link UnsupportedOperationException};</li>
 *   <li>the write path hands each packet (one reference, owned by the callee) to {@link #writePacket}, then calls
 *       {@link #flushPackets} once per flush that wrote anything;</li>
 *   <li>the read path: the tunnel calls {@link #deliverPacket} on the event loop for each packet that came out of
 *       it and {@link #completeReadBatch} at the end of its own read batch. With auto-read on (or a
 *       {@code read()} pending) a packet goes straight to the pipeline; otherwise it waits in a queue bounded by
 *       the caller's limit until {@code read()}, and beyond that it is released and reported through
 *       {@link #inboundQueueFull} (for the tunnel's drop counter). One {@code channelReadComplete} follows the
 *       reads of a batch;</li>
 *   <li>closing releases what waits in the queue and then calls {@link #closed} once; {@link #closeIfOpen} is for
 *       the tunnel's side (the peer went away).</li>
 * </ul>
 * It runs on its parent's event loop unless the subclass overrides {@link #isCompatible}. The tunnel side's
 * calls ({@code deliverPacket}, {@code completeReadBatch}) must come from that loop.
 */
public abstract class TunnelPeerChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private final String kind;
    private final ChannelConfig config = new DefaultChannelConfig(this);
    private final ArrayDeque<ByteBuf> inbound = new ArrayDeque<>();
    private volatile boolean open = true;
    private boolean readRequested;
    private boolean readPendingComplete;

    /**
     * @param parent the tunnel's transport channel
     * @param kind   what this channel is, with its article, for error messages (e.g. "a WireGuard peer channel")
     */
    protected TunnelPeerChannel(Channel parent, String kind) {
        super(parent);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** Puts one packet into the tunnel; the callee owns the reference. Called on the event loop. */
    protected abstract void writePacket(ByteBuf packet);

    /** Flushes what {@link #writePacket} queued to the transport; called once per flush that wrote a packet. */
    protected abstract void flushPackets();

    /** A delivered packet was dropped (already released) because the inbound queue was full: count it. */
    protected abstract void inboundQueueFull();

    /** The channel closed (its queue is released): tear the peer's tunnel state down. Called once. */
    protected abstract void closed();

    @Override
    public final ChannelConfig config() {
        return config;
    }

    @Override
    public final boolean isOpen() {
        return open;
    }

    @Override
    public final boolean isActive() {
        return open && isRegistered();
    }

    @Override
    public final ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    protected final AbstractUnsafe newUnsafe() {
        return new AbstractUnsafe() {
            @Override
            public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
                promise.setFailure(new UnsupportedOperationException(kind + " is always connected"));
            }
        };
    }

    /** The parent's event loop, by default. */
    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop == parent().eventLoop();
    }

    @Override
    protected final void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException(kind + " cannot bind");
    }

    @Override
    protected final void doDisconnect() {
        doClose();
    }

    @Override
    protected final void doClose() {
        if (!open) {
            return;
        }
        open = false;
        ByteBuf b;
        while ((b = inbound.poll()) != null) {
            b.release();
        }
        closed();
    }

    @Override
    protected final void doBeginRead() {
        readRequested = true;
        drainInbound();
    }

    @Override
    protected final void doWrite(ChannelOutboundBuffer in) {
        boolean wrote = false;
        for (;;) {
            Object msg = in.current();
            if (msg == null) {
                break;
            }
            if (msg instanceof ByteBuf buf) {
                writePacket(buf.retain());
                wrote = true;
                in.remove();
            } else {
                in.remove(refusal(msg));
            }
        }
        if (wrote) {
            flushPackets();
        }
    }

    @Override
    protected final Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        ReferenceCountUtil.release(msg);
        throw refusal(msg);
    }

    private UnsupportedOperationException refusal(Object msg) {
        return new UnsupportedOperationException(kind + " carries ByteBuf packets, not " + msg.getClass().getName());
    }

    /**
     * From the tunnel, on the event loop: one packet that came out of it, owned by this call. Closed: released.
     * Read at once when a read is wanted and nothing waits; else queued up to {@code maxQueued}, beyond that
     * released and reported through {@link #inboundQueueFull}.
     */
    protected final void deliverPacket(ByteBuf packet, int maxQueued) {
        if (!open) {
            packet.release();
            return;
        }
        if ((readRequested || config.isAutoRead()) && inbound.isEmpty()) {
            readRequested = false;
            readPendingComplete = true;
            pipeline().fireChannelRead(packet);
            return;
        }
        if (inbound.size() >= maxQueued) {
            packet.release();
            inboundQueueFull();
            return;
        }
        inbound.add(packet);
        drainInbound();
    }

    private void drainInbound() {
        while (!inbound.isEmpty() && (readRequested || config.isAutoRead()) && isActive()) {
            readRequested = false;
            readPendingComplete = true;
            pipeline().fireChannelRead(inbound.poll());
        }
        completeReadBatch();
    }

    /** From the tunnel at the end of its read batch: {@code channelReadComplete} if anything was read since. */
    protected final void completeReadBatch() {
        if (readPendingComplete) {
            readPendingComplete = false;
            pipeline().fireChannelReadComplete();
        }
    }

    /** Closes the channel from the tunnel's side (the peer went away); nothing if it is closed already. */
    protected final void closeIfOpen() {
        if (open) {
            close();
        }
    }
}

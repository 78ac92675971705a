package dev.pktkit.wireguard;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;

import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;

/**
 * One WireGuard peer as an L3 port: a child {@link io.netty.channel.Channel} of the endpoint's UDP channel, the
 * way HTTP/2 streams are children of their connection. Reads are the IPv4/IPv6 packets the peer sent (decrypted,
 * padding removed, source checked against its allowed IPs); writes are packets to seal and send to it. Attach it
 * to an {@code L3Hub}, a {@code TunChannel} or any packet device through {@code PortConnector}.
 *
 * <p>It runs on its parent's event loop. Closing it removes the peer from the endpoint (keys wiped, timers
 * stopped, pending packets released); removing the peer closes it. Ownership: a read hands one reference to the
 * pipeline; a write takes one. Non-{@code ByteBuf} writes fail with {@link UnsupportedOperationException}.
 *
 * <p>With auto-read off, decrypted packets wait (up to the endpoint's {@code maxQueuedPerPeer}, then dropped and
 * counted as {@link WireGuardDropReason#INBOUND_QUEUE_FULL}) until {@code read()}.
 */
public final class WireGuardPeerChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private final WireGuardEndpoint endpoint;
    final Peer peer;
    private final ChannelConfig config = new DefaultChannelConfig(this);
    private final WireGuardPeerAddress address;
    private final ArrayDeque<ByteBuf> inbound = new ArrayDeque<>();
    private volatile boolean open = true;
    private boolean readRequested;
    private boolean readPendingComplete;

    WireGuardPeerChannel(WireGuardEndpoint endpoint, io.netty.channel.Channel parent, Peer peer) {
        super(parent);
        this.endpoint = endpoint;
        this.peer = peer;
        this.address = new WireGuardPeerAddress(peer.publicKey);
    }

    /** The peer's public key. */
    public WireGuardKey publicKey() {
        return peer.publicKey;
    }

    /** The endpoint this peer belongs to. */
    public WireGuardEndpoint endpoint() {
        return endpoint;
    }

    /** A snapshot of the peer's state (call from any thread; reads racily off the loop). */
    public WireGuardPeerStatus status() {
        return peer.status();
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && isRegistered();
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new AbstractUnsafe() {
            @Override
            public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
                promise.setFailure(new UnsupportedOperationException("a WireGuard peer channel is always connected"));
            }
        };
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop == parent().eventLoop();
    }

    @Override
    protected SocketAddress localAddress0() {
        return address;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return address;
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("a WireGuard peer channel cannot bind");
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        if (!open) {
            return;
        }
        open = false;
        ByteBuf b;
        while ((b = inbound.poll()) != null) {
            b.release();
        }
        endpoint.peerChannelClosed(peer);
    }

    @Override
    protected void doBeginRead() {
        readRequested = true;
        drainInbound();
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        boolean wrote = false;
        for (;;) {
            Object msg = in.current();
            if (msg == null) {
                break;
            }
            if (msg instanceof ByteBuf buf) {
                endpoint.sendPacket(peer, buf.retain());
                wrote = true;
                in.remove();
            } else {
                in.remove(new UnsupportedOperationException("a WireGuard peer carries ByteBuf IP packets, not "
                        + msg.getClass().getName()));
            }
        }
        if (wrote) {
            endpoint.flushParent();
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        ReferenceCountUtil.release(msg);
        throw new UnsupportedOperationException("a WireGuard peer carries ByteBuf IP packets, not "
                + msg.getClass().getName());
    }

    /** From the endpoint, on the loop: one decrypted packet for this peer. */
    void deliver(ByteBuf packet, int maxQueued) {
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
            endpoint.countDrop(WireGuardDropReason.INBOUND_QUEUE_FULL);
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
        completeRead();
    }

    /** From the endpoint at the end of its read batch. */
    void completeRead() {
        if (readPendingComplete) {
            readPendingComplete = false;
            pipeline().fireChannelReadComplete();
        }
    }

    /** Closes from the endpoint's side (peer removed). */
    void closeFromEndpoint() {
        if (open) {
            close();
        }
    }

    static ClosedChannelException closed() {
        return new ClosedChannelException();
    }
}

package dev.pktkit.openvpn;

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

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;

/**
 * The tunnel of an {@link OpenVpnClient} as an L3 port: a child {@link Channel} of the transport channel (UDP or
 * TCP) to the server. Reads are the IP packets the server sent (decrypted); writes are IP packets to encrypt and
 * send through the tunnel. Attach it to an {@code L3Hub} (route the server's networks, e.g.
 * {@link OpenVpnPushReply#routes()}, to it) or to a TUN channel. Its addresses are the pushed ones
 * ({@link #pushReply()}).
 *
 * <p>It runs on the transport's event loop. Closing it sends explicit-exit-notify and closes the transport; the
 * transport going away (or {@code ping-restart}, {@code RESTART}, {@code HALT}) closes it. Ownership: a read hands
 * one reference to the pipeline; a write takes one. With auto-read off, packets wait (up to the client's
 * {@code maxQueued}, then dropped and counted as {@link OpenVpnDropReason#INBOUND_QUEUE_FULL}) until
 * {@code read()}.
 */
public final class OpenVpnTunnelChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private final OpenVpnClient client;
    private final OpenVpnPushReply pushReply;
    private final ChannelConfig config = new DefaultChannelConfig(this);
    private final ArrayDeque<ByteBuf> inbound = new ArrayDeque<>();
    private volatile boolean open = true;
    private boolean readRequested;
    private boolean readPendingComplete;

    OpenVpnTunnelChannel(OpenVpnClient client, Channel transport, OpenVpnPushReply pushReply) {
        super(transport);
        this.client = client;
        this.pushReply = pushReply;
    }

    /** What the server pushed: addresses, routes, DNS, redirect-gateway, cipher. */
    public OpenVpnPushReply pushReply() {
        return pushReply;
    }

    /** Our tunnel address ({@code ifconfig}). */
    public Inet4Address tunnelAddress() {
        return pushReply.address();
    }

    /** The client handler this tunnel belongs to. */
    public OpenVpnClient client() {
        return client;
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
                promise.setFailure(new UnsupportedOperationException("an OpenVPN tunnel channel is always connected"));
            }
        };
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop == parent().eventLoop();
    }

    @Override
    protected SocketAddress localAddress0() {
        return new InetSocketAddress(pushReply.address(), 0);
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return parent().remoteAddress();
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("an OpenVPN tunnel channel cannot bind");
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
        client.tunnelClosed();
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
                client.sendData(buf.retain());
                wrote = true;
                in.remove();
            } else {
                in.remove(new UnsupportedOperationException("an OpenVPN tunnel channel carries ByteBuf IP packets"));
            }
        }
        if (wrote) {
            client.flush();
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        ReferenceCountUtil.release(msg);
        throw new UnsupportedOperationException("an OpenVPN tunnel channel carries ByteBuf IP packets, not "
                + msg.getClass().getName());
    }

    /** From the client, on the loop: one decrypted packet from the server. */
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
            client.countDrop(OpenVpnDropReason.INBOUND_QUEUE_FULL);
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

    /** From the client at the end of its read batch. */
    void completeRead() {
        if (readPendingComplete) {
            readPendingComplete = false;
            pipeline().fireChannelReadComplete();
        }
    }

    void closeFromClient() {
        if (open) {
            close();
        }
    }
}

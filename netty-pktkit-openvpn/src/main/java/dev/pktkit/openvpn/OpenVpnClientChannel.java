package dev.pktkit.openvpn;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
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
 * One connected OpenVPN client as an L3 port (TUN mode; Ethernet frames instead of IP packets in TAP mode,
 * {@link OpenVpnServer.Builder#tap}): a child {@link io.netty.channel.Channel} of the
 * server's UDP channel (or of its TCP connection), the way HTTP/2 streams are children of their connection. Reads are the IP packets the
 * client sent (decrypted); writes are IP packets to encrypt and send to it. Attach it to an {@code L3Hub} with
 * {@link L3HubClientAttacher} (its pushed address routed to it), in TAP mode to an {@code L2Hub} with
 * {@link L2HubClientAttacher}, or to any packet device.
 *
 * <p>It runs on the server's event loop (the UDP channel's). Closing it disconnects the client (its session and keys are dropped,
 * its address goes back to the pool); the client going away closes it. Ownership: a read hands one reference to
 * the pipeline; a write takes one. Non-{@code ByteBuf} writes fail with {@link UnsupportedOperationException}.
 * With auto-read off, packets wait (up to {@code maxQueuedPerClient}, then dropped and counted as
 * {@link OpenVpnDropReason#INBOUND_QUEUE_FULL}) until {@code read()}.
 */
public final class OpenVpnClientChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private final OpenVpnServer server;
    final OpenVpnServer.Session session;
    private final ChannelConfig config = new DefaultChannelConfig(this);
    private final Inet4Address address;
    private final ArrayDeque<ByteBuf> inbound = new ArrayDeque<>();
    private volatile boolean open = true;
    private boolean readRequested;
    private boolean readPendingComplete;

    OpenVpnClientChannel(OpenVpnServer server, io.netty.channel.Channel parent, OpenVpnServer.Session session,
                         Inet4Address address) {
        super(parent);
        this.server = server;
        this.session = session;
        this.address = address;
    }

    /** The tunnel address pushed to this client ({@code ifconfig}). */
    public Inet4Address tunnelAddress() {
        return address;
    }

    /** The IPv6 tunnel address pushed to this client ({@code ifconfig-ipv6}), or null without {@code server-ipv6}. */
    public java.net.Inet6Address tunnelAddress6() {
        return session.address6;
    }

    /** The client's transport address (it changes when the client floats). */
    public InetSocketAddress transportAddress() {
        return session.remote;
    }

    /** What the client presented at authentication. */
    public OpenVpnCredentials credentials() {
        return session.credentials;
    }

    /** The data cipher NCP chose for this client. */
    public String cipher() {
        return session.cipherName();
    }

    /** Whether the data keys came from the TLS exporter ({@code tls-ekm}) rather than the PRF. */
    public boolean keysFromExporter() {
        return session.ekm;
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
                promise.setFailure(new UnsupportedOperationException("an OpenVPN client channel is always connected"));
            }
        };
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop == server.homeLoop();
    }

    @Override
    protected SocketAddress localAddress0() {
        return new InetSocketAddress(address, 0);
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return session.remote;
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("an OpenVPN client channel cannot bind");
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
        server.clientChannelClosed(session);
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
                server.sendData(session, buf.retain());
                wrote = true;
                in.remove();
            } else {
                in.remove(new UnsupportedOperationException("an OpenVPN client channel carries ByteBuf IP packets"));
            }
        }
        if (wrote) {
            server.flushLink(session);
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        ReferenceCountUtil.release(msg);
        throw new UnsupportedOperationException("an OpenVPN client channel carries ByteBuf IP packets, not "
                + msg.getClass().getName());
    }

    /** From the server, on the loop: one decrypted packet from this client. */
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
            server.countDrop(OpenVpnDropReason.INBOUND_QUEUE_FULL);
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

    /** From the server at the end of its read batch. */
    void completeRead() {
        if (readPendingComplete) {
            readPendingComplete = false;
            pipeline().fireChannelReadComplete();
        }
    }

    void closeFromServer() {
        if (open) {
            close();
        }
    }
}

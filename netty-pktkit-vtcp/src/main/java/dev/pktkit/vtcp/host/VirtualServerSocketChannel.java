package dev.pktkit.vtcp.host;

import dev.pktkit.vtcp.engine.SynVerdict;
import dev.pktkit.vtcp.engine.TcpConnection;
import dev.pktkit.vtcp.engine.TcpConnectionHandler;
import dev.pktkit.vtcp.engine.TcpEngine;
import dev.pktkit.vtcp.engine.TcpFlow;
import dev.pktkit.vtcp.engine.TcpListenHandle;
import dev.pktkit.vtcp.engine.TcpListener;
import dev.pktkit.vtcp.engine.TcpSocketOptions;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.ServerSocketChannel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * A Netty {@link ServerSocketChannel} over the {@link VirtualHost}'s TCP engine, for {@code ServerBootstrap}:
 *
 * <pre>{@code
 * new ServerBootstrap().group(loop).channelFactory(host.serverSocketChannels())
 *         .childHandler(new HttpServerCodec()).bind(80);
 * }</pre>
 *
 * <p>Each completed handshake becomes a {@link VirtualSocketChannel} child read from this channel; at most
 * {@code SO_BACKLOG} children wait unread and at most as many handshakes are half-open (then SYN cookies take
 * over); a child beyond the accept queue is reset. With {@link VirtualChannelOption#TRANSPARENT} it accepts
 * connections to any address (port 0: any port too), the child's {@code localAddress()} being the address the
 * peer connected to; with {@link VirtualChannelOption#DEFERRED_ACCEPT} the child is read before the SYN-ACK, and
 * the application accepts or refuses it. Connections to closed ports get RST.
 */
public final class VirtualServerSocketChannel extends AbstractVirtualChannel
        implements ServerSocketChannel, ServerChannel, PortTable.Bound {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private final VirtualServerSocketChannelConfig config = new VirtualServerSocketChannelConfig(this);
    private volatile boolean open = true;
    private volatile Endpoint local;
    private volatile int boundPort = -1;
    private volatile boolean transparent;
    /** Touched on the host's loop only. */
    private TcpListenHandle handle;
    private java.net.BindException bindFailure;

    VirtualServerSocketChannel(VirtualHost host) {
        super(null, host);
    }

    @Override
    public Endpoint local() {
        return local;
    }

    @Override
    public Endpoint remote() {
        return null;
    }

    @Override
    public boolean transparent() {
        return transparent;
    }

    @Override
    public VirtualServerSocketChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && local != null;
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return null;
    }

    @Override
    protected SocketAddress localAddress0() {
        Endpoint l = local;
        return l == null ? null : l.toSocketAddress();
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return null;
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new AbstractUnsafe() {
            @Override
            public void connect(SocketAddress remote, SocketAddress localAddress, io.netty.channel.ChannelPromise p) {
                safeSetFailure(p, new UnsupportedOperationException("a server channel does not connect"));
            }
        };
    }

    /**
     * Reserves the port here and starts listening on the host's loop: at once when the host shares this loop,
     * else in a task queued before anything a later connect sends (a listen that fails there, which the port
     * table makes unlikely, closes the channel with the cause in {@code exceptionCaught}).
     */
    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        {
            if (local != null) {
                throw new java.net.BindException("already bound to " + local);
            }
            if (!(localAddress instanceof InetSocketAddress isa)) {
                throw new IllegalArgumentException("not an InetSocketAddress: " + localAddress);
            }
            Endpoint want = Endpoint.of(isa);
            boolean t = config.isTransparent();
            if (!t && (want.family() == 4 && !host.isLocalIpv4(want.v4())
                    || want.family() == 6 && !host.isLocalIpv6(want.hi(), want.lo()))) {
                throw new java.net.BindException("Cannot assign requested address: " + want
                        + " is not an address of " + host);
            }
            TcpLayer layer = host.tcpLayer();
            int port;
            synchronized (host.tcpPorts) {
                port = host.tcpPorts.reservePort(want, t);
                transparent = t;
                local = want.withPort(port);
                boundPort = port;
                host.tcpPorts.add(port, this);
            }
            InetAddress addr = want.isWildcard() ? null : isa.getAddress();
            int enginePort = port == 0 ? TcpEngine.ANY_PORT : port;
            int backlog = config.getBacklog();
            TcpSocketOptions options = new TcpSocketOptions().receiveBuffer(config.getReceiveBufferSize())
                    .noDelay(true);
            Listener listener = new Listener();
            EventLoop mine = eventLoop();
            Runnable listen = () -> {
                Throwable failure = null;
                try {
                    if (open) {
                        handle = layer.engine.listen(addr, enginePort, backlog, options, listener);
                        if (transparent) {
                            layer.transparentListeners++;
                        }
                    }
                } catch (RuntimeException e) {
                    failure = e;
                }
                if (failure == null) {
                    return;
                }
                java.net.BindException be = new java.net.BindException("listen on " + want + ": "
                        + failure.getMessage());
                be.initCause(failure);
                if (layer.loop == mine) {
                    bindFailure = be;
                    return;
                }
                mine.execute(() -> {
                    pipeline().fireExceptionCaught(be);
                    close();
                });
            };
            if (layer.loop.inEventLoop()) {
                listen.run();
                java.net.BindException be = bindFailure;
                if (be != null) {
                    bindFailure = null;
                    host.tcpPorts.remove(port, this);
                    local = null;
                    boundPort = -1;
                    throw be;
                }
            } else {
                layer.loop.execute(listen);
            }
        }
    }

    @Override
    protected void doDisconnect() {
        throw new UnsupportedOperationException("a server channel has no peer to disconnect from");
    }

    @Override
    protected void doClose() {
        open = false;
        int p = boundPort;
        if (p >= 0) {
            host.tcpPorts.remove(p, this);
            boundPort = -1;
            try {
                TcpLayer layer = host.tcpLayer();
                Runnable stop = () -> {
                    if (handle != null) {
                        handle.close();
                        handle = null;
                        if (transparent) {
                            layer.transparentListeners--;
                        }
                    }
                };
                if (layer.loop.inEventLoop()) {
                    stop.run();
                } else {
                    layer.loop.execute(stop);
                }
            } catch (RuntimeException ignored) {
                // no TCP layer: nothing listens
            }
        }
        // children not yet read: close them (they reset)
        releaseQueuedChildren();
    }

    private void releaseQueuedChildren() {
        releaseQueued();
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        throw new UnsupportedOperationException("a server channel does not write");
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        throw new UnsupportedOperationException("a server channel does not write");
    }

    @Override
    public String toString() {
        return "VirtualServerSocketChannel(" + local + (transparent ? ", transparent" : "") + ")";
    }

    /** Hands a child to the pipeline; false when the accept queue is full. */
    private boolean queueChild(VirtualSocketChannel child) {
        return offer(child, 0, config.getBacklog(), Long.MAX_VALUE);
    }

    private final class Listener implements TcpListener {
        @Override
        public SynVerdict onSyn(TcpFlow syn) {
            if (!open) {
                return SynVerdict.REJECT_RST;
            }
            if (!transparent) {
                boolean local = syn.isIpv6() ? host.isLocalIpv6(syn.localHi(), syn.localLo())
                        : host.isLocalIpv4(syn.localV4());
                if (!local) {
                    return SynVerdict.DROP; // a wildcard listener is not an any-address listener
                }
            }
            if (config.isDeferredAccept()) {
                return queuedMessages() >= config.getBacklog() ? SynVerdict.DROP : SynVerdict.DEFER;
            }
            return SynVerdict.ACCEPT;
        }

        @Override
        public void onDeferred(TcpConnection pending) {
            VirtualSocketChannel child = new VirtualSocketChannel(VirtualServerSocketChannel.this, host, pending, true);
            if (!queueChild(child)) {
                pending.refuseDeferred(SynVerdict.REJECT_RST);
            }
        }

        @Override
        public void onDeferredAborted(TcpConnection pending, Throwable cause) {
            // the peer reset it or nobody decided within deferredTimeoutNanos: the pending child goes away
            if (pending.attachment() instanceof VirtualSocketChannel child) {
                child.deferredAborted(cause);
            }
        }

        @Override
        public TcpConnectionHandler onAccepted(TcpConnection connection) {
            Object a = connection.attachment();
            if (a instanceof VirtualSocketChannel child) {
                return child.events(); // a deferred child, already handed to the pipeline
            }
            VirtualSocketChannel child = new VirtualSocketChannel(VirtualServerSocketChannel.this, host, connection,
                    false);
            if (!queueChild(child)) {
                return null; // accept queue full: the engine resets the connection
            }
            return child.events();
        }
    }
}

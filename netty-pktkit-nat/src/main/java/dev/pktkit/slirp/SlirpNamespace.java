package dev.pktkit.slirp;

import dev.pktkit.vtcp.host.Refusal;
import dev.pktkit.vtcp.host.VirtualChannelOption;
import dev.pktkit.vtcp.host.VirtualHost;
import dev.pktkit.vtcp.host.VirtualSocketChannel;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * One attachment of a {@link Slirp} to a device channel: its own virtual host (the guests' TCP ends here), flow
 * tables and bounds. Guests behind different namespaces may use the same addresses; a namespace's flows are its
 * own. Closing it (or the device) closes its listeners, guest connections and host sockets.
 */
public final class SlirpNamespace implements AutoCloseable {
    final Slirp slirp;
    final Channel device;
    final EventLoop loop;
    final VirtualHost host;
    private final IcmpEchoForwarder icmp;
    private Channel tcpListener;
    private UdpFlows udp;
    /** Touched on {@link #loop} only. */
    int connections;
    int pendingConnects;
    private volatile boolean closed;
    /** Port forwards of this namespace. Loop only. */
    private final java.util.Set<PortForward> forwards = new java.util.HashSet<>();

    SlirpNamespace(Slirp slirp, Channel device) {
        this.slirp = slirp;
        this.device = device;
        this.loop = device.eventLoop();
        this.host = VirtualHost.builder().address(slirp.gatewayV4).address(slirp.dnsV4).address(slirp.gatewayV6)
                .address(slirp.dnsV6).mtu(slirp.mtu).tcp(slirp.tcp).answerPing(false)
                .maxTcpBindings(slirp.maxConnections + 16).build();
        this.icmp = new IcmpEchoForwarder(this);
    }

    void start(Promise<SlirpNamespace> ready) {
        device.pipeline().addLast(icmp, host);
        device.closeFuture().addListener(f -> close());
        ChannelFuture tcp = new ServerBootstrap().group(loop).channelFactory(host.serverSocketChannels())
                .option(VirtualChannelOption.TRANSPARENT, true)
                .option(VirtualChannelOption.DEFERRED_ACCEPT, true)
                .option(ChannelOption.SO_BACKLOG, slirp.maxPendingConnects)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        onGuestSyn((VirtualSocketChannel) ch);
                    }
                }).bind(0);
        tcp.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                ready.tryFailure(f.cause());
                return;
            }
            tcpListener = f.channel();
            udp = new UdpFlows(this);
            udp.start().addListener(u -> {
                if (u.isSuccess()) {
                    ready.trySuccess(this);
                } else {
                    ready.tryFailure(u.cause());
                }
            });
        });
    }

    WriteBufferWaterMark waterMark() {
        return new WriteBufferWaterMark(Math.max(1, slirp.bufferBytes / 2), slirp.bufferBytes);
    }

    /** The virtual host guests' TCP and UDP end in (its counters, its TCP connection count). */
    public VirtualHost virtualHost() {
        return host;
    }

    /** TCP connections of this namespace, pending ones included. Call on the device's loop. */
    public int tcpConnections() {
        return connections;
    }

    /** UDP flows of this namespace. Call on the device's loop. */
    public int udpFlows() {
        return udp == null ? 0 : udp.size();
    }

    /**
     * Where a guest's destination really goes, or null when it may not: the gateway is the host's loopback (when
     * mapped), the DNS address port 53 the upstream resolver; the host's own loopback is never reachable by its
     * own address; the rest as the egress policy says.
     */
    InetSocketAddress target(InetSocketAddress guestDst) {
        InetAddress a = guestDst.getAddress();
        int port = guestDst.getPort();
        if (a.equals(slirp.dnsV4) || a.equals(slirp.dnsV6)) {
            return port == 53 ? slirp.dnsUpstream : null;
        }
        if (a.equals(slirp.gatewayV4) || a.equals(slirp.gatewayV6)) {
            if (!slirp.hostLoopback) {
                return null;
            }
            InetAddress lo = a instanceof Inet4Address ? InetAddress.getLoopbackAddress() : LOOPBACK6;
            return new InetSocketAddress(lo, port);
        }
        if (Slirp.isLoopbackOrAny(a) || a.isMulticastAddress() || port == 0) {
            return null;
        }
        return slirp.egress.test(guestDst) ? guestDst : null;
    }

    /** True for the DNS forwarder's addresses, port 53. */
    boolean isDnsAddress(InetSocketAddress a) {
        return a.getPort() == 53 && (a.getAddress().equals(slirp.dnsV4) || a.getAddress().equals(slirp.dnsV6));
    }

    private static final InetAddress LOOPBACK6;

    static {
        try {
            LOOPBACK6 = InetAddress.getByName("::1");
        } catch (java.net.UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // ---- TCP ----

    private void onGuestSyn(VirtualSocketChannel guest) {
        InetSocketAddress dst = guest.localAddress();
        InetSocketAddress to = dst == null ? null : target(dst);
        if (to == null) {
            slirp.counters.tcpRefusedByPolicy.increment();
            guest.refuseConnection(slirp.refusal);
            return;
        }
        if (connections >= slirp.maxConnections || pendingConnects >= slirp.maxPendingConnects || closed) {
            slirp.counters.tcpRefusedByLimit.increment();
            guest.refuseConnection(Refusal.RESET);
            return;
        }
        connections++;
        pendingConnects++;
        slirp.counters.tcpConnects.increment();
        guest.closeFuture().addListener(f -> connections--);
        TcpRelay guestSide = new TcpRelay(slirp.counters, true);
        TcpRelay hostSide = new TcpRelay(slirp.counters, false);
        guest.pipeline().addLast(guestSide);
        ChannelFuture cf = new Bootstrap().group(slirp.hostGroup).channel(slirp.socketClass)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, slirp.connectTimeoutMillis)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(hostSide).connect(to);
        Channel hostCh = cf.channel();
        guestSide.peer = hostCh;
        hostSide.peer = guest;
        // the guest gave up (or the namespace closed) before the host connect finished
        guest.closeFuture().addListener(f -> hostCh.close());
        cf.addListener((ChannelFutureListener) f -> loop.execute(() -> {
            pendingConnects--;
            if (!f.isSuccess()) {
                slirp.counters.tcpRefusedByHost.increment();
                if (guest.isOpen()) {
                    guest.refuseConnection(slirp.refusal);
                }
                return;
            }
            if (!guest.isOpen()) {
                hostCh.close();
                return;
            }
            slirp.counters.tcpEstablished.increment();
            guest.acceptConnection(); // the SYN-ACK; the relay starts reading when the handshake completes
        }));
    }

    // ---- port forwards ----

    /**
     * Forwards TCP connections to {@code host} (a host address and port; port 0 lets the kernel choose, see
     * {@link PortForward#hostAddress()}) to {@code guest}, from the gateway address of the guest's family. May be
     * called from any thread, at any time; {@link PortForward#close()} removes it. Fails when the namespace has
     * {@code maxPortForwards} already or the host address cannot be bound.
     */
    public Future<PortForward> forwardTcp(InetSocketAddress host, InetSocketAddress guest) {
        return forward(PortForward.Protocol.TCP, host, guest);
    }

    /** As {@link #forwardTcp}, for UDP datagrams: each remote address and port is a flow of its own. */
    public Future<PortForward> forwardUdp(InetSocketAddress host, InetSocketAddress guest) {
        return forward(PortForward.Protocol.UDP, host, guest);
    }

    private Future<PortForward> forward(PortForward.Protocol protocol, InetSocketAddress host,
            InetSocketAddress guest) {
        java.util.Objects.requireNonNull(host, "host");
        java.util.Objects.requireNonNull(guest, "guest");
        if (guest.isUnresolved()) {
            throw new IllegalArgumentException("the guest address must be an address: " + guest);
        }
        Promise<PortForward> p = loop.newPromise();
        loop.execute(() -> {
            if (closed) {
                p.tryFailure(new IllegalStateException("namespace closed"));
                return;
            }
            if (forwards.size() >= slirp.maxPortForwards) {
                p.tryFailure(new IllegalStateException("maxPortForwards (" + slirp.maxPortForwards + ") reached"));
                return;
            }
            PortForward f = new PortForward(this, protocol, guest);
            forwards.add(f);
            f.bind(host).addListener(r -> {
                if (r.isSuccess()) {
                    p.trySuccess(f);
                } else {
                    p.tryFailure(r.cause());
                }
            });
        });
        return p;
    }

    /** The port forwards of this namespace, now. Call on the device's loop. */
    public java.util.List<PortForward> portForwards() {
        return java.util.List.copyOf(forwards);
    }

    void forwardClosed(PortForward f) {
        forwards.remove(f);
    }

    /** Closes the listeners, every guest connection and flow of this namespace, and removes its handlers. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        loop.execute(() -> {
            if (tcpListener != null) {
                tcpListener.close();
            }
            if (udp != null) {
                udp.close();
            }
            icmp.closeSockets();
            for (PortForward f : java.util.List.copyOf(forwards)) {
                f.close();
            }
            if (device.isOpen()) {
                device.pipeline().remove(icmp);
                device.pipeline().remove(host);
            }
        });
    }
}

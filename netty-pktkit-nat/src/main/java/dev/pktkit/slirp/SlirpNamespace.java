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
    /**
     * Where this namespace's host sockets live: with {@code hostSocketsOnDeviceLoop}, its own loop when that is a
     * loop of the host transport's group (guest side and host side of a flow on one thread), else the host group
     * (each read batch handed between two threads, which pipelines them on two cores).
     */
    final io.netty.channel.EventLoopGroup hostLoops;
    private final IcmpEchoForwarder icmp;
    private Channel tcpListener;
    private UdpFlows udp;
    /** Touched on {@link #loop} only. */
    int connections;
    int pendingConnects;
    private volatile boolean closed;
    /** Relayed TCP connections (guests' and port forwards'), for the idle sweep. Loop only. */
    private final java.util.Map<Channel, Relayed> relayed = new java.util.HashMap<>();
    private io.netty.util.concurrent.ScheduledFuture<?> idleSweep;

    /** A relayed connection: its guest-side channel, its host-side channel, their shared activity. */
    private record Relayed(Channel guest, Channel host, TcpRelay.Activity activity) {
    }

    /** Port forwards of this namespace. Loop only. */
    private final java.util.Set<PortForward> forwards = new java.util.HashSet<>();

    SlirpNamespace(Slirp slirp, Channel device) {
        this.slirp = slirp;
        this.device = device;
        this.loop = device.eventLoop();
        this.hostLoops = slirp.hostSocketsOnDeviceLoop && Slirp.contains(slirp.hostGroup, loop) ? loop
                : slirp.hostGroup;
        this.host = VirtualHost.builder().address(slirp.gatewayV4).address(slirp.dnsV4).address(slirp.gatewayV6)
                .address(slirp.dnsV6).mtu(slirp.mtu).tcp(slirp.tcp).answerPing(false)
                .maxTcpBindings(slirp.maxConnections + 16).build();
        this.icmp = new IcmpEchoForwarder(this);
    }

    void start(Promise<SlirpNamespace> ready) {
        device.pipeline().addLast(icmp, host);
        long every = Math.max(10, slirp.tcpIdleMillis / 4);
        idleSweep = loop.scheduleAtFixedRate(this::expireIdleTcp, every, every, java.util.concurrent.TimeUnit.MILLISECONDS);
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

    /** Relayed TCP connections the idle sweep follows (equal to {@link #tcpConnections()} once connects ended). Loop only. */
    int relayedConnections() {
        return relayed.size();
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

    /**
     * Counts a new relayed connection against the namespace's and the slirp's bounds: false (nothing taken) when
     * either is reached. Loop only; {@link #track} gives it back when the guest side closes.
     */
    boolean reserveConnection() {
        if (connections >= slirp.maxConnections || closed || !slirp.reserveConnection()) {
            return false;
        }
        connections++;
        return true;
    }

    /** Follows a relayed connection reserved with {@link #reserveConnection}: its bounds and its idle time. */
    void track(Channel guest, Channel hostCh, TcpRelay.Activity activity) {
        relayed.put(guest, new Relayed(guest, hostCh, activity));
        guest.closeFuture().addListener(f -> {
            connections--;
            slirp.totalConnections.decrementAndGet();
            relayed.remove(guest);
        });
    }

    /** Resets, both ways, relayed connections that read nothing for the TCP idle timeout. */
    private void expireIdleTcp() {
        long limit = System.nanoTime() - java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(slirp.tcpIdleMillis);
        java.util.List<Relayed> idle = null;
        for (Relayed r : relayed.values()) {
            if (r.activity().lastNanos - limit < 0) {
                (idle == null ? idle = new java.util.ArrayList<>() : idle).add(r);
            }
        }
        if (idle == null) {
            return;
        }
        for (Relayed r : idle) {
            slirp.counters.tcpIdleClosed.increment();
            abort(r.host());
            abort(r.guest());
        }
    }

    /** Closes with a reset (SO_LINGER 0). */
    static void abort(Channel ch) {
        if (ch.isOpen()) {
            try {
                ch.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (RuntimeException notSupported) {
                // closed meanwhile
            }
            ch.close();
        }
    }

    private void onGuestSyn(VirtualSocketChannel guest) {
        InetSocketAddress dst = guest.localAddress();
        InetSocketAddress to = dst == null ? null : target(dst);
        if (to == null) {
            slirp.counters.tcpRefusedByPolicy.increment();
            guest.refuseConnection(slirp.refusal);
            return;
        }
        if (pendingConnects >= slirp.maxPendingConnects || !reserveConnection()) {
            slirp.counters.tcpRefusedByLimit.increment();
            guest.refuseConnection(Refusal.RESET);
            return;
        }
        pendingConnects++;
        slirp.counters.tcpConnects.increment();
        TcpRelay.Activity activity = new TcpRelay.Activity();
        TcpRelay guestSide = new TcpRelay(slirp.counters, true, activity);
        TcpRelay hostSide = new TcpRelay(slirp.counters, false, activity);
        guest.pipeline().addLast(guestSide);
        ChannelFuture cf = new Bootstrap().group(hostLoops).channel(slirp.socketClass)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, slirp.connectTimeoutMillis)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(hostSide).connect(to);
        Channel hostCh = cf.channel();
        guestSide.peer = hostCh;
        hostSide.peer = guest;
        track(guest, hostCh, activity);
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
            if (idleSweep != null) {
                idleSweep.cancel(false);
            }
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

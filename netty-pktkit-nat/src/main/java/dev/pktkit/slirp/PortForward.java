package dev.pktkit.slirp;

import dev.pktkit.vtcp.host.VirtualChannelOption;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A port forward from the host to a guest of one {@link SlirpNamespace}, added and removed at run time
 * ({@link SlirpNamespace#forwardTcp}, {@link SlirpNamespace#forwardUdp}, {@link #close()}). The host listens on
 * a real socket; every connection (TCP) or remote address and port (UDP) it accepts becomes a connection or
 * datagram flow from the gateway address of the guest's family to the guest, so a client on the host's loopback
 * (which a guest would drop as a martian source) appears to the guest as the gateway. IPv4 and IPv6 on both
 * sides; the host side may be of the other family than the guest side.
 *
 * <p>TCP is relayed as the guests' own connections are (back-pressure, half-close, reset), and counts against the
 * namespace's connection bound: over it, the host connection is reset and counted. A guest that refuses the
 * connection gets the host client reset. UDP: each remote gets a virtual datagram socket at the gateway, bounded
 * by {@code maxUdpFlows} per forward and closed after the UDP idle timeout.
 */
public final class PortForward implements AutoCloseable {
    /** The transport a forward carries. */
    public enum Protocol { TCP, UDP }

    private final SlirpNamespace ns;
    private final Protocol protocol;
    private final InetSocketAddress guest;
    private final InetSocketAddress from;
    private Channel hostChannel;
    /** UDP: the flow of each remote. Namespace loop only. */
    private final Map<InetSocketAddress, Channel> udpFlows = new HashMap<>();
    private final Map<Channel, Long> udpLastUsed = new HashMap<>();
    private ScheduledFuture<?> sweep;
    private volatile boolean closed;
    private final Promise<Void> closeFuture;

    PortForward(SlirpNamespace ns, Protocol protocol, InetSocketAddress guest) {
        this.ns = ns;
        this.protocol = protocol;
        this.guest = guest;
        InetAddress gw = guest.getAddress() instanceof Inet4Address ? ns.slirp.gatewayV4 : ns.slirp.gatewayV6;
        this.from = new InetSocketAddress(gw, 0);
        this.closeFuture = ns.loop.newPromise();
    }

    /** Completes once {@link #close()} has closed the host listener and the forward's flows. */
    public Future<Void> closeFuture() {
        return closeFuture;
    }

    /** TCP or UDP. */
    public Protocol protocol() {
        return protocol;
    }

    /** The host address and port it listens on (the port the kernel chose when 0 was asked). */
    public InetSocketAddress hostAddress() {
        Channel c = hostChannel;
        return c == null ? null : (InetSocketAddress) c.localAddress();
    }

    /** The guest address and port it forwards to. */
    public InetSocketAddress guestAddress() {
        return guest;
    }

    Future<PortForward> bind(InetSocketAddress host) {
        Promise<PortForward> p = ns.loop.newPromise();
        ChannelFuture f;
        if (protocol == Protocol.TCP) {
            f = new ServerBootstrap().group(ns.slirp.hostGroup, ns.hostLoops).channel(ns.slirp.serverSocketClass)
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, ns.waterMark())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            TcpRelay hostSide = new TcpRelay(ns.slirp.counters, false, new TcpRelay.Activity());
                            ch.pipeline().addLast(hostSide);
                            ns.loop.execute(() -> acceptTcp(ch, hostSide));
                        }
                    }).bind(host);
        } else {
            f = new Bootstrap().group(ns.hostLoops).channel(ns.slirp.datagramClass)
                    .option(ChannelOption.SO_RCVBUF, 256 << 10)
                    .handler(new UdpHostReader()).bind(host);
            long every = Math.max(10, ns.slirp.udpIdleMillis / 4);
            sweep = ns.loop.scheduleAtFixedRate(this::expireUdp, every, every, TimeUnit.MILLISECONDS);
        }
        hostChannel = f.channel();
        f.addListener((ChannelFutureListener) r -> {
            if (r.isSuccess()) {
                p.trySuccess(this);
            } else {
                close();
                p.tryFailure(r.cause());
            }
        });
        return p;
    }

    // ---- TCP ----

    private void acceptTcp(Channel client, TcpRelay hostSide) {
        if (closed || !client.isActive()) {
            client.close();
            return;
        }
        if (!ns.reserveConnection()) {
            ns.slirp.counters.forwardRefusedByLimit.increment();
            client.config().setOption(ChannelOption.SO_LINGER, 0);
            client.close();
            return;
        }
        TcpRelay guestSide = new TcpRelay(ns.slirp.counters, true, hostSide.activity);
        ChannelFuture cf = new Bootstrap().group(ns.loop).channelFactory(ns.host.socketChannels())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, ns.waterMark())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, ns.slirp.connectTimeoutMillis)
                .handler(guestSide).localAddress(from).connect(guest);
        Channel g = cf.channel();
        guestSide.peer = client;
        hostSide.peer = g;
        ns.track(g, client, hostSide.activity);
        client.closeFuture().addListener(x -> g.close());
        cf.addListener((ChannelFutureListener) r -> {
            if (r.isSuccess()) {
                ns.slirp.counters.forwardConnections.increment();
            } else {
                ns.slirp.counters.forwardRefusedByGuest.increment();
                client.config().setOption(ChannelOption.SO_LINGER, 0);
                client.close();
            }
        });
    }

    // ---- UDP ----

    /** Datagrams from remotes, on the host transport's loop: to the namespace's loop. */
    private final class UdpHostReader extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof DatagramPacket p)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            ns.loop.execute(() -> fromRemote(p));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // ICMP errors about replies sent to remotes: nothing to do
        }
    }

    private void fromRemote(DatagramPacket p) {
        if (closed) {
            p.release();
            return;
        }
        InetSocketAddress remote = p.sender();
        Channel flow = udpFlows.get(remote);
        ChannelFuture bound = null;
        if (flow == null) {
            if (udpFlows.size() >= ns.slirp.maxUdpFlows || !ns.slirp.reserveUdpFlow()) {
                ns.slirp.counters.udpDroppedByLimit.increment();
                p.release();
                return;
            }
            bound = new Bootstrap().group(ns.loop).channelFactory(ns.host.datagramChannels())
                    .handler(new GuestReply(remote)).bind(from);
            flow = bound.channel();
            udpFlows.put(remote, flow);
            ns.slirp.counters.forwardUdpFlows.increment();
        }
        udpLastUsed.put(flow, System.nanoTime());
        DatagramPacket out = new DatagramPacket(p.content(), guest);
        Channel f = flow;
        if (bound == null || bound.isDone()) {
            f.writeAndFlush(out, f.voidPromise());
        } else {
            // Bootstrap binds in a later task of the loop: a write before it would fail as not yet bound
            bound.addListener(b -> f.writeAndFlush(out, f.voidPromise()));
        }
    }

    /** The guest's answers to one remote: out of the host socket to it. */
    private final class GuestReply extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress remote;

        GuestReply(InetSocketAddress remote) {
            this.remote = remote;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof DatagramPacket p)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            Channel h = hostChannel;
            if (closed || h == null || !p.sender().equals(guest)) {
                p.release();
                return;
            }
            udpLastUsed.put(ctx.channel(), System.nanoTime());
            h.writeAndFlush(new DatagramPacket(p.content().retain(), remote), h.voidPromise());
            p.release();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // ICMP errors from the guest: its port is closed; the remote's retries decide
        }
    }

    private void expireUdp() {
        long idle = TimeUnit.MILLISECONDS.toNanos(ns.slirp.udpIdleMillis);
        long now = System.nanoTime();
        for (Iterator<Map.Entry<InetSocketAddress, Channel>> it = udpFlows.entrySet().iterator(); it.hasNext(); ) {
            Channel c = it.next().getValue();
            Long last = udpLastUsed.get(c);
            if (last == null || now - last > idle) {
                it.remove();
                udpLastUsed.remove(c);
                c.close();
                ns.slirp.totalUdpFlows.decrementAndGet();
                ns.slirp.counters.udpFlowsExpired.increment();
            }
        }
    }

    /** Stops listening and closes its flows (connections already relayed go on until they end). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Channel h = hostChannel;
        if (h != null) {
            h.close();
        }
        ns.loop.execute(() -> {
            if (sweep != null) {
                sweep.cancel(false);
            }
            for (Channel c : udpFlows.values()) {
                c.close();
                ns.slirp.totalUdpFlows.decrementAndGet();
            }
            udpFlows.clear();
            udpLastUsed.clear();
            ns.forwardClosed(this);
            if (h == null) {
                closeFuture.trySuccess(null);
            } else {
                h.closeFuture().addListener(x -> closeFuture.trySuccess(null));
            }
        });
    }

    @Override
    public String toString() {
        return "PortForward(" + protocol + " " + hostAddress() + " -> " + guest + ")";
    }
}

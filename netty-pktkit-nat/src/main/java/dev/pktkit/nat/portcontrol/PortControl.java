package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.nat.Nat;
import dev.pktkit.vtcp.host.VirtualHost;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.ObjectUtil;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Port control for the inside hosts of a {@link Nat}: UPnP IGD (SSDP on 239.255.255.250:1900, description and
 * SOAP control on TCP {@link PortControlConfig#httpPort()}), NAT-PMP and PCP (UDP 5351), all at the NAT's inside
 * address. Every grant is a {@link Lease}: a port forward in the NAT (so the NAT's bounds hold) that expires.
 *
 * <pre>{@code
 * Nat nat = Nat.create(loop, NatConfig.builder().outsideAddresses("198.51.100.1").insideAddress("10.70.0.1").build());
 * PortControl pc = PortControl.create(nat, PortControlConfig.defaults());
 * pc.attach(insideTun, "lan").sync();    // instead of nat.attach(insideTun, "lan")
 * }</pre>
 *
 * <p>{@link #attach} attaches the port to the NAT (in a named namespace) and puts a small filter in front of the
 * NAT's handler: IPv4 packets to the NAT's inside address on the control ports (and SSDP multicast) go to a vtcp
 * {@link VirtualHost} of that port, over a {@link PacketPipe}; everything else goes to the NAT untouched (the
 * check reads five header fields and allocates nothing). The host's replies go back out of the same port.
 * UPnP's HTTP runs on vtcp's {@code VirtualServerSocketChannel} with Netty's HTTP codec.
 *
 * <p>Threads: the leases live on the NAT's loop; the control endpoints run on the port's loop and hop to the
 * NAT's loop per request when the two differ.
 */
public final class PortControl implements AutoCloseable {
    /** Name of the filter in an attached port's pipeline (in front of {@link Nat#HANDLER_NAME}). */
    public static final String HANDLER_NAME = "pktkit-portcontrol";
    /** An HTTP connection that sends nothing for this long is closed. */
    static final int HTTP_IDLE_SECONDS = 30;

    private final Nat nat;
    private final PortControlConfig config;
    private final PortControlCounters counters = new PortControlCounters();
    private final LeaseTable leases;
    private final PcpServer pcp;
    private final long startNanos;
    private final int insideAddress;
    private final ScheduledFuture<?> ticker;
    private final List<Endpoints> endpoints = new ArrayList<>();
    private final IgdDescriptions descriptions;
    private volatile boolean closed;

    private PortControl(Nat nat, PortControlConfig config) {
        this.nat = nat;
        this.config = config;
        this.insideAddress = nat.config().insideAddress();
        if (insideAddress == 0) {
            throw new IllegalArgumentException("port control needs the NAT's inside address (NatConfig.insideAddress)");
        }
        this.startNanos = config.nanoClock.getAsLong();
        this.leases = new LeaseTable(nat.engine(), config, counters);
        this.pcp = new PcpServer(this);
        this.descriptions = new IgdDescriptions(config.friendlyName, config.uuid);
        this.ticker = nat.eventLoop().scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    public static PortControl create(Nat nat, PortControlConfig config) {
        return new PortControl(ObjectUtil.checkNotNull(nat, "nat"), ObjectUtil.checkNotNull(config, "config"));
    }

    public Nat nat() {
        return nat;
    }

    public PortControlConfig config() {
        return config;
    }

    public PortControlCounters counters() {
        return counters;
    }

    LeaseTable leaseTable() {
        return leases;
    }

    PcpServer pcpServer() {
        return pcp;
    }

    IgdDescriptions descriptions() {
        return descriptions;
    }

    int insideAddress() {
        return insideAddress;
    }

    /** Seconds since this instance started: the NAT-PMP / PCP epoch. */
    int epochSeconds() {
        return (int) ((config.nanoClock.getAsLong() - startNanos) / 1_000_000_000L);
    }

    /** Copies of the current leases. */
    public Future<List<Lease>> leases() {
        return onNat(leases::all);
    }

    /** Removes the leases whose time is up now (the 1 s timer does this too); completes with how many. */
    public Future<Integer> expireLeases() {
        return onNat(() -> {
            pcp.expirePeers();
            return leases.expire();
        });
    }

    private void tick() {
        if (!closed) {
            pcp.expirePeers();
            leases.expire();
        }
    }

    <T> Future<T> onNat(Callable<T> task) {
        EventLoop loop = nat.eventLoop();
        Promise<T> p = loop.newPromise();
        Runnable r = () -> {
            try {
                p.setSuccess(task.call());
            } catch (Throwable t) {
                p.setFailure(t);
            }
        };
        if (loop.inEventLoop()) {
            r.run();
        } else {
            loop.execute(r);
        }
        return p;
    }

    /**
     * Attaches {@code port} to the NAT in the named namespace ({@link Nat#attach(Channel, String)}) with the
     * control endpoints in front; completes when they listen.
     */
    public Future<Void> attach(Channel port, String namespace) {
        ObjectUtil.checkNotNull(port, "port");
        ObjectUtil.checkNotNull(namespace, "namespace");
        if (closed) {
            throw new IllegalStateException("closed");
        }
        nat.attach(port, namespace);
        Interceptor filter = new Interceptor();
        port.pipeline().addBefore(Nat.HANDLER_NAME, HANDLER_NAME, filter);
        Promise<Void> done = port.eventLoop().newPromise();
        nat.namespace(namespace).addListener(f -> {
            if (!f.isSuccess()) {
                done.tryFailure(f.cause());
                return;
            }
            PortContext ctx = new PortContext(namespace, (Integer) f.getNow());
            port.eventLoop().execute(() -> new Endpoints(port, ctx, filter).start(done));
        });
        return done;
    }

    /** Stops the timer, closes the control endpoints and removes every lease from the NAT. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ticker.cancel(false);
        List<Endpoints> eps;
        synchronized (endpoints) {
            eps = new ArrayList<>(endpoints);
            endpoints.clear();
        }
        for (Endpoints e : eps) {
            e.close();
        }
        onNat(() -> {
            for (Lease l : leases.all()) {
                leases.delete(l.namespace, l.protocol, l.externalPort, 0);
            }
            return null;
        });
    }

    /** The control endpoints of one port: a vtcp host on a pipe, and its servers. */
    private final class Endpoints {
        final Channel port;
        final PortContext ctx;
        final Interceptor filter;
        final PacketPipe pipe = new PacketPipe();
        final VirtualHost host;
        final List<Channel> servers = new ArrayList<>();
        final AtomicInteger httpConnections = new AtomicInteger();
        private SsdpHandler ssdp;
        private ChannelFuture pcpChannel;
        private ChannelFuture ssdpChannel;
        private volatile ScheduledFuture<?> reannounce;
        private volatile ScheduledFuture<?> nextAnnouncement;
        private volatile ScheduledFuture<?> firstNotify;
        private volatile boolean stopped;

        Endpoints(Channel port, PortContext ctx, Interceptor filter) {
            this.port = port;
            this.ctx = ctx;
            this.filter = filter;
            this.host = VirtualHost.builder().address(Ip4.format(insideAddress)).mtu(nat.config().insideMtu())
                    .answerPing(false).maxDatagramChannels(8).build();
        }

        void start(Promise<Void> done) {
            pipe.a().pipeline().addLast(host);
            pipe.b().pipeline().addLast(new Return(port));
            EventLoop loop = port.eventLoop();
            pipe.register(loop, loop).addListener(f -> {
                if (!f.isSuccess()) {
                    done.tryFailure(f.cause());
                    return;
                }
                try {
                    bindAll(loop, done);
                } catch (RuntimeException e) {
                    done.tryFailure(e);
                }
            });
        }

        private void bindAll(EventLoop loop, Promise<Void> done) {
            Inet4Address me = Ip4.toInet(insideAddress);
            List<ChannelFuture> binds = new ArrayList<>();
            if (config.natPmp || config.pcp) {
                pcpChannel = new Bootstrap().group(loop).channelFactory(host.datagramChannels())
                        .handler(new PcpHandler(ctx)).bind(new InetSocketAddress(me, PortControlConfig.PCP_PORT));
                binds.add(pcpChannel);
            }
            if (config.upnp) {
                String location = "http://" + me.getHostAddress() + ":" + config.httpPort + IgdDescriptions.ROOT_PATH;
                ssdp = new SsdpHandler(PortControl.this, location);
                ChannelFuture sb = new Bootstrap().group(loop).channelFactory(host.datagramChannels())
                        .handler(ssdp).bind(new InetSocketAddress(PortControlConfig.SSDP_PORT));
                ssdpChannel = sb;
                binds.add(sb);
                binds.add(new ServerBootstrap().group(loop).channelFactory(host.serverSocketChannels())
                        .childHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                if (httpConnections.incrementAndGet() > config.maxHttpConnections) {
                                    httpConnections.decrementAndGet();
                                    counters.add(PortControlCounter.HTTP_REFUSED);
                                    ch.close();
                                    return;
                                }
                                ch.closeFuture().addListener(x -> httpConnections.decrementAndGet());
                                Inet4Address peer = (Inet4Address) ((InetSocketAddress) ch.remoteAddress()).getAddress();
                                ch.pipeline().addLast(new ReadTimeoutHandler(HTTP_IDLE_SECONDS),
                                        new HttpServerCodec(1024, 4096, 8192),
                                        new IgdHttpHandler.Aggregator(config.maxSoapBytes, counters),
                                        new IgdHttpHandler(PortControl.this, ctx, Ip4.of(peer)));
                            }
                        }).bind(new InetSocketAddress(me, config.httpPort)));
            }
            AtomicInteger left = new AtomicInteger(binds.size());
            for (ChannelFuture b : binds) {
                b.addListener(f -> {
                    if (!f.isSuccess()) {
                        done.tryFailure(f.cause());
                        return;
                    }
                    servers.add(b.channel());
                    if (left.decrementAndGet() == 0) {
                        synchronized (endpoints) {
                            endpoints.add(this);
                        }
                        filter.endpoints = this;
                        port.closeFuture().addListener(x -> close());
                        if (pcpChannel != null && config.announceCount > 0) {
                            announce(pcpChannel.channel(), 1, config.announceFirstIntervalMillis);
                        }
                        if (ssdp != null) {
                            Channel c = ssdpChannel.channel();
                            // UDA 1.1 §1.2.2: a random 0-100 ms before the first set, then again at a random
                            // interval below half the max-age, drawn anew each period
                            firstNotify = loop.schedule(() -> ssdp.alive(c), config.randomBelow(100),
                                    TimeUnit.MILLISECONDS);
                            scheduleRefresh(loop, c);
                        }
                        done.trySuccess(null);
                    }
                });
            }
        }

        /** The next periodic alive set, {@link PortControlConfig#ssdpNotifyDelayMillis} from now. */
        private void scheduleRefresh(EventLoop loop, Channel c) {
            ScheduledFuture<?> f = loop.schedule(() -> {
                if (!stopped) {
                    ssdp.alive(c);
                    scheduleRefresh(loop, c);
                }
            }, config.ssdpNotifyDelayMillis(), TimeUnit.MILLISECONDS);
            reannounce = f;
            if (stopped) {
                f.cancel(false);
            }
        }

        /**
         * The {@code n}th of {@link PortControlConfig#announceCount} unsolicited announcements (RFC 6886 §3.2.1, RFC
         * 6887 §14.1.3) to 224.0.0.1:5350, built on the NAT's loop (the epoch and address of now); the next is
         * scheduled on the channel's loop {@code nextDelay} ms later, the delay doubling, until the count or close.
         */
        private void announce(Channel c, int n, long nextDelay) {
            if (stopped || !c.isActive()) {
                return;
            }
            InetSocketAddress allHosts = new InetSocketAddress("224.0.0.1", PortControlConfig.PCP_CLIENT_PORT);
            onNat(() -> pcp.announcements(c.alloc())).addListener(a -> {
                if (a.isSuccess()) {
                    @SuppressWarnings("unchecked")
                    List<ByteBuf> msgs = (List<ByteBuf>) a.getNow();
                    for (ByteBuf m : msgs) {
                        c.write(new DatagramPacket(m, allHosts));
                        counters.add(PortControlCounter.ANNOUNCEMENTS_SENT);
                    }
                    c.flush();
                }
            });
            if (n < config.announceCount) {
                nextAnnouncement = c.eventLoop().schedule(() -> announce(c, n + 1, nextDelay * 2), nextDelay,
                        TimeUnit.MILLISECONDS);
            }
        }

        void close() {
            filter.endpoints = null;
            stopped = true;
            ScheduledFuture<?> next = nextAnnouncement;
            if (next != null) {
                next.cancel(false);
            }
            if (firstNotify != null) {
                firstNotify.cancel(false);
            }
            if (reannounce != null) {
                reannounce.cancel(false);
                ssdp.stop();
                Channel c = ssdpChannel.channel();
                if (c.isActive() && port.isActive()) { // best effort: before the closes below, on c's loop
                    if (c.eventLoop().inEventLoop()) {
                        ssdp.announce(c, "ssdp:byebye");
                    } else {
                        c.eventLoop().execute(() -> ssdp.announce(c, "ssdp:byebye"));
                    }
                }
            }
            for (Channel s : servers) {
                s.close();
            }
            pipe.close();
        }

        void divert(ByteBuf buf) {
            pipe.b().writeAndFlush(buf, pipe.b().voidPromise());
        }
    }

    /** Writes what the vtcp host sends back out of the inside port. */
    private final class Return extends ChannelInboundHandlerAdapter {
        private final Channel port;

        Return(Channel port) {
            this.port = port;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (port.isActive() && port.isWritable()) {
                port.write(msg, port.voidPromise());
            } else {
                ReferenceCountUtil.release(msg);
                counters.add(PortControlCounter.REPLY_DROPPED);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            port.flush();
        }
    }

    /** In front of the NAT: takes the packets for the control endpoints, passes everything else. */
    private final class Interceptor extends ChannelInboundHandlerAdapter {
        volatile Endpoints endpoints;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Endpoints e = endpoints;
            if (e != null && msg instanceof ByteBuf buf && isControl(buf)) {
                e.divert(buf);
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** IPv4, not a fragment, UDP or TCP to one of the control endpoints. */
    boolean isControl(ByteBuf buf) {
        int off = buf.readerIndex();
        if (buf.readableBytes() < 28 || buf.getUnsignedByte(off) >>> 4 != 4) {
            return false;
        }
        int ihl = (buf.getUnsignedByte(off) & 0xF) << 2;
        if (ihl < 20 || buf.readableBytes() < ihl + 4 || Ipv4.isFragment(buf, off)) {
            return false;
        }
        int proto = buf.getUnsignedByte(off + 9);
        int dst = buf.getInt(off + 16);
        int dport = buf.getUnsignedShort(off + ihl + 2);
        if (proto == IpProtocol.UDP) {
            if (dst == insideAddress) {
                return dport == PortControlConfig.PCP_PORT && (config.natPmp || config.pcp)
                        || dport == PortControlConfig.SSDP_PORT && config.upnp;
            }
            return dst == SSDP_GROUP && dport == PortControlConfig.SSDP_PORT && config.upnp;
        }
        return proto == IpProtocol.TCP && dst == insideAddress && dport == config.httpPort && config.upnp;
    }

    private static final int SSDP_GROUP = Ip4.parse(PortControlConfig.SSDP_GROUP);

    /** NAT-PMP / PCP on UDP 5351. */
    private final class PcpHandler extends ChannelInboundHandlerAdapter {
        private final PortContext pctx;

        PcpHandler(PortContext pctx) {
            this.pctx = pctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof DatagramPacket p)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            InetSocketAddress sender = p.sender();
            if (!(sender.getAddress() instanceof Inet4Address a4)) {
                p.release();
                counters.add(PortControlCounter.PCP_DROPPED);
                return;
            }
            int src = Ip4.of(a4);
            onNat(() -> {
                try {
                    return pcp.handle(p.content(), src, pctx, ctx.alloc());
                } finally {
                    p.release();
                }
            }).addListener(f -> {
                ByteBuf resp = f.isSuccess() ? (ByteBuf) f.getNow() : null;
                if (resp != null) {
                    ctx.channel().writeAndFlush(new DatagramPacket(resp, sender));
                }
            });
        }
    }
}

package dev.pktkit.slirp;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.dhcp.DhcpServer;
import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.pipe.Attachment;
import dev.pktkit.codec.pipe.PortConnector;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.L2Port;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The per-guest connector of slirp: takes L2 ports (a QEMU guest, a TAP device, a {@code PacketPipe} end) and
 * gives each its own tenant — a private LAN segment ({@link L2Hub}) with a gateway on it ({@link DhcpServer},
 * {@link L2Adapter}, IPv6 router advertisements with RDNSS, proxy ARP/NDP for the DNS address) and its own
 * {@link SlirpNamespace} behind that gateway. Tenants may reuse the same addresses (every tenant gets the same
 * 10.0.2.0/24 and fec0::/64 by default); one tenant can neither see nor reach another's frames or flows.
 *
 * <pre>{@code
 * Slirp slirp = Slirp.builder().build();
 * SlirpGateway gateway = SlirpGateway.builder(slirp).build();
 * QemuListener.stream(QemuAddress.unix(path)).group(group).connector(gateway.connector()) ...
 * }</pre>
 *
 * <h2>How a tenant is chosen</h2>
 * <ul>
 * <li>{@link #attach(Channel)}: a tenant of the port's own, made for it and closed with it (the default).</li>
 * <li>{@link #attach(Channel, Object)}: the tenant named by {@code key}, made on first use and kept when its
 * ports go, until {@link #closeTenant(Object)} or {@link #close()}. A port that reconnects with the same key (a
 * QEMU guest restarting its netdev, a WireGuard peer roaming) finds its own DHCP lease, port forwards and open
 * connections again; several ports with one key share a segment, as VMs of one tenant would.
 * {@link #connector(Object)} puts every port of a listener on one such segment: one LAN behind one gateway (the
 * main example's), and {@link #open(Object)} makes the tenant before its first port, for its port forwards.</li>
 * </ul>
 * Each tenant runs on one event loop of the group given ({@link Builder#group}, default the slirp's host
 * transport group): the first port's own loop when it is one of the group's (the group's next for a tenant
 * {@linkplain #open opened} without a port), so that its frames, the gateway, the
 * slirp namespace and (when the group is also the slirp's host group) the host sockets share one thread.
 * Bounded by {@link Builder#maxTenants}: over it, {@code attach} and {@code open} return a failed future and the
 * connectors throw {@link IllegalStateException}, as they do once the gateway is closed.
 *
 * <h2>Write buffers on the segment</h2>
 * The segment's hub writes a whole ingress read batch to its destination port and flushes once at the batch's end,
 * and drops a frame when the destination is not writable ({@code CONGESTED}). A batch of large frames (a TAP at MTU
 * 65520 reads up to 16 frames of 64 KiB per batch) overruns Netty's default 64 KiB high water mark after one frame,
 * so most of every batch would be dropped and the guest's TCP would crawl through retransmissions. The gateway
 * therefore raises the write-buffer high water mark of its own cable, and of each port it attaches, to
 * {@link Builder#batchFrames} frames of the slirp's MTU plus an Ethernet header with a VLAN tag (low water mark
 * half of it); a port whose high water mark is already higher keeps its own.
 *
 * <h2>Large frames</h2>
 * When a tenant's first port takes {@code OffloadPacket}s ({@code OffloadPacket.ACCEPTS}: a TAP with tuntap's
 * {@code VirtioNetCodec}, default or {@code forwarding()}, and {@code OffloadMode.LARGE}) and {@link Builder#largeFrames} is on (the
 * default), the tenant's slirp namespace sends large TCP segments (vtcp's {@code largeSegmentBytes}) and the
 * gateway frames them whole, with their offload state, so that the kernel behind the TAP segments and checksums
 * them: one {@code write} per 64 KB of a download instead of one per MTU-sized frame. The water marks are then
 * those of {@link Builder#batchFrames} 64 KB frames. A port that wants plain frames on such a tenant's segment
 * (a second port with the same key, of another kind) makes the gateway cut large segments in Java from then on.
 * A port that takes large frames sends them too (its kernel's TSO); the hub hands them to the gateway as
 * oversized packets with complete checksums, which vtcp takes as they are.
 */
public final class SlirpGateway implements AutoCloseable {
    /** Default bound on tenants: 1024. */
    public static final int DEFAULT_MAX_TENANTS = 1024;
    /** Default router advertisement interval: 60 s (RFC 4861 allows 4 s to 1800 s). */
    public static final long DEFAULT_RA_INTERVAL_MILLIS = 60_000;
    /** Default write-buffer size of the segment's ports, in MTU-sized frames: 32 (see the class comment). */
    public static final int DEFAULT_BATCH_FRAMES = 32;

    private final Slirp slirp;
    private final EventLoopGroup group;
    private final String pool4First;
    private final String pool4Last;
    private final Inet6Address prefix6;
    private final String domain;
    private final Duration leaseTime;
    private final long raIntervalMillis;
    private final int maxTenants;
    /** Write-buffer water marks for the gateway's cable and attached ports: a read batch of MTU-sized frames. */
    private final io.netty.channel.WriteBufferWaterMark segmentWaterMark;
    /** The same for tenants with large frames: {@code batchFrames} frames of 64 KB. */
    private final io.netty.channel.WriteBufferWaterMark largeWaterMark;
    private final boolean largeFrames;
    private final Map<Object, Tenant> tenants = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private SlirpGateway(Builder b) {
        this.slirp = b.slirp;
        this.group = b.group != null ? b.group : slirp.hostGroup;
        this.pool4First = b.pool4First;
        this.pool4Last = b.pool4Last;
        this.prefix6 = b.prefix6;
        this.domain = b.domain;
        this.leaseTime = b.leaseTime;
        this.raIntervalMillis = b.raIntervalMillis;
        this.maxTenants = b.maxTenants;
        this.segmentWaterMark = segmentWaterMark(slirp.mtu, b.batchFrames);
        this.largeWaterMark = segmentWaterMark(Math.max(slirp.mtu, LARGE_FRAME_BYTES), b.batchFrames);
        this.largeFrames = b.largeFrames;
    }

    /** Water marks that hold {@code frames} frames of {@code mtu} (never below Netty's defaults). */
    static io.netty.channel.WriteBufferWaterMark segmentWaterMark(int mtu, int frames) {
        long high = Math.max(io.netty.channel.WriteBufferWaterMark.DEFAULT.high(), (long) frames * (mtu + 18));
        int h = (int) Math.min(Integer.MAX_VALUE, high);
        return new io.netty.channel.WriteBufferWaterMark(Math.max(io.netty.channel.WriteBufferWaterMark.DEFAULT.low(),
                h / 2), h);
    }

    /** Raises {@code ch}'s write-buffer water marks to {@code mark}, if they are lower. */
    private static void raiseWaterMark(Channel ch, io.netty.channel.WriteBufferWaterMark mark) {
        io.netty.channel.WriteBufferWaterMark now = ch.config().getWriteBufferWaterMark();
        if (now.high() < mark.high()) {
            ch.config().setWriteBufferWaterMark(mark);
        }
    }

    /** Bytes of the largest frame a tenant with large frames carries (a 64 KB IP packet). */
    static final int LARGE_FRAME_BYTES = 65_535;

    /** A builder for a gateway in front of {@code slirp}. */
    public static Builder builder(Slirp slirp) {
        return new Builder(slirp);
    }

    /** Gives {@code port} (a channel of Ethernet frames) a tenant of its own, closed when the port closes. */
    public Future<Tenant> attach(Channel port) {
        Objects.requireNonNull(port, "port");
        Future<Tenant> t = attach(port, new PortKey(port));
        port.closeFuture().addListener(f -> closeTenant(new PortKey(port)));
        return t;
    }

    /**
     * Attaches {@code port} to the tenant named {@code key} (made now if there is none): see the class comment.
     * The future completes once the tenant's gateway and slirp namespace run.
     */
    public Future<Tenant> attach(Channel port, Object key) {
        Objects.requireNonNull(port, "port");
        Objects.requireNonNull(key, "key");
        Tenant t;
        try {
            t = tenantFor(key, port, false);
        } catch (IllegalStateException e) {
            return GlobalEventExecutor.INSTANCE.newFailedFuture(e);
        }
        return attachTo(t, port, null);
    }

    /**
     * Opens the tenant named {@code key} before any port joins it (it is made now if there is none), so that its
     * namespace can take port forwards first; ports join it with {@link #attach(Channel, Object)} or
     * {@link #connector(Object)}. The future completes once the tenant's gateway and slirp namespace run; it fails
     * when the gateway is closed or full. A tenant opened this way has no first port to take its frame size from,
     * so it sends plain frames ({@link Builder#largeFrames} applies to tenants a port made).
     */
    public Future<Tenant> open(Object key) {
        Objects.requireNonNull(key, "key");
        Tenant t;
        try {
            t = tenantFor(key, null, false);
        } catch (IllegalStateException e) {
            return GlobalEventExecutor.INSTANCE.newFailedFuture(e);
        }
        Promise<Tenant> p = GlobalEventExecutor.INSTANCE.newPromise(); // may be waited on from any thread
        t.ready.addListener(f -> {
            if (f.isSuccess()) {
                p.trySuccess(t);
            } else {
                p.tryFailure(f.cause());
            }
        });
        return p;
    }

    /**
     * The tenant named {@code key}, made now for {@code port} (null: none yet) if there is none; with
     * {@code mustBeNew}, one that exists already is an error.
     *
     * @throws IllegalStateException if the gateway is closed or {@link Builder#maxTenants} is reached
     */
    private Tenant tenantFor(Object key, Channel port, boolean mustBeNew) {
        synchronized (tenants) {
            if (closed) {
                throw new IllegalStateException("gateway closed");
            }
            Tenant t = tenants.get(key);
            if (t != null && mustBeNew) {
                throw new IllegalStateException(port + " is attached already");
            }
            if (t == null) {
                if (tenants.size() >= maxTenants) {
                    throw new IllegalStateException("maxTenants (" + maxTenants + ") reached");
                }
                t = new Tenant(key, loopFor(port), largeFrames && port != null && OffloadPacket.acceptedBy(port));
                tenants.put(key, t);
            }
            return t;
        }
    }

    private Future<Tenant> attachTo(Tenant tenant, Channel port, Promise<L2Port> attached) {
        Promise<Tenant> p = GlobalEventExecutor.INSTANCE.newPromise();
        tenant.ready.addListener(f -> {
            if (!f.isSuccess()) {
                p.tryFailure(f.cause());
                if (attached != null) {
                    attached.tryFailure(f.cause());
                }
                return;
            }
            try {
                raiseWaterMark(port, tenant.waterMark());
                if (tenant.large != null && !OffloadPacket.acceptedBy(port)) {
                    tenant.large.plainPortsPresent = true; // this port wants plain frames: cut in Java from now on
                }
                L2Port l2 = tenant.hub.attach(port);
                if (attached != null) {
                    attached.trySuccess(l2);
                }
                p.trySuccess(tenant);
            } catch (RuntimeException e) {
                p.tryFailure(e);
                if (attached != null) {
                    attached.tryFailure(e);
                }
            }
        });
        return p;
    }

    /**
     * This gateway as a {@link PortConnector} (for {@code QemuListener}, {@code PortAttacher}): each port gets a
     * tenant of its own, as {@link #attach(Channel)}. The attachment's {@code detach()} takes the port off its
     * segment (the port stays open) and closes the tenant; the tenant is ready a moment after {@code attach}
     * returns (frames before that are not seen).
     */
    public PortConnector connector() {
        return port -> {
            Objects.requireNonNull(port, "port");
            PortKey key = new PortKey(port);
            Tenant t = tenantFor(key, port, true);
            port.closeFuture().addListener(f -> closeTenant(key));
            return attachment(t, port, () -> closeTenant(key));
        };
    }

    /**
     * A {@link PortConnector} that puts every port on the segment of the tenant named {@code key}, as
     * {@link #attach(Channel, Object)}: one LAN whose VMs reach each other and, through one gateway and slirp
     * namespace, the host's network. The attachment's {@code detach()} takes the port off the segment (the port
     * stays open, its raised write-buffer water marks too); the tenant stays until {@link #closeTenant(Object)} or
     * {@link #close()}. A port that comes after {@code closeTenant(key)} gets a new, empty tenant by that key (the
     * old one's forwards are gone with it).
     */
    public PortConnector connector(Object key) {
        Objects.requireNonNull(key, "key");
        return port -> {
            Objects.requireNonNull(port, "port");
            return attachment(tenantFor(key, port, false), port, () -> { });
        };
    }

    /**
     * Attaches {@code port} to {@code tenant}'s segment; the attachment's detach runs {@code afterDetach}. A port
     * whose tenant failed to start is closed (it would reach nothing).
     */
    private Attachment attachment(Tenant tenant, Channel port, Runnable afterDetach) {
        Promise<L2Port> l2 = GlobalEventExecutor.INSTANCE.newPromise();
        attachTo(tenant, port, l2);
        l2.addListener(f -> {
            if (!f.isSuccess()) {
                port.close();
            }
        });
        return new Attachment() {
            @Override
            public Channel port() {
                return port;
            }

            @Override
            public boolean isAttached() {
                L2Port a = l2.getNow();
                return a != null && a.isAttached();
            }

            @Override
            public Future<Void> detach() {
                Promise<Void> done = GlobalEventExecutor.INSTANCE.newPromise();
                l2.addListener(f -> {
                    if (!f.isSuccess()) {
                        afterDetach.run();
                        done.trySuccess(null);
                        return;
                    }
                    l2.getNow().detach().addListener(d -> {
                        afterDetach.run();
                        done.trySuccess(null);
                    });
                });
                return done;
            }
        };
    }

    /**
     * A new tenant's loop: the port's own (if any) when it is one of the group's (its frames then reach the gateway and
     * slirp without a hand-over between threads), else the group's next.
     */
    private EventLoop loopFor(Channel port) {
        EventLoop own = port != null && port.isRegistered() ? port.eventLoop() : null;
        return own != null && Slirp.contains(group, own) ? own : group.next();
    }

    /** The tenant named {@code key}, or null. */
    public Tenant tenant(Object key) {
        return tenants.get(key);
    }

    /** The tenants, now. */
    public java.util.List<Tenant> tenants() {
        return java.util.List.copyOf(tenants.values());
    }

    /** The number of tenants. */
    public int tenantCount() {
        return tenants.size();
    }

    /** Closes the tenant named {@code key}, and the ports on its segment. */
    public void closeTenant(Object key) {
        Tenant t = tenants.remove(key);
        if (t != null) {
            t.close();
        }
    }

    /** Closes every tenant. The slirp stays open (its owner closes it). */
    @Override
    public void close() {
        Object[] keys;
        synchronized (tenants) { // no tenant made after this can miss the close
            closed = true;
            keys = tenants.keySet().toArray();
        }
        for (Object k : keys) {
            closeTenant(k);
        }
    }

    /** A key for a port's own tenant: the port's identity. */
    private record PortKey(Channel port) {
    }

    /** One tenant: its segment, gateway and slirp namespace. */
    public final class Tenant implements AutoCloseable {
        private final Object key;
        private final L2Hub hub;
        private final L2Adapter adapter;
        private final DhcpServer dhcp;
        private final RouterAdvertiser ra;
        private final L2Port gatewayPort;
        private final Promise<Tenant> ready;
        private volatile SlirpNamespace namespace;
        /** Closed (the gateway's own {@code closed} is for the whole gateway). */
        private volatile boolean ended;
        /** Large frames for this tenant's download, or null (its first port wanted plain frames). */
        final LargeFrames large;

        private Tenant(Object key, EventLoop loop, boolean largeFrames) {
            this.key = key;
            this.ready = loop.newPromise();
            ready.setUncancellable(); // handed to callers of open(): none of them may cancel the tenant's start
            this.hub = L2Hub.builder().name("slirp-" + Integer.toHexString(System.identityHashCode(this))).build();
            Inet4Address gw4 = (Inet4Address) slirp.gatewayV4;
            this.adapter = L2Adapter.builder().ipv4(gw4, 24)
                    .ipv6Address((Inet6Address) slirp.gatewayV6, 64).build();
            this.dhcp = DhcpServer.builder().serverMac(adapter.mac()).serverAddress(gw4.getHostAddress(), 24)
                    .pool(pool4First, pool4Last).router(gw4.getHostAddress())
                    .dnsServer(slirp.dnsV4.getHostAddress()).domainName(domain).leaseTime(leaseTime).build();
            this.ra = new RouterAdvertiser(adapter.mac(), prefix6, (Inet6Address) slirp.dnsV6, slirp.dnsV4,
                    slirp.mtu, raIntervalMillis);
            this.large = largeFrames ? new LargeFrames(adapter.mac()) : null;
            this.gatewayPort = hub.attach(loop, new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    raiseWaterMark(ch, waterMark());
                    if (large != null) {
                        // before slirp.attach: the namespace's TCP engine turns large segments on for ACCEPTS
                        ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
                        ch.pipeline().addLast(large.learner(), ra, dhcp, adapter, large.framer());
                    } else {
                        ch.pipeline().addLast(ra, dhcp, adapter);
                    }
                    slirp.attach(ch).addListener(f -> {
                        if (f.isSuccess()) {
                            namespace = (SlirpNamespace) f.getNow();
                            if (ended) { // closed while its namespace was being made
                                namespace.close();
                                ready.tryFailure(new IllegalStateException(Tenant.this + " closed"));
                                return;
                            }
                            ready.trySuccess(Tenant.this);
                        } else {
                            ready.tryFailure(f.cause());
                        }
                    });
                }
            });
            raiseWaterMark(gatewayPort.port(), waterMark()); // the hub writes its read batches into it
        }

        private io.netty.channel.WriteBufferWaterMark waterMark() {
            return large != null ? largeWaterMark : segmentWaterMark;
        }

        /** Whether this tenant's download goes out as large frames (see the class comment). */
        public boolean largeFrames() {
            return large != null;
        }

        /**
         * Large segments framed whole so far (the kernel behind the port cuts them); waits (5 s at most) for the
         * tenant's loop: not for an event loop.
         */
        public long largeFramesSent() throws Exception {
            return large == null ? 0 : gatewayPort.port().eventLoop().submit(() -> large.framed).get(5, TimeUnit.SECONDS);
        }

        /**
         * Large segments cut in Java so far (no MAC noted for the destination, or a port that wants plain frames);
         * waits (5 s at most) for the tenant's loop: not for an event loop.
         */
        public long largeSegmentsCut() throws Exception {
            return large == null ? 0 : gatewayPort.port().eventLoop().submit(() -> large.cut).get(5, TimeUnit.SECONDS);
        }

        /** The key it was attached by (a port's own tenant: an internal key). */
        public Object key() {
            return key;
        }

        /** Its slirp namespace: port forwards, counters. Null until {@code attach}'s or {@code open}'s future completed. */
        public SlirpNamespace namespace() {
            return namespace;
        }

        /** Its DHCP server (leases). */
        public DhcpServer dhcp() {
            return dhcp;
        }

        /** Its gateway's adapter (MAC, addresses, counters). */
        public L2Adapter adapter() {
            return adapter;
        }

        /** Its segment: the tenant's ports and the gateway's. */
        public L2Hub segment() {
            return hub;
        }

        /** Router advertisements sent so far; waits (5 s at most) for the tenant's loop: not for an event loop. */
        public long routerAdvertisements() throws Exception {
            return gatewayPort.port().eventLoop().submit(ra::advertisementsSent).get(5, TimeUnit.SECONDS);
        }

        /** Closes its segment (and with it the ports on it), gateway and namespace. */
        @Override
        public void close() {
            ended = true;
            tenants.remove(key, this);
            SlirpNamespace ns = namespace;
            if (ns != null) {
                ns.close();
            }
            gatewayPort.detach();
            hub.close();
        }

        @Override
        public String toString() {
            return "SlirpGateway.Tenant(" + key + ")";
        }
    }

    /** Builds a {@link SlirpGateway}. */
    public static final class Builder {
        private final Slirp slirp;
        private EventLoopGroup group;
        private String pool4First = "10.0.2.15";
        private String pool4Last = "10.0.2.99";
        private Inet6Address prefix6 = (Inet6Address) addr("fec0::");
        private String domain = "pktkit.internal";
        private Duration leaseTime = Duration.ofHours(1);
        private long raIntervalMillis = DEFAULT_RA_INTERVAL_MILLIS;
        private int maxTenants = DEFAULT_MAX_TENANTS;
        private int batchFrames = DEFAULT_BATCH_FRAMES;
        private boolean largeFrames = true;

        private Builder(Slirp slirp) {
            this.slirp = Objects.requireNonNull(slirp, "slirp");
        }

        private static InetAddress addr(String literal) {
            try {
                return InetAddress.getByName(literal);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(literal, e);
            }
        }

        /** The loops tenants run on (default: the slirp's host transport group). */
        public Builder group(EventLoopGroup group) {
            this.group = Objects.requireNonNull(group);
            return this;
        }

        /** The DHCP pool, inside the gateway's /24 (default 10.0.2.15 – 10.0.2.99, as libslirp starts at .15). */
        public Builder pool(String first, String last) {
            this.pool4First = Objects.requireNonNull(first);
            this.pool4Last = Objects.requireNonNull(last);
            return this;
        }

        /** The /64 prefix advertised for SLAAC (default fec0::/64, as libslirp). */
        public Builder ipv6Prefix(String prefix) {
            InetAddress a = addr(prefix);
            if (!(a instanceof Inet6Address v6)) {
                throw new IllegalArgumentException("not an IPv6 prefix: " + prefix);
            }
            this.prefix6 = v6;
            return this;
        }

        /** The DNS domain handed out by DHCP (default pktkit.internal). */
        public Builder domainName(String domain) {
            this.domain = Objects.requireNonNull(domain);
            return this;
        }

        /** The DHCP lease time (default 1 h). */
        public Builder leaseTime(Duration d) {
            this.leaseTime = Objects.requireNonNull(d);
            return this;
        }

        /** How often unsolicited router advertisements go out (default 60 s; solicitations are answered). */
        public Builder routerAdvertisementInterval(long time, TimeUnit unit) {
            this.raIntervalMillis = Math.max(RouterAdvertiser.MIN_DELAY_BETWEEN_RAS_MILLIS, unit.toMillis(time));
            return this;
        }

        /** Tenants at most (default {@value #DEFAULT_MAX_TENANTS}). */
        public Builder maxTenants(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("maxTenants must be positive: " + n);
            }
            this.maxTenants = n;
            return this;
        }

        /**
         * How many MTU-sized frames the segment's write buffers (the gateway's cable, each attached port) hold
         * before they turn unwritable and the hub drops (default {@value #DEFAULT_BATCH_FRAMES}: two read batches of
         * 16 frames); see the class comment.
         */
        public Builder batchFrames(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("batchFrames must be positive: " + n);
            }
            this.batchFrames = n;
            return this;
        }

        /**
         * Large frames for tenants whose first port takes {@code OffloadPacket}s (default on; see the class
         * comment); off: every tenant's slirp namespace sends MTU-sized segments.
         */
        public Builder largeFrames(boolean on) {
            this.largeFrames = on;
            return this;
        }

        public SlirpGateway build() {
            return new SlirpGateway(this);
        }
    }
}

package dev.pktkit.codec.adapter;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NoRouteToHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The codec between an L2 port and an L3 device: a host's network interface. Put it in the pipeline of a channel
 * whose messages are Ethernet frames (a {@code PacketPipe} end on an {@code L2Hub}, a TAP or QEMU socket channel);
 * the handlers after it then read and write IP packets.
 *
 * <h2>Inbound (frames → packets)</h2>
 * Frames addressed to the adapter's MAC, to broadcast, or to a multicast group it joined (all-nodes, the
 * solicited-node groups of its IPv6 addresses, 224.0.0.1, and groups added with {@link #joinGroup}) are
 * accepted. IPv4 and IPv6 packets (other than neighbour discovery) go up with the Ethernet header skipped and
 * any Ethernet padding trimmed: same buffer, no copy. ARP and NDP are answered here; DHCP replies go to the
 * built-in client when it runs. Everything else is dropped, released and counted ({@link #counters()}).
 *
 * <h2>Outbound (packets → frames)</h2>
 * An IPv4 or IPv6 packet written to the adapter gets a next hop: the destination itself when on-link (the
 * adapter's subnet, link-local, an on-link prefix from a router advertisement), otherwise a route learned from
 * DHCP option 121, or the gateway (configured, from DHCP, or the default router from a router advertisement).
 * Broadcast and multicast destinations map to their group MACs (ff:ff:ff:ff:ff:ff, 01:00:5e, 33:33). The
 * next hop's MAC comes from the ARP or NDP {@link NeighborCache}; while it is being resolved the packet waits
 * in a bounded queue with its promise; when resolution fails after {@link Builder#maxMulticastSolicit} tries
 * the packet is dropped, its promise fails with {@link NoRouteToHostException}, and an ICMP/ICMPv6 destination
 * unreachable goes back up the pipeline to the sender. A packet written with at least
 * {@value Ethernet#HEADER_LENGTH} bytes of headroom before its reader index, and not shared, gets its Ethernet
 * header written in place; otherwise it is copied into a new buffer (see {@link #HEADROOM}).
 *
 * <h2>Addresses</h2>
 * IPv4: a static address and gateway, or the DHCP client ({@link Builder#dhcp}) which runs DISCOVER / OFFER /
 * REQUEST / ACK, checks the address with an ARP probe (DECLINE on conflict), renews at T1, rebinds at T2, drops
 * the address when the lease expires or a NAK arrives, and sends RELEASE when the channel closes; the lease is
 * published through {@link #leaseFuture()}, {@link #lease()} and {@link AdapterEvent.DhcpLeaseChanged} user
 * events. A gratuitous ARP announces every new IPv4 address. IPv6 (unless disabled): a link-local address from
 * the MAC's EUI-64, static addresses, and — when {@link Builder#acceptRouterAdvertisements} is on — SLAAC
 * addresses and a default router from router advertisements; every address goes through duplicate address
 * detection before use.
 *
 * <h2>Threads and limits</h2>
 * All state lives on the channel's event loop; the accessors are safe from any thread. Timers (neighbour
 * retries, aging, DAD, DHCP) are tasks on that loop, so tests drive them with the loop's clock. The neighbour
 * caches, their pending queues, the IPv6 address list and the on-link prefix list are bounded by the builder.
 * Not implemented: MLD reports (hubs flood multicast anyway), IPv6 redirects, VLAN tags (use an access port),
 * IPv4 multicast group management (IGMP), DHCP INIT-REBOOT after a restart (a restarted adapter starts with
 * DISCOVER), and relay agents.
 *
 * <p>Not {@code @Sharable}: one adapter per port.
 */
public final class L2Adapter extends ChannelDuplexHandler implements LocalAddresses {
    /** Bytes of headroom a packet needs before its reader index to be framed without a copy. */
    public static final int HEADROOM = Ethernet.HEADER_LENGTH;

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(L2Adapter.class);
    private static final long CLOCK_TICK_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long QUEUED = -2;
    private static final long DROPPED = -3;
    private static final int IPV4_ALL_HOSTS = 0xE000_0001;

    private final AdapterConfig config;
    private final long mac;
    private final NeighborCache arp;
    private final NeighborCache nd;
    private final AdapterCounters counters = new AdapterCounters();
    private final Ipv6Host ipv6;
    private final DhcpClient dhcp;
    private final LeasePromise firstLease = new LeasePromise();

    private ChannelHandlerContext ctx;
    private boolean started;
    private ScheduledFuture<?> clockTask;
    private ScheduledFuture<?> resolverTask;
    /** Coarse clock for the data path: refreshed by a 1 s tick and on every control event. */
    long now;

    // IPv4 configuration: read by the data path on the loop, published for other threads through volatiles.
    private int v4Address;
    private int v4Prefix;
    private int v4Gateway;
    private int[] v4Routes = new int[0]; // triples: destination, prefix length, router
    private volatile int publishedV4;
    private volatile int publishedV4Prefix;
    private int ipId;

    private long[] groups = new long[8];
    private int groupCount;

    private L2Adapter(AdapterConfig b) {
        this.config = b;
        this.mac = b.mac;
        this.arp = new NeighborCache(b.maxNeighbors, b.maxPendingPerNeighbor, b.maxPendingTotal);
        this.nd = new NeighborCache(b.maxNeighbors, b.maxPendingPerNeighbor, b.maxPendingTotal);
        this.ipv6 = b.ipv6 ? new Ipv6Host(this, b) : null;
        this.dhcp = b.dhcp ? new DhcpClient(this, b) : null;
        groups[groupCount++] = MacAddress.BROADCAST;
        groups[groupCount++] = MacAddress.ofIpv4Multicast(IPV4_ALL_HOSTS);
        if (b.ipv6) {
            groups[groupCount++] = MacAddress.ofIpv6Multicast(Ip6.ALL_NODES_LO);
        }
    }

    /** A builder with defaults: random locally administered MAC, IPv6 link-local on, no IPv4 address. */
    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------------------------------------------------
    // public accessors

    /** The adapter's MAC address. */
    public long mac() {
        return mac;
    }

    /** The IPv4 address in use, or null. */
    public Inet4Address ipv4Address() {
        int a = publishedV4;
        return a == 0 ? null : Ip4.toInet(a);
    }

    /** Prefix length of the IPv4 address in use (0 when none). */
    public int ipv4PrefixLength() {
        return publishedV4 == 0 ? 0 : publishedV4Prefix;
    }

    /** The IPv6 addresses in use (passed DAD), link-local first. */
    public List<Inet6Address> ipv6Addresses() {
        return ipv6 == null ? List.of() : ipv6.addresses();
    }

    /** The link MTU from the last router advertisement that carried one, or 0. */
    public int ipv6Mtu() {
        return ipv6 == null ? 0 : ipv6.mtu();
    }

    /** The current DHCP lease, or null. */
    public DhcpLease lease() {
        return dhcp == null ? null : dhcp.lease();
    }

    /**
     * Completes with the first DHCP lease the client binds; never completes when DHCP is off. It belongs to the
     * channel's event loop (once the adapter is in a pipeline): listeners run there and must not block, and
     * {@code sync()} or {@code await()} called on that loop fails at once with Netty's
     * {@link io.netty.util.concurrent.BlockingOperationException} instead of hanging it. Wait from another
     * thread, or add a listener.
     */
    public Future<DhcpLease> leaseFuture() {
        return firstLease;
    }

    /** Counters of frames, packets, control messages and drops. */
    public AdapterCounters counters() {
        return counters;
    }

    /** The ARP cache (read it on the channel's event loop only). */
    public NeighborCache arpCache() {
        return arp;
    }

    /** The NDP neighbour cache (read it on the channel's event loop only). */
    public NeighborCache ndpCache() {
        return nd;
    }

    @Override
    public boolean isLocalIpv4(int address) {
        return address != 0 && address == publishedV4;
    }

    @Override
    public boolean isLocalIpv6(long hi, long lo) {
        return ipv6 != null && ipv6.isLocal(hi, lo);
    }

    /**
     * Sets (or with null clears) the static IPv4 address and gateway; runs on the channel's loop. Packets waiting
     * for resolution stay queued. Not for use together with DHCP.
     */
    public Future<Void> setIpv4(Inet4Address address, int prefixLength, Inet4Address gateway) {
        if (address != null && (prefixLength < 0 || prefixLength > 32)) {
            throw new IllegalArgumentException("prefix length " + prefixLength);
        }
        return onLoop(() -> applyIpv4(address == null ? 0 : Ip4.of(address), prefixLength,
                gateway == null ? 0 : Ip4.of(gateway), new int[0]));
    }

    /** Accept frames for the IPv4 or IPv6 multicast group {@code group}; runs on the channel's loop. */
    public Future<Void> joinGroup(InetAddress group) {
        long m = groupMac(group);
        return onLoop(() -> addGroup(m));
    }

    /** Stop accepting frames for {@code group} (unless the adapter itself needs it); runs on the channel's loop. */
    public Future<Void> leaveGroup(InetAddress group) {
        long m = groupMac(group);
        return onLoop(() -> removeGroup(m));
    }

    private static long groupMac(InetAddress group) {
        if (!group.isMulticastAddress()) {
            throw new IllegalArgumentException("not a multicast group: " + group);
        }
        return group instanceof Inet4Address g4 ? MacAddress.ofIpv4Multicast(Ip4.of(g4))
                : MacAddress.ofIpv6Multicast(Ip6.lo((Inet6Address) group));
    }

    private Future<Void> onLoop(Runnable r) {
        ChannelHandlerContext c = ctx;
        if (c == null) {
            throw new IllegalStateException("adapter is not in a pipeline");
        }
        Promise<Void> p = c.executor().newPromise();
        c.executor().execute(() -> {
            try {
                r.run();
                p.setSuccess(null);
            } catch (Throwable t) {
                p.setFailure(t);
            }
        });
        return p;
    }

    // ------------------------------------------------------------------------------------------------------------
    // lifecycle

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        firstLease.loop = ctx.executor();
        this.now = freshNow();
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        start();
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stop();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (dhcp != null && started && ctx.channel().isActive()) {
            ChannelPromise released = ctx.newPromise();
            if (dhcp.release(released)) {
                released.addListener(f -> ctx.close(promise));
                return;
            }
        }
        ctx.close(promise);
    }

    private void start() {
        if (started) {
            return;
        }
        started = true;
        now = freshNow();
        clockTask = ctx.executor().scheduleAtFixedRate(this::tick, CLOCK_TICK_NANOS, CLOCK_TICK_NANOS,
                TimeUnit.NANOSECONDS);
        if (config.v4Address != 0) {
            applyIpv4(config.v4Address, config.v4Prefix, config.v4Gateway, config.v4RoutesArray());
        }
        if (ipv6 != null) {
            ipv6.start();
        }
        if (dhcp != null) {
            dhcp.start();
        }
    }

    private void stop() {
        if (!started) {
            return;
        }
        started = false;
        if (clockTask != null) {
            clockTask.cancel(false);
        }
        if (resolverTask != null) {
            resolverTask.cancel(false);
            resolverTask = null;
        }
        if (dhcp != null) {
            dhcp.stop();
        }
        if (ipv6 != null) {
            ipv6.stop();
        }
        flushAll(arp);
        flushAll(nd);
    }

    private void flushAll(NeighborCache cache) {
        for (int s = 0; s < cache.capacity(); s++) {
            if (cache.state(s) == NeighborCache.INCOMPLETE) {
                for (NeighborCache.Pending p; (p = cache.pollPending(s)) != null; ) {
                    drop(p, AdapterDropReason.FLUSHED, "adapter stopped");
                }
            }
        }
    }

    long freshNow() {
        long t = ctx.executor().ticker().nanoTime();
        now = t;
        return t;
    }

    private void tick() {
        long t = freshNow();
        age(arp, t);
        age(nd, t);
        if (ipv6 != null) {
            ipv6.tick(t);
        }
    }

    /** Moves timed-out entries to STALE and removes entries stale for longer than the stale time. */
    private void age(NeighborCache cache, long t) {
        long staleNanos = config.staleTime.toNanos();
        for (int s = 0; s < cache.capacity(); s++) {
            byte st = cache.state(s);
            if (st == NeighborCache.REACHABLE && t - cache.expires(s) >= 0) {
                cache.expire(s);
            } else if (st == NeighborCache.STALE && t - cache.expires(s) - staleNanos >= 0) {
                cache.remove(s);
                s--; // backward shift may have moved another entry into this slot
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // inbound: frames → packets

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        int off = frame.readerIndex();
        int len = frame.readableBytes();
        if (len < Ethernet.HEADER_LENGTH) {
            dropIn(frame, AdapterDropReason.MALFORMED);
            return;
        }
        long dst = Ethernet.dst(frame, off);
        if (dst != mac && !isGroup(dst)) {
            dropIn(frame, AdapterDropReason.NOT_FOR_US);
            return;
        }
        if (Ethernet.src(frame, off) == mac) {
            dropIn(frame, AdapterDropReason.LOOPED);
            return;
        }
        int type = frame.getUnsignedShort(off + Ethernet.TYPE_OFFSET);
        int ip = off + Ethernet.HEADER_LENGTH;
        int ipLen = len - Ethernet.HEADER_LENGTH;
        if (type == Ethernet.IPV4) {
            int total;
            if (ipLen < Ipv4.MIN_HEADER_LENGTH || (frame.getUnsignedByte(ip) >>> 4) != 4
                    || (total = frame.getUnsignedShort(ip + 2)) < Ipv4.MIN_HEADER_LENGTH || total > ipLen) {
                dropIn(frame, AdapterDropReason.MALFORMED);
                return;
            }
            if (dhcp != null && frame.getUnsignedByte(ip + 9) == IpProtocol.UDP && dhcp.isReply(frame, ip, total)) {
                dhcp.receive(frame, off, ip, total);
                frame.release();
                return;
            }
            frame.readerIndex(ip);
            if (total < ipLen) {
                frame.writerIndex(ip + total);
            }
            counters.packetReceived();
            ctx.fireChannelRead(frame);
        } else if (type == Ethernet.IPV6) {
            int total;
            if (ipLen < Ipv6.HEADER_LENGTH || (frame.getUnsignedByte(ip) >>> 4) != 6
                    || (total = Ipv6.HEADER_LENGTH + frame.getUnsignedShort(ip + 4)) > ipLen) {
                dropIn(frame, AdapterDropReason.MALFORMED);
                return;
            }
            if (total < ipLen) {
                frame.writerIndex(ip + total);
            }
            if (frame.getUnsignedByte(ip + 6) == IpProtocol.ICMPV6 && total >= Ipv6.HEADER_LENGTH + 8) {
                int icmpType = frame.getUnsignedByte(ip + Ipv6.HEADER_LENGTH);
                if (icmpType >= Icmpv6.TYPE_ROUTER_SOLICITATION && icmpType <= Icmpv6.TYPE_REDIRECT) {
                    if (ipv6 != null) {
                        ipv6.receive(frame, off, ip);
                    } else {
                        counters.dropped(AdapterDropReason.UNSUPPORTED_ETHERTYPE);
                    }
                    frame.release();
                    return;
                }
            }
            if (ipv6 == null) {
                dropIn(frame, AdapterDropReason.UNSUPPORTED_ETHERTYPE);
                return;
            }
            frame.readerIndex(ip);
            counters.packetReceived();
            ctx.fireChannelRead(frame);
        } else if (type == Ethernet.ARP) {
            receiveArp(frame, off, ip, ipLen);
            frame.release();
        } else {
            dropIn(frame, AdapterDropReason.UNSUPPORTED_ETHERTYPE);
        }
    }

    private void dropIn(ByteBuf frame, AdapterDropReason reason) {
        counters.dropped(reason);
        frame.release();
    }

    private boolean isGroup(long dst) {
        long[] g = groups;
        for (int i = 0, n = groupCount; i < n; i++) {
            if (g[i] == dst) {
                return true;
            }
        }
        return false;
    }

    void addGroup(long groupMac) {
        if (groupCount == groups.length) {
            groups = java.util.Arrays.copyOf(groups, groups.length * 2);
        }
        groups[groupCount++] = groupMac;
    }

    /** Removes one subscription of {@code groupMac} (subscriptions are counted: two addresses may share one). */
    void removeGroup(long groupMac) {
        for (int i = 0; i < groupCount; i++) {
            if (groups[i] == groupMac) {
                groups[i] = groups[--groupCount];
                return;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // ARP

    private void receiveArp(ByteBuf frame, int off, int arpOff, int arpLen) {
        if (arpLen < Arp.LENGTH || Arp.check(frame, arpOff) < 0) {
            counters.dropped(AdapterDropReason.BAD_NEIGHBOR_MESSAGE);
            return;
        }
        counters.arpReceived();
        now = freshNow();
        long senderMac = Arp.senderMac(frame, arpOff);
        int senderIp = Arp.senderIp(frame, arpOff);
        int targetIp = Arp.targetIp(frame, arpOff);
        int op = Arp.operation(frame, arpOff);
        if (dhcp != null) {
            dhcp.onArp(senderMac, senderIp, targetIp);
        }
        if (!MacAddress.isUnicast(senderMac)) {
            return; // a group sender MAC is bogus
        }
        int me = v4Address;
        if (senderIp == 0) {
            // An RFC 5227 probe teaches nothing, but one for our address must be answered so that the prober's
            // conflict detection sees us: a reply to the prober, target address 0.0.0.0, as Linux sends it.
            if (op == Arp.OP_REQUEST && me != 0 && targetIp == me) {
                counters.arpProbeAnswered();
                sendArpReply(senderMac, 0);
            }
            return;
        }
        if (me != 0 && senderIp == me) {
            counters.dropped(AdapterDropReason.BAD_NEIGHBOR_MESSAGE);
            logger.warn("{}: {} claims our address {}", ctx.channel(), MacAddress.format(senderMac),
                    Ip4.format(me));
            ctx.fireUserEventTriggered(new AdapterEvent.Ipv4AddressConflict(Ip4.toInet(me), senderMac));
            return;
        }
        long key = senderIp & 0xFFFF_FFFFL;
        boolean forMe = me != 0 && targetIp == me;
        // RFC 826: update an entry we have; create one only when the message was meant for us.
        int s = arp.find(0, key);
        if (s >= 0 || forMe) {
            s = arp.update(0, key, senderMac, now + config.reachableTime.toNanos());
            if (s >= 0) {
                drainResolved(arp, s);
            }
        }
        if (forMe && op == Arp.OP_REQUEST) {
            sendArpReply(senderMac, senderIp);
        }
    }

    private void sendArpReply(long targetMac, int targetIp) {
        if (congested()) {
            return;
        }
        ByteBuf reply = ctx.alloc().buffer(Ethernet.HEADER_LENGTH + Arp.LENGTH);
        Arp.writeReplyFrame(reply, mac, v4Address, targetMac, targetIp);
        counters.arpSent();
        ctx.writeAndFlush(reply, ctx.voidPromise());
    }

    private void sendArpRequest(int targetIp, long dstMac) {
        if (congested()) {
            return;
        }
        ByteBuf req = ctx.alloc().buffer(Ethernet.HEADER_LENGTH + Arp.LENGTH);
        if (dstMac == MacAddress.BROADCAST) {
            Arp.writeRequestFrame(req, mac, v4Address, targetIp);
        } else {
            Ethernet.writeHeader(req, dstMac, mac, Ethernet.ARP);
            Arp.write(req, Arp.OP_REQUEST, mac, v4Address, MacAddress.ZERO, targetIp);
        }
        counters.arpSent();
        ctx.writeAndFlush(req, ctx.voidPromise());
    }

    /** Sends an ARP probe (sender address 0.0.0.0, RFC 5227) for {@code candidate}. */
    void sendArpProbe(int candidate) {
        if (congested()) {
            return;
        }
        ByteBuf req = ctx.alloc().buffer(Ethernet.HEADER_LENGTH + Arp.LENGTH);
        Arp.writeRequestFrame(req, mac, 0, candidate);
        counters.arpSent();
        ctx.writeAndFlush(req, ctx.voidPromise());
    }

    private void sendGratuitousArp(int address) {
        if (congested()) {
            return;
        }
        ByteBuf req = ctx.alloc().buffer(Ethernet.HEADER_LENGTH + Arp.LENGTH);
        Arp.writeRequestFrame(req, mac, address, address);
        counters.arpSent();
        ctx.writeAndFlush(req, ctx.voidPromise());
    }

    /** Applies an IPv4 configuration (static or from DHCP) and announces a new address. */
    void applyIpv4(int address, int prefix, int gateway, int[] routes) {
        int previous = v4Address;
        v4Address = address;
        v4Prefix = address == 0 ? 0 : prefix;
        v4Gateway = gateway;
        v4Routes = routes;
        publishedV4Prefix = v4Prefix;
        publishedV4 = address;
        if (previous != address) {
            if (address != 0) {
                sendGratuitousArp(address);
            }
            ctx.fireUserEventTriggered(new AdapterEvent.Ipv4AddressChanged(
                    previous == 0 ? null : Ip4.toInet(previous), address == 0 ? null : Ip4.toInet(address),
                    v4Prefix));
        }
    }

    void leaseBound(DhcpLease lease) {
        firstLease.trySuccess(lease);
    }

    // ------------------------------------------------------------------------------------------------------------
    // outbound: packets → frames

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf pkt)) {
            ctx.write(msg, promise);
            return;
        }
        int off = pkt.readerIndex();
        int len = pkt.readableBytes();
        if (len < Ipv4.MIN_HEADER_LENGTH) {
            dropOut(pkt, promise, AdapterDropReason.MALFORMED);
            return;
        }
        int version = pkt.getUnsignedByte(off) >>> 4;
        long dstMac;
        int etherType;
        if (version == 4) {
            etherType = Ethernet.IPV4;
            dstMac = nextHop4(pkt, off, promise);
        } else if (version == 6 && ipv6 != null && len >= Ipv6.HEADER_LENGTH) {
            etherType = Ethernet.IPV6;
            dstMac = nextHop6(pkt, off, promise);
        } else {
            dropOut(pkt, promise, AdapterDropReason.MALFORMED);
            return;
        }
        if (dstMac >= 0) {
            sendFrame(pkt, dstMac, etherType, promise);
        }
    }

    /** Frames {@code pkt} to {@code dstMac} and writes it (not flushed); takes ownership. */
    private void sendFrame(ByteBuf pkt, long dstMac, int etherType, ChannelPromise promise) {
        int off = pkt.readerIndex();
        ByteBuf frame;
        if (off >= Ethernet.HEADER_LENGTH && Buffers.isExclusive(pkt)) {
            frame = pkt;
            off -= Ethernet.HEADER_LENGTH;
            frame.readerIndex(off);
        } else {
            int len = pkt.readableBytes();
            try {
                frame = ctx.alloc().buffer(Ethernet.HEADER_LENGTH + len);
            } catch (Throwable t) {
                pkt.release();
                promise.tryFailure(t);
                return;
            }
            frame.writerIndex(Ethernet.HEADER_LENGTH).writeBytes(pkt, off, len);
            pkt.release();
            off = 0;
        }
        MacAddress.set(frame, off, dstMac);
        MacAddress.set(frame, off + Ethernet.SRC_OFFSET, mac);
        frame.setShort(off + Ethernet.TYPE_OFFSET, etherType);
        counters.packetSent();
        ctx.write(frame, promise);
    }

    /** The MAC for the IPv4 packet's next hop, or QUEUED / DROPPED (then the packet is no longer ours). */
    private long nextHop4(ByteBuf pkt, int off, ChannelPromise promise) {
        int dst = pkt.getInt(off + 16);
        if (dst == Ip4.BROADCAST) {
            return MacAddress.BROADCAST;
        }
        if ((dst & 0xF000_0000) == 0xE000_0000) {
            return MacAddress.ofIpv4Multicast(dst);
        }
        int me = v4Address;
        int nh;
        if (me != 0 && ((dst ^ me) & Ip4.mask(v4Prefix)) == 0) {
            if (v4Prefix < 31 && (dst | Ip4.mask(v4Prefix)) == -1) {
                return MacAddress.BROADCAST; // directed broadcast of our own subnet
            }
            nh = dst;
        } else {
            nh = routeV4(dst);
            if (nh == 0) {
                dropOut(pkt, promise, AdapterDropReason.NO_ROUTE);
                return DROPPED;
            }
        }
        return resolve(arp, 0, nh & 0xFFFF_FFFFL, pkt, promise);
    }

    private int routeV4(int dst) {
        int[] r = v4Routes;
        int best = -1;
        int bestRouter = 0;
        for (int i = 0; i < r.length; i += 3) {
            int p = r[i + 1];
            if (p > best && ((dst ^ r[i]) & Ip4.mask(p)) == 0) {
                best = p;
                bestRouter = r[i + 2];
            }
        }
        if (best >= 0) {
            return bestRouter;
        }
        return v4Address == 0 ? 0 : v4Gateway;
    }

    private long nextHop6(ByteBuf pkt, int off, ChannelPromise promise) {
        long dstHi = pkt.getLong(off + 24);
        long dstLo = pkt.getLong(off + 32);
        if ((dstHi >>> 56) == 0xFF) {
            return MacAddress.ofIpv6Multicast(dstLo);
        }
        long nhHi = dstHi;
        long nhLo = dstLo;
        if (!ipv6.isOnLink(dstHi, dstLo)) {
            if (!ipv6.hasRouter()) {
                dropOut(pkt, promise, AdapterDropReason.NO_ROUTE);
                return DROPPED;
            }
            nhHi = ipv6.routerHi();
            nhLo = ipv6.routerLo();
        }
        return resolve(nd, nhHi, nhLo, pkt, promise);
    }

    /** Looks up the next hop; queues the packet and starts or continues resolution when needed. */
    private long resolve(NeighborCache cache, long hi, long lo, ByteBuf pkt, ChannelPromise promise) {
        int s = cache.find(hi, lo);
        if (s >= 0) {
            byte st = cache.state(s);
            if (st == NeighborCache.REACHABLE) {
                if (now - cache.expires(s) < 0) {
                    return cache.mac(s);
                }
                cache.expire(s);
                st = NeighborCache.STALE;
            }
            if (st == NeighborCache.STALE) {
                // RFC 4861 §7.3.3: keep using the old MAC and confirm it with unicast probes.
                long m = cache.mac(s);
                long t = freshNow();
                cache.startProbe(s, t + config.retransmitInterval.toNanos());
                scheduleResolver();
                solicit(cache, hi, lo, m);
                return m;
            }
            if (st == NeighborCache.PROBE) {
                return cache.mac(s);
            }
            if (!cache.enqueue(s, pkt, promise)) {
                dropOut(pkt, promise, AdapterDropReason.PENDING_FULL);
                return DROPPED;
            }
            return QUEUED;
        }
        long t = freshNow();
        s = cache.insertIncomplete(hi, lo, t, t + config.retransmitInterval.toNanos());
        if (s < 0) {
            dropOut(pkt, promise, AdapterDropReason.CACHE_FULL);
            return DROPPED;
        }
        if (!cache.enqueue(s, pkt, promise)) {
            dropOut(pkt, promise, AdapterDropReason.PENDING_FULL);
            cache.remove(s);
            return DROPPED;
        }
        scheduleResolver();
        // Last: on a loop shared with the neighbour the answer can arrive (and drain the queue) inside this call,
        // and slot numbers may change under it.
        solicit(cache, hi, lo, MacAddress.BROADCAST);
        return QUEUED;
    }

    /** Sends an ARP request or neighbour solicitation for {@code (hi, lo)}, broadcast/multicast or unicast. */
    private void solicit(NeighborCache cache, long hi, long lo, long dstMac) {
        if (cache == arp) {
            sendArpRequest((int) lo, dstMac);
        } else {
            ipv6.sendSolicitation(hi, lo, dstMac);
        }
    }

    /** Sends the packets queued behind a newly resolved entry. */
    private void drainResolved(NeighborCache cache, int s) {
        long m = cache.mac(s);
        boolean any = false;
        for (NeighborCache.Pending p; (p = cache.pollPending(s)) != null; ) {
            ByteBuf pkt = p.packet();
            sendFrame(pkt, m, cache == arp ? Ethernet.IPV4 : Ethernet.IPV6, p.promise());
            any = true;
        }
        if (any) {
            ctx.flush();
        }
    }

    /** Learns a neighbour from NDP (called by {@link Ipv6Host}); drains its queue when it became resolved. */
    void ndpLearned(int slot) {
        if (slot >= 0 && nd.state(slot) != NeighborCache.INCOMPLETE) {
            drainResolved(nd, slot);
        }
    }

    NeighborCache nd() {
        return nd;
    }

    private void scheduleResolver() {
        if (resolverTask == null) {
            resolverTask = ctx.executor().schedule(this::runResolver, config.retransmitInterval.toNanos(),
                    TimeUnit.NANOSECONDS);
        }
    }

    /** Retries or gives up on every entry being resolved whose retry time has come. */
    private void runResolver() {
        resolverTask = null;
        if (!started) {
            return;
        }
        long t = freshNow();
        retry(arp, t);
        retry(nd, t);
        if (arp.resolving() + nd.resolving() > 0) {
            scheduleResolver();
        }
    }

    private void retry(NeighborCache cache, long t) {
        long interval = config.retransmitInterval.toNanos();
        for (int s = 0; s < cache.capacity(); s++) {
            byte st = cache.state(s);
            if ((st != NeighborCache.INCOMPLETE && st != NeighborCache.PROBE) || t - cache.nextProbe(s) < 0) {
                continue;
            }
            int max = st == NeighborCache.INCOMPLETE ? config.maxMulticastSolicit : config.maxUnicastSolicit;
            long hi = cache.keyHi(s);
            long lo = cache.keyLo(s);
            if (cache.probes(s) < max) {
                cache.probed(s, t + interval);
                solicit(cache, hi, lo, st == NeighborCache.INCOMPLETE ? MacAddress.BROADCAST : cache.mac(s));
                continue;
            }
            if (st == NeighborCache.INCOMPLETE) {
                for (NeighborCache.Pending p; (p = cache.pollPending(s)) != null; ) {
                    unreachable(p, cache == arp);
                }
            }
            cache.remove(s);
            s--; // backward shift may have moved another entry into this slot
        }
    }

    /** Resolution failed: ICMP destination unreachable up to the sender, the promise failed, the packet freed. */
    private void unreachable(NeighborCache.Pending p, boolean v4) {
        ByteBuf pkt = p.packet();
        int off = pkt.readerIndex();
        ByteBuf error = null;
        try {
            if (v4) {
                if (v4Address != 0 && Icmpv4.isErrorAllowed(pkt, off)) {
                    error = ctx.alloc().buffer(Icmpv4.MAX_ERROR_DATAGRAM);
                    if (Icmpv4.writeDestinationUnreachablePacket(error, v4Address, Icmpv4.CODE_HOST_UNREACHABLE, 0,
                            pkt, off, nextIpId()) < 0) {
                        error.release();
                        error = null;
                    }
                }
            } else if (Icmpv6.isErrorAllowed(pkt, off, Icmpv6.TYPE_DESTINATION_UNREACHABLE,
                    Icmpv6.CODE_ADDRESS_UNREACHABLE) && ipv6.hasPreferredLinkLocal()) {
                long[] src = ipv6.sourceFor(Ipv6.srcHi(pkt, off), Ipv6.srcLo(pkt, off));
                error = ctx.alloc().buffer(Ipv6.MIN_MTU);
                if (Icmpv6.writeDestinationUnreachablePacket(error, src[0], src[1],
                        Icmpv6.CODE_ADDRESS_UNREACHABLE, pkt, off) < 0) {
                    error.release();
                    error = null;
                }
            }
        } finally {
            drop(p, AdapterDropReason.UNRESOLVED, "next hop did not answer");
        }
        if (error != null) {
            ctx.fireChannelRead(error);
            ctx.fireChannelReadComplete();
        }
    }

    private void drop(NeighborCache.Pending p, AdapterDropReason reason, String why) {
        counters.dropped(reason);
        p.packet().release();
        p.promise().tryFailure(new NoRouteToHostException(why));
    }

    private void dropOut(ByteBuf pkt, ChannelPromise promise, AdapterDropReason reason) {
        counters.dropped(reason);
        pkt.release();
        promise.tryFailure(new NoRouteToHostException(reason.name().toLowerCase(java.util.Locale.ROOT)));
    }

    int nextIpId() {
        return ipId = (ipId + 1) & 0xFFFF;
    }

    // ------------------------------------------------------------------------------------------------------------
    // services for the DHCP client and the IPv6 host

    ChannelHandlerContext ctx() {
        return ctx;
    }

    AdapterCounters countersInternal() {
        return counters;
    }

    /**
     * True (and counted) when the port is not writable: then the adapter sends none of its own messages (ARP, NDP,
     * DHCP), so a slow or stuck reader bounds what it queues at the channel's write-buffer high water mark.
     * Retransmission timers send again later; replies are simply not given, as a congested host's would not.
     */
    boolean congested() {
        if (ctx.channel().isWritable()) {
            return false;
        }
        counters.dropped(AdapterDropReason.CONGESTED);
        return true;
    }

    /** Sends an IPv4 packet the adapter built itself to {@code dstMac} directly. */
    void sendIpv4To(ByteBuf pkt, long dstMac, ChannelPromise promise) {
        if (congested()) {
            pkt.release();
            promise.tryFailure(new NoRouteToHostException("congested: the port is not writable"));
            return;
        }
        sendFrame(pkt, dstMac, Ethernet.IPV4, promise);
        ctx.flush();
    }

    /** Sends an IPv6 packet the adapter built itself to {@code dstMac}. */
    void sendIpv6To(ByteBuf pkt, long dstMac) {
        if (congested()) {
            pkt.release();
            return;
        }
        counters.ndpSent();
        sendFrame(pkt, dstMac, Ethernet.IPV6, ctx.voidPromise());
        ctx.flush();
    }

    /** A buffer for a packet the adapter builds, with {@link #HEADROOM} reserved. */
    ByteBuf packetBuffer(int capacity) {
        ByteBuf b = ctx.alloc().buffer(HEADROOM + capacity);
        b.writerIndex(HEADROOM).readerIndex(HEADROOM);
        return b;
    }

    /** Fires a user event up the pipeline. */
    void fire(AdapterEvent event) {
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public String toString() {
        return "L2Adapter(" + MacAddress.format(mac) + (publishedV4 != 0 ? " " + Ip4.format(publishedV4) + "/"
                + publishedV4Prefix : "") + ")";
    }

    /**
     * The first-lease promise: made before the adapter knows its loop, it belongs to that loop once the adapter is
     * in a pipeline, so listeners run there and Netty's deadlock check ({@code sync()} on the loop) applies, as
     * for a {@link io.netty.channel.DefaultChannelPromise}.
     */
    private static final class LeasePromise extends DefaultPromise<DhcpLease> {
        volatile EventExecutor loop;

        @Override
        protected EventExecutor executor() {
            return loop; // null only before handlerAdded, when the promise cannot complete yet
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    /**
     * Configuration of an {@link L2Adapter}. Every bound has a default suitable for a host on a LAN; the
     * timers follow RFC 4861 §10 (which Linux also uses for ARP). {@link #build()} takes an immutable snapshot:
     * changing the builder afterwards does not change adapters already built, and one builder may build many
     * adapters (each with its own random MAC unless {@link #mac(long)} was set).
     */
    public static final class Builder {
        /** 0: a random locally administered MAC drawn at each {@link #build()}. */
        long mac;
        int v4Address;
        int v4Prefix;
        int v4Gateway;
        final List<int[]> v4Routes = new ArrayList<>();
        boolean dhcp;
        String dhcpHostname;
        boolean dhcpBroadcastFlag;
        Duration dhcpProbeWait = Duration.ofSeconds(1);
        boolean ipv6 = true;
        final List<long[]> ipv6Static = new ArrayList<>(); // hi, lo, prefix
        long gw6Hi;
        long gw6Lo;
        boolean acceptRa;
        int dadTransmits = 1;
        int maxIpv6Addresses = 8;
        int maxOnLinkPrefixes = 8;
        int maxNeighbors = 1024;
        int maxPendingPerNeighbor = 16;
        int maxPendingTotal = 256;
        Duration reachableTime = Duration.ofSeconds(30);
        Duration staleTime = Duration.ofSeconds(60);
        Duration retransmitInterval = Duration.ofSeconds(1);
        int maxMulticastSolicit = 3;
        int maxUnicastSolicit = 3;

        private Builder() {
        }

        /**
         * The adapter's MAC; by default each {@link #build()} draws a new random locally administered unicast
         * address, so one builder can make several adapters.
         */
        public Builder mac(long mac) {
            if (!MacAddress.isUnicast(mac) || mac == 0) {
                throw new IllegalArgumentException("not a unicast MAC: " + MacAddress.format(mac));
            }
            this.mac = mac;
            return this;
        }

        public Builder mac(MacAddress mac) {
            return mac(mac.toLong());
        }

        /** A static IPv4 address with its prefix length. */
        public Builder ipv4(Inet4Address address, int prefixLength) {
            if (prefixLength < 0 || prefixLength > 32) {
                throw new IllegalArgumentException("prefix length " + prefixLength + " not in [0, 32]");
            }
            int a = Ip4.of(address);
            if (a == 0 || Ip4.isMulticast(a) || a == Ip4.BROADCAST) {
                throw new IllegalArgumentException("not a unicast address: " + address);
            }
            this.v4Address = a;
            this.v4Prefix = prefixLength;
            return this;
        }

        /** A static IPv4 address in CIDR notation, e.g. {@code "10.0.0.2/24"}. */
        public Builder ipv4(String cidr) {
            int slash = cidr.indexOf('/');
            if (slash < 0) {
                throw new IllegalArgumentException("expected address/prefix: " + cidr);
            }
            return ipv4(Ip4.toInet(Ip4.parse(cidr.substring(0, slash))),
                    Integer.parseInt(cidr.substring(slash + 1)));
        }

        /** The IPv4 default gateway for a static address. */
        public Builder gateway(Inet4Address gateway) {
            this.v4Gateway = Ip4.of(gateway);
            return this;
        }

        public Builder gateway(String gateway) {
            this.v4Gateway = Ip4.parse(gateway);
            return this;
        }

        /** A static IPv4 route: {@code destination/prefixLength} via {@code router}. */
        public Builder route(Inet4Address destination, int prefixLength, Inet4Address router) {
            if (prefixLength < 0 || prefixLength > 32) {
                throw new IllegalArgumentException("prefix length " + prefixLength);
            }
            v4Routes.add(new int[] {Ip4.of(destination) & Ip4.mask(prefixLength), prefixLength, Ip4.of(router)});
            return this;
        }

        /** Run the DHCP client for the IPv4 address (instead of a static one). */
        public Builder dhcp(boolean dhcp) {
            this.dhcp = dhcp;
            return this;
        }

        /** Host name sent in DHCP option 12; default none. */
        public Builder dhcpHostname(String hostname) {
            this.dhcpHostname = hostname;
            return this;
        }

        /** Ask DHCP servers to broadcast their replies (flag bit); default off, as most clients do. */
        public Builder dhcpBroadcastFlag(boolean broadcast) {
            this.dhcpBroadcastFlag = broadcast;
            return this;
        }

        /**
         * How long the DHCP client waits for an answer to its ARP probe of an offered address before using it
         * (RFC 2131 §4.4.1); zero skips the probe. Default 1 s.
         */
        public Builder dhcpProbeWait(Duration wait) {
            if (wait.isNegative()) {
                throw new IllegalArgumentException("negative probe wait");
            }
            this.dhcpProbeWait = wait;
            return this;
        }

        /** IPv6 on (a link-local address, NDP) or off (IPv6 frames dropped); default on. */
        public Builder ipv6(boolean enabled) {
            this.ipv6 = enabled;
            return this;
        }

        /** A static IPv6 address with its on-link prefix length. */
        public Builder ipv6Address(Inet6Address address, int prefixLength) {
            if (prefixLength < 0 || prefixLength > 128) {
                throw new IllegalArgumentException("prefix length " + prefixLength + " not in [0, 128]");
            }
            long hi = Ip6.hi(address);
            if (Ip6.isMulticast(hi) || Ip6.isUnspecified(hi, Ip6.lo(address))) {
                throw new IllegalArgumentException("not a unicast address: " + address);
            }
            ipv6Static.add(new long[] {hi, Ip6.lo(address), prefixLength});
            return this;
        }

        /** The IPv6 default gateway (usually a router's link-local address). */
        public Builder ipv6Gateway(Inet6Address gateway) {
            this.gw6Hi = Ip6.hi(gateway);
            this.gw6Lo = Ip6.lo(gateway);
            return this;
        }

        /** Honour router advertisements: SLAAC addresses, on-link prefixes, default router. Default off. */
        public Builder acceptRouterAdvertisements(boolean accept) {
            this.acceptRa = accept;
            return this;
        }

        /** Neighbour solicitations sent for duplicate address detection per address; 0 disables DAD. Default 1. */
        public Builder dadTransmits(int n) {
            if (n < 0 || n > 10) {
                throw new IllegalArgumentException("dadTransmits " + n + " not in [0, 10]");
            }
            this.dadTransmits = n;
            return this;
        }

        /** Most IPv6 addresses (link-local, static, SLAAC) the adapter holds; default 8. */
        public Builder maxIpv6Addresses(int n) {
            this.maxIpv6Addresses = positive(n, "maxIpv6Addresses");
            return this;
        }

        /** Most on-link IPv6 prefixes kept from configuration and router advertisements; default 8. */
        public Builder maxOnLinkPrefixes(int n) {
            this.maxOnLinkPrefixes = positive(n, "maxOnLinkPrefixes");
            return this;
        }

        /** Entries in each neighbour cache (ARP, NDP); default 1024. */
        public Builder maxNeighbors(int n) {
            this.maxNeighbors = positive(n, "maxNeighbors");
            return this;
        }

        /** Packets queued behind one unresolved next hop; default 16 (0 drops while resolving). */
        public Builder maxPendingPerNeighbor(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("maxPendingPerNeighbor " + n);
            }
            this.maxPendingPerNeighbor = n;
            return this;
        }

        /** Packets queued for resolution in all, per cache; default 256. */
        public Builder maxPendingTotal(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("maxPendingTotal " + n);
            }
            this.maxPendingTotal = n;
            return this;
        }

        /** How long a confirmed neighbour is used without re-confirmation; default 30 s. */
        public Builder reachableTime(Duration d) {
            this.reachableTime = positive(d, "reachableTime");
            return this;
        }

        /** How long an unconfirmed (stale) neighbour stays in the cache unused; default 60 s. */
        public Builder staleTime(Duration d) {
            this.staleTime = positive(d, "staleTime");
            return this;
        }

        /** Time between ARP requests / neighbour solicitations for one address; default 1 s. */
        public Builder retransmitInterval(Duration d) {
            this.retransmitInterval = positive(d, "retransmitInterval");
            return this;
        }

        /** Broadcast/multicast requests before resolution fails; default 3. */
        public Builder maxMulticastSolicit(int n) {
            this.maxMulticastSolicit = positive(n, "maxMulticastSolicit");
            return this;
        }

        /** Unicast probes to re-confirm a stale neighbour before it is removed; default 3. */
        public Builder maxUnicastSolicit(int n) {
            this.maxUnicastSolicit = positive(n, "maxUnicastSolicit");
            return this;
        }

        private static int positive(int n, String what) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be >= 1: " + n);
            }
            return n;
        }

        private static Duration positive(Duration d, String what) {
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
            return d;
        }

        public L2Adapter build() {
            if (dhcp && v4Address != 0) {
                throw new IllegalStateException("choose a static IPv4 address or DHCP, not both");
            }
            if (v4Gateway != 0 && v4Address == 0 && !dhcp) {
                throw new IllegalStateException("an IPv4 gateway needs an IPv4 address");
            }
            if ((!ipv6Static.isEmpty() || acceptRa || gw6Hi != 0 || gw6Lo != 0) && !ipv6) {
                throw new IllegalStateException("IPv6 settings given but IPv6 is off");
            }
            Objects.requireNonNull(dhcpProbeWait);
            return new L2Adapter(new AdapterConfig(this));
        }
    }
}

package dev.pktkit.codec.adapter;

import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.codec.wire.Ethernet;
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

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
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
 * the packet is dropped, its promise fails with {@link java.net.NoRouteToHostException}, and an ICMP/ICMPv6 destination
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
 * <h2>Structure</h2>
 * This class is the pipeline-facing codec and the public API: it classifies inbound frames and dispatches
 * outbound packets. The parts behind it see the link only through a narrow package-private interface
 * ({@code AdapterLink}, implemented by {@code EthernetFraming}: MAC and group filter, header writing, sending,
 * clock, events): {@code Ipv4Host} (address, routes, ARP) with the {@code DhcpClient}, {@code Ipv6Host} (addresses,
 * DAD, NDP, router advertisements), each resolving next hops through its own {@code NeighborResolver} over a
 * {@link NeighborCache}; configuration is the {@link Builder}'s immutable snapshot ({@code AdapterConfig}).
 *
 * <p>Not {@code @Sharable}: one adapter per port.
 */
public final class L2Adapter extends ChannelDuplexHandler implements LocalAddresses {
    /** Bytes of headroom a packet needs before its reader index to be framed without a copy. */
    public static final int HEADROOM = Ethernet.HEADER_LENGTH;

    private static final long CLOCK_TICK_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int IPV4_ALL_HOSTS = 0xE000_0001;

    private final AdapterConfig config;
    private final long mac;
    private final AdapterCounters counters = new AdapterCounters();
    private final EthernetFraming link;
    private final NeighborCache arp;
    private final NeighborCache nd;
    private final Ipv4Host ipv4;
    private final Ipv6Host ipv6;
    private final DhcpClient dhcp;
    private final LeasePromise firstLease = new LeasePromise();

    private ChannelHandlerContext ctx;
    private boolean started;
    private ScheduledFuture<?> clockTask;

    private L2Adapter(AdapterConfig b) {
        this.config = b;
        this.mac = b.mac;
        this.link = new EthernetFraming(b.mac, counters);
        this.arp = new NeighborCache(b.maxNeighbors, b.maxPendingPerNeighbor, b.maxPendingTotal);
        this.nd = new NeighborCache(b.maxNeighbors, b.maxPendingPerNeighbor, b.maxPendingTotal);
        this.ipv4 = new Ipv4Host(link, b, arp);
        this.ipv6 = b.ipv6 ? new Ipv6Host(link, b, nd) : null;
        this.dhcp = b.dhcp ? new DhcpClient(link, ipv4, b, firstLease::trySuccess) : null;
        ipv4.dhcp(dhcp);
        link.addGroup(MacAddress.BROADCAST);
        link.addGroup(MacAddress.ofIpv4Multicast(IPV4_ALL_HOSTS));
        if (b.ipv6) {
            link.addGroup(MacAddress.ofIpv6Multicast(Ip6.ALL_NODES_LO));
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
        int a = ipv4.address();
        return a == 0 ? null : Ip4.toInet(a);
    }

    /** Prefix length of the IPv4 address in use (0 when none). */
    public int ipv4PrefixLength() {
        return ipv4.prefixLength();
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
        return address != 0 && address == ipv4.address();
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
        return onLoop(() -> ipv4.apply(address == null ? 0 : Ip4.of(address), prefixLength,
                gateway == null ? 0 : Ip4.of(gateway), new int[0]));
    }

    /** Accept frames for the IPv4 or IPv6 multicast group {@code group}; runs on the channel's loop. */
    public Future<Void> joinGroup(InetAddress group) {
        long m = groupMac(group);
        return onLoop(() -> link.addGroup(m));
    }

    /** Stop accepting frames for {@code group} (unless the adapter itself needs it); runs on the channel's loop. */
    public Future<Void> leaveGroup(InetAddress group) {
        long m = groupMac(group);
        return onLoop(() -> link.removeGroup(m));
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
        link.attach(ctx);
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
        link.freshNow();
        clockTask = ctx.executor().scheduleAtFixedRate(this::tick, CLOCK_TICK_NANOS, CLOCK_TICK_NANOS,
                TimeUnit.NANOSECONDS);
        ipv4.start();
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
        if (dhcp != null) {
            dhcp.stop();
        }
        if (ipv6 != null) {
            ipv6.stop();
            ipv6.resolver().stop();
        }
        ipv4.resolver().stop();
    }

    private void tick() {
        long t = link.freshNow();
        ipv4.resolver().age(t);
        if (ipv6 != null) {
            ipv6.resolver().age(t);
            ipv6.tick(t);
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
        // The header in two 8-byte reads (each ByteBuf read costs its bounds and reference-count checks, and
        // without Unsafe a ByteBuffer access): dst + src[0..1], then src[2..5] + type + the first 2 payload bytes.
        long dst;
        long src;
        int type;
        int first; // the payload's first byte (IP version nibble), or -1 when the frame has none
        if (len >= 16) {
            long w0 = frame.getLong(off);
            long w1 = frame.getLong(off + 8);
            dst = w0 >>> 16;
            src = ((w0 & 0xFFFF) << 32) | (w1 >>> 32);
            type = (int) (w1 >>> 16) & 0xFFFF;
            first = (int) (w1 >>> 8) & 0xFF;
        } else {
            dst = Ethernet.dst(frame, off);
            src = Ethernet.src(frame, off);
            type = frame.getUnsignedShort(off + Ethernet.TYPE_OFFSET);
            first = -1;
        }
        if (dst != mac && !link.isGroup(dst)) {
            dropIn(frame, AdapterDropReason.NOT_FOR_US);
            return;
        }
        if (src == mac) {
            dropIn(frame, AdapterDropReason.LOOPED);
            return;
        }
        int ip = off + Ethernet.HEADER_LENGTH;
        int ipLen = len - Ethernet.HEADER_LENGTH;
        if (type == Ethernet.IPV4) {
            int total;
            if (ipLen < Ipv4.MIN_HEADER_LENGTH || (first >>> 4) != 4
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
            if (ipLen < Ipv6.HEADER_LENGTH || (first >>> 4) != 6
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
            ipv4.receiveArp(frame, ip, ipLen);
            frame.release();
        } else {
            dropIn(frame, AdapterDropReason.UNSUPPORTED_ETHERTYPE);
        }
    }

    private void dropIn(ByteBuf frame, AdapterDropReason reason) {
        counters.dropped(reason);
        frame.release();
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
            link.dropOut(pkt, promise, AdapterDropReason.MALFORMED);
            return;
        }
        int version = pkt.getUnsignedByte(off) >>> 4;
        long dstMac;
        int etherType;
        if (version == 4) {
            etherType = Ethernet.IPV4;
            dstMac = ipv4.nextHop(pkt.getInt(off + 16), pkt, promise);
        } else if (version == 6 && ipv6 != null && len >= Ipv6.HEADER_LENGTH) {
            etherType = Ethernet.IPV6;
            dstMac = ipv6.nextHop(pkt.getLong(off + 24), pkt.getLong(off + 32), pkt, promise);
        } else {
            link.dropOut(pkt, promise, AdapterDropReason.MALFORMED);
            return;
        }
        if (dstMac >= 0) {
            link.sendFrame(pkt, dstMac, etherType, promise);
        }
    }

    @Override
    public String toString() {
        int a = ipv4.address();
        return "L2Adapter(" + MacAddress.format(mac) + (a != 0 ? " " + Ip4.format(a) + "/" + ipv4.prefixLength()
                : "") + ")";
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

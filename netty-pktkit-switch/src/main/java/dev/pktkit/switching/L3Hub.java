package dev.pktkit.switching;

import dev.pktkit.switching.lpm.Ipv4RouteTable;
import dev.pktkit.switching.lpm.Ipv6RouteTable;
import dev.pktkit.switching.lpm.Prefix;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.internal.ObjectUtil;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A routing hub for IP packets as a Netty {@link io.netty.channel.group.ChannelGroup}.
 *
 * <p>Messages on its ports are IPv4 or IPv6 packets in {@code ByteBuf}s. A unicast packet goes to the port of
 * the longest prefix matching its destination, among the ports' own prefixes ({@link L3PortOptions}) and the
 * routes added with {@link #addRoute} (a {@code 0.0.0.0/0} or {@code ::/0} route is the default route). Limited
 * broadcast and multicast go to every port but the source. Nothing goes back to its source port.
 *
 * <p>Router mode ({@link Builder#routerMode}) decrements the TTL / hop limit of routed packets (updating the IPv4
 * checksum incrementally, copying first if the buffer is shared), and answers with ICMP / ICMPv6 Time Exceeded
 * when it runs out and Destination Unreachable when no route matches, sourced from the configured router
 * addresses and rate-limited per port; a port with an egress MTU ({@link L3PortOptions#mtu}) gets no packet
 * larger than it, the sender being told with ICMP Fragmentation Needed / Packet Too Big. Without router mode the hub forwards packets unchanged and silently
 * drops (and counts) what it cannot route.
 *
 * <p>Threads: routing runs on the ingress port's loop; lookups are lock-free ({@link Ipv4RouteTable},
 * {@link Ipv6RouteTable}); route changes are control-plane operations and may come from any thread.
 */
public final class L3Hub extends AbstractHub<L3Port> {
    public static final int DEFAULT_MAX_PORTS = 4096;
    public static final int DEFAULT_MAX_ROUTES = 100_000;
    public static final int DEFAULT_ICMP_ERRORS_PER_SECOND = 100;

    final Ipv4RouteTable<L3Port> v4;
    final Ipv6RouteTable<L3Port> v6;
    final boolean routerMode;
    final int icmpErrorsPerSecond;
    final IcmpErrors icmp;
    private final Map<Prefix, L3Port> routes = new LinkedHashMap<>();

    private L3Hub(Builder b) {
        super(b);
        v4 = new Ipv4RouteTable<>(b.maxRoutes);
        v6 = new Ipv6RouteTable<>(b.maxRoutes);
        routerMode = b.routerMode;
        icmpErrorsPerSecond = b.icmpErrorsPerSecond;
        icmp = new IcmpErrors(b.routerV4, b.routerV6);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Attaches {@code channel} owning the prefixes in {@code options}. */
    public L3Port attach(Channel channel, L3PortOptions options) {
        ObjectUtil.checkNotNull(options, "options");
        L3Port port = attachPort(new L3Port(this, channel, options));
        try {
            for (Prefix p : options.prefixes()) {
                addRoute(p, port);
            }
        } catch (RuntimeException e) {
            remove(channel);
            throw e;
        }
        if (!port.isAttached()) {
            portRemoved(port); // closed while we added its routes: take them out again
        }
        return port;
    }

    /**
     * {@link #attach(io.netty.channel.EventLoop, io.netty.channel.ChannelHandler)} for an L3 device owning the
     * prefixes in {@code options}.
     */
    public L3Port attach(io.netty.channel.EventLoop loop, io.netty.channel.ChannelHandler device,
                         L3PortOptions options) {
        ObjectUtil.checkNotNull(options, "options");
        return attachDevice(loop, device, ch -> attach(ch, options));
    }

    @Override
    protected L3Port newPort(Channel channel) {
        return new L3Port(this, channel, L3PortOptions.none());
    }

    @Override
    protected void portRemoved(L3Port port) {
        synchronized (routes) {
            routes.entrySet().removeIf(e -> {
                if (e.getValue() == port) {
                    removeFromTable(e.getKey());
                    return true;
                }
                return false;
            });
        }
    }

    @Override
    protected String handlerName() {
        return "pktkit-l3hub";
    }

    /** Routes {@code cidr} (e.g. {@code 0.0.0.0/0}, {@code 2001:db8::/32}) to the port of {@code channel}. */
    public void addRoute(String cidr, Channel channel) {
        addRoute(Prefix.parse(cidr), channel);
    }

    /** Routes {@code prefix} to the port of {@code channel}, replacing any route for the same prefix. */
    public void addRoute(Prefix prefix, Channel channel) {
        L3Port port = port(channel);
        if (port == null) {
            throw new IllegalArgumentException(channel + " is not a port of " + name());
        }
        addRoute(prefix, port);
    }

    private void addRoute(Prefix prefix, L3Port port) {
        synchronized (routes) {
            if (prefix.isIpv6()) {
                v6.put(prefix, port);
            } else {
                v4.put(prefix, port);
            }
            routes.put(prefix, port);
        }
    }

    /** Removes the route for exactly {@code cidr}; returns whether there was one. */
    public boolean removeRoute(String cidr) {
        Prefix prefix = Prefix.parse(cidr);
        synchronized (routes) {
            if (routes.remove(prefix) == null) {
                return false;
            }
            removeFromTable(prefix);
            return true;
        }
    }

    private void removeFromTable(Prefix prefix) {
        if (prefix.isIpv6()) {
            v6.remove(prefix);
        } else {
            v4.remove(prefix);
        }
    }

    /** The port an IPv4 destination routes to, or null. */
    public L3Port route(int dst) {
        return v4.lookup(dst);
    }

    /** The port an IPv6 destination routes to, or null. */
    public L3Port route(long hi, long lo) {
        return v6.lookup(hi, lo);
    }

    /** A snapshot of the routes: prefix → port. */
    public Map<Prefix, L3Port> routes() {
        synchronized (routes) {
            return new LinkedHashMap<>(routes);
        }
    }

    public boolean isRouterMode() {
        return routerMode;
    }

    void unreachable(L3Port from, ByteBuf pkt) {
        from.counters.dropped(DropReason.NO_ROUTE);
        if (routerMode && from.icmpAllowed(icmpErrorsPerSecond)) {
            ByteBuf reply = icmp.destinationUnreachable(pkt, from.channel.alloc(), from.nextIcmpId());
            if (reply != null) {
                from.icmpSent();
                from.reply(reply);
            }
        }
        pkt.release();
    }

    /** {@code pkt} exceeds the egress MTU {@code mtu}: counted, answered in router mode if {@code answer}. */
    void packetTooBig(L3Port from, ByteBuf pkt, int mtu, boolean answer) {
        from.counters.dropped(DropReason.PACKET_TOO_BIG);
        if (routerMode && answer && from.icmpAllowed(icmpErrorsPerSecond)) {
            ByteBuf reply = icmp.packetTooBig(pkt, from.channel.alloc(), from.nextIcmpId(), mtu);
            if (reply != null) {
                from.icmpSent();
                from.reply(reply);
            }
        }
        pkt.release();
    }

    void timeExceeded(L3Port from, ByteBuf pkt) {
        from.counters.dropped(DropReason.TTL_EXCEEDED);
        if (from.icmpAllowed(icmpErrorsPerSecond)) {
            ByteBuf reply = icmp.timeExceeded(pkt, from.channel.alloc(), from.nextIcmpId());
            if (reply != null) {
                from.icmpSent();
                from.reply(reply);
            }
        }
        pkt.release();
    }

    /** Configuration of an {@link L3Hub}. */
    public static final class Builder extends AbstractHub.Builder<Builder> {
        private int maxRoutes = DEFAULT_MAX_ROUTES;
        private boolean routerMode;
        private int icmpErrorsPerSecond = DEFAULT_ICMP_ERRORS_PER_SECOND;
        private Inet4Address routerV4;
        private Inet6Address routerV6;

        private Builder() {
            super("l3hub", DEFAULT_MAX_PORTS);
        }

        /** Cap on routes per address family (ports' own prefixes included); default 100,000. */
        public Builder maxRoutes(int maxRoutes) {
            this.maxRoutes = ObjectUtil.checkPositive(maxRoutes, "maxRoutes");
            return this;
        }

        /** Decrement TTL / hop limit and send ICMP errors, as a router does; default off (a plain hub). */
        public Builder routerMode(boolean routerMode) {
            this.routerMode = routerMode;
            return this;
        }

        /**
         * Source addresses of the ICMP errors the hub sends in router mode. Without one for a family, errors of
         * that family are not sent (the drop is still counted).
         */
        public Builder routerAddresses(Inet4Address v4, Inet6Address v6) {
            this.routerV4 = v4;
            this.routerV6 = v6;
            return this;
        }

        /** ICMP errors per port per second; default 100 (RFC 1812 §4.3.2.8 asks for a limit). */
        public Builder icmpErrorsPerSecond(int perSecond) {
            this.icmpErrorsPerSecond = ObjectUtil.checkPositiveOrZero(perSecond, "icmpErrorsPerSecond");
            return this;
        }

        public L3Hub build() {
            return new L3Hub(this);
        }
    }
}

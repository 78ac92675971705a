package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Ndp;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The IPv6 half of an {@link L2Adapter}: addresses with duplicate address detection (RFC 4862), neighbour
 * discovery (RFC 4861: solicitations, advertisements, router advertisements honoured when enabled) and the
 * on-link / default-router decision for outbound packets, resolved through a {@link NeighborResolver} over the
 * NDP cache. It sees the link only through {@link AdapterLink}. Runs on the adapter's event loop only, except
 * {@link #isLocal} and {@link #addresses}, which read a published snapshot.
 */
final class Ipv6Host implements NeighborResolver.Family {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(Ipv6Host.class);
    private static final byte TENTATIVE = 0;
    private static final byte PREFERRED = 1;
    private static final byte DUPLICATE = 2;
    private static final long INFINITE = Long.MAX_VALUE;
    private static final int MAX_RTR_SOLICITATIONS = 3;
    private static final long RTR_SOLICITATION_INTERVAL = TimeUnit.SECONDS.toNanos(4);

    /** One address of the host. */
    private static final class Address {
        final long hi;
        final long lo;
        final int prefixLength;
        final boolean autoconfigured;
        byte state = TENTATIVE;
        int dadLeft;
        long validUntil = INFINITE;
        ScheduledFuture<?> dadTimer;

        Address(long hi, long lo, int prefixLength, boolean autoconfigured) {
            this.hi = hi;
            this.lo = lo;
            this.prefixLength = prefixLength;
            this.autoconfigured = autoconfigured;
        }
    }

    private final AdapterLink link;
    private final AdapterConfig config;
    private final NeighborResolver resolver;
    private final List<Address> addresses = new ArrayList<>();
    private volatile long[] published = new long[0]; // hi, lo pairs of preferred addresses, link-local first

    // On-link prefixes: configured ones never expire; router-advertised ones do.
    private final long[] onLinkHi;
    private final long[] onLinkLo;
    private final int[] onLinkLength;
    private final long[] onLinkExpires;
    private int onLinkCount;

    private final boolean staticRouter;
    private long routerHi;
    private long routerLo;
    private long routerExpires; // nanos; meaningful only for a learned router
    private boolean learnedRouter;
    private volatile int mtu;

    private int solicitationsLeft;
    private ScheduledFuture<?> solicitTask;
    private boolean sawAdvertisement;

    Ipv6Host(AdapterLink link, AdapterConfig config, NeighborCache nd) {
        this.link = link;
        this.config = config;
        this.resolver = new NeighborResolver(link, config, nd, this);
        int n = config.maxOnLinkPrefixes;
        onLinkHi = new long[n];
        onLinkLo = new long[n];
        onLinkLength = new int[n];
        onLinkExpires = new long[n];
        staticRouter = config.gw6Hi != 0 || config.gw6Lo != 0;
        routerHi = config.gw6Hi;
        routerLo = config.gw6Lo;
    }

    NeighborResolver resolver() {
        return resolver;
    }

    void start() {
        resolver.start();
        addAddress(Ip6.LINK_LOCAL_PREFIX_HI, Ip6.linkLocalLoFromMac(link.mac()), 64, false, INFINITE);
        for (long[] s : config.ipv6Static) {
            addAddress(s[0], s[1], (int) s[2], false, INFINITE);
            int len = (int) s[2];
            addOnLink(s[0] & Ip6.maskHi(len), s[1] & Ip6.maskLo(len), len, INFINITE);
        }
    }

    void stop() {
        for (Address a : addresses) {
            if (a.dadTimer != null) {
                a.dadTimer.cancel(false);
            }
        }
        if (solicitTask != null) {
            solicitTask.cancel(false);
        }
    }

    // ---- addresses ----------------------------------------------------------------------------------------------

    private Address find(long hi, long lo) {
        for (Address a : addresses) {
            if (a.hi == hi && a.lo == lo) {
                return a;
            }
        }
        return null;
    }

    private void addAddress(long hi, long lo, int prefixLength, boolean autoconfigured, long validUntil) {
        if (addresses.size() >= config.maxIpv6Addresses) {
            logger.warn("{}: IPv6 address limit {} reached; not adding {}", link.channel(),
                    config.maxIpv6Addresses, Ip6.format(hi, lo));
            return;
        }
        Address a = new Address(hi, lo, prefixLength, autoconfigured);
        a.validUntil = validUntil;
        addresses.add(a);
        link.addGroup(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(lo)));
        if (config.dadTransmits == 0) {
            preferred(a);
            return;
        }
        a.dadLeft = config.dadTransmits;
        dadStep(a);
    }

    /** Sends one DAD solicitation, or declares the address preferred when all were sent unanswered. */
    private void dadStep(Address a) {
        a.dadTimer = null;
        if (a.state != TENTATIVE || !addresses.contains(a)) {
            return;
        }
        if (a.dadLeft == 0) {
            preferred(a);
            return;
        }
        a.dadLeft--;
        ByteBuf b = link.packetBuffer(Ipv6.HEADER_LENGTH + 32);
        Ndp.writeNeighborSolicitationPacket(b, 0, 0, a.hi, a.lo, -1);
        link.sendIpv6To(b, MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(a.lo)));
        a.dadTimer = link.executor().schedule(() -> dadStep(a), config.retransmitInterval.toNanos(),
                TimeUnit.NANOSECONDS);
    }

    private void preferred(Address a) {
        a.state = PREFERRED;
        publish();
        link.fire(new AdapterEvent.Ipv6AddressAdded(Ip6.toInet(a.hi, a.lo), a.prefixLength));
        if (Ip6.isLinkLocal(a.hi) && config.acceptRa && !sawAdvertisement) {
            solicitationsLeft = MAX_RTR_SOLICITATIONS;
            solicitRouter();
        }
    }

    private void duplicate(Address a) {
        if (a.state == DUPLICATE) {
            return;
        }
        boolean wasPreferred = a.state == PREFERRED;
        a.state = DUPLICATE;
        if (a.dadTimer != null) {
            a.dadTimer.cancel(false);
        }
        addresses.remove(a);
        link.removeGroup(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(a.lo)));
        if (wasPreferred) {
            publish();
        }
        logger.warn("{}: duplicate address {}; not using it", link.channel(), Ip6.format(a.hi, a.lo));
        link.fire(new AdapterEvent.Ipv6DuplicateAddress(Ip6.toInet(a.hi, a.lo)));
    }

    private void removeAddress(Address a) {
        addresses.remove(a);
        if (a.dadTimer != null) {
            a.dadTimer.cancel(false);
        }
        link.removeGroup(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(a.lo)));
        if (a.state == PREFERRED) {
            publish();
            link.fire(new AdapterEvent.Ipv6AddressRemoved(Ip6.toInet(a.hi, a.lo)));
        }
    }

    private void publish() {
        int n = 0;
        long[] p = new long[addresses.size() * 2];
        for (Address a : addresses) {
            if (a.state == PREFERRED) {
                p[n++] = a.hi;
                p[n++] = a.lo;
            }
        }
        published = java.util.Arrays.copyOf(p, n);
    }

    boolean isLocal(long hi, long lo) {
        long[] p = published;
        for (int i = 0; i < p.length; i += 2) {
            if (p[i] == hi && p[i + 1] == lo) {
                return true;
            }
        }
        return false;
    }

    List<Inet6Address> addresses() {
        long[] p = published;
        List<Inet6Address> out = new ArrayList<>(p.length / 2);
        for (int i = 0; i < p.length; i += 2) {
            out.add(Ip6.toInet(p[i], p[i + 1]));
        }
        return out;
    }

    boolean hasPreferredLinkLocal() {
        for (Address a : addresses) {
            if (a.state == PREFERRED && Ip6.isLinkLocal(a.hi)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The source address for a message to {@code (dstHi, dstLo)} (RFC 6724 reduced to scope and prefix match):
     * link-local for link-local destinations, else a global address in the destination's prefix, else any
     * global, else link-local. Null when no address has passed DAD.
     */
    long[] sourceFor(long dstHi, long dstLo) {
        Address best = null;
        for (Address a : addresses) {
            if (a.state != PREFERRED) {
                continue;
            }
            boolean ll = Ip6.isLinkLocal(a.hi);
            if (Ip6.isLinkLocal(dstHi)) {
                if (ll) {
                    return new long[] {a.hi, a.lo};
                }
                continue;
            }
            if (!ll && Ip6.inSubnet(dstHi, dstLo, a.hi, a.lo, a.prefixLength)) {
                return new long[] {a.hi, a.lo};
            }
            if (best == null || (Ip6.isLinkLocal(best.hi) && !ll)) {
                best = a;
            }
        }
        return best == null ? null : new long[] {best.hi, best.lo};
    }

    // ---- on-link decision and router ----------------------------------------------------------------------------

    boolean isOnLink(long hi, long lo) {
        if ((hi >>> 54) == (Ip6.LINK_LOCAL_PREFIX_HI >>> 54)) {
            return true;
        }
        for (int i = 0, n = onLinkCount; i < n; i++) {
            int len = onLinkLength[i];
            if (((hi ^ onLinkHi[i]) & Ip6.maskHi(len)) == 0 && ((lo ^ onLinkLo[i]) & Ip6.maskLo(len)) == 0) {
                return true;
            }
        }
        return false;
    }

    boolean hasRouter() {
        return staticRouter || (learnedRouter && link.now() - routerExpires < 0);
    }

    long routerHi() {
        return routerHi;
    }

    long routerLo() {
        return routerLo;
    }

    /** The MTU from the last router advertisement, or 0. */
    int mtu() {
        return mtu;
    }

    private void addOnLink(long hi, long lo, int len, long expires) {
        for (int i = 0; i < onLinkCount; i++) {
            if (onLinkHi[i] == hi && onLinkLo[i] == lo && onLinkLength[i] == len) {
                if (onLinkExpires[i] != INFINITE) {
                    onLinkExpires[i] = expires;
                }
                return;
            }
        }
        if (onLinkCount == onLinkHi.length) {
            logger.debug("{}: on-link prefix limit reached", link.channel());
            return;
        }
        onLinkHi[onLinkCount] = hi;
        onLinkLo[onLinkCount] = lo;
        onLinkLength[onLinkCount] = len;
        onLinkExpires[onLinkCount] = expires;
        onLinkCount++;
    }

    private void removeOnLink(int i) {
        onLinkCount--;
        onLinkHi[i] = onLinkHi[onLinkCount];
        onLinkLo[i] = onLinkLo[onLinkCount];
        onLinkLength[i] = onLinkLength[onLinkCount];
        onLinkExpires[i] = onLinkExpires[onLinkCount];
    }

    void tick(long now) {
        for (int i = onLinkCount - 1; i >= 0; i--) {
            if (onLinkExpires[i] != INFINITE && now - onLinkExpires[i] >= 0) {
                removeOnLink(i);
            }
        }
        for (int i = addresses.size() - 1; i >= 0; i--) {
            Address a = addresses.get(i);
            if (a.validUntil != INFINITE && now - a.validUntil >= 0) {
                removeAddress(a);
            }
        }
        if (learnedRouter && now - routerExpires >= 0) {
            learnedRouter = false;
        }
    }

    private void solicitRouter() {
        solicitTask = null;
        if (sawAdvertisement || solicitationsLeft <= 0) {
            return;
        }
        long[] src = sourceFor(Ip6.LINK_LOCAL_PREFIX_HI, 1);
        if (src == null) {
            return;
        }
        solicitationsLeft--;
        ByteBuf b = link.packetBuffer(Ipv6.HEADER_LENGTH + 16);
        Ndp.writeRouterSolicitationPacket(b, src[0], src[1], link.mac());
        link.sendIpv6To(b, MacAddress.ofIpv6Multicast(Ip6.ALL_ROUTERS_LO));
        solicitTask = link.executor().schedule(this::solicitRouter, RTR_SOLICITATION_INTERVAL,
                TimeUnit.NANOSECONDS);
    }

    // ---- outbound ---------------------------------------------------------------------------------------------

    /**
     * The MAC for the next hop of an IPv6 packet to {@code (dstHi, dstLo)}: the group MAC, the destination when
     * on-link, else the router; or {@link NeighborResolver#QUEUED} / {@link NeighborResolver#DROPPED} (then the
     * packet is no longer the caller's).
     */
    long nextHop(long dstHi, long dstLo, ByteBuf pkt, ChannelPromise promise) {
        if ((dstHi >>> 56) == 0xFF) {
            return MacAddress.ofIpv6Multicast(dstLo);
        }
        long nhHi = dstHi;
        long nhLo = dstLo;
        if (!isOnLink(dstHi, dstLo)) {
            if (!hasRouter()) {
                link.dropOut(pkt, promise, AdapterDropReason.NO_ROUTE);
                return NeighborResolver.DROPPED;
            }
            nhHi = routerHi;
            nhLo = routerLo;
        }
        return resolver.resolve(nhHi, nhLo, pkt, promise);
    }

    @Override
    public int etherType() {
        return dev.pktkit.codec.wire.Ethernet.IPV6;
    }

    @Override
    public void solicit(long hi, long lo, long dstMac) {
        sendSolicitation(hi, lo, dstMac);
    }

    @Override
    public ByteBuf unreachable(ByteBuf pkt) {
        int off = pkt.readerIndex();
        if (!Icmpv6.isErrorAllowed(pkt, off, Icmpv6.TYPE_DESTINATION_UNREACHABLE, Icmpv6.CODE_ADDRESS_UNREACHABLE)
                || !hasPreferredLinkLocal()) {
            return null;
        }
        long[] src = sourceFor(Ipv6.srcHi(pkt, off), Ipv6.srcLo(pkt, off));
        ByteBuf error = link.alloc().buffer(Ipv6.MIN_MTU);
        if (Icmpv6.writeDestinationUnreachablePacket(error, src[0], src[1], Icmpv6.CODE_ADDRESS_UNREACHABLE, pkt,
                off) < 0) {
            error.release();
            return null;
        }
        return error;
    }

    // ---- solicitations we send ------------------------------------------------------------------------------------

    /** Sends a neighbour solicitation for {@code target}: multicast for resolution, unicast to re-confirm. */
    void sendSolicitation(long targetHi, long targetLo, long dstMac) {
        long[] src = sourceFor(targetHi, targetLo);
        if (src == null) {
            return; // no usable source yet (DAD running): the resolver's retry sends it later
        }
        ByteBuf b = link.packetBuffer(Ipv6.HEADER_LENGTH + 32);
        if (dstMac == MacAddress.BROADCAST) {
            Ndp.writeNeighborSolicitationPacket(b, src[0], src[1], targetHi, targetLo, link.mac());
            link.sendIpv6To(b, MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(targetLo)));
        } else {
            Ndp.writeNeighborSolicitationPacket(b, src[0], src[1], targetHi, targetLo, targetHi, targetLo,
                    link.mac());
            link.sendIpv6To(b, dstMac);
        }
    }

    // ---- messages we receive --------------------------------------------------------------------------------------

    /** Handles one NDP message; {@code ip} is the IPv6 header's offset. Does not release {@code frame}. */
    void receive(ByteBuf frame, int off, int ip) {
        AdapterCounters counters = link.counters();
        if (Ndp.check(frame, ip) < 0) {
            counters.dropped(AdapterDropReason.BAD_NEIGHBOR_MESSAGE);
            return;
        }
        counters.ndpReceived();
        link.freshNow();
        int icmp = Ipv6.upperLayerOffset(frame, ip);
        int end = ip + Ipv6.HEADER_LENGTH + Ipv6.payloadLength(frame, ip);
        switch (frame.getUnsignedByte(icmp)) {
            case Icmpv6.TYPE_NEIGHBOR_SOLICITATION -> receiveSolicitation(frame, off, ip, icmp, end);
            case Icmpv6.TYPE_NEIGHBOR_ADVERTISEMENT -> receiveAdvertisement(frame, icmp, end);
            case Icmpv6.TYPE_ROUTER_ADVERTISEMENT -> receiveRouterAdvertisement(frame, ip, icmp, end);
            default -> {
                // router solicitations are for routers; redirects are not implemented
            }
        }
    }

    private void receiveSolicitation(ByteBuf frame, int off, int ip, int icmp, int end) {
        long tHi = Ndp.targetHi(frame, icmp);
        long tLo = Ndp.targetLo(frame, icmp);
        Address a = find(tHi, tLo);
        if (a == null) {
            return;
        }
        long srcHi = Ipv6.srcHi(frame, ip);
        long srcLo = Ipv6.srcLo(frame, ip);
        boolean fromUnspecified = Ip6.isUnspecified(srcHi, srcLo);
        if (a.state == TENTATIVE) {
            if (fromUnspecified) {
                duplicate(a); // RFC 4862 §5.4.3: another node is probing the same address
            }
            return;
        }
        ByteBuf b = link.packetBuffer(Ipv6.HEADER_LENGTH + 32);
        if (fromUnspecified) {
            // Defend the address: advertise it to all nodes (RFC 4861 §7.2.4).
            Ndp.writeNeighborAdvertisementPacket(b, a.hi, a.lo, Ip6.ALL_NODES_HI, Ip6.ALL_NODES_LO,
                    Ndp.NA_FLAG_OVERRIDE, a.hi, a.lo, link.mac());
            link.sendIpv6To(b, MacAddress.ofIpv6Multicast(Ip6.ALL_NODES_LO));
            return;
        }
        int opts = Ndp.optionsOffset(frame, icmp);
        int slla = Ndp.findOption(frame, opts, end, Ndp.OPT_SOURCE_LINK_LAYER_ADDRESS);
        long dstMac;
        if (slla >= 0) {
            dstMac = Ndp.linkLayerAddress(frame, slla);
            resolver.learned(resolver.cache().learnStale(srcHi, srcLo, dstMac, link.now()));
        } else {
            dstMac = dev.pktkit.codec.wire.Ethernet.src(frame, off);
        }
        Ndp.writeNeighborAdvertisementPacket(b, a.hi, a.lo, srcHi, srcLo,
                Ndp.NA_FLAG_SOLICITED | Ndp.NA_FLAG_OVERRIDE, a.hi, a.lo, link.mac());
        link.sendIpv6To(b, dstMac);
    }

    private void receiveAdvertisement(ByteBuf frame, int icmp, int end) {
        long tHi = Ndp.targetHi(frame, icmp);
        long tLo = Ndp.targetLo(frame, icmp);
        Address a = find(tHi, tLo);
        if (a != null) {
            if (a.state == TENTATIVE) {
                duplicate(a);
            } else {
                logger.warn("{}: another node advertises our address {}", link.channel(),
                        Ip6.format(tHi, tLo));
            }
            return;
        }
        NeighborCache nd = resolver.cache();
        int s = nd.find(tHi, tLo);
        if (s < 0) {
            return; // RFC 4861 §7.2.5: unsolicited advertisements create no entries
        }
        int flags = Ndp.naFlags(frame, icmp);
        boolean solicited = (flags & Ndp.NA_FLAG_SOLICITED) != 0;
        boolean override = (flags & Ndp.NA_FLAG_OVERRIDE) != 0;
        int opt = Ndp.findOption(frame, Ndp.optionsOffset(frame, icmp), end, Ndp.OPT_TARGET_LINK_LAYER_ADDRESS);
        long tlla = opt >= 0 ? Ndp.linkLayerAddress(frame, opt) : -1;
        long reachableUntil = link.now() + config.reachableTime.toNanos();
        if (nd.state(s) == NeighborCache.INCOMPLETE) {
            if (tlla < 0) {
                return;
            }
            s = solicited ? nd.update(tHi, tLo, tlla, reachableUntil) : nd.learnStale(tHi, tLo, tlla, link.now());
            resolver.learned(s);
            return;
        }
        boolean same = tlla < 0 || tlla == nd.mac(s);
        if (!override && !same) {
            nd.expire(s); // keep the old MAC, but distrust it
            return;
        }
        if (solicited) {
            nd.update(tHi, tLo, tlla < 0 ? nd.mac(s) : tlla, reachableUntil);
        } else if (!same) {
            nd.learnStale(tHi, tLo, tlla, link.now());
        }
    }

    private void receiveRouterAdvertisement(ByteBuf frame, int ip, int icmp, int end) {
        if (!config.acceptRa) {
            return;
        }
        sawAdvertisement = true;
        long srcHi = Ipv6.srcHi(frame, ip);
        long srcLo = Ipv6.srcLo(frame, ip);
        long now = link.now();
        int lifetime = Ndp.raRouterLifetime(frame, icmp);
        if (!staticRouter) {
            if (lifetime > 0) {
                routerHi = srcHi;
                routerLo = srcLo;
                routerExpires = now + TimeUnit.SECONDS.toNanos(lifetime);
                learnedRouter = true;
            } else if (learnedRouter && routerHi == srcHi && routerLo == srcLo) {
                learnedRouter = false;
            }
        }
        int opts = Ndp.optionsOffset(frame, icmp);
        for (int o = opts; o >= 0 && o < end; o = Ndp.nextOption(frame, o, end)) {
            switch (Ndp.optionType(frame, o)) {
                case Ndp.OPT_SOURCE_LINK_LAYER_ADDRESS ->
                        resolver.learned(resolver.cache().learnStale(srcHi, srcLo, Ndp.linkLayerAddress(frame, o),
                                now));
                case Ndp.OPT_MTU -> {
                    long m = Ndp.mtu(frame, o);
                    if (m >= Ipv6.MIN_MTU && m <= 65535) {
                        mtu = (int) m;
                    }
                }
                case Ndp.OPT_PREFIX_INFORMATION -> prefix(frame, o, now);
                default -> {
                }
            }
        }
    }

    /** RFC 4861 §6.3.4 (on-link) and RFC 4862 §5.5.3 (autonomous) for one prefix information option. */
    private void prefix(ByteBuf frame, int o, long now) {
        int len = Ndp.prefixLength(frame, o);
        int flags = Ndp.prefixFlags(frame, o);
        long valid = Ndp.prefixValidLifetime(frame, o);
        long preferred = Ndp.prefixPreferredLifetime(frame, o);
        long pHi = Ndp.prefixHi(frame, o) & Ip6.maskHi(len);
        long pLo = Ndp.prefixLo(frame, o) & Ip6.maskLo(len);
        if (len < 0 || len > 128 || Ip6.isLinkLocal(pHi) || preferred > valid) {
            return;
        }
        long expires = valid == 0xFFFF_FFFFL ? INFINITE : now + TimeUnit.SECONDS.toNanos(valid);
        if ((flags & Ndp.PREFIX_FLAG_ON_LINK) != 0) {
            if (valid == 0) {
                for (int i = onLinkCount - 1; i >= 0; i--) {
                    if (onLinkHi[i] == pHi && onLinkLo[i] == pLo && onLinkLength[i] == len
                            && onLinkExpires[i] != INFINITE) {
                        removeOnLink(i);
                    }
                }
            } else {
                addOnLink(pHi, pLo, len, expires);
            }
        }
        if ((flags & Ndp.PREFIX_FLAG_AUTONOMOUS) != 0 && len == 64 && valid > 0) {
            long lo = Ip6.linkLocalLoFromMac(link.mac());
            Address a = find(pHi, lo);
            if (a == null) {
                addAddress(pHi, lo, 64, true, expires);
            } else if (a.autoconfigured) {
                // RFC 4862 §5.5.3 e): never shorten a valid lifetime below two hours on an unauthenticated RA.
                long twoHours = now + TimeUnit.HOURS.toNanos(2);
                if (expires == INFINITE || expires - twoHours > 0 || expires - a.validUntil > 0) {
                    a.validUntil = expires;
                } else if (a.validUntil - twoHours > 0) {
                    a.validUntil = twoHours;
                }
            }
        }
    }
}

package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPromise;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

/**
 * The IPv4 half of an {@link L2Adapter}: its address, prefix, gateway and routes (static or from the
 * {@link DhcpClient}), ARP (RFC 826: answering requests for its address, learning senders, RFC 5227 probes and
 * announcements), and the next-hop choice for outbound packets, resolved through a {@link NeighborResolver} over
 * the ARP cache. Runs on the adapter's event loop, except {@link #address()} and {@link #prefixLength()}, which
 * read published values.
 */
final class Ipv4Host implements NeighborResolver.Family {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(Ipv4Host.class);

    private final AdapterLink link;
    private final AdapterConfig config;
    private final NeighborResolver resolver;
    private DhcpClient dhcp;

    // read by the data path on the loop, published for other threads through volatiles
    private int address;
    private int prefix;
    private int gateway;
    private int[] routes = new int[0]; // triples: destination, prefix length, router
    private volatile int publishedAddress;
    private volatile int publishedPrefix;

    Ipv4Host(AdapterLink link, AdapterConfig config, NeighborCache arp) {
        this.link = link;
        this.config = config;
        this.resolver = new NeighborResolver(link, config, arp, this);
    }

    /** The DHCP client that watches ARP for conflicts with the address it probes; null without DHCP. */
    void dhcp(DhcpClient client) {
        this.dhcp = client;
    }

    NeighborResolver resolver() {
        return resolver;
    }

    void start() {
        resolver.start();
        if (config.v4Address != 0) {
            apply(config.v4Address, config.v4Prefix, config.v4Gateway, config.v4RoutesArray());
        }
    }

    /** The address in use (0: none), from any thread. */
    int address() {
        return publishedAddress;
    }

    /** Its prefix length (0 when none), from any thread. */
    int prefixLength() {
        return publishedAddress == 0 ? 0 : publishedPrefix;
    }

    /** Applies an IPv4 configuration (static or from DHCP) and announces a new address. */
    void apply(int newAddress, int newPrefix, int newGateway, int[] newRoutes) {
        int previous = address;
        address = newAddress;
        prefix = newAddress == 0 ? 0 : newPrefix;
        gateway = newGateway;
        routes = newRoutes;
        publishedPrefix = prefix;
        publishedAddress = newAddress;
        if (previous != newAddress) {
            if (newAddress != 0) {
                sendArp(Arp.OP_REQUEST, MacAddress.BROADCAST, newAddress, MacAddress.ZERO, newAddress);
            }
            link.fire(new AdapterEvent.Ipv4AddressChanged(previous == 0 ? null : Ip4.toInet(previous),
                    newAddress == 0 ? null : Ip4.toInet(newAddress), prefix));
        }
    }

    // ---- outbound ---------------------------------------------------------------------------------------------

    /**
     * The MAC for the next hop of an IPv4 packet to {@code dst}, or {@link NeighborResolver#QUEUED} /
     * {@link NeighborResolver#DROPPED} (then the packet is no longer the caller's).
     */
    long nextHop(int dst, ByteBuf pkt, ChannelPromise promise) {
        if (dst == Ip4.BROADCAST) {
            return MacAddress.BROADCAST;
        }
        if ((dst & 0xF000_0000) == 0xE000_0000) {
            return MacAddress.ofIpv4Multicast(dst);
        }
        int me = address;
        int nh;
        if (me != 0 && ((dst ^ me) & Ip4.mask(prefix)) == 0) {
            if (prefix < 31 && (dst | Ip4.mask(prefix)) == -1) {
                return MacAddress.BROADCAST; // directed broadcast of our own subnet
            }
            nh = dst;
        } else {
            nh = route(dst);
            if (nh == 0) {
                link.dropOut(pkt, promise, AdapterDropReason.NO_ROUTE);
                return NeighborResolver.DROPPED;
            }
        }
        return resolver.resolve(0, nh & 0xFFFF_FFFFL, pkt, promise);
    }

    /** The router for {@code dst}: the longest matching route, else the gateway; 0 for none. */
    private int route(int dst) {
        int[] r = routes;
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
        return address == 0 ? 0 : gateway;
    }

    @Override
    public int etherType() {
        return Ethernet.IPV4;
    }

    @Override
    public void solicit(long hi, long lo, long dstMac) {
        sendArp(Arp.OP_REQUEST, dstMac, address, MacAddress.ZERO, (int) lo);
    }

    @Override
    public ByteBuf unreachable(ByteBuf pkt) {
        int off = pkt.readerIndex();
        if (address == 0 || !Icmpv4.isErrorAllowed(pkt, off)) {
            return null;
        }
        ByteBuf error = link.alloc().buffer(Icmpv4.MAX_ERROR_DATAGRAM);
        if (Icmpv4.writeDestinationUnreachablePacket(error, address, Icmpv4.CODE_HOST_UNREACHABLE, 0, pkt, off,
                link.nextIpId()) < 0) {
            error.release();
            return null;
        }
        return error;
    }

    // ---- ARP ----------------------------------------------------------------------------------------------------

    /** Handles one ARP message at {@code arpOff}; does not release {@code frame}. */
    void receiveArp(ByteBuf frame, int arpOff, int arpLen) {
        AdapterCounters counters = link.counters();
        if (arpLen < Arp.LENGTH || Arp.check(frame, arpOff) < 0) {
            counters.dropped(AdapterDropReason.BAD_NEIGHBOR_MESSAGE);
            return;
        }
        counters.arpReceived();
        long now = link.freshNow();
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
        int me = address;
        if (senderIp == 0) {
            // An RFC 5227 probe teaches nothing, but one for our address must be answered so that the prober's
            // conflict detection sees us: a reply to the prober, target address 0.0.0.0, as Linux sends it.
            if (op == Arp.OP_REQUEST && me != 0 && targetIp == me) {
                counters.arpProbeAnswered();
                sendArp(Arp.OP_REPLY, senderMac, me, senderMac, 0);
            }
            return;
        }
        if (me != 0 && senderIp == me) {
            counters.dropped(AdapterDropReason.BAD_NEIGHBOR_MESSAGE);
            logger.warn("{}: {} claims our address {}", link.channel(), MacAddress.format(senderMac),
                    Ip4.format(me));
            link.fire(new AdapterEvent.Ipv4AddressConflict(Ip4.toInet(me), senderMac));
            return;
        }
        long key = senderIp & 0xFFFF_FFFFL;
        boolean forMe = me != 0 && targetIp == me;
        // RFC 826: update an entry we have; create one only when the message was meant for us.
        NeighborCache arp = resolver.cache();
        int s = arp.find(0, key);
        if (s >= 0 || forMe) {
            s = arp.update(0, key, senderMac, now + config.reachableTime.toNanos());
            resolver.learned(s);
        }
        if (forMe && op == Arp.OP_REQUEST) {
            sendArp(Arp.OP_REPLY, senderMac, me, senderMac, senderIp);
        }
    }

    /** Sends an ARP probe (sender address 0.0.0.0, RFC 5227) for {@code candidate}. */
    void sendArpProbe(int candidate) {
        sendArp(Arp.OP_REQUEST, MacAddress.BROADCAST, 0, MacAddress.ZERO, candidate);
    }

    /** Builds and sends one ARP message in an Ethernet frame to {@code dstMac}, unless the port is congested. */
    private void sendArp(int op, long dstMac, int senderIp, long targetMac, int targetIp) {
        if (link.congested()) {
            return;
        }
        ByteBuf f = link.alloc().buffer(Ethernet.HEADER_LENGTH + Arp.LENGTH);
        Ethernet.writeHeader(f, dstMac, link.mac(), Ethernet.ARP);
        Arp.write(f, op, link.mac(), senderIp, targetMac, targetIp);
        link.sendControlFrame(f);
    }
}

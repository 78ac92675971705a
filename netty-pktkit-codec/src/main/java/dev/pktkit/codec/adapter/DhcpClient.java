package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Dhcp4Option;
import dev.pktkit.codec.wire.Dhcp4OptionIndex;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.Inet4Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The DHCPv4 client of an {@link L2Adapter} (RFC 2131 §4.4): INIT → SELECTING → REQUESTING → (ARP probe) →
 * BOUND → RENEWING at T1 → REBINDING at T2 → INIT when the lease expires. It sends through the
 * {@link AdapterLink} and sets the address on the {@link Ipv4Host}. Runs on the adapter's event loop; all waits
 * are tasks on that loop.
 */
final class DhcpClient {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(DhcpClient.class);
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final int MAX_REQUEST_TRIES = 4;
    private static final long DECLINE_BACKOFF = 10 * SECOND; // RFC 2131 §3.1.5
    private static final long MIN_RETRANSMIT_BOUND = 60 * SECOND; // RFC 2131 §4.4.5
    private static final int[] PARAMETERS = {Dhcp4Option.SUBNET_MASK, Dhcp4Option.ROUTER,
            Dhcp4Option.DOMAIN_NAME_SERVER, Dhcp4Option.DOMAIN_NAME, Dhcp4Option.INTERFACE_MTU,
            Dhcp4Option.BROADCAST_ADDRESS, Dhcp4Option.LEASE_TIME, Dhcp4Option.SERVER_IDENTIFIER,
            Dhcp4Option.RENEWAL_TIME, Dhcp4Option.REBINDING_TIME, Dhcp4Option.CLASSLESS_STATIC_ROUTE};

    enum State { STOPPED, INIT, SELECTING, REQUESTING, PROBING, BOUND, RENEWING, REBINDING }

    private final AdapterLink link;
    private final Ipv4Host v4;
    private final Consumer<DhcpLease> onFirstBound;
    private final AdapterConfig config;
    /** The options of the reply being handled, walked once per message (the ACK's lease options walk again). */
    private final Dhcp4OptionIndex options = new Dhcp4OptionIndex();
    private State state = State.STOPPED;
    private long xid;
    private int attempt;
    private long exchangeStart;
    private long requestSent;
    private ScheduledFuture<?> timer;

    private int offered;
    private int server;
    private long serverMac = MacAddress.BROADCAST;
    private Ack pendingAck;
    private Ack bound;
    private volatile DhcpLease lease;
    private long t1At;
    private long t2At;
    private long expiresAt;

    /** What an ACK said, in wire form. */
    private record Ack(int address, int prefixLength, int router, int[] routes, DhcpLease lease, long leaseSeconds,
                       long t1Seconds, long t2Seconds) {
    }

    DhcpClient(AdapterLink link, Ipv4Host v4, AdapterConfig config, Consumer<DhcpLease> onBound) {
        this.link = link;
        this.v4 = v4;
        this.onFirstBound = onBound;
        this.config = config;
    }

    DhcpLease lease() {
        return lease;
    }

    State state() {
        return state;
    }

    void start() {
        init(0);
    }

    void stop() {
        cancelTimer();
        state = State.STOPPED;
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void schedule(Runnable task, long delayNanos) {
        cancelTimer();
        timer = link.executor().schedule(() -> {
            timer = null;
            task.run();
        }, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    }

    // ---- state machine ---------------------------------------------------------------------------------------------

    /** Back to INIT; the first DISCOVER goes out after {@code delayNanos}. */
    private void init(long delayNanos) {
        cancelTimer();
        state = State.INIT;
        offered = 0;
        server = 0;
        pendingAck = null;
        attempt = 0;
        if (delayNanos > 0) {
            schedule(this::discover, delayNanos);
        } else {
            discover();
        }
    }

    private void discover() {
        if (state == State.INIT) {
            state = State.SELECTING;
            xid = ThreadLocalRandom.current().nextInt() & 0xFFFF_FFFFL;
            exchangeStart = link.freshNow();
            attempt = 0;
        } else if (state != State.SELECTING) {
            return;
        }
        // Timer first: on a shared loop the reply may be handled inside send().
        schedule(this::discover, backoff(attempt++));
        send(Dhcp4.DISCOVER, 0, 0, 0, false);
    }

    /** RFC 2131 §4.1: 4 s doubling to 64 s, randomised by ±1 s. */
    private static long backoff(int attempt) {
        long base = (4L << Math.min(attempt, 4)) * SECOND;
        return base + ThreadLocalRandom.current().nextLong(-SECOND, SECOND + 1);
    }

    private void request() {
        if (state != State.REQUESTING) {
            return;
        }
        if (attempt >= MAX_REQUEST_TRIES) {
            init(0);
            return;
        }
        requestSent = link.freshNow();
        schedule(this::request, backoff(attempt++));
        send(Dhcp4.REQUEST, 0, offered, server, false);
    }

    private void renew() {
        long now = link.freshNow();
        if (state == State.BOUND) {
            state = State.RENEWING;
            xid = ThreadLocalRandom.current().nextInt() & 0xFFFF_FFFFL;
            exchangeStart = now;
        }
        if (state != State.RENEWING) {
            return;
        }
        if (now - t2At >= 0) {
            rebind();
            return;
        }
        requestSent = now;
        schedule(this::renew, Math.min(t2At - now, Math.max(MIN_RETRANSMIT_BOUND, (t2At - now) / 2)));
        send(Dhcp4.REQUEST, bound.address, 0, 0, true);
    }

    private void rebind() {
        long now = link.freshNow();
        if (state == State.BOUND || state == State.RENEWING) {
            state = State.REBINDING;
            xid = ThreadLocalRandom.current().nextInt() & 0xFFFF_FFFFL;
        }
        if (state != State.REBINDING) {
            return;
        }
        if (now - expiresAt >= 0) {
            expire();
            return;
        }
        requestSent = now;
        schedule(this::rebind, Math.min(expiresAt - now, Math.max(MIN_RETRANSMIT_BOUND, (expiresAt - now) / 2)));
        send(Dhcp4.REQUEST, bound.address, 0, 0, false);
    }

    private void expire() {
        logger.info("{}: DHCP lease for {} expired", link.channel(), Ip4.format(bound.address));
        lose();
        init(0);
    }

    /** Drops the bound lease: address removed, LOST fired. */
    private void lose() {
        DhcpLease old = lease;
        bound = null;
        lease = null;
        v4.apply(0, 0, 0, new int[0]);
        if (old != null) {
            link.fire(new AdapterEvent.DhcpLeaseChanged(AdapterEvent.DhcpLeaseChanged.Kind.LOST, old));
        }
    }

    /** Sends RELEASE when a lease is held; true if a frame went out (its promise completes on write). */
    boolean release(ChannelPromise promise) {
        if (bound == null || (state != State.BOUND && state != State.RENEWING && state != State.REBINDING)) {
            return false;
        }
        cancelTimer();
        xid = ThreadLocalRandom.current().nextInt() & 0xFFFF_FFFFL;
        ByteBuf pkt = build(Dhcp4.RELEASE, bound.address, 0, server, bound.address, server);
        link.counters().dhcpSent();
        link.sendIpv4To(pkt, serverMac, promise);
        DhcpLease old = lease;
        state = State.STOPPED;
        bound = null;
        lease = null;
        v4.apply(0, 0, 0, new int[0]);
        link.fire(new AdapterEvent.DhcpLeaseChanged(AdapterEvent.DhcpLeaseChanged.Kind.RELEASED, old));
        return true;
    }

    // ---- receiving -------------------------------------------------------------------------------------------------

    /** Whether the IPv4/UDP packet at {@code ip} is addressed to the DHCP client port from the server port. */
    boolean isReply(ByteBuf frame, int ip, int total) {
        int ihl = (frame.getUnsignedByte(ip) & 0x0F) * 4;
        if (ihl < Ipv4.MIN_HEADER_LENGTH || ihl + Udp.HEADER_LENGTH > total) {
            return false;
        }
        int udp = ip + ihl;
        return frame.getUnsignedShort(udp + 2) == Dhcp4.CLIENT_PORT
                && frame.getUnsignedShort(udp) == Dhcp4.SERVER_PORT;
    }

    /** Handles a DHCP reply frame; does not release it. */
    void receive(ByteBuf frame, int off, int ip, int total) {
        AdapterCounters counters = link.counters();
        int udpLen = Udp.checkInPacket(frame, ip);
        if (udpLen < 0) {
            counters.dropped(AdapterDropReason.BAD_DHCP);
            return;
        }
        int dhcp = Ipv4.payloadOffset(frame, ip) + Udp.HEADER_LENGTH;
        int len = udpLen - Udp.HEADER_LENGTH;
        Dhcp4OptionIndex opts = options;
        if (Dhcp4.checkFixed(frame, dhcp, len) < 0 || Dhcp4.op(frame, dhcp) != Dhcp4.OP_REPLY
                || Dhcp4.xid(frame, dhcp) != xid || Dhcp4.hlen(frame, dhcp) != 6
                || Dhcp4.chaddr(frame, dhcp) != link.mac() || opts.index(frame, dhcp, len) < 0) {
            counters.dropped(AdapterDropReason.BAD_DHCP);
            return;
        }
        int type = opts.messageType();
        int from = opts.serverId();
        counters.dhcpReceived();
        switch (state) {
            case SELECTING -> {
                int yiaddr = Dhcp4.yiaddr(frame, dhcp);
                if (type != Dhcp4.OFFER || from == 0 || yiaddr == 0 || Ip4.isMulticast(yiaddr)) {
                    return;
                }
                cancelTimer();
                offered = yiaddr;
                server = from;
                state = State.REQUESTING;
                attempt = 0;
                request();
            }
            case REQUESTING, RENEWING, REBINDING -> {
                if (type == Dhcp4.NAK && (from == 0 || from == server || state == State.REBINDING)) {
                    logger.info("{}: DHCP NAK from {}", link.channel(), Ip4.format(from));
                    if (bound != null) {
                        lose();
                    }
                    init(SECOND); // restart without a tight loop against a server that keeps refusing
                    return;
                }
                if (type != Dhcp4.ACK || Dhcp4.yiaddr(frame, dhcp) == 0
                        || (state == State.REQUESTING && from != server)) {
                    return;
                }
                Ack ack = parseAck(frame, dhcp, len, from == 0 ? server : from);
                serverMac = Ethernet.src(frame, off);
                if (state == State.REQUESTING && config.dhcpProbeWait.toNanos() > 0) {
                    pendingAck = ack;
                    state = State.PROBING;
                    schedule(this::probeDone, config.dhcpProbeWait.toNanos());
                    v4.sendArpProbe(ack.address);
                } else {
                    bind(ack);
                }
            }
            default -> {
            }
        }
    }

    private void probeDone() {
        if (state == State.PROBING) {
            bind(pendingAck);
        }
    }

    /** ARP seen by the adapter: while probing, anyone else using or probing the offered address is a conflict. */
    void onArp(long senderMac, int senderIp, int targetIp) {
        if (state != State.PROBING || senderMac == link.mac()) {
            return;
        }
        int candidate = pendingAck.address;
        if (senderIp == candidate || (senderIp == 0 && targetIp == candidate)) {
            logger.warn("{}: {} is in use by {}; declining", link.channel(), Ip4.format(candidate),
                    MacAddress.format(senderMac));
            ByteBuf pkt = build(Dhcp4.DECLINE, 0, candidate, server, 0, Ip4.BROADCAST);
            init(DECLINE_BACKOFF);
            link.counters().dhcpSent();
            link.sendIpv4To(pkt, MacAddress.BROADCAST, link.voidPromise());
        }
    }

    private void bind(Ack ack) {
        boolean renewed = bound != null && bound.address == ack.address;
        if (bound != null && !renewed) {
            lose();
        }
        bound = ack;
        pendingAck = null;
        server = ack.lease.server() == null ? server : Ip4.of(ack.lease.server());
        long base = requestSent;
        expiresAt = ack.leaseSeconds == 0xFFFF_FFFFL ? Long.MAX_VALUE : base + ack.leaseSeconds * SECOND;
        t1At = base + ack.t1Seconds * SECOND;
        t2At = base + ack.t2Seconds * SECOND;
        state = State.BOUND;
        lease = ack.lease;
        if (ack.leaseSeconds != 0xFFFF_FFFFL) {
            schedule(this::renew, t1At - link.freshNow());
        } else {
            cancelTimer();
        }
        v4.apply(ack.address, ack.prefixLength, ack.router, ack.routes);
        link.fire(new AdapterEvent.DhcpLeaseChanged(renewed ? AdapterEvent.DhcpLeaseChanged.Kind.RENEWED
                : AdapterEvent.DhcpLeaseChanged.Kind.BOUND, ack.lease));
        onFirstBound.accept(ack.lease);
    }

    private static Ack parseAck(ByteBuf buf, int off, int len, int server) {
        int address = Dhcp4.yiaddr(buf, off);
        int mask = Dhcp4.subnetMask(buf, off, len);
        int prefix;
        if (mask != 0 && Integer.bitCount(mask) == Integer.numberOfLeadingZeros(~mask)) {
            prefix = Integer.bitCount(mask);
        } else {
            int first = address >>> 24; // classful default when the mask is absent or not contiguous
            prefix = first < 128 ? 8 : first < 192 ? 16 : 24;
        }
        List<Inet4Address> routers = addresses(buf, off, len, Dhcp4Option.ROUTER);
        List<Inet4Address> dns = addresses(buf, off, len, Dhcp4Option.DOMAIN_NAME_SERVER);
        List<Dhcp4.Route> routes = Dhcp4.classlessStaticRoutes(buf, off, len);
        if (routes == null) {
            routes = List.of();
        }
        long leaseSeconds = Dhcp4.leaseTime(buf, off, len);
        if (leaseSeconds < 0) {
            leaseSeconds = 0xFFFF_FFFFL;
        }
        long t1 = Dhcp4.renewalTime(buf, off, len);
        long t2 = Dhcp4.rebindingTime(buf, off, len);
        if (t2 < 0 || t2 > leaseSeconds) {
            t2 = leaseSeconds * 7 / 8;
        }
        if (t1 < 0 || t1 > t2) {
            t1 = leaseSeconds / 2;
        }
        int[] routeTriples = new int[routes.size() * 3];
        for (int i = 0; i < routes.size(); i++) {
            Dhcp4.Route r = routes.get(i);
            routeTriples[i * 3] = r.destination();
            routeTriples[i * 3 + 1] = r.prefixLength();
            routeTriples[i * 3 + 2] = r.router();
        }
        // RFC 3442: with classless routes present the router option is ignored.
        int router = routes.isEmpty() && !routers.isEmpty() ? Ip4.of(routers.get(0)) : 0;
        int mtuCount = Dhcp4.optionLength(buf, off, len, Dhcp4Option.INTERFACE_MTU);
        int mtu = mtuCount == 2 ? buf.getUnsignedShort(Dhcp4.optionValueOffset(buf, off, len,
                Dhcp4Option.INTERFACE_MTU)) : 0;
        DhcpLease lease = new DhcpLease(Ip4.toInet(address), prefix, routers, dns,
                Dhcp4.domainName(buf, off, len), routes, server == 0 ? null : Ip4.toInet(server),
                Duration.ofSeconds(leaseSeconds), Duration.ofSeconds(t1), Duration.ofSeconds(t2), mtu);
        return new Ack(address, prefix, router, routeTriples, lease, leaseSeconds, t1, t2);
    }

    private static List<Inet4Address> addresses(ByteBuf buf, int off, int len, int code) {
        int n = Dhcp4.addressCount(buf, off, len, code);
        List<Inet4Address> out = new ArrayList<>(Math.max(n, 0));
        for (int i = 0; i < n; i++) {
            out.add(Ip4.toInet(Dhcp4.address(buf, off, len, code, i)));
        }
        return out;
    }

    // ---- sending ---------------------------------------------------------------------------------------------------

    /**
     * Sends a DISCOVER or REQUEST. {@code ciaddr} non-zero means renewing/rebinding (the IP source is then our
     * address); {@code unicast} sends to the server through normal resolution instead of broadcasting.
     */
    private void send(int type, int ciaddr, int requested, int serverId, boolean unicast) {
        int src = ciaddr;
        int dst = unicast ? server : Ip4.BROADCAST;
        ByteBuf pkt = build(type, ciaddr, requested, serverId, src, dst);
        link.counters().dhcpSent();
        // A renewal goes to the MAC the ACK came from: the server, or the relay towards it (no ARP needed, and
        // servers that do not answer ARP themselves still get it).
        link.sendIpv4To(pkt, unicast ? serverMac : MacAddress.BROADCAST, link.voidPromise());
    }

    /** Builds an IPv4/UDP/DHCP packet with the adapter's headroom. */
    private ByteBuf build(int type, int ciaddr, int requested, int serverId, int src, int dst) {
        ByteBuf msg = link.alloc().heapBuffer(Dhcp4.MIN_BOOTP_LENGTH + 64);
        try {
            long secs = Math.min(0xFFFF, (link.freshNow() - exchangeStart) / SECOND);
            boolean broadcastFlag = config.dhcpBroadcastFlag && ciaddr == 0;
            Dhcp4.writeFixed(msg, Dhcp4.OP_REQUEST, xid, (int) secs, broadcastFlag ? Dhcp4.FLAG_BROADCAST : 0,
                    ciaddr, 0, 0, 0, link.mac());
            Dhcp4.writeByteOption(msg, Dhcp4Option.MESSAGE_TYPE, type);
            byte[] clientId = new byte[7];
            clientId[0] = 1;
            System.arraycopy(MacAddress.toBytes(link.mac()), 0, clientId, 1, 6);
            Dhcp4.writeOption(msg, Dhcp4Option.CLIENT_IDENTIFIER, clientId);
            if (requested != 0) {
                Dhcp4.writeIntOption(msg, Dhcp4Option.REQUESTED_IP_ADDRESS, requested);
            }
            if (serverId != 0) {
                Dhcp4.writeIntOption(msg, Dhcp4Option.SERVER_IDENTIFIER, serverId);
            }
            if (type == Dhcp4.DISCOVER || type == Dhcp4.REQUEST) {
                Dhcp4.writeShortOption(msg, Dhcp4Option.MAX_MESSAGE_SIZE, 1500);
                Dhcp4.writeParameterRequestList(msg, PARAMETERS);
                if (config.dhcpHostname != null) {
                    Dhcp4.writeStringOption(msg, Dhcp4Option.HOST_NAME, config.dhcpHostname);
                }
            }
            Dhcp4.writeEnd(msg, 0);
            int len = msg.readableBytes();
            ByteBuf pkt = link.packetBuffer(Ipv4.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH + len);
            Ipv4.writeHeader(pkt, src, dst, IpProtocol.UDP, Ipv4.DEFAULT_TTL, Udp.HEADER_LENGTH + len,
                    link.nextIpId(), false);
            Udp.writeDatagramV4(pkt, src, dst, Dhcp4.CLIENT_PORT, Dhcp4.SERVER_PORT, msg, 0, len);
            return pkt;
        } finally {
            msg.release();
        }
    }
}

package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Dhcp4Option;
import dev.pktkit.codec.wire.Dhcp4OptionIndex;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.codec.wire.WireError;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.Inet4Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A DHCPv4 server (RFC 2131) as a device on an L2 port: it reads Ethernet frames, answers the DHCP messages sent
 * to the server port with frames, and passes every other frame on ({@code fireChannelRead}), so it can sit in
 * front of the gateway's {@code L2Adapter} on the same port. Put an ARP responder for the server address after
 * it (that adapter): clients renew by unicast and resolve the server first.
 *
 * <p>It hands out addresses from a pool, with static leases (MAC → address), router, DNS servers, domain name,
 * lease time (T1 and T2 at 1/2 and 7/8 of it) and classless static routes (RFC 3442, option 121). It handles
 * DISCOVER (OFFER, held for {@link Builder#offerHold}), REQUEST in the SELECTING, INIT-REBOOT, RENEWING and
 * REBINDING states, DECLINE (the address is quarantined for {@link Builder#declineHold}), RELEASE and INFORM,
 * and NAKs requests for addresses that are wrong for the subnet or belong to another client. Bindings are keyed
 * by the client identifier (option 61) when present, else by the MAC. Replies are addressed as RFC 2131 §4.1
 * says: to the relay agent's server port when giaddr is set, else unicast to ciaddr when set, broadcast when the
 * client set the broadcast flag, otherwise unicast to the offered address and the client's MAC; NAKs are
 * broadcast (through a relay: with the broadcast bit set).
 *
 * <h2>Relays</h2>
 * The builder's own pool serves the server's link. Each {@link Builder#relayedSubnet DhcpSubnet} serves the
 * clients behind relay agents whose giaddr lies in it; a unicast RENEW, RELEASE or INFORM that a client on such a
 * subnet sends through its router (giaddr 0, ciaddr in the subnet) is served from the same subnet. Replies to a
 * relay go to giaddr, UDP port 67, through the Ethernet source of the request (the relay or the router in front
 * of it). The Relay Agent Information option (82, RFC 3046) is echoed unchanged as the last option of every
 * reply. Requests relayed from a giaddr in no configured subnet are dropped ({@link DhcpDropReason#RELAYED}).
 *
 * <h2>Bounds and cost</h2>
 * Each subnet's {@code DhcpLeaseTable} does O(1) hash work, O(log<sub>64</sub> pool) bitmap work and O(log n)
 * tree work per message; expiry takes at most a few entries per message from the expiry-ordered heads, and a sweep
 * on the event loop every second removes the rest (at most 4096 per subnet per run) and fires
 * {@link DhcpLeaseEvent.Kind#EXPIRED}. The table holds at most {@link Builder#maxBindings} bindings (default:
 * every pool and static address, at most {@value #DEFAULT_MAX_BINDINGS}); when the pool or the table is full the
 * oldest pending offer is withdrawn for a new client. Messages are limited per client
 * ({@link Builder#clientRateLimit}, default {@value #DEFAULT_CLIENT_RATE}/s, burst {@value #DEFAULT_CLIENT_BURST})
 * and in total ({@link Builder#globalRateLimit}, default {@value #DEFAULT_GLOBAL_RATE}/s, burst
 * {@value #DEFAULT_GLOBAL_BURST}) with token buckets on the loop's clock. At most
 * {@link Builder#maxQueuedReplies} replies (default {@value #DEFAULT_MAX_QUEUED_REPLIES}) wait unwritten in the
 * channel; beyond that replies are dropped. Every drop is counted by reason ({@link #counters()}); malformed or
 * hostile messages are released and survived.
 *
 * <h2>Events</h2>
 * Lease changes fire a {@link DhcpLeaseEvent} up the pipeline ({@code userEventTriggered} of the handlers after
 * this one): granted, renewed, released, expired, declined.
 *
 * <p>Everything runs on the channel's event loop; {@link #bindings()} (built when asked) and {@link #counters()}
 * are safe from any thread. Not {@code @Sharable}: one server per port.
 */
public final class DhcpServer extends ChannelInboundHandlerAdapter {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(DhcpServer.class);
    private static final int FALLBACK_MAX_MESSAGE = Dhcp4.MIN_MAX_MESSAGE_SIZE;

    /** Default bound of {@link Builder#maxBindings}. */
    public static final int DEFAULT_MAX_BINDINGS = 65_536;
    /** Default per-client rate (messages per second). */
    public static final int DEFAULT_CLIENT_RATE = 4;
    /** Default per-client burst. */
    public static final int DEFAULT_CLIENT_BURST = 16;
    /** Default global rate (messages per second). */
    public static final int DEFAULT_GLOBAL_RATE = 1000;
    /** Default global burst. */
    public static final int DEFAULT_GLOBAL_BURST = 1000;
    /** Default of {@link Builder#maxQueuedReplies}. */
    public static final int DEFAULT_MAX_QUEUED_REPLIES = 64;
    /** Expired entries a message removes from its subnet's table before it is handled. */
    static final int EXPIRE_PER_MESSAGE = 4;
    /** Expired entries the periodic sweep removes per subnet per run. */
    static final int SWEEP_BATCH = 4096;

    private final long serverMac;
    private final int serverIp;
    private final int prefixLength;
    private final Scope local;
    private final Scope[] relayed;
    private final Scope[] all;
    private final DhcpLeaseTable.Budget budget;
    private final TokenBucket clientLimit;
    private final TokenBucket globalLimit;
    private final int maxQueuedReplies;
    private final DhcpServerCounters counters = new DhcpServerCounters();
    private final ChannelFutureListener replyDone = f -> this.queuedReplies--;
    /** The options of the message being handled, walked once per message (on the channel's loop only). */
    private final Dhcp4OptionIndex options = new Dhcp4OptionIndex();

    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> sweep;
    private int queuedReplies;

    /** One subnet: its options and its lease table. */
    private final class Scope implements DhcpLeaseTable.Listener {
        final int network;
        final int prefixLength;
        final int mask;
        final int[] routers;
        final int[] dns;
        final String domainName;
        final long leaseSeconds;
        final List<Dhcp4.Route> routes;
        final DhcpLeaseTable table;

        Scope(int network, int prefixLength, int poolStart, int poolEnd, int[] routers, int[] dns, String domainName,
              Duration lease, List<Dhcp4.Route> routes, Map<Long, Integer> statics, Builder b) {
            this.network = network;
            this.prefixLength = prefixLength;
            this.mask = Ip4.mask(prefixLength);
            this.routers = routers;
            this.dns = dns;
            this.domainName = domainName;
            this.leaseSeconds = lease.toSeconds();
            this.routes = routes;
            Set<Integer> excluded = new HashSet<>();
            excluded.add(serverIp);
            for (int r : routers) {
                excluded.add(r);
            }
            this.table = new DhcpLeaseTable(network, prefixLength, poolStart, poolEnd, statics, excluded,
                    b.offerHold, lease, b.declineHold, budget, this);
        }

        @Override
        public void offerWithdrawn() {
            counters.offerWithdrawn();
        }

        @Override
        public void leaseEvent(DhcpLeaseEvent.Kind kind, DhcpLeaseTable.Binding b) {
            counters.leaseEvent(kind);
            if (ctx == null) {
                return;
            }
            Duration granted = kind == DhcpLeaseEvent.Kind.GRANTED || kind == DhcpLeaseEvent.Kind.RENEWED
                    ? Duration.ofSeconds(leaseSeconds) : Duration.ZERO;
            ctx.fireUserEventTriggered(new DhcpLeaseEvent(kind, b.mac, b.clientIdHex(), Ip4.toInet(b.address),
                    b.hostName, granted, b.relay == 0 ? null : Ip4.toInet(b.relay)));
        }
    }

    private DhcpServer(Builder b) {
        serverMac = b.serverMac;
        serverIp = b.serverIp;
        prefixLength = b.prefixLength;
        int statics = b.staticLeases.size();
        long addresses = (long) b.poolEnd - b.poolStart + 1 + statics;
        for (DhcpSubnet s : b.relayedSubnets) {
            addresses += s.poolSize() + s.staticLeases.size();
        }
        int max = b.maxBindings > 0 ? b.maxBindings : (int) Math.min(addresses, DEFAULT_MAX_BINDINGS);
        budget = new DhcpLeaseTable.Budget(max);
        clientLimit = new TokenBucket(b.clientRate, b.clientBurst);
        globalLimit = new TokenBucket(b.globalRate, b.globalBurst);
        maxQueuedReplies = b.maxQueuedReplies;
        int[] dns = b.dns.stream().mapToInt(Integer::intValue).toArray();
        local = new Scope(serverIp & Ip4.mask(prefixLength), prefixLength, b.poolStart, b.poolEnd,
                b.routers.stream().mapToInt(Integer::intValue).toArray(), dns, b.domainName, b.leaseTime,
                List.copyOf(b.routes), b.staticLeases, b);
        List<DhcpSubnet> sorted = new ArrayList<>(b.relayedSubnets);
        sorted.sort(Comparator.comparingLong(s -> Integer.toUnsignedLong(s.network)));
        relayed = new Scope[sorted.size()];
        for (int i = 0; i < relayed.length; i++) {
            DhcpSubnet s = sorted.get(i);
            relayed[i] = new Scope(s.network, s.prefixLength, s.poolStart, s.poolEnd, s.routers,
                    s.dns != null ? s.dns : dns, s.domainName != null ? s.domainName : b.domainName,
                    s.leaseTime != null ? s.leaseTime : b.leaseTime, s.routes, s.staticLeases, b);
        }
        all = new Scope[relayed.length + 1];
        all[0] = local;
        System.arraycopy(relayed, 0, all, 1, relayed.length);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Counters of messages, replies, lease events and drops. */
    public DhcpServerCounters counters() {
        return counters;
    }

    /**
     * The lease table now (offers and leases not yet expired), built on the event loop when asked for: O(n), meant
     * for management and tests, not per packet. From another thread it waits for the loop (at most 10 s).
     */
    public List<DhcpBinding> bindings() {
        ChannelHandlerContext c = ctx;
        if (c == null || c.executor().inEventLoop()) {
            return snapshot(c == null ? System.nanoTime() : now());
        }
        try {
            Future<List<DhcpBinding>> f = c.executor().submit(() -> snapshot(now()));
            if (f.awaitUninterruptibly(10, TimeUnit.SECONDS) && f.isSuccess()) {
                return f.getNow();
            }
        } catch (RejectedExecutionException e) {
            // the loop has shut down: nothing changes the tables any more
        }
        return snapshot(c.executor().ticker().nanoTime());
    }

    private List<DhcpBinding> snapshot(long now) {
        List<DhcpBinding> out = new ArrayList<>();
        for (Scope s : all) {
            out.addAll(s.table.snapshot(now));
        }
        return List.copyOf(out);
    }

    /** The most bindings the tables hold together ({@link Builder#maxBindings}). */
    public int maxBindings() {
        return budget.max;
    }

    /** Hash entries, bitmap words and expiry heads the lease tables visited so far (for tests bounding work). */
    long work() {
        long n = 0;
        for (Scope s : all) {
            n += s.table.work();
        }
        return n;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        sweep = ctx.executor().scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (sweep != null) {
            sweep.cancel(false);
        }
    }

    private void sweep() {
        long now = now();
        for (Scope s : all) {
            s.table.expire(now, SWEEP_BATCH);
        }
    }

    private long now() {
        return ctx.executor().ticker().nanoTime();
    }

    // ---- receiving -------------------------------------------------------------------------------------------------

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf frame) || !isForServer(frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            handle(frame);
        } finally {
            frame.release();
        }
    }

    /** An untagged IPv4/UDP frame to port 67, broadcast or to the server's address. */
    private boolean isForServer(ByteBuf f) {
        int off = f.readerIndex();
        if (f.readableBytes() < Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH
                || f.getUnsignedShort(off + Ethernet.TYPE_OFFSET) != Ethernet.IPV4) {
            return false;
        }
        int ip = off + Ethernet.HEADER_LENGTH;
        int ihl = (f.getUnsignedByte(ip) & 0x0F) * 4;
        if (f.getUnsignedByte(ip + 9) != IpProtocol.UDP || ihl < Ipv4.MIN_HEADER_LENGTH
                || f.readableBytes() < Ethernet.HEADER_LENGTH + ihl + Udp.HEADER_LENGTH) {
            return false;
        }
        int dst = f.getInt(ip + 16);
        return f.getUnsignedShort(ip + ihl + 2) == Dhcp4.SERVER_PORT && (dst == Ip4.BROADCAST || dst == serverIp);
    }

    private void handle(ByteBuf f) {
        int off = f.readerIndex();
        int ip = off + Ethernet.HEADER_LENGTH;
        int total = Ipv4.check(f, ip);
        if (total < 0 || Ipv4.isFragment(f, ip)) {
            counters.dropped(DhcpDropReason.MALFORMED_IP);
            return;
        }
        int udpLen = Udp.checkInPacket(f, ip);
        if (udpLen < 0) {
            counters.dropped(udpLen == WireError.BAD_CHECKSUM ? DhcpDropReason.BAD_CHECKSUM
                    : DhcpDropReason.MALFORMED_IP);
            return;
        }
        int d = Ipv4.payloadOffset(f, ip) + Udp.HEADER_LENGTH;
        int len = udpLen - Udp.HEADER_LENGTH;
        Dhcp4OptionIndex opts = options;
        if (Dhcp4.checkFixed(f, d, len) < 0 || opts.index(f, d, len) < 0) {
            counters.dropped(DhcpDropReason.MALFORMED_DHCP);
            return;
        }
        if (Dhcp4.op(f, d) != Dhcp4.OP_REQUEST) {
            counters.dropped(DhcpDropReason.WRONG_OP);
            return;
        }
        if (Dhcp4.htype(f, d) != Dhcp4.HTYPE_ETHERNET || Dhcp4.hlen(f, d) != 6) {
            counters.dropped(DhcpDropReason.BAD_HARDWARE);
            return;
        }
        int type = opts.messageType();
        if (type != Dhcp4.DISCOVER && type != Dhcp4.REQUEST && type != Dhcp4.DECLINE && type != Dhcp4.RELEASE
                && type != Dhcp4.INFORM) {
            counters.dropped(DhcpDropReason.BAD_MESSAGE_TYPE);
            return;
        }
        int giaddr = Dhcp4.giaddr(f, d);
        Scope scope = scopeFor(giaddr, Dhcp4.ciaddr(f, d));
        if (scope == null) {
            counters.dropped(DhcpDropReason.RELAYED);
            return;
        }
        Request r = new Request(f, off, d, len, giaddr, opts);
        long now = now();
        DhcpLeaseTable.Binding known = scope.table.lookup(r.key, now);
        if (known != null && !clientLimit.tryTake(known, now)) {
            counters.dropped(DhcpDropReason.RATE_LIMITED_CLIENT);
            return;
        }
        if (!globalLimit.tryTake(now)) {
            counters.dropped(DhcpDropReason.RATE_LIMITED_GLOBAL);
            return;
        }
        counters.countReceived(type);
        scope.table.expire(now, EXPIRE_PER_MESSAGE);
        switch (type) {
            case Dhcp4.DISCOVER -> discover(scope, r, now);
            case Dhcp4.REQUEST -> request(scope, r, now);
            case Dhcp4.DECLINE -> decline(scope, r, now);
            case Dhcp4.RELEASE -> release(scope, r, now);
            default -> inform(scope, r);
        }
    }

    /**
     * The subnet of a message: by giaddr when relayed (null when no subnet holds it), else by ciaddr when a relayed
     * subnet holds it (a client behind a relay renewing through its router), else the server's own.
     */
    private Scope scopeFor(int giaddr, int ciaddr) {
        if (giaddr != 0) {
            return local.table.inSubnet(giaddr) ? local : relayedScope(giaddr);
        }
        if (ciaddr != 0 && relayed.length > 0 && !local.table.inSubnet(ciaddr)) {
            Scope s = relayedScope(ciaddr);
            return s != null ? s : local;
        }
        return local;
    }

    /** Binary search of the (non-overlapping, sorted) relayed subnets. */
    private Scope relayedScope(int a) {
        int lo = 0;
        int hi = relayed.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Scope s = relayed[mid];
            if (s.table.inSubnet(a)) {
                return s;
            }
            if (Integer.compareUnsigned(s.network, a) < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return null;
    }

    /** What the server needs from a client message, read once. */
    private static final class Request {
        final ByteBuf buf;
        final int frame;
        final int dhcp;
        final int len;
        final long mac;
        final DhcpLeaseTable.ClientKey key;
        final int ciaddr;
        final int giaddr;
        final int requested;
        final int serverId;
        final boolean broadcast;
        final int maxMessage;

        /** The options, indexed once for this message (the server's one index; valid while it is handled). */
        final Dhcp4OptionIndex options;

        Request(ByteBuf buf, int frame, int dhcp, int len, int giaddr, Dhcp4OptionIndex options) {
            this.buf = buf;
            this.frame = frame;
            this.dhcp = dhcp;
            this.len = len;
            this.giaddr = giaddr;
            this.options = options;
            this.mac = Dhcp4.chaddr(buf, dhcp);
            this.key = new DhcpLeaseTable.ClientKey(mac, options.clientId());
            this.ciaddr = Dhcp4.ciaddr(buf, dhcp);
            this.requested = options.requestedIp();
            this.serverId = options.serverId();
            this.broadcast = Dhcp4.broadcast(buf, dhcp);
            int max = options.maxMessageSize();
            this.maxMessage = max < FALLBACK_MAX_MESSAGE ? FALLBACK_MAX_MESSAGE : max;
        }

        String hostName() {
            return options.hostName();
        }
    }

    // ---- message handling ----------------------------------------------------------------------------------------

    private void discover(Scope s, Request r, long now) {
        int a = s.table.offer(r.key, r.mac, r.requested, r.hostName(), r.giaddr, now);
        if (a == DhcpLeaseTable.EXHAUSTED || a == DhcpLeaseTable.TABLE_FULL) {
            counters.dropped(a == DhcpLeaseTable.TABLE_FULL ? DhcpDropReason.TABLE_FULL
                    : DhcpDropReason.POOL_EXHAUSTED);
            logger.debug("{}: no address for {}", ctx.channel(), MacAddress.format(r.mac));
            return;
        }
        reply(s, r, Dhcp4.OFFER, a, true);
    }

    private void request(Scope s, Request r, long now) {
        if (r.serverId != 0) {
            // SELECTING: the client chose a server.
            if (r.serverId != serverIp) {
                s.table.withdrawOffer(r.key, now); // it took another server's offer
                return;
            }
            if (r.requested == 0 || r.ciaddr != 0) {
                counters.dropped(DhcpDropReason.INCOMPLETE_REQUEST);
                return;
            }
            ackOrNak(s, r, r.requested, now);
        } else if (r.requested != 0 && r.ciaddr == 0) {
            // INIT-REBOOT: the client wants to keep a previous address.
            ackOrNak(s, r, r.requested, now);
        } else if (r.ciaddr != 0) {
            // RENEWING (unicast to us) or REBINDING (broadcast): extend the lease on ciaddr.
            ackOrNak(s, r, r.ciaddr, now);
        } else {
            counters.dropped(DhcpDropReason.INCOMPLETE_REQUEST);
        }
    }

    private void ackOrNak(Scope s, Request r, int address, long now) {
        if (s.table.ack(r.key, r.mac, address, r.hostName(), r.giaddr, now) == null) {
            reply(s, r, Dhcp4.NAK, 0, false);
        } else {
            reply(s, r, Dhcp4.ACK, address, true);
        }
    }

    private void decline(Scope s, Request r, long now) {
        if (r.requested == 0 || !s.table.decline(r.key, r.requested, now)) {
            counters.dropped(DhcpDropReason.INCOMPLETE_REQUEST);
            return;
        }
        logger.info("{}: {} declined {}: in use on the link; quarantined", ctx.channel(), MacAddress.format(r.mac),
                Ip4.format(r.requested));
    }

    private void release(Scope s, Request r, long now) {
        s.table.release(r.key, r.ciaddr, now);
    }

    private void inform(Scope s, Request r) {
        if (r.ciaddr == 0) {
            counters.dropped(DhcpDropReason.INCOMPLETE_REQUEST);
            return;
        }
        reply(s, r, Dhcp4.ACK, 0, false);
    }

    // ---- replies ---------------------------------------------------------------------------------------------------

    /**
     * Sends OFFER, ACK or NAK. {@code lease} adds the lease-time options (not for INFORM); {@code yiaddr} is the
     * address given (0 for NAK and INFORM). Dropped and counted when {@link Builder#maxQueuedReplies} replies
     * already wait in the channel.
     */
    private void reply(Scope s, Request r, int type, int yiaddr, boolean lease) {
        if (queuedReplies >= maxQueuedReplies) {
            counters.dropped(DhcpDropReason.REPLY_QUEUE_FULL);
            return;
        }
        ByteBuf msg = ctx.alloc().heapBuffer(Dhcp4.MIN_BOOTP_LENGTH + 128);
        ByteBuf frame = null;
        try {
            ByteBuf req = r.buf;
            boolean relayed = r.giaddr != 0;
            int flags = Dhcp4.flags(req, r.dhcp);
            if (relayed && type == Dhcp4.NAK) {
                flags |= Dhcp4.FLAG_BROADCAST; // RFC 2131 §4.1: the relay broadcasts the NAK
            }
            byte[] chaddr = new byte[Dhcp4.CHADDR_LENGTH];
            req.getBytes(r.dhcp + Dhcp4.CHADDR_OFFSET, chaddr);
            int ciaddr = type == Dhcp4.NAK ? 0 : r.ciaddr;
            Dhcp4.writeFixed(msg, Dhcp4.OP_REPLY, Dhcp4.HTYPE_ETHERNET, 6, 0, Dhcp4.xid(req, r.dhcp), 0, flags,
                    ciaddr, yiaddr, 0, r.giaddr, chaddr, null, null);
            Dhcp4.writeByteOption(msg, Dhcp4Option.MESSAGE_TYPE, type);
            Dhcp4.writeIntOption(msg, Dhcp4Option.SERVER_IDENTIFIER, serverIp);
            if (type != Dhcp4.NAK) {
                if (lease) {
                    Dhcp4.writeIntOption(msg, Dhcp4Option.LEASE_TIME, (int) s.leaseSeconds);
                    Dhcp4.writeIntOption(msg, Dhcp4Option.RENEWAL_TIME, (int) (s.leaseSeconds / 2));
                    Dhcp4.writeIntOption(msg, Dhcp4Option.REBINDING_TIME, (int) (s.leaseSeconds * 7 / 8));
                }
                Dhcp4.writeIntOption(msg, Dhcp4Option.SUBNET_MASK, s.mask);
                Dhcp4.writeIntOption(msg, Dhcp4Option.BROADCAST_ADDRESS, s.network | ~s.mask);
                if (s.routers.length > 0) {
                    Dhcp4.writeAddressListOption(msg, Dhcp4Option.ROUTER, s.routers);
                }
                if (s.dns.length > 0) {
                    Dhcp4.writeAddressListOption(msg, Dhcp4Option.DOMAIN_NAME_SERVER, s.dns);
                }
                if (s.domainName != null) {
                    Dhcp4.writeStringOption(msg, Dhcp4Option.DOMAIN_NAME, s.domainName);
                }
                if (!s.routes.isEmpty()
                        && r.options.requestsOption(Dhcp4Option.CLASSLESS_STATIC_ROUTE)) {
                    Dhcp4.writeClasslessStaticRoutes(msg, s.routes);
                }
            }
            byte[] agent = r.options.bytes(Dhcp4Option.RELAY_AGENT_INFORMATION);
            if (agent != null) {
                Dhcp4.writeOption(msg, Dhcp4Option.RELAY_AGENT_INFORMATION, agent); // RFC 3046 §2.2: echoed, last
            }
            Dhcp4.writeEnd(msg, 0);
            int len = msg.readableBytes();
            if (len > r.maxMessage - Ipv4.MIN_HEADER_LENGTH - Udp.HEADER_LENGTH && len > Dhcp4.MIN_BOOTP_LENGTH) {
                logger.debug("{}: reply of {} bytes exceeds the client's maximum {}", ctx.channel(), len,
                        r.maxMessage);
            }
            long dstMac;
            int dstIp;
            int dstPort = Dhcp4.CLIENT_PORT;
            if (relayed) {
                dstMac = Ethernet.src(req, r.frame);
                dstIp = r.giaddr;
                dstPort = Dhcp4.SERVER_PORT;
            } else if (type == Dhcp4.NAK || (r.broadcast && r.ciaddr == 0)) {
                dstMac = MacAddress.BROADCAST;
                dstIp = Ip4.BROADCAST;
            } else if (r.ciaddr != 0) {
                dstMac = Ethernet.src(req, r.frame);
                dstIp = r.ciaddr;
            } else {
                dstMac = r.mac;
                dstIp = yiaddr;
            }
            frame = ctx.alloc().buffer(Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH + len);
            Ethernet.writeHeader(frame, dstMac, serverMac, Ethernet.IPV4);
            Ipv4.writeHeader(frame, serverIp, dstIp, IpProtocol.UDP, Ipv4.DEFAULT_TTL, Udp.HEADER_LENGTH + len, 0,
                    false);
            Udp.writeDatagramV4(frame, serverIp, dstIp, Dhcp4.SERVER_PORT, dstPort, msg, 0, len);
            counters.countSent(type);
            ByteBuf out = frame;
            frame = null;
            queuedReplies++;
            ChannelFuture written = ctx.writeAndFlush(out);
            if (written.isDone()) {
                queuedReplies--;
            } else {
                written.addListener(replyDone);
            }
        } finally {
            msg.release();
            if (frame != null) {
                frame.release();
            }
        }
    }

    @Override
    public String toString() {
        return "DhcpServer(" + Ip4.format(serverIp) + "/" + prefixLength + ", " + all.length + " subnet(s))";
    }

    // ------------------------------------------------------------------------------------------------------------

    /** Configuration of a {@link DhcpServer}; {@link #build()} validates it. */
    public static final class Builder {
        private long serverMac = -1;
        private int serverIp;
        private int prefixLength = -1;
        private int poolStart;
        private int poolEnd;
        private final List<Integer> routers = new ArrayList<>();
        private final List<Integer> dns = new ArrayList<>();
        private String domainName;
        private Duration leaseTime = Duration.ofHours(1);
        private final List<Dhcp4.Route> routes = new ArrayList<>();
        private final Map<Long, Integer> staticLeases = new LinkedHashMap<>();
        private Duration offerHold = Duration.ofSeconds(30);
        private Duration declineHold = Duration.ofMinutes(10);
        private final List<DhcpSubnet> relayedSubnets = new ArrayList<>();
        private int maxBindings;
        private double clientRate = DEFAULT_CLIENT_RATE;
        private int clientBurst = DEFAULT_CLIENT_BURST;
        private double globalRate = DEFAULT_GLOBAL_RATE;
        private int globalBurst = DEFAULT_GLOBAL_BURST;
        private int maxQueuedReplies = DEFAULT_MAX_QUEUED_REPLIES;

        private Builder() {
        }

        /** The server's MAC: the source of its replies (usually the gateway adapter's MAC). Required. */
        public Builder serverMac(long mac) {
            if (!MacAddress.isUnicast(mac) || mac == 0) {
                throw new IllegalArgumentException("not a unicast MAC: " + MacAddress.format(mac));
            }
            this.serverMac = mac;
            return this;
        }

        /** The server's address and the subnet's prefix length, e.g. {@code "10.0.2.1", 24}. Required. */
        public Builder serverAddress(Inet4Address address, int prefixLength) {
            return serverAddress(Ip4.of(address), prefixLength);
        }

        public Builder serverAddress(String address, int prefixLength) {
            return serverAddress(Ip4.parse(address), prefixLength);
        }

        private Builder serverAddress(int address, int prefixLength) {
            if (prefixLength < 1 || prefixLength > 30) {
                throw new IllegalArgumentException("prefix length " + prefixLength + " not in [1, 30]");
            }
            this.serverIp = address;
            this.prefixLength = prefixLength;
            return this;
        }

        /** The pool of the server's own subnet, inclusive. Required. */
        public Builder pool(Inet4Address first, Inet4Address last) {
            return pool(Ip4.of(first), Ip4.of(last));
        }

        public Builder pool(String first, String last) {
            return pool(Ip4.parse(first), Ip4.parse(last));
        }

        private Builder pool(int first, int last) {
            if (Integer.compareUnsigned(first, last) > 0) {
                throw new IllegalArgumentException("pool start after pool end");
            }
            this.poolStart = first;
            this.poolEnd = last;
            return this;
        }

        /** A router (option 3) of the server's own subnet, in order of preference. */
        public Builder router(String address) {
            routers.add(Ip4.parse(address));
            return this;
        }

        /** A DNS server (option 6), in order of preference; relayed subnets without their own get these. */
        public Builder dnsServer(String address) {
            dns.add(Ip4.parse(address));
            return this;
        }

        /** The domain name (option 15); relayed subnets without their own get this one. */
        public Builder domainName(String name) {
            this.domainName = checkDomain(name);
            return this;
        }

        static String checkDomain(String name) {
            if (name != null && (name.isEmpty() || name.length() > 255)) {
                throw new IllegalArgumentException("domain name length " + name.length());
            }
            return name;
        }

        /** Lease time (option 51); T1 and T2 are 1/2 and 7/8 of it. Default one hour; at least 10 s. */
        public Builder leaseTime(Duration leaseTime) {
            this.leaseTime = checkLease(leaseTime);
            return this;
        }

        static Duration checkLease(Duration leaseTime) {
            if (leaseTime.toSeconds() < 10 || leaseTime.toSeconds() >= 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("lease time " + leaseTime);
            }
            return leaseTime;
        }

        /** A classless static route of the server's own subnet (option 121, sent to clients that ask for it). */
        public Builder route(String destination, int prefixLength, String router) {
            routes.add(route0(destination, prefixLength, router));
            return this;
        }

        static Dhcp4.Route route0(String destination, int prefixLength, String router) {
            if (prefixLength < 0 || prefixLength > 32) {
                throw new IllegalArgumentException("prefix length " + prefixLength);
            }
            return new Dhcp4.Route(Ip4.parse(destination) & Ip4.mask(prefixLength), prefixLength,
                    Ip4.parse(router));
        }

        /** Always give {@code mac} the address {@code address} (inside or outside the pool, inside the subnet). */
        public Builder staticLease(long mac, String address) {
            staticLeases.put(mac, Ip4.parse(address));
            return this;
        }

        /** How long an offered address is held for the client; default 30 s. */
        public Builder offerHold(Duration d) {
            this.offerHold = positive(d, "offerHold");
            return this;
        }

        /** How long a declined address stays out of the pool; default 10 min. */
        public Builder declineHold(Duration d) {
            this.declineHold = positive(d, "declineHold");
            return this;
        }

        /**
         * Serves {@code subnet} to clients behind relay agents whose giaddr lies in it. Subnets must not overlap
         * each other or the server's own.
         */
        public Builder relayedSubnet(DhcpSubnet subnet) {
            relayedSubnets.add(Objects.requireNonNull(subnet, "subnet"));
            return this;
        }

        /**
         * The most bindings (offers and leases) all subnets hold together. Default: the number of pool and static
         * addresses, at most {@value DhcpServer#DEFAULT_MAX_BINDINGS}. When full, a new client takes the oldest
         * pending offer's place, or gets no offer ({@link DhcpDropReason#TABLE_FULL}).
         */
        public Builder maxBindings(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxBindings " + max);
            }
            this.maxBindings = max;
            return this;
        }

        /**
         * The per-client limit: a client with a binding may send {@code perSecond} messages per second sustained,
         * {@code burst} at once; beyond that its messages are dropped
         * ({@link DhcpDropReason#RATE_LIMITED_CLIENT}). Default {@value DhcpServer#DEFAULT_CLIENT_RATE}/s, burst
         * {@value DhcpServer#DEFAULT_CLIENT_BURST}.
         */
        public Builder clientRateLimit(double perSecond, int burst) {
            new TokenBucket(perSecond, burst); // validates
            this.clientRate = perSecond;
            this.clientBurst = burst;
            return this;
        }

        /**
         * The limit on all messages the server handles: {@code perSecond} sustained, {@code burst} at once; beyond
         * that messages are dropped ({@link DhcpDropReason#RATE_LIMITED_GLOBAL}). Default
         * {@value DhcpServer#DEFAULT_GLOBAL_RATE}/s, burst {@value DhcpServer#DEFAULT_GLOBAL_BURST}.
         */
        public Builder globalRateLimit(double perSecond, int burst) {
            new TokenBucket(perSecond, burst); // validates
            this.globalRate = perSecond;
            this.globalBurst = burst;
            return this;
        }

        /**
         * The most replies written to the channel and not yet handed to its transport (a slow or unwritable
         * channel); beyond that replies are dropped ({@link DhcpDropReason#REPLY_QUEUE_FULL}) and clients retry.
         * Default {@value DhcpServer#DEFAULT_MAX_QUEUED_REPLIES}.
         */
        public Builder maxQueuedReplies(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxQueuedReplies " + max);
            }
            this.maxQueuedReplies = max;
            return this;
        }

        private static Duration positive(Duration d, String what) {
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(what + " must be positive");
            }
            return d;
        }

        public DhcpServer build() {
            if (serverMac < 0 || prefixLength < 0 || poolStart == 0) {
                throw new IllegalStateException("serverMac, serverAddress and pool are required");
            }
            DhcpSubnet.validate(serverIp, prefixLength, poolStart, poolEnd, staticLeases, serverIp);
            int m = Ip4.mask(prefixLength);
            List<int[]> nets = new ArrayList<>();
            nets.add(new int[] {serverIp & m, prefixLength});
            for (DhcpSubnet s : relayedSubnets) {
                for (int[] n : nets) {
                    if (s.overlaps(n[0], n[1])) {
                        throw new IllegalStateException(s + " overlaps " + Ip4.format(n[0]) + "/" + n[1]);
                    }
                }
                nets.add(new int[] {s.network, s.prefixLength});
            }
            Objects.requireNonNull(leaseTime);
            return new DhcpServer(this);
        }
    }
}

package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Dhcp4Option;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.Inet4Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

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
 * and NAKs requests for addresses that are wrong for this subnet or belong to another client. Bindings are keyed
 * by the client identifier (option 61) when present, else by the MAC. Replies are addressed as RFC 2131 §4.1
 * says: unicast to ciaddr when set, broadcast when the client set the broadcast flag, otherwise unicast to the
 * offered address and the client's MAC; NAKs are broadcast. Relayed messages (giaddr set) are not supported:
 * they are dropped and counted.
 *
 * <p>The lease table never holds more bindings than the pool has addresses plus the static leases. Offers and
 * leases expire on the event loop's clock, checked when messages arrive and when an address is needed; the
 * server runs no timers. Malformed or hostile messages are dropped, released and counted
 * ({@link #counters()}). Everything runs on the channel's event loop; {@link #bindings()} and
 * {@link #counters()} are safe from any thread. Not {@code @Sharable}: one server per port.
 */
public final class DhcpServer extends ChannelInboundHandlerAdapter {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(DhcpServer.class);
    private static final int FALLBACK_MAX_MESSAGE = Dhcp4.MIN_MAX_MESSAGE_SIZE;

    private final long serverMac;
    private final int serverIp;
    private final int prefixLength;
    private final int mask;
    private final int poolStart;
    private final int poolEnd;
    private final int[] routers;
    private final int[] dns;
    private final String domainName;
    private final long leaseSeconds;
    private final List<Dhcp4.Route> routes;
    private final Map<Long, Integer> staticByMac;
    private final Map<Integer, Long> staticByIp;
    private final long offerHoldNanos;
    private final long declineHoldNanos;
    private final int maxBindings;
    private final DhcpServerCounters counters = new DhcpServerCounters();

    private final Map<String, Binding> byClient = new HashMap<>();
    private final Map<Integer, Binding> byAddress = new HashMap<>();
    private final Map<Integer, Long> quarantine = new LinkedHashMap<>();
    private int cursor;
    private ChannelHandlerContext ctx;
    private volatile List<DhcpBinding> snapshot = List.of();

    /** A binding in the table. */
    private static final class Binding {
        final String key;
        final long mac;
        final String clientId;
        final int address;
        final boolean staticLease;
        boolean bound;
        long expires;
        String hostName;

        Binding(String key, long mac, String clientId, int address, boolean staticLease) {
            this.key = key;
            this.mac = mac;
            this.clientId = clientId;
            this.address = address;
            this.staticLease = staticLease;
        }
    }

    private DhcpServer(Builder b) {
        serverMac = b.serverMac;
        serverIp = b.serverIp;
        prefixLength = b.prefixLength;
        mask = Ip4.mask(prefixLength);
        poolStart = b.poolStart;
        poolEnd = b.poolEnd;
        routers = b.routers.stream().mapToInt(Integer::intValue).toArray();
        dns = b.dns.stream().mapToInt(Integer::intValue).toArray();
        domainName = b.domainName;
        leaseSeconds = b.leaseTime.toSeconds();
        routes = List.copyOf(b.routes);
        staticByMac = Map.copyOf(b.staticLeases);
        Map<Integer, Long> byIp = new HashMap<>();
        b.staticLeases.forEach((mac, ip) -> byIp.put(ip, mac));
        staticByIp = Map.copyOf(byIp);
        offerHoldNanos = b.offerHold.toNanos();
        declineHoldNanos = b.declineHold.toNanos();
        int pool = poolEnd - poolStart + 1;
        maxBindings = pool + staticByMac.size();
        cursor = poolStart;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Counters of messages, replies and drops. */
    public DhcpServerCounters counters() {
        return counters;
    }

    /** A snapshot of the lease table (offers and leases not yet expired when it was last changed). */
    public List<DhcpBinding> bindings() {
        return snapshot;
    }

    /** The most bindings the table holds: pool size plus static leases. */
    public int maxBindings() {
        return maxBindings;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
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
            counters.dropped(udpLen == dev.pktkit.codec.wire.WireError.BAD_CHECKSUM ? DhcpDropReason.BAD_CHECKSUM
                    : DhcpDropReason.MALFORMED_IP);
            return;
        }
        int d = Ipv4.payloadOffset(f, ip) + Udp.HEADER_LENGTH;
        int len = udpLen - Udp.HEADER_LENGTH;
        if (Dhcp4.check(f, d, len) < 0) {
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
        int type = Dhcp4.messageType(f, d, len);
        if (type != Dhcp4.DISCOVER && type != Dhcp4.REQUEST && type != Dhcp4.DECLINE && type != Dhcp4.RELEASE
                && type != Dhcp4.INFORM) {
            counters.dropped(DhcpDropReason.BAD_MESSAGE_TYPE);
            return;
        }
        if (Dhcp4.giaddr(f, d) != 0) {
            counters.dropped(DhcpDropReason.RELAYED);
            return;
        }
        counters.countReceived(type);
        Request r = new Request(f, off, d, len);
        long now = now();
        expire(now);
        switch (type) {
            case Dhcp4.DISCOVER -> discover(r, now);
            case Dhcp4.REQUEST -> request(r, now);
            case Dhcp4.DECLINE -> decline(r, now);
            case Dhcp4.RELEASE -> release(r);
            default -> inform(r);
        }
        publish(now);
    }

    /** What the server needs from a client message, read once. */
    private static final class Request {
        final ByteBuf buf;
        final int frame;
        final int dhcp;
        final int len;
        final long mac;
        final String clientId;
        final String key;
        final int ciaddr;
        final int requested;
        final int serverId;
        final boolean broadcast;
        final int maxMessage;

        Request(ByteBuf buf, int frame, int dhcp, int len) {
            this.buf = buf;
            this.frame = frame;
            this.dhcp = dhcp;
            this.len = len;
            this.mac = Dhcp4.chaddr(buf, dhcp);
            byte[] id = Dhcp4.clientId(buf, dhcp, len);
            this.clientId = id == null || id.length == 0 ? null : HexFormat.of().formatHex(id);
            this.key = clientId != null ? "id:" + clientId : "mac:" + MacAddress.format(mac);
            this.ciaddr = Dhcp4.ciaddr(buf, dhcp);
            this.requested = Dhcp4.requestedIp(buf, dhcp, len);
            this.serverId = Dhcp4.serverId(buf, dhcp, len);
            this.broadcast = Dhcp4.broadcast(buf, dhcp);
            int max = Dhcp4.maxMessageSize(buf, dhcp, len);
            this.maxMessage = max < FALLBACK_MAX_MESSAGE ? FALLBACK_MAX_MESSAGE : max;
        }

        String hostName() {
            return Dhcp4.hostName(buf, dhcp, len);
        }
    }

    // ---- the lease table ------------------------------------------------------------------------------------------

    private void expire(long now) {
        List<Binding> gone = null;
        for (Binding b : byClient.values()) {
            if (now - b.expires >= 0) {
                (gone == null ? gone = new ArrayList<>() : gone).add(b);
            }
        }
        if (gone != null) {
            for (Binding b : gone) {
                remove(b);
            }
        }
        quarantine.values().removeIf(until -> now - until >= 0);
    }

    private void remove(Binding b) {
        byClient.remove(b.key, b);
        byAddress.remove(b.address, b);
    }

    private boolean inSubnet(int a) {
        return ((a ^ serverIp) & mask) == 0;
    }

    private boolean inPool(int a) {
        return Integer.compareUnsigned(a, poolStart) >= 0 && Integer.compareUnsigned(a, poolEnd) <= 0;
    }

    /** Whether {@code a} may be given to the client with {@code key} and {@code mac}. */
    private boolean usableBy(int a, String key, long mac) {
        if (a == 0 || a == serverIp || !inSubnet(a) || quarantine.containsKey(a)) {
            return false;
        }
        Long owner = staticByIp.get(a);
        if (owner != null) {
            return owner == mac;
        }
        if (!inPool(a)) {
            return false;
        }
        Binding b = byAddress.get(a);
        return b == null || b.key.equals(key);
    }

    /** The address for a client: its static lease, its binding, the one it asks for, or the next free one. */
    private int choose(Request r) {
        Integer fixed = staticByMac.get(r.mac);
        if (fixed != null) {
            return quarantine.containsKey(fixed) ? 0 : fixed;
        }
        Binding b = byClient.get(r.key);
        if (b != null) {
            return b.address;
        }
        if (r.requested != 0 && usableBy(r.requested, r.key, r.mac)) {
            return r.requested;
        }
        int n = poolEnd - poolStart + 1;
        for (int i = 0; i < n; i++) {
            int a = cursor;
            cursor = cursor == poolEnd ? poolStart : cursor + 1;
            if (usableBy(a, r.key, r.mac)) {
                return a;
            }
        }
        return 0;
    }

    /** Records {@code address} for the client, replacing its previous binding. */
    private Binding bind(Request r, int address, boolean bound, long expires) {
        Binding old = byClient.get(r.key);
        if (old != null && old.address != address) {
            remove(old);
            old = null;
        }
        Binding b = old;
        if (b == null) {
            if (byClient.size() >= maxBindings) {
                return null; // cannot happen while every binding holds a distinct usable address; kept as a bound
            }
            b = new Binding(r.key, r.mac, r.clientId, address, staticByIp.containsKey(address));
            byClient.put(r.key, b);
            byAddress.put(address, b);
        }
        if (bound || !b.bound) {
            b.bound = bound;
            b.expires = expires;
        }
        String host = r.hostName();
        if (host != null) {
            b.hostName = host;
        }
        return b;
    }

    private void publish(long now) {
        List<DhcpBinding> out = new ArrayList<>(byClient.size());
        for (Binding b : byClient.values()) {
            out.add(new DhcpBinding(b.mac, b.clientId, Ip4.toInet(b.address),
                    b.bound ? DhcpBinding.State.BOUND : DhcpBinding.State.OFFERED,
                    Duration.ofNanos(Math.max(0, b.expires - now)), b.hostName, b.staticLease));
        }
        snapshot = List.copyOf(out);
    }

    // ---- message handling ----------------------------------------------------------------------------------------

    private void discover(Request r, long now) {
        int a = choose(r);
        if (a == 0) {
            counters.dropped(DhcpDropReason.POOL_EXHAUSTED);
            logger.debug("{}: no address for {}", ctx.channel(), MacAddress.format(r.mac));
            return;
        }
        Binding existing = byClient.get(r.key);
        long hold = existing != null && existing.bound ? existing.expires : now + offerHoldNanos;
        if (bind(r, a, existing != null && existing.bound && existing.address == a, hold) == null) {
            counters.dropped(DhcpDropReason.POOL_EXHAUSTED);
            return;
        }
        reply(r, Dhcp4.OFFER, a, true);
    }

    private void request(Request r, long now) {
        if (r.serverId != 0) {
            // SELECTING: the client chose a server.
            if (r.serverId != serverIp) {
                Binding b = byClient.get(r.key);
                if (b != null && !b.bound) {
                    remove(b); // it took another server's offer
                }
                return;
            }
            if (r.requested == 0 || r.ciaddr != 0) {
                counters.dropped(DhcpDropReason.INCOMPLETE_REQUEST);
                return;
            }
            ackOrNak(r, r.requested, now, false);
        } else if (r.requested != 0 && r.ciaddr == 0) {
            // INIT-REBOOT: the client wants to keep a previous address.
            ackOrNak(r, r.requested, now, false);
        } else if (r.ciaddr != 0) {
            // RENEWING (unicast to us) or REBINDING (broadcast): extend the lease on ciaddr.
            ackOrNak(r, r.ciaddr, now, true);
        } else {
            counters.dropped(DhcpDropReason.INCOMPLETE_REQUEST);
        }
    }

    private void ackOrNak(Request r, int address, long now, boolean renewing) {
        Integer fixed = staticByMac.get(r.mac);
        boolean ok = usableBy(address, r.key, r.mac) && (fixed == null || fixed == address);
        if (!ok) {
            reply(r, Dhcp4.NAK, 0, false);
            return;
        }
        Binding b = bind(r, address, true, now + leaseSeconds * 1_000_000_000L);
        if (b == null) {
            reply(r, Dhcp4.NAK, 0, false);
            return;
        }
        reply(r, Dhcp4.ACK, address, true);
    }

    private void decline(Request r, long now) {
        Binding b = byClient.get(r.key);
        if (r.requested == 0 || b == null || b.address != r.requested) {
            counters.dropped(DhcpDropReason.INCOMPLETE_REQUEST);
            return;
        }
        logger.info("{}: {} declined {}: in use on the link; quarantined", ctx.channel(), MacAddress.format(r.mac),
                Ip4.format(r.requested));
        remove(b);
        quarantine.put(r.requested, now + declineHoldNanos);
    }

    private void release(Request r) {
        Binding b = byClient.get(r.key);
        if (b != null && b.address == r.ciaddr) {
            remove(b);
        }
    }

    private void inform(Request r) {
        if (r.ciaddr == 0) {
            counters.dropped(DhcpDropReason.INCOMPLETE_REQUEST);
            return;
        }
        reply(r, Dhcp4.ACK, 0, false);
    }

    // ---- replies ---------------------------------------------------------------------------------------------------

    /**
     * Sends OFFER, ACK or NAK. {@code lease} adds the lease-time options (not for INFORM); {@code yiaddr} is the
     * address given (0 for NAK and INFORM).
     */
    private void reply(Request r, int type, int yiaddr, boolean lease) {
        ByteBuf msg = ctx.alloc().heapBuffer(Dhcp4.MIN_BOOTP_LENGTH + 128);
        ByteBuf frame = null;
        try {
            ByteBuf req = r.buf;
            int flags = Dhcp4.flags(req, r.dhcp);
            byte[] chaddr = new byte[Dhcp4.CHADDR_LENGTH];
            req.getBytes(r.dhcp + Dhcp4.CHADDR_OFFSET, chaddr);
            int ciaddr = type == Dhcp4.NAK ? 0 : r.ciaddr;
            Dhcp4.writeFixed(msg, Dhcp4.OP_REPLY, Dhcp4.HTYPE_ETHERNET, 6, 0, Dhcp4.xid(req, r.dhcp), 0, flags,
                    ciaddr, yiaddr, 0, 0, chaddr, null, null);
            Dhcp4.writeByteOption(msg, Dhcp4Option.MESSAGE_TYPE, type);
            Dhcp4.writeIntOption(msg, Dhcp4Option.SERVER_IDENTIFIER, serverIp);
            if (type != Dhcp4.NAK) {
                if (lease) {
                    Dhcp4.writeIntOption(msg, Dhcp4Option.LEASE_TIME, (int) leaseSeconds);
                    Dhcp4.writeIntOption(msg, Dhcp4Option.RENEWAL_TIME, (int) (leaseSeconds / 2));
                    Dhcp4.writeIntOption(msg, Dhcp4Option.REBINDING_TIME, (int) (leaseSeconds * 7 / 8));
                }
                Dhcp4.writeIntOption(msg, Dhcp4Option.SUBNET_MASK, mask);
                Dhcp4.writeIntOption(msg, Dhcp4Option.BROADCAST_ADDRESS, (serverIp & mask) | ~mask);
                if (routers.length > 0) {
                    Dhcp4.writeAddressListOption(msg, Dhcp4Option.ROUTER, routers);
                }
                if (dns.length > 0) {
                    Dhcp4.writeAddressListOption(msg, Dhcp4Option.DOMAIN_NAME_SERVER, dns);
                }
                if (domainName != null) {
                    Dhcp4.writeStringOption(msg, Dhcp4Option.DOMAIN_NAME, domainName);
                }
                if (!routes.isEmpty() && Dhcp4.requestsOption(req, r.dhcp, r.len, Dhcp4Option.CLASSLESS_STATIC_ROUTE)) {
                    Dhcp4.writeClasslessStaticRoutes(msg, routes);
                }
            }
            Dhcp4.writeEnd(msg, 0);
            int len = msg.readableBytes();
            if (len > r.maxMessage - Ipv4.MIN_HEADER_LENGTH - Udp.HEADER_LENGTH && len > Dhcp4.MIN_BOOTP_LENGTH) {
                logger.debug("{}: reply of {} bytes exceeds the client's maximum {}", ctx.channel(), len,
                        r.maxMessage);
            }
            long dstMac;
            int dstIp;
            if (type == Dhcp4.NAK || (r.broadcast && r.ciaddr == 0)) {
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
            Udp.writeDatagramV4(frame, serverIp, dstIp, Dhcp4.SERVER_PORT, Dhcp4.CLIENT_PORT, msg, 0, len);
            counters.countSent(type);
            ByteBuf out = frame;
            frame = null;
            ctx.writeAndFlush(out, ctx.voidPromise());
        } finally {
            msg.release();
            if (frame != null) {
                frame.release();
            }
        }
    }

    @Override
    public String toString() {
        return "DhcpServer(" + Ip4.format(serverIp) + "/" + prefixLength + " pool " + Ip4.format(poolStart) + "-"
                + Ip4.format(poolEnd) + ")";
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

        /** The pool, inclusive. Required. */
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

        /** A router (option 3), in order of preference. */
        public Builder router(String address) {
            routers.add(Ip4.parse(address));
            return this;
        }

        /** A DNS server (option 6), in order of preference. */
        public Builder dnsServer(String address) {
            dns.add(Ip4.parse(address));
            return this;
        }

        /** The domain name (option 15). */
        public Builder domainName(String name) {
            if (name != null && (name.isEmpty() || name.length() > 255)) {
                throw new IllegalArgumentException("domain name length " + name.length());
            }
            this.domainName = name;
            return this;
        }

        /** Lease time (option 51); T1 and T2 are 1/2 and 7/8 of it. Default one hour; at least 10 s. */
        public Builder leaseTime(Duration leaseTime) {
            if (leaseTime.toSeconds() < 10 || leaseTime.toSeconds() >= 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("lease time " + leaseTime);
            }
            this.leaseTime = leaseTime;
            return this;
        }

        /** A classless static route (option 121, sent to clients that ask for it). */
        public Builder route(String destination, int prefixLength, String router) {
            if (prefixLength < 0 || prefixLength > 32) {
                throw new IllegalArgumentException("prefix length " + prefixLength);
            }
            routes.add(new Dhcp4.Route(Ip4.parse(destination) & Ip4.mask(prefixLength), prefixLength,
                    Ip4.parse(router)));
            return this;
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
            int m = Ip4.mask(prefixLength);
            if (((poolStart ^ serverIp) & m) != 0 || ((poolEnd ^ serverIp) & m) != 0) {
                throw new IllegalStateException("pool " + Ip4.format(poolStart) + "-" + Ip4.format(poolEnd)
                        + " is not inside " + Ip4.format(serverIp & m) + "/" + prefixLength);
            }
            if (((poolStart & ~m) == 0) || ((poolEnd | m) == -1 && (poolEnd & ~m) == ~m)) {
                throw new IllegalStateException("pool must not contain the network or broadcast address");
            }
            Map<Integer, Long> seen = new HashMap<>();
            for (Map.Entry<Long, Integer> e : staticLeases.entrySet()) {
                int a = e.getValue();
                if (((a ^ serverIp) & m) != 0 || a == serverIp) {
                    throw new IllegalStateException("static lease " + Ip4.format(a) + " outside the subnet or the "
                            + "server's own address");
                }
                if (seen.put(a, e.getKey()) != null) {
                    throw new IllegalStateException("static address " + Ip4.format(a) + " given twice");
                }
            }
            Objects.requireNonNull(leaseTime);
            return new DhcpServer(this);
        }
    }
}

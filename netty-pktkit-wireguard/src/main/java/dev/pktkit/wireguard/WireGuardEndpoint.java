package dev.pktkit.wireguard;

import dev.pktkit.switching.lpm.Ipv4RouteTable;
import dev.pktkit.switching.lpm.Ipv6RouteTable;
import dev.pktkit.switching.lpm.Prefix;
import dev.pktkit.wireguard.crypto.Curve25519;
import dev.pktkit.wireguard.crypto.TransportCipher;
import dev.pktkit.wireguard.noise.CookieChecker;
import dev.pktkit.wireguard.noise.CookieGenerator;
import dev.pktkit.wireguard.noise.Handshake;
import dev.pktkit.wireguard.noise.Keypair;
import dev.pktkit.wireguard.noise.StaticIdentity;
import dev.pktkit.wireguard.wire.CookieReply;
import dev.pktkit.wireguard.wire.MessageDecoder;
import dev.pktkit.wireguard.wire.MessageType;
import dev.pktkit.wireguard.wire.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.ArrayDeque;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * A WireGuard endpoint (the protocol of wireguard-go and Linux, interoperable with both) as a handler on a
 * {@link io.netty.channel.socket.DatagramChannel}: it reads {@link DatagramPacket}s, runs the handshake, cookie and
 * transport protocol, and presents each peer as a child {@link WireGuardPeerChannel} (an L3 port).
 *
 * <pre>{@code
 * WireGuardEndpoint wg = WireGuardEndpoint.builder()
 *         .privateKey(WireGuardKey.parse("..."))
 *         .peer(WireGuardPeerConfig.of(peerKey, "10.8.0.2/32"))
 *         .peerInitializer(new PortAttacher(hub))       // every peer becomes a port of an L3Hub
 *         .build();
 * new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(wg).bind(51820);
 * }</pre>
 *
 * <h2>Threads</h2>
 * All protocol state lives on the UDP channel's event loop; peer channels are registered on the same loop. Public
 * methods may be called from any thread and hop onto the loop. Timers (retransmit, keepalive, new handshake, key
 * zeroing, persistent keepalive) run on the loop's scheduler and read its {@code Ticker}, so an
 * {@code EmbeddedChannel}'s virtual clock drives them in tests.
 *
 * <h2>Bounds</h2>
 * {@code maxPeers} (default {@value #DEFAULT_MAX_PEERS}), {@code maxHandshakesInFlight} initiations awaiting a
 * response (default {@value #DEFAULT_MAX_HANDSHAKES_IN_FLIGHT}), {@code maxQueuedPerPeer} packets staged while a
 * handshake is pending and decrypted packets waiting for a non-reading peer channel (default
 * {@value #DEFAULT_MAX_QUEUED_PER_PEER}, oldest dropped first as wireguard-go does), rate-limiter entries (default
 * {@value #DEFAULT_MAX_RATE_LIMITER_ENTRIES}). Bad datagrams are released and counted per
 * {@link WireGuardDropReason}; nothing is thrown to the pipeline.
 *
 * <p>Not {@code @Sharable}: one instance per UDP channel.
 */
public final class WireGuardEndpoint extends ChannelInboundHandlerAdapter {
    public static final int DEFAULT_MAX_PEERS = 4096;
    public static final int DEFAULT_MAX_HANDSHAKES_IN_FLIGHT = 1024;
    public static final int DEFAULT_MAX_QUEUED_PER_PEER = 128;
    public static final int DEFAULT_MAX_RATE_LIMITER_ENTRIES = 65536;
    /** Handshake messages per second beyond which the endpoint is under load and demands cookies. */
    public static final int DEFAULT_UNDER_LOAD_THRESHOLD = 128;
    /** Default largest inner packet: 1420, wg-quick's MTU over IPv6 outer transport. */
    public static final int DEFAULT_MTU = 1420;

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(WireGuardEndpoint.class);
    private static final long SECOND = 1_000_000_000L;
    private static final WireGuardDropReason[] REASONS = WireGuardDropReason.values();
    /** Receive buffer with GRO on: the largest coalesced UDP payload. */
    private static final int GRO_READ_BUFFER = 65536;
    /** Default bound on batches out on crypto workers at once (beyond it the loop seals/opens itself). */
    public static final int DEFAULT_MAX_CRYPTO_BATCHES_IN_FLIGHT = 64;
    /** Default bound on a peer's messages waiting for their turn in the crypto pipeline, per direction. */
    public static final int DEFAULT_MAX_CRYPTO_QUEUED_PER_PEER = 4096;

    private final StaticIdentity identity;
    private final WireGuardKey privateKey;
    private final WireGuardKey publicKey;
    private final WireGuardTimers timers;
    private final int maxPeers;
    private final int maxHandshakesInFlight;
    private final int maxQueuedPerPeer;
    private final int maxRateLimiterEntries;
    private final int underLoadThreshold;
    private final int mtu;
    private final long ratePerSecond;
    private final long rateBurst;
    private final WireGuardUnknownPeerHandler unknownPeers;
    private final ChannelHandler peerInitializer;
    private final List<WireGuardPeerConfig> initialPeers;
    private final SecureRandom random = new SecureRandom();
    private final AtomicLongArray drops = new AtomicLongArray(REASONS.length);

    private final Map<WireGuardKey, Peer> peers = new LinkedHashMap<>();
    private final IntObjectHashMap<IndexEntry> indexes = new IntObjectHashMap<>();
    private final Ipv4RouteTable<Peer> routes4 = new Ipv4RouteTable<>();
    private final Ipv6RouteTable<Peer> routes6 = new Ipv6RouteTable<>();
    private final HashMap<InetAddress, long[]> rateLimiter = new HashMap<>();
    private final ArrayList<Peer> readBatch = new ArrayList<>();
    private CookieChecker cookieChecker;
    private ChannelHandlerContext ctx;
    private Channel channel;
    private EventLoop loop;
    private LongSupplier clock = System::nanoTime;
    private long wallBaseNanos;
    private long tickBase;
    private boolean flushPending;
    private int handshakesInFlight;
    private long loadWindowStart;
    private int loadWindowCount;
    private long underLoadUntil;
    private boolean wasUnderLoad;
    private volatile long cookieVerified;

    // multi-core data path and UDP offloads
    private final EventExecutorGroup cryptoWorkers;
    private final int maxCryptoBatchesInFlight;
    private final int maxCryptoQueuedPerPeer;
    private final boolean udpOffloads;
    /** Transport messages go through {@link TxBatch}es (workers or GSO), not one buffer each. */
    private boolean batching;
    private boolean gso;
    private boolean gro;
    private int cryptoInFlight;
    private final ArrayList<Peer> txOpenPeers = new ArrayList<>();
    private final ArrayDeque<TxBatch> txBatches = new ArrayDeque<>();
    private final ArrayDeque<RxBatch> rxBatches = new ArrayDeque<>();
    private final ArrayDeque<RxBatch.Job> rxJobs = new ArrayDeque<>();
    private RxBatch rxOpen;
    private volatile long offloadedPackets;
    private volatile long gsoDatagrams;

    /** An index-table entry: a keypair of a peer, or (keypair null) the peer's initiation in flight. */
    private record IndexEntry(Peer peer, Keypair keypair) {
    }

    private WireGuardEndpoint(Builder b) {
        this.privateKey = b.privateKey;
        this.identity = new StaticIdentity(b.privateKey.unsafeBytes());
        this.publicKey = WireGuardKey.of(identity.publicKey());
        this.timers = b.timers;
        this.maxPeers = b.maxPeers;
        this.maxHandshakesInFlight = b.maxHandshakesInFlight;
        this.maxQueuedPerPeer = b.maxQueuedPerPeer;
        this.maxRateLimiterEntries = b.maxRateLimiterEntries;
        this.underLoadThreshold = b.underLoadThreshold;
        this.mtu = b.mtu;
        this.ratePerSecond = b.handshakesPerSecondPerSource;
        this.rateBurst = b.handshakeBurstPerSource;
        this.unknownPeers = b.unknownPeers;
        this.peerInitializer = b.peerInitializer;
        this.initialPeers = List.copyOf(b.peers);
        this.cryptoWorkers = b.cryptoWorkers;
        this.maxCryptoBatchesInFlight = b.maxCryptoBatchesInFlight;
        this.maxCryptoQueuedPerPeer = b.maxCryptoQueuedPerPeer;
        this.udpOffloads = b.udpOffloads;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Our public key. */
    public WireGuardKey publicKey() {
        return publicKey;
    }

    /** The timer constants in use. */
    public WireGuardTimers timers() {
        return timers;
    }

    /** Datagrams or packets dropped for {@code reason} so far. */
    public long drops(WireGuardDropReason reason) {
        return drops.get(reason.ordinal());
    }

    /** All drop counters that are not zero. */
    public Map<WireGuardDropReason, Long> drops() {
        Map<WireGuardDropReason, Long> m = new java.util.EnumMap<>(WireGuardDropReason.class);
        for (WireGuardDropReason r : REASONS) {
            long v = drops.get(r.ordinal());
            if (v != 0) {
                m.put(r, v);
            }
        }
        return m;
    }

    /** Handshake messages that arrived while under load with a valid mac2 (a cookie we gave) and were processed. */
    public long cookieVerifiedHandshakes() {
        return cookieVerified;
    }

    /** Entries in the per-source handshake rate limiter (bounded by {@code maxRateLimiterEntries}). */
    public int rateLimiterEntries() {
        return rateLimiter.size();
    }

    /** Transport messages sealed or opened on a crypto worker rather than on the loop (multi-core data path). */
    public long offloadedPackets() {
        return offloadedPackets;
    }

    /** GSO datagrams sent (each a {@code SegmentedDatagramPacket} carrying several transport messages). */
    public long gsoDatagrams() {
        return gsoDatagrams;
    }

    /** Whether transport messages are sent as GSO datagrams (the UDP channel offers {@code SegmentedDatagramPacket}). */
    public boolean isGsoEnabled() {
        return gso;
    }

    /** Whether UDP GRO was switched on for the UDP channel ({@code EpollChannelOption.UDP_GRO}). */
    public boolean isGroEnabled() {
        return gro;
    }

    /** The UDP channel this endpoint runs on, or null before it is added to one. */
    public Channel channel() {
        return channel;
    }

    void countDrop(WireGuardDropReason r) {
        drops.incrementAndGet(r.ordinal());
    }

    // ---------------------------------------------------------------- lifecycle

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (this.ctx != null) {
            throw new IllegalStateException("WireGuardEndpoint is not @Sharable: one instance per channel");
        }
        this.ctx = ctx;
        this.channel = ctx.channel();
        this.loop = channel.eventLoop();
        if (loop instanceof AbstractScheduledEventExecutor s) {
            io.netty.util.concurrent.Ticker t = s.ticker();
            clock = t::nanoTime;
        }
        tickBase = clock.getAsLong();
        wallBaseNanos = System.currentTimeMillis() * 1_000_000L;
        cookieChecker = new CookieChecker(identity, timers.cookieRefreshTime().toNanos());
        if (udpOffloads) {
            configureUdpOffloads();
        }
        batching = gso || cryptoWorkers != null;
        if (channel.isRegistered()) {
            addInitialPeers();
        }
    }

    /**
     * Beyond wireguard-go's defaults: UDP GRO on receive where the channel has {@code UDP_GRO} (epoll; the
     * endpoint then installs a 64 KiB receive buffer so a coalesced read fits, and Netty hands the segments up as
     * separate {@link DatagramPacket}s), and GSO on send where the channel class says it supports
     * {@code SegmentedDatagramPacket} (epoll with sendmmsg and UDP_SEGMENT, io_uring). Found by option name and
     * reflection so this module needs no native transport.
     */
    @SuppressWarnings("unchecked")
    private void configureUdpOffloads() {
        ChannelConfig cfg = channel.config();
        // getOptions() first: it loads the transport's option class, which registers the option's name
        Map<ChannelOption<?>, Object> options = cfg.getOptions();
        if (ChannelOption.exists("UDP_GRO")) {
            ChannelOption<Boolean> udpGro = ChannelOption.<Boolean>valueOf("UDP_GRO");
            try {
                if (options.containsKey(udpGro) && cfg.setOption(udpGro, true)) {
                    int perRead = 16;
                    if (cfg.getRecvByteBufAllocator() instanceof MaxMessagesRecvByteBufAllocator m) {
                        perRead = m.maxMessagesPerRead();
                    }
                    // a GRO read counts one message per segment: allow a few full reads per read loop
                    cfg.setRecvByteBufAllocator(new FixedRecvByteBufAllocator(GRO_READ_BUFFER)
                            .maxMessagesPerRead(Math.max(perRead, 4 * TxBatch.MAX_SEGMENTS)));
                    gro = true;
                }
            } catch (RuntimeException e) {
                logger.debug("UDP_GRO not enabled", e);
            }
        }
        try {
            java.lang.reflect.Method m = channel.getClass().getMethod("isSegmentedDatagramPacketSupported");
            gso = java.lang.reflect.Modifier.isStatic(m.getModifiers()) && Boolean.TRUE.equals(m.invoke(null));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            gso = false;
        }
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
        addInitialPeers();
        ctx.fireChannelRegistered();
    }

    private boolean initialAdded;

    private void addInitialPeers() {
        if (initialAdded) {
            return;
        }
        initialAdded = true;
        for (WireGuardPeerConfig c : initialPeers) {
            addPeer0(c);
        }
    }

    /**
     * Send errors of the UDP channel (the endpoint writes with the void promise, so they arrive here) are counted
     * as {@link WireGuardDropReason#SEND_FAILED} and not passed on: one unreachable peer must not disturb the
     * others. Anything else is passed on.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            countDrop(WireGuardDropReason.SEND_FAILED);
            logger.debug("WireGuard datagram not sent", cause);
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        removeAll();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        removeAll();
    }

    private void removeAll() {
        for (Peer p : new ArrayList<>(peers.values())) {
            removePeer0(p);
        }
    }

    // ---------------------------------------------------------------- peers (control plane)

    /**
     * Adds a peer (or replaces the configuration of an existing one: allowed IPs, endpoint, keepalive; a changed
     * preshared key takes effect with a fresh handshake state). Completes on the loop with the peer's channel.
     *
     * @throws IllegalStateException (in the future) if {@code maxPeers} peers exist
     */
    public Future<WireGuardPeerChannel> addPeer(WireGuardPeerConfig config) {
        EventLoop l = requireLoop();
        Promise<WireGuardPeerChannel> p = l.newPromise();
        if (l.inEventLoop()) {
            complete(p, () -> addPeer0(config));
        } else {
            l.execute(() -> complete(p, () -> addPeer0(config)));
        }
        return p;
    }

    /** Removes the peer with {@code key} (closing its channel); completes with whether it existed. */
    public Future<Boolean> removePeer(WireGuardKey key) {
        EventLoop l = requireLoop();
        Promise<Boolean> p = l.newPromise();
        Runnable r = () -> {
            Peer peer = peers.get(key);
            if (peer != null) {
                removePeer0(peer);
            }
            p.setSuccess(peer != null);
        };
        if (l.inEventLoop()) {
            r.run();
        } else {
            l.execute(r);
        }
        return p;
    }

    /** The channel of the peer with {@code key}, or null. Safe from any thread (racy off the loop). */
    public WireGuardPeerChannel peer(WireGuardKey key) {
        synchronized (peers) {
            Peer p = peers.get(key);
            return p == null ? null : p.channel;
        }
    }

    /** The channels of all peers. */
    public List<WireGuardPeerChannel> peerChannels() {
        synchronized (peers) {
            return peers.values().stream().map(p -> p.channel).toList();
        }
    }

    /** Number of peers. */
    public int peerCount() {
        synchronized (peers) {
            return peers.size();
        }
    }

    /**
     * Sets the peer's endpoint and starts a handshake at once (rather than waiting for REKEY_TIMEOUT, as
     * wireguard-go would). Unresolved addresses are resolved off the loop first.
     */
    public Future<Void> setEndpoint(WireGuardKey key, InetSocketAddress endpoint) {
        EventLoop l = requireLoop();
        Promise<Void> done = l.newPromise();
        Runnable r = () -> {
            Peer p = peers.get(key);
            if (p == null) {
                done.setFailure(new IllegalArgumentException("no such peer: " + key));
                return;
            }
            p.config = p.config.withEndpoint(endpoint);
            if (endpoint.isUnresolved()) {
                resolve(p, () -> initiateNow(p));
            } else {
                p.endpoint = endpoint;
                initiateNow(p);
            }
            done.setSuccess(null);
        };
        if (l.inEventLoop()) {
            r.run();
        } else {
            l.execute(r);
        }
        return done;
    }

    /**
     * Client role: starts a handshake with the peer now (it needs an endpoint) and completes when one has
     * completed, or fails when REKEY_ATTEMPT_TIME passes without one.
     */
    public Future<Void> connect(WireGuardKey key) {
        EventLoop l = requireLoop();
        Promise<Void> done = l.newPromise();
        Runnable r = () -> {
            Peer p = peers.get(key);
            if (p == null) {
                done.setFailure(new IllegalArgumentException("no such peer: " + key));
                return;
            }
            p.handshakeWaiters.add(done);
            if (p.endpoint == null && p.config.endpoint() != null && p.config.endpoint().isUnresolved()) {
                resolve(p, () -> initiateNow(p));
            } else {
                initiateNow(p);
            }
        };
        if (l.inEventLoop()) {
            r.run();
        } else {
            l.execute(r);
        }
        return done;
    }

    private void initiateNow(Peer p) {
        if (p.removed) {
            return;
        }
        p.hasSentHandshake = false; // an endpoint change or dial: skip the REKEY_TIMEOUT pacing once
        sendInitiation(p, false);
        flush();
    }

    private EventLoop requireLoop() {
        EventLoop l = loop;
        if (l == null) {
            throw new IllegalStateException("the endpoint is not in a pipeline yet");
        }
        return l;
    }

    private static <T> void complete(Promise<T> p, java.util.function.Supplier<T> s) {
        try {
            p.setSuccess(s.get());
        } catch (RuntimeException e) {
            p.setFailure(e);
        }
    }

    private WireGuardPeerChannel addPeer0(WireGuardPeerConfig config) {
        Peer existing = peers.get(config.publicKey());
        if (existing != null) {
            removeRoutes(existing);
            existing.config = config;
            if (config.endpoint() != null && !config.endpoint().isUnresolved()) {
                existing.endpoint = config.endpoint();
            }
            addRoutes(existing);
            armPersistentKeepalive(existing);
            return existing.channel;
        }
        if (peers.size() >= maxPeers) {
            throw new IllegalStateException("maxPeers (" + maxPeers + ") reached");
        }
        if (config.publicKey().equals(publicKey)) {
            throw new IllegalArgumentException("a peer cannot have the endpoint's own public key");
        }
        byte[] psk = config.presharedKey() == null ? null : config.presharedKey().unsafeBytes();
        Handshake hs = new Handshake(identity, config.publicKey().unsafeBytes(), psk);
        long cookieLife = timers.cookieRefreshTime().toNanos() - Math.min(timers.cookieRefreshTime().toNanos() / 2,
                timers.rekeyTimeout().toNanos() + timers.rekeyTimeoutJitter().toNanos());
        Peer p = new Peer(config, hs, new CookieGenerator(config.publicKey().unsafeBytes(), cookieLife));
        p.retransmitHandshake = new LazyTimer(loop, clock, () -> onRetransmit(p));
        p.sendKeepalive = new LazyTimer(loop, clock, () -> onSendKeepalive(p));
        p.newHandshake = new LazyTimer(loop, clock, () -> onNewHandshake(p));
        p.zeroKeyMaterial = new LazyTimer(loop, clock, () -> onZeroKeys(p));
        p.persistentKeepalive = new LazyTimer(loop, clock, () -> onPersistentKeepalive(p));
        WireGuardPeerChannel ch = new WireGuardPeerChannel(this, channel, p);
        p.channel = ch;
        synchronized (peers) {
            peers.put(p.publicKey, p);
        }
        addRoutes(p);
        if (peerInitializer != null) {
            ch.pipeline().addLast(peerInitializer);
        }
        loop.register(ch);
        if (config.endpoint() != null && config.endpoint().isUnresolved()) {
            resolve(p, () -> { });
        }
        if (config.persistentKeepalive() > 0 && (p.endpoint != null || config.endpoint() != null)) {
            // wireguard-go sends a keepalive (so a handshake) at once when a peer with persistent keepalive comes up
            loop.execute(() -> {
                if (!p.removed) {
                    sendKeepalive(p);
                    flush();
                }
            });
        }
        return ch;
    }

    private void addRoutes(Peer p) {
        for (Prefix pr : p.config.allowedIps()) {
            if (pr.isIpv6()) {
                routes6.put(pr, p);
            } else {
                routes4.put(pr, p);
            }
        }
    }

    private void removeRoutes(Peer p) {
        for (Prefix pr : p.config.allowedIps()) {
            if (pr.isIpv6()) {
                if (routes6.get(pr.hi(), pr.lo(), pr.length()) == p) {
                    routes6.remove(pr);
                }
            } else if (routes4.get(pr.ipv4Address(), pr.length()) == p) {
                routes4.remove(pr);
            }
        }
    }

    void peerChannelClosed(Peer p) {
        if (loop.inEventLoop()) {
            removePeer0(p);
        } else {
            loop.execute(() -> removePeer0(p));
        }
    }

    private void removePeer0(Peer p) {
        if (p.removed) {
            return;
        }
        p.removed = true;
        synchronized (peers) {
            peers.remove(p.publicKey);
        }
        removeRoutes(p);
        p.cancelTimers();
        p.releaseStaged();
        releaseCryptoQueues(p);
        clearHandshakeIndex(p);
        p.keypairs.forEach(kp -> indexes.remove(kp.localIndex()));
        p.keypairs.clear();
        p.handshake.clear();
        failWaiters(p, new java.nio.channels.ClosedChannelException());
        p.channel.closeFromEndpoint();
    }

    /**
     * Releases what a removed peer has in the crypto pipeline; batches still on a worker are released when they
     * come back (their peer is marked removed).
     */
    private void releaseCryptoQueues(Peer p) {
        TxBatch open = p.txOpen;
        if (open != null) {
            p.txOpen = null;
            open.buf.release();
            open.buf = null;
            txBatches.add(open);
        }
        drainTx(p);
        drainRx(p);
    }

    /** Routes cryptokey-wise: the channel of the peer whose allowed IPs hold IPv4 {@code dst}, or null. */
    public WireGuardPeerChannel route(int dst) {
        Peer p = routes4.lookup(dst);
        return p == null ? null : p.channel;
    }

    /** Routes cryptokey-wise: the channel of the peer whose allowed IPs hold IPv6 {@code (hi, lo)}, or null. */
    public WireGuardPeerChannel route(long hi, long lo) {
        Peer p = routes6.lookup(hi, lo);
        return p == null ? null : p.channel;
    }

    // ---------------------------------------------------------------- status

    /** Per-peer status, in the order peers were added. */
    public List<WireGuardPeerStatus> status() {
        synchronized (peers) {
            return peers.values().stream().map(Peer::status).toList();
        }
    }

    /** A {@code wg show}-like report. */
    public String show() {
        StringBuilder sb = new StringBuilder();
        sb.append("interface: ").append(channel == null ? "-" : channel.localAddress()).append('\n');
        sb.append("  public key: ").append(publicKey.toBase64()).append('\n');
        sb.append("  private key: (hidden)\n");
        long nowMs = System.currentTimeMillis();
        for (WireGuardPeerStatus s : status()) {
            sb.append("\npeer: ").append(s.publicKey().toBase64()).append('\n');
            if (s.endpoint() != null) {
                sb.append("  endpoint: ").append(formatEndpoint(s.endpoint())).append('\n');
            }
            sb.append("  allowed ips: ").append(s.allowedIps().isEmpty() ? "(none)" : String.join(", ", s.allowedIps()))
                    .append('\n');
            if (s.latestHandshakeMillis() != 0) {
                sb.append("  latest handshake: ").append(Math.max(0, (nowMs - s.latestHandshakeMillis()) / 1000))
                        .append(" seconds ago\n");
            }
            sb.append("  transfer: ").append(s.rxBytes()).append(" B received, ").append(s.txBytes())
                    .append(" B sent\n");
            if (s.persistentKeepalive() > 0) {
                sb.append("  persistent keepalive: every ").append(s.persistentKeepalive()).append(" seconds\n");
            }
        }
        return sb.toString();
    }

    static String formatEndpoint(InetSocketAddress a) {
        if (a.isUnresolved()) {
            return a.getHostString() + ":" + a.getPort();
        }
        String h = a.getAddress().getHostAddress();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    // ---------------------------------------------------------------- receive

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket dp)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            receive(dp.content(), dp.sender());
        } catch (RuntimeException e) {
            // a protocol bug must not kill the endpoint; the datagram is dropped and counted
            countDrop(WireGuardDropReason.INTERNAL_ERROR);
            logger.debug("dropped a datagram after an internal error", e);
        } finally {
            dp.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (rxOpen != null) {
            dispatchRx();
        }
        completeReads();
        flush();
        ctx.fireChannelReadComplete();
    }

    private void completeReads() {
        for (int i = 0; i < readBatch.size(); i++) {
            Peer p = readBatch.get(i);
            p.inReadBatch = false;
            p.channel.completeRead();
        }
        readBatch.clear();
    }

    private void receive(ByteBuf b, InetSocketAddress sender) {
        int off = b.readerIndex();
        int len = b.readableBytes();
        int type = MessageDecoder.classify(b, off, len);
        if (type == MessageDecoder.INVALID || sender == null) {
            countDrop(WireGuardDropReason.MALFORMED);
            return;
        }
        if (type == MessageType.TRANSPORT) {
            receiveTransport(b, off, len, sender);
            return;
        }
        byte[] msg = new byte[len];
        b.getBytes(off, msg);
        long now = clock.getAsLong();
        if (type == MessageType.COOKIE_REPLY) {
            receiveCookieReply(msg, now);
            return;
        }
        if (!cookieChecker.checkMac1(msg)) {
            countDrop(WireGuardDropReason.BAD_MAC1);
            return;
        }
        if (underLoad(now)) {
            byte[] src = sourceBytes(sender);
            if (!cookieChecker.checkMac2(msg, src, now)) {
                int senderIndex = b.getIntLE(off + 4); // sender index of an initiation or a response
                byte[] reply = cookieChecker.createReply(msg, senderIndex, src, now);
                write(Unpooled.wrappedBuffer(reply), sender);
                countDrop(WireGuardDropReason.COOKIE_REQUIRED);
                return;
            }
            if (!rateLimit(sender.getAddress(), now)) {
                countDrop(WireGuardDropReason.RATE_LIMITED);
                return;
            }
            cookieVerified++;
        }
        if (type == MessageType.INITIATION) {
            receiveInitiation(msg, sender, now);
        } else {
            receiveResponse(msg, sender, now);
        }
    }

    private boolean underLoad(long now) {
        if (now - loadWindowStart >= SECOND) {
            loadWindowStart = now;
            loadWindowCount = 0;
        }
        if (++loadWindowCount > underLoadThreshold) {
            underLoadUntil = now + SECOND;
            wasUnderLoad = true;
        }
        return wasUnderLoad && now - underLoadUntil < 0;
    }

    private static byte[] sourceBytes(InetSocketAddress a) {
        byte[] ip = a.getAddress().getAddress();
        byte[] out = java.util.Arrays.copyOf(ip, ip.length + 2);
        out[ip.length] = (byte) (a.getPort() >>> 8);
        out[ip.length + 1] = (byte) a.getPort();
        return out;
    }

    /** Token bucket per source address: {@code ratePerSecond} handshakes per second, bursts of {@code rateBurst}. */
    private boolean rateLimit(InetAddress source, long now) {
        long cost = SECOND / Math.max(1, ratePerSecond);
        long max = cost * Math.max(1, rateBurst);
        long[] bucket = rateLimiter.get(source);
        if (bucket == null) {
            if (rateLimiter.size() >= maxRateLimiterEntries) {
                rateLimiter.values().removeIf(v -> now - v[1] > SECOND);
                if (rateLimiter.size() >= maxRateLimiterEntries) {
                    return false;
                }
            }
            rateLimiter.put(source, new long[] {max - cost, now});
            return true;
        }
        long tokens = Math.min(max, bucket[0] + (now - bucket[1]));
        bucket[1] = now;
        if (tokens >= cost) {
            bucket[0] = tokens - cost;
            return true;
        }
        bucket[0] = tokens;
        return false;
    }

    private void receiveInitiation(byte[] msg, InetSocketAddress sender, long now) {
        Handshake.ConsumedInitiation ci = Handshake.decryptInitiation(identity, msg, key -> {
            Peer p = peers.get(WireGuardKey.of(key));
            if (p != null) {
                return p.handshake.staticStatic();
            }
            return unknownPeers != null && peers.size() < maxPeers ? identity.sharedSecret(key)
                    : null;
        });
        if (ci == null) {
            countDrop(WireGuardDropReason.BAD_INITIATION);
            return;
        }
        WireGuardKey key = WireGuardKey.of(ci.remoteStatic());
        Peer p = peers.get(key);
        if (p == null) {
            WireGuardPeerConfig admitted = null;
            try {
                admitted = unknownPeers == null ? null : unknownPeers.admit(key, sender);
            } catch (RuntimeException e) {
                logger.warn("unknown-peer handler failed", e);
            }
            if (admitted == null || !admitted.publicKey().equals(key) || peers.size() >= maxPeers) {
                countDrop(WireGuardDropReason.BAD_INITIATION);
                return;
            }
            addPeer0(admitted);
            p = peers.get(key);
            ci = Handshake.decryptInitiation(identity, msg, k -> peers.get(key).handshake.staticStatic());
            if (ci == null) {
                countDrop(WireGuardDropReason.BAD_INITIATION);
                return;
            }
        }
        if (p.hasConsumedInitiation && now - p.lastInitiationConsumedNanos < timers.handshakeInitiationRate().toNanos()) {
            countDrop(WireGuardDropReason.INITIATION_FLOOD);
            return;
        }
        Handshake.Acceptance a = p.handshake.acceptInitiation(ci);
        if (a != Handshake.Acceptance.ACCEPTED) {
            countDrop(a == Handshake.Acceptance.REPLAYED_TIMESTAMP ? WireGuardDropReason.REPLAYED_INITIATION
                    : WireGuardDropReason.BAD_INITIATION);
            return;
        }
        p.hasConsumedInitiation = true;
        p.lastInitiationConsumedNanos = now;
        clearHandshakeIndex(p); // our own initiation, if any, is superseded
        p.endpoint = sender;
        int idx = newIndex();
        byte[] resp = p.handshake.createResponse(idx);
        if (resp == null) {
            countDrop(WireGuardDropReason.BAD_INITIATION);
            return;
        }
        p.cookies.addMacs(resp, now);
        Keypair kp = p.handshake.deriveKeypair(now);
        indexes.put(idx, new IndexEntry(p, kp));
        p.keypairs.installAsResponder(kp);
        syncIndexes(p);
        write(Unpooled.wrappedBuffer(resp), sender);
        p.txBytes += resp.length;
        p.rxBytes += msg.length;
        sessionDerived(p);
        anyAuthenticatedPacketTraversal(p);
        p.sendKeepalive.stop(); // anyAuthenticatedPacketSent
    }

    private void receiveResponse(byte[] msg, InetSocketAddress sender, long now) {
        int receiver = leInt(msg, dev.pktkit.wireguard.wire.Response.RECEIVER);
        IndexEntry e = indexes.get(receiver);
        if (e == null || e.keypair() != null) {
            countDrop(WireGuardDropReason.BAD_RESPONSE);
            return;
        }
        Peer p = e.peer();
        if (!p.handshake.consumeResponse(msg)) {
            countDrop(WireGuardDropReason.BAD_RESPONSE);
            return;
        }
        p.endpoint = sender;
        Keypair kp = p.handshake.deriveKeypair(now);
        p.handshakeIndex = 0;
        handshakesInFlight--;
        indexes.put(kp.localIndex(), new IndexEntry(p, kp));
        p.keypairs.installAsInitiator(kp);
        syncIndexes(p);
        p.rxBytes += msg.length;
        sessionDerived(p);
        handshakeComplete(p);
        p.newHandshake.stop(); // anyAuthenticatedPacketReceived
        anyAuthenticatedPacketTraversal(p);
        sendKeepalive(p); // sends what was staged, or a keepalive that confirms the keypair to the responder
    }

    private void receiveCookieReply(byte[] msg, long now) {
        IndexEntry e = indexes.get(leInt(msg, CookieReply.RECEIVER));
        if (e == null || !e.peer().cookies.consumeReply(msg, now)) {
            countDrop(WireGuardDropReason.BAD_COOKIE_REPLY);
        }
    }

    private void receiveTransport(ByteBuf b, int off, int len, InetSocketAddress sender) {
        IndexEntry e = indexes.get(Transport.receiver(b, off));
        if (e == null || e.keypair() == null) {
            countDrop(WireGuardDropReason.UNKNOWN_INDEX);
            return;
        }
        Peer p = e.peer();
        Keypair kp = e.keypair();
        long now = clock.getAsLong();
        if (now - kp.createdNanos() >= timers.rejectAfterTime().toNanos()) {
            countDrop(WireGuardDropReason.EXPIRED_KEYPAIR);
            return;
        }
        long counter = Transport.counter(b, off);
        int sealed = len - Transport.PAYLOAD;
        if (cryptoWorkers != null && p.rxQueue.size() >= maxCryptoQueuedPerPeer) {
            countDrop(WireGuardDropReason.CRYPTO_QUEUE_FULL);
            return;
        }
        ByteBuf plain = ctx.alloc().heapBuffer(sealed);
        byte[] arr = plain.array();
        int aoff = plain.arrayOffset() + plain.writerIndex();
        b.getBytes(off + Transport.PAYLOAD, arr, aoff, sealed);
        if (cryptoWorkers == null) {
            int n = kp.receiveCipher().open(counter, arr, aoff, sealed);
            opened(p, kp, plain, n, counter, len, sender);
            return;
        }
        // multi-core: opened on a worker, finished here in the peer's queue order
        RxBatch.Job j = rxJobs.poll();
        if (j == null) {
            j = new RxBatch.Job();
        }
        j.peer = p;
        j.keypair = kp;
        j.plain = plain;
        j.counter = counter;
        j.sealedLength = sealed;
        j.datagramLength = len;
        j.sender = sender;
        p.rxQueue.add(j);
        if (rxOpen == null) {
            rxOpen = newRxBatch();
        }
        rxOpen.jobs[rxOpen.count++] = j;
        if (rxOpen.count == RxBatch.SIZE) {
            dispatchRx();
        }
    }

    /** The rest of a transport message's receipt once it was opened ({@code n} = plaintext length or -1), in order. */
    private void opened(Peer p, Keypair kp, ByteBuf plain, int n, long counter, int len, InetSocketAddress sender) {
        if (n < 0) {
            plain.release();
            countDrop(WireGuardDropReason.BAD_AUTH);
            return;
        }
        if (!kp.replay().accept(counter, timers.rejectAfterMessages())) {
            plain.release();
            countDrop(WireGuardDropReason.REPLAYED_COUNTER);
            return;
        }
        long now = clock.getAsLong();
        InetSocketAddress ep = p.endpoint;
        if (ep == null || !ep.equals(sender)) {
            p.endpoint = sender; // roaming: the last authenticated source is where we send
        }
        p.rxBytes += len;
        if (p.keypairs.received(kp)) {
            syncIndexes(p);
            handshakeComplete(p);
            sendStaged(p);
        }
        p.newHandshake.stop(); // anyAuthenticatedPacketReceived
        anyAuthenticatedPacketTraversal(p);
        keepKeyFreshReceiving(p, kp, now);
        if (n == 0) {
            plain.release(); // a keepalive
            return;
        }
        // dataReceived
        if (!p.sendKeepalive.isPending()) {
            p.sendKeepalive.set(timers.keepaliveTimeout().toNanos());
        } else {
            p.needAnotherKeepalive = true;
        }
        int total = innerLength(plain, n, p);
        if (total < 0) {
            plain.release();
            return;
        }
        plain.writerIndex(total);
        if (!p.inReadBatch) {
            p.inReadBatch = true;
            readBatch.add(p);
        }
        p.channel.deliver(plain, maxQueuedPerPeer);
    }

    // ---------------------------------------------------------------- multi-core data path

    private RxBatch newRxBatch() {
        RxBatch r = rxBatches.poll();
        return r != null ? r : new RxBatch(this);
    }

    /** Hands the open receive batch to a worker (or, with {@code maxCryptoBatchesInFlight} out, opens it here). */
    private void dispatchRx() {
        RxBatch r = rxOpen;
        if (r == null) {
            return;
        }
        rxOpen = null;
        if (cryptoInFlight < maxCryptoBatchesInFlight) {
            cryptoInFlight++;
            offloadedPackets += r.count;
            cryptoWorkers.next().execute(r);
        } else {
            r.openAll();
            finishRx(r);
        }
    }

    /** On the loop: a worker opened {@code r}. */
    void rxOpenedOnWorker(RxBatch r) {
        cryptoInFlight--;
        finishRx(r);
        completeReads();
        flush();
    }

    private void finishRx(RxBatch r) {
        for (int i = 0; i < r.count; i++) {
            RxBatch.Job j = r.jobs[i];
            r.jobs[i] = null;
            Peer p = j.peer; // null if a later batch already finished this job (it was opened first)
            if (p != null) {
                drainRx(p);
            }
        }
        r.count = 0;
        rxBatches.add(r);
    }

    /** Finishes the peer's opened jobs from the head of its queue, stopping at the first still being opened. */
    private void drainRx(Peer p) {
        RxBatch.Job j;
        while ((j = p.rxQueue.peek()) != null) {
            int n = j.result;
            if (n == RxBatch.Job.PENDING) {
                return;
            }
            p.rxQueue.poll();
            if (p.removed) {
                j.plain.release();
            } else {
                try {
                    opened(p, j.keypair, j.plain, n, j.counter, j.datagramLength, j.sender);
                } catch (RuntimeException e) {
                    countDrop(WireGuardDropReason.INTERNAL_ERROR);
                    logger.debug("dropped a packet after an internal error", e);
                }
            }
            j.clear();
            rxJobs.add(j);
        }
    }

    /** Runs {@code task} on the loop (from a worker); if the loop is gone the task runs here so nothing leaks. */
    void backToLoop(Runnable task) {
        try {
            loop.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            task.run();
        }
    }

    /** Validates the decrypted packet and cryptokey routing; its length without padding, or -1 (counted). */
    private int innerLength(ByteBuf plain, int n, Peer p) {
        int off = plain.readerIndex();
        int version = (plain.getByte(off) & 0xF0) >>> 4;
        Peer owner;
        int total;
        if (version == 4 && n >= 20) {
            total = plain.getUnsignedShort(off + 2);
            if (total < 20 || total > n) {
                countDrop(WireGuardDropReason.BAD_INNER_PACKET);
                return -1;
            }
            owner = routes4.lookup(plain.getInt(off + 12));
        } else if (version == 6 && n >= 40) {
            total = 40 + plain.getUnsignedShort(off + 4);
            if (total > n) {
                countDrop(WireGuardDropReason.BAD_INNER_PACKET);
                return -1;
            }
            owner = routes6.lookup(plain.getLong(off + 8), plain.getLong(off + 16));
        } else {
            countDrop(WireGuardDropReason.BAD_INNER_PACKET);
            return -1;
        }
        if (owner != p) {
            countDrop(WireGuardDropReason.NOT_ALLOWED_SOURCE);
            return -1;
        }
        return total;
    }

    // ---------------------------------------------------------------- send

    /** From a peer channel's doWrite (on the loop): takes ownership of {@code packet}. */
    void sendPacket(Peer p, ByteBuf packet) {
        if (p.removed) {
            packet.release();
            return;
        }
        if (packet.readableBytes() > mtu) {
            packet.release();
            countDrop(WireGuardDropReason.OVERSIZED);
            return;
        }
        long now = clock.getAsLong();
        Keypair kp = p.keypairs.current();
        if (kp != null && usable(kp, now) && p.staged.isEmpty()) {
            seal(p, kp, packet);
            keepKeyFreshSending(p, kp, now);
            return;
        }
        stage(p, packet);
        sendStaged(p);
    }

    private boolean usable(Keypair kp, long now) {
        return now - kp.createdNanos() < timers.rejectAfterTime().toNanos()
                && Long.compareUnsigned(kp.sendCounter(), timers.rejectAfterMessages()) < 0;
    }

    private void stage(Peer p, ByteBuf packet) {
        if (p.staged.size() >= maxQueuedPerPeer) {
            p.staged.poll().release();
            countDrop(WireGuardDropReason.QUEUE_FULL);
        }
        p.staged.add(packet);
    }

    private void sendStaged(Peer p) {
        if (p.staged.isEmpty()) {
            return;
        }
        long now = clock.getAsLong();
        Keypair kp = p.keypairs.current();
        if (kp == null || !usable(kp, now)) {
            sendInitiation(p, false);
            return;
        }
        ByteBuf b;
        while ((b = p.staged.poll()) != null) {
            seal(p, kp, b);
        }
        keepKeyFreshSending(p, kp, now);
    }

    private void seal(Peer p, Keypair kp, ByteBuf packet) {
        InetSocketAddress ep = p.endpoint;
        if (ep == null) {
            packet.release();
            countDrop(WireGuardDropReason.NO_ENDPOINT);
            return;
        }
        int len = packet.readableBytes();
        int padded = Transport.paddedLength(len, mtu);
        int total = Transport.PAYLOAD + padded + TransportCipher.TAG_LEN;
        if (!batching) {
            ByteBuf out = ctx.alloc().heapBuffer(total);
            long counter = kp.nextSendCounter();
            out.writeIntLE(MessageType.TRANSPORT);
            out.writeIntLE(kp.remoteIndex());
            out.writeLongLE(counter);
            out.writeBytes(packet, packet.readerIndex(), len);
            packet.release();
            out.writeZero(padded - len + TransportCipher.TAG_LEN);
            kp.sendCipher().seal(counter, out.array(), out.arrayOffset() + Transport.PAYLOAD, padded);
            write(out, ep);
        } else {
            TxBatch b = p.txOpen;
            if (b != null && !b.accepts(kp, ep, total)) {
                closeTx(p);
                b = null;
            }
            if (b == null) {
                if (p.txQueue.size() >= maxCryptoQueuedPerPeer) {
                    packet.release();
                    countDrop(WireGuardDropReason.CRYPTO_QUEUE_FULL);
                    return;
                }
                b = txBatches.poll();
                if (b == null) {
                    b = new TxBatch(this);
                }
                b.reset(p, kp, ep, ctx.alloc().heapBuffer(Math.min(TxBatch.MAX_BYTES, total * TxBatch.MAX_SEGMENTS)));
                p.txOpen = b;
                txOpenPeers.add(p);
            }
            b.append(kp.nextSendCounter(), packet, len, padded);
            packet.release();
            if (b.full()) {
                closeTx(p);
            }
        }
        p.txBytes += total;
        p.sendKeepalive.stop(); // anyAuthenticatedPacketSent
        anyAuthenticatedPacketTraversal(p);
        if (len > 0) {
            // dataSent: expect to hear back within KEEPALIVE + REKEY_TIMEOUT, or start a new handshake
            p.newHandshake.setIfStopped(timers.keepaliveTimeout().toNanos() + timers.rekeyTimeout().toNanos()
                    + jitter());
        }
    }

    /** Ends the peer's open send batch: seals it (on a worker if one is free) and queues it for sending in order. */
    private void closeTx(Peer p) {
        TxBatch b = p.txOpen;
        if (b == null) {
            return;
        }
        p.txOpen = null;
        p.txQueue.add(b);
        if (cryptoWorkers != null && cryptoInFlight < maxCryptoBatchesInFlight) {
            cryptoInFlight++;
            b.offloaded = true;
            offloadedPackets += b.count;
            cryptoWorkers.next().execute(b);
        } else {
            b.sealAll();
            drainTx(p);
        }
    }

    /** On the loop: a worker sealed {@code b}. */
    void txSealedOnWorker(TxBatch b) {
        cryptoInFlight--;
        drainTx(b.peer);
        flush();
    }

    /** Sends the peer's sealed batches from the head of its queue, stopping at the first still being sealed. */
    private void drainTx(Peer p) {
        TxBatch b;
        while ((b = p.txQueue.peek()) != null && b.sealed) {
            p.txQueue.poll();
            if (p.removed) {
                b.buf.release();
            } else if (b.failed) {
                b.buf.release();
                for (int i = 0; i < b.count; i++) {
                    countDrop(WireGuardDropReason.EXPIRED_KEYPAIR);
                }
            } else {
                emit(b);
            }
            b.buf = null;
            b.peer = null;
            b.keypair = null;
            b.to = null;
            txBatches.add(b);
        }
    }

    /** Writes a sealed batch: one GSO datagram where the transport offers it, else one datagram per message. */
    private void emit(TxBatch b) {
        if (b.count == 1) {
            write(b.buf, b.to);
        } else if (gso) {
            ctx.write(new io.netty.channel.unix.SegmentedDatagramPacket(b.buf, b.segmentSize, b.to),
                    ctx.voidPromise());
            flushPending = true;
            gsoDatagrams++;
        } else {
            for (int i = 0; i < b.count; i++) {
                write(b.buf.retainedSlice(i * b.segmentSize, b.segmentLength(i)), b.to);
            }
            b.buf.release();
        }
    }

    private void keepKeyFreshSending(Peer p, Keypair kp, long now) {
        if (kp.isInitiator() && (Long.compareUnsigned(kp.sendCounter(), timers.rekeyAfterMessages()) > 0
                || now - kp.createdNanos() > timers.rekeyAfterTime().toNanos())) {
            sendInitiation(p, false);
        }
    }

    private void keepKeyFreshReceiving(Peer p, Keypair kp, long now) {
        if (p.sentLastMinuteHandshake || p.keypairs.current() != kp || !kp.isInitiator()) {
            return;
        }
        long limit = timers.rejectAfterTime().toNanos() - timers.keepaliveTimeout().toNanos()
                - timers.rekeyTimeout().toNanos();
        if (now - kp.createdNanos() > limit) {
            p.sentLastMinuteHandshake = true;
            sendInitiation(p, false);
        }
    }

    private void sendKeepalive(Peer p) {
        if (p.staged.isEmpty()) {
            stage(p, Unpooled.EMPTY_BUFFER);
        }
        sendStaged(p);
    }

    private void sendInitiation(Peer p, boolean retry) {
        if (p.removed) {
            return;
        }
        if (!retry) {
            p.handshakeAttempts = 0;
        }
        long now = clock.getAsLong();
        if (p.hasSentHandshake && now - p.lastSentHandshakeNanos < timers.rekeyTimeout().toNanos()) {
            return;
        }
        InetSocketAddress ep = p.endpoint;
        if (ep == null) {
            return;
        }
        if (p.handshakeIndex == 0 && handshakesInFlight >= maxHandshakesInFlight) {
            countDrop(WireGuardDropReason.HANDSHAKES_IN_FLIGHT);
            return;
        }
        p.hasSentHandshake = true;
        p.lastSentHandshakeNanos = now;
        clearHandshakeIndex(p);
        int idx = newIndex();
        byte[] msg = p.handshake.createInitiation(idx, wallNanos(now));
        p.handshakeIndex = idx;
        handshakesInFlight++;
        indexes.put(idx, new IndexEntry(p, null));
        p.cookies.addMacs(msg, now);
        write(Unpooled.wrappedBuffer(msg), ep);
        p.txBytes += msg.length;
        anyAuthenticatedPacketTraversal(p);
        p.sendKeepalive.stop();
        p.retransmitHandshake.set(timers.rekeyTimeout().toNanos() + jitter());
    }

    private void clearHandshakeIndex(Peer p) {
        if (p.handshakeIndex != 0) {
            indexes.remove(p.handshakeIndex);
            p.handshakeIndex = 0;
            handshakesInFlight--;
        }
    }

    /** Removes index entries of this peer's keypairs that rotated out. */
    private void syncIndexes(Peer p) {
        Iterator<IntObjectHashMap.PrimitiveEntry<IndexEntry>> it = indexes.entries().iterator();
        while (it.hasNext()) {
            IndexEntry e = it.next().value();
            if (e.peer() == p && e.keypair() != null && p.keypairs.byLocalIndex(e.keypair().localIndex()) != e.keypair()) {
                it.remove();
            }
        }
    }

    private int newIndex() {
        for (;;) {
            int i = random.nextInt();
            if (i != 0 && !indexes.containsKey(i)) {
                return i;
            }
        }
    }

    private long jitter() {
        long max = timers.rekeyTimeoutJitter().toNanos();
        return max <= 0 ? 0 : ThreadLocalRandom.current().nextLong(max);
    }

    private long wallNanos(long now) {
        return wallBaseNanos + (now - tickBase);
    }

    private void write(ByteBuf b, InetSocketAddress to) {
        ctx.write(new DatagramPacket(b, to), ctx.voidPromise());
        flushPending = true;
    }

    /** Flushes datagrams written since the last flush (peer channels call it after their doWrite). */
    void flushParent() {
        flush();
    }

    private void flush() {
        if (!txOpenPeers.isEmpty()) {
            for (int i = 0; i < txOpenPeers.size(); i++) {
                closeTx(txOpenPeers.get(i));
            }
            txOpenPeers.clear();
        }
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
    }

    // ---------------------------------------------------------------- timers

    private void anyAuthenticatedPacketTraversal(Peer p) {
        int ka = p.config.persistentKeepalive();
        if (ka > 0) {
            p.persistentKeepalive.set(TimeUnit.SECONDS.toNanos(ka));
        }
    }

    private void armPersistentKeepalive(Peer p) {
        if (p.config.persistentKeepalive() > 0) {
            anyAuthenticatedPacketTraversal(p);
        } else {
            p.persistentKeepalive.stop();
        }
    }

    private void sessionDerived(Peer p) {
        p.sentLastMinuteHandshake = false;
        p.zeroKeyMaterial.set(timers.rejectAfterTime().toNanos() * 3);
    }

    private void handshakeComplete(Peer p) {
        p.retransmitHandshake.stop();
        p.handshakeAttempts = 0;
        p.latestHandshakeMillis = wallNanos(clock.getAsLong()) / 1_000_000L;
        p.handshakes++;
        for (Promise<Void> w : p.handshakeWaiters) {
            w.trySuccess(null);
        }
        p.handshakeWaiters.clear();
    }

    private void failWaiters(Peer p, Throwable cause) {
        for (Promise<Void> w : p.handshakeWaiters) {
            w.tryFailure(cause);
        }
        p.handshakeWaiters.clear();
    }

    private void onRetransmit(Peer p) {
        if (p.removed) {
            return;
        }
        if (p.handshakeAttempts >= timers.maxHandshakeAttempts()) {
            // give up until there is new traffic; forget staged packets and, later, the keys
            p.sendKeepalive.stop();
            p.releaseStaged();
            clearHandshakeIndex(p);
            p.handshake.clear();
            p.zeroKeyMaterial.setIfStopped(timers.rejectAfterTime().toNanos() * 3);
            failWaiters(p, new java.util.concurrent.TimeoutException("no handshake with " + p.publicKey
                    + " after " + timers.rekeyAttemptTime()));
            return;
        }
        p.handshakeAttempts++;
        InetSocketAddress configured = p.config.endpoint();
        if (configured != null && isHostName(configured)) {
            // beyond wireguard-go: a peer named by host name is looked up again while handshakes fail
            resolve(p, () -> sendInitiation(p, true));
        } else {
            sendInitiation(p, true);
        }
        flush();
    }

    private void onSendKeepalive(Peer p) {
        if (p.removed) {
            return;
        }
        sendKeepalive(p);
        if (p.needAnotherKeepalive) {
            p.needAnotherKeepalive = false;
            p.sendKeepalive.set(timers.keepaliveTimeout().toNanos());
        }
        flush();
    }

    private void onNewHandshake(Peer p) {
        if (!p.removed) {
            sendInitiation(p, false);
            flush();
        }
    }

    private void onZeroKeys(Peer p) {
        p.keypairs.forEach(kp -> indexes.remove(kp.localIndex()));
        p.keypairs.clear();
        p.handshake.clear();
        clearHandshakeIndex(p);
    }

    private void onPersistentKeepalive(Peer p) {
        if (!p.removed && p.config.persistentKeepalive() > 0) {
            sendKeepalive(p);
            flush();
        }
    }

    // ---------------------------------------------------------------- resolution

    private static boolean isHostName(InetSocketAddress a) {
        String h = a.getHostString();
        return !(h.indexOf(':') >= 0 || h.chars().allMatch(c -> c == '.' || Character.isDigit(c)));
    }

    /** Resolves the peer's configured host name off the loop (blocking lookups never run on it), then {@code then}. */
    private void resolve(Peer p, Runnable then) {
        InetSocketAddress configured = p.config.endpoint();
        if (configured == null || p.resolving) {
            return;
        }
        p.resolving = true;
        String host = configured.getHostString();
        int port = configured.getPort();
        GlobalEventExecutor.INSTANCE.execute(() -> {
            InetSocketAddress resolved = null;
            try {
                resolved = new InetSocketAddress(InetAddress.getByName(host), port);
            } catch (java.net.UnknownHostException e) {
                logger.debug("cannot resolve {}", host, e);
            }
            InetSocketAddress r = resolved;
            loop.execute(() -> {
                p.resolving = false;
                if (r != null && !p.removed) {
                    p.endpoint = r;
                }
                then.run();
                flush();
            });
        });
    }

    static int leInt(byte[] a, int off) {
        return (a[off] & 0xFF) | (a[off + 1] & 0xFF) << 8 | (a[off + 2] & 0xFF) << 16 | (a[off + 3] & 0xFF) << 24;
    }

    /** Builder; {@link #privateKey} is required. */
    public static final class Builder {
        private WireGuardKey privateKey;
        private WireGuardTimers timers = WireGuardTimers.DEFAULTS;
        private int maxPeers = DEFAULT_MAX_PEERS;
        private int maxHandshakesInFlight = DEFAULT_MAX_HANDSHAKES_IN_FLIGHT;
        private int maxQueuedPerPeer = DEFAULT_MAX_QUEUED_PER_PEER;
        private int maxRateLimiterEntries = DEFAULT_MAX_RATE_LIMITER_ENTRIES;
        private int underLoadThreshold = DEFAULT_UNDER_LOAD_THRESHOLD;
        private int mtu = DEFAULT_MTU;
        private int handshakesPerSecondPerSource = 20;
        private int handshakeBurstPerSource = 5;
        private WireGuardUnknownPeerHandler unknownPeers;
        private ChannelHandler peerInitializer;
        private final List<WireGuardPeerConfig> peers = new ArrayList<>();
        private EventExecutorGroup cryptoWorkers;
        private int maxCryptoBatchesInFlight = DEFAULT_MAX_CRYPTO_BATCHES_IN_FLIGHT;
        private int maxCryptoQueuedPerPeer = DEFAULT_MAX_CRYPTO_QUEUED_PER_PEER;
        private boolean udpOffloads = true;

        /**
         * Multi-core data path: seal and open transport messages on {@code workers} (e.g. a
         * {@code DefaultEventExecutorGroup}, or the other loops of the UDP channel's own group) in batches of up to
         * 64 / 32 messages, while the UDP channel's loop keeps all protocol state; each peer's messages are sent,
         * and received ones checked against the replay window and delivered, strictly in their order. Null (the
         * default): everything on the loop.
         */
        public Builder cryptoWorkers(EventExecutorGroup workers) {
            cryptoWorkers = workers;
            return this;
        }

        /**
         * Bounds for the multi-core path: batches out on workers at once (beyond it the loop does the crypto itself,
         * default {@value #DEFAULT_MAX_CRYPTO_BATCHES_IN_FLIGHT}) and messages per peer and direction waiting for
         * their turn (beyond it dropped and counted as {@link WireGuardDropReason#CRYPTO_QUEUE_FULL}, default
         * {@value #DEFAULT_MAX_CRYPTO_QUEUED_PER_PEER}).
         */
        public Builder cryptoBounds(int batchesInFlight, int queuedPerPeer) {
            maxCryptoBatchesInFlight = positive(batchesInFlight);
            maxCryptoQueuedPerPeer = positive(queuedPerPeer);
            return this;
        }

        /**
         * UDP GRO and GSO on the outer socket where the transport offers them (default on): see
         * {@link WireGuardEndpoint#isGroEnabled()} and {@link WireGuardEndpoint#isGsoEnabled()}.
         */
        public Builder udpOffloads(boolean on) {
            udpOffloads = on;
            return this;
        }

        public Builder privateKey(WireGuardKey k) {
            privateKey = k;
            return this;
        }

        public Builder timers(WireGuardTimers t) {
            timers = java.util.Objects.requireNonNull(t);
            return this;
        }

        /** Bound on peers (configured and admitted); default {@value #DEFAULT_MAX_PEERS}. */
        public Builder maxPeers(int n) {
            maxPeers = positive(n);
            return this;
        }

        /** Bound on our initiations awaiting responses; default {@value #DEFAULT_MAX_HANDSHAKES_IN_FLIGHT}. */
        public Builder maxHandshakesInFlight(int n) {
            maxHandshakesInFlight = positive(n);
            return this;
        }

        /** Packets staged per peer while a handshake is pending; default {@value #DEFAULT_MAX_QUEUED_PER_PEER}. */
        public Builder maxQueuedPerPeer(int n) {
            maxQueuedPerPeer = positive(n);
            return this;
        }

        public Builder maxRateLimiterEntries(int n) {
            maxRateLimiterEntries = positive(n);
            return this;
        }

        /**
         * Handshake messages per second above which the endpoint is under load (then it demands mac2 and rate
         * limits per source for a second); default {@value #DEFAULT_UNDER_LOAD_THRESHOLD}; 0 means always.
         */
        public Builder underLoadThreshold(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("underLoadThreshold must be >= 0");
            }
            underLoadThreshold = n;
            return this;
        }

        /** Per-source handshake rate under load (default 20 per second, bursts of 5, as wireguard-go). */
        public Builder handshakeRatePerSource(int perSecond, int burst) {
            handshakesPerSecondPerSource = positive(perSecond);
            handshakeBurstPerSource = positive(burst);
            return this;
        }

        /** Largest inner packet sent (default {@value #DEFAULT_MTU}); larger writes are dropped and counted. */
        public Builder mtu(int n) {
            if (n < 1280 - 80 || n > 65535 - 32) {
                throw new IllegalArgumentException("mtu out of range: " + n);
            }
            mtu = n;
            return this;
        }

        /** Server role: decides about initiations from unknown keys. */
        public Builder unknownPeerHandler(WireGuardUnknownPeerHandler h) {
            unknownPeers = h;
            return this;
        }

        /** Added to every peer channel's pipeline when the peer is created (e.g. a {@code PortAttacher}). */
        public Builder peerInitializer(ChannelHandler h) {
            peerInitializer = h;
            return this;
        }

        /** A peer to add when the endpoint is registered. */
        public Builder peer(WireGuardPeerConfig c) {
            peers.add(java.util.Objects.requireNonNull(c));
            return this;
        }

        public WireGuardEndpoint build() {
            if (privateKey == null) {
                throw new IllegalStateException("privateKey is required");
            }
            return new WireGuardEndpoint(this);
        }

        private static int positive(int n) {
            if (n <= 0) {
                throw new IllegalArgumentException("must be positive: " + n);
            }
            return n;
        }
    }
}

package dev.pktkit.openvpn;

import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.ReplayWindow;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.ControlWrap;
import dev.pktkit.openvpn.crypto.TlsCrypt;
import dev.pktkit.openvpn.crypto.TlsCryptV2;
import dev.pktkit.openvpn.wire.ControlPacket;
import dev.pktkit.openvpn.data.AeadDataChannel;
import dev.pktkit.openvpn.data.DataCipher;
import dev.pktkit.openvpn.data.KeyDerivation;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * An OpenVPN 2.6 server as a handler on a UDP {@link io.netty.channel.socket.DatagramChannel}: stock
 * {@code openvpn --client} profiles connect to it. Each client that completes TLS, key method 2 and
 * authentication becomes an {@link OpenVpnClientChannel} (an L3 port, TUN mode) with the
 * {@linkplain Builder#clientInitializer client initializer} in its pipeline, typically an
 * {@link L3HubClientAttacher}, registered on the loop its data channel lives on (see Threads below).
 *
 * <pre>{@code
 * L3Hub hub = L3Hub.builder().build();
 * OpenVpnServer server = OpenVpnServer.builder().ssl(sslContext).server("10.8.0.0 255.255.255.0")
 *         .clientInitializer(new L3HubClientAttacher(hub)).build();
 * new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(server).bind(1194);
 * }</pre>
 *
 * <p>What a session goes through: client hard reset V2 → our reset → TLS (Netty's {@link SslHandler} over the
 * {@link ControlChannel}'s reliable, optionally tls-auth protected stream) → the client's key method 2 message →
 * NCP (the first of {@code data-ciphers} that its {@code IV_CIPHERS} lists) → the {@link OpenVpnAuthenticator}
 * (asynchronous) → our key method 2 message → data keys (RFC 5705 exporter {@code EXPORTER-OpenVPN-datakeys}
 * when the client's {@code IV_PROTO} offers it and the JDK can, else OpenVPN's PRF) → {@code PUSH_REQUEST} /
 * {@code PUSH_REPLY} (topology subnet, ifconfig, route-gateway, routes, ping, ping-restart, peer-id, cipher,
 * key-derivation) → P_DATA_V2 in both directions. A refused client gets {@code AUTH_FAILED}.
 *
 * <p>Data packets: AEAD (AES-128/256-GCM, CHACHA20-POLY1305) with packet-id replay window; OpenVPN pings are
 * answered by our own pings every {@code ping} seconds without other traffic; a client silent for twice the
 * pushed {@code ping-restart} is dropped; explicit-exit-notify (OCC_EXIT in the data channel, or an
 * {@code EXIT} control message) removes the session at once; a client's new source address (float) is taken
 * when a data packet from it authenticates under the client's peer-id.
 *
 * <p>Bounds: {@code maxClients} sessions, of which at most {@code maxHandshakes} before authentication, the
 * address pool, the reliability layer's windows, {@code maxQueuedPerClient}, 64 KiB of TLS plaintext per
 * session; every drop counted ({@link #drops(OpenVpnDropReason)}).
 *
 * <p>TCP ({@code proto tcp}): add {@link #tcpInitializer()} as the child handler of a server bootstrap; UDP and TCP
 * clients then share one table.
 *
 * <p>Control-channel protection: none, tls-auth, tls-crypt or tls-crypt-v2 (one of them); on UDP the stateless
 * HMAC-cookie handshake of OpenVPN 2.6 keeps no state for a reset until the client echoes our cookie. Also: TAP
 * mode ({@link Builder#tap}), IPv6 pool ({@link Builder#serverIpv6}), renegotiation (soft resets either way,
 * lame-duck key), AES-256-CBC + HMAC, compression framing without compression ({@link Compression}).
 *
 * <p>Threads (the multi-core data channel): the control side (sessions, TLS in a per-session
 * {@link EmbeddedChannel}, the address pool, the address table, timers) lives on the <em>home</em> loop, the UDP
 * channel's (or the first TCP connection's). Each connected client's data channel (open and seal, its packet-ids
 * and replay window, its {@link OpenVpnClientChannel} and the hub port behind it) lives on one loop chosen when it
 * authenticates: a TCP client's connection loop; for UDP the loop of the UDP channel's group with the fewest
 * clients. A data packet is looked up by peer-id on the loop that received it (a lock-free array read) and opened
 * there if its session lives there, else handed over to the session's loop in one task per loop and read batch
 * ({@link #handoffs()}). With {@link #reusePortSocket()} on epoll or io_uring, each loop has an
 * {@code SO_REUSEPORT} socket of its own on the port. Keys go from the home loop to the data loop as immutable
 * snapshots; what the data path learns for the control side (float, exit, the client's first use of a new key)
 * goes back as a task. No locks on the data path.
 *
 * <p>Not done (see the module README): re-authentication on renegotiation (CRLs: {@link OpenVpnTls}; the client
 * role: {@link OpenVpnClient}; a configuration file: {@link OpenVpnServerConfig}).
 *
 * <p>One instance per UDP channel (not {@code @Sharable}); more sockets on the same port through
 * {@link #reusePortSocket()}.
 */
public final class OpenVpnServer extends ChannelDuplexHandler {
    /** OpenVPN's ping payload (ping.c). */
    static final byte[] PING = {0x2a, 0x18, 0x7b, (byte) 0xf3, 0x64, 0x1e, (byte) 0xb4, (byte) 0xcb, 0x07,
        (byte) 0xed, 0x2d, 0x0a, (byte) 0x98, 0x1f, (byte) 0xc7, 0x48};
    /** The OCC message prefix (occ.h); the byte after it is the OCC opcode. */
    static final byte[] OCC = {0x28, 0x7f, 0x34, 0x6b, (byte) 0xd4, (byte) 0xef, 0x7a, (byte) 0x81, 0x2d, 0x56,
        (byte) 0xb8, (byte) 0xd3, (byte) 0xaf, (byte) 0xc5, 0x45, (byte) 0x9c};
    static final int OCC_EXIT = 6;
    /** IV_PROTO bits (ssl.h). */
    static final int IV_PROTO_DATA_V2 = 1 << 1;
    static final int IV_PROTO_TLS_KEY_EXPORT = 1 << 3;
    static final int IV_PROTO_CC_EXIT_NOTIFY = 1 << 7;
    static final int MAX_PLAINTEXT = 65536;
    private static final long TICK_MILLIS = 200;

    private final OpenVpnOptions.Shared shared;
    private final TlsCryptV2.ServerKey tlsCryptV2Key;
    private final boolean stateless;
    private final boolean tap;
    private final Compression compression;
    /** {@code server-ipv6}: the network (its first 64 bits used), its prefix length; null for none. */
    private final java.net.Inet6Address ipv6Network;
    private final int ipv6PrefixLength;
    /** The server-wide protection that checks first packets (tls-auth / tls-crypt; null for none or v2). */
    private ControlWrap standaloneWrap;
    private TlsCryptV2.Unwrapper v2Unwrapper;
    private javax.crypto.Mac cookieMac;
    private final byte[] cookieScratch = new byte[32];
    private long statelessReplies;
    private long renegotiations;
    private final long renegBytes;
    private final AddressPool pool;
    private final List<String> push;
    private final int ping;
    private final int pingRestart;
    private final OpenVpnAuthenticator authenticator;
    private final int maxClients;
    private final int maxHandshakes;
    private final int maxQueuedPerClient;
    private final ChannelHandler clientInitializer;

    private final SecureRandom random = new SecureRandom();
    private final Map<InetSocketAddress, Session> byAddress = new HashMap<>();
    /** Peer-id to session: written on the home loop, read lock-free on any receiving loop. */
    private final java.util.concurrent.atomic.AtomicReferenceArray<Session> byPeerId;
    private final java.util.concurrent.atomic.AtomicLongArray drops =
            new java.util.concurrent.atomic.AtomicLongArray(OpenVpnDropReason.values().length);
    private final java.util.concurrent.atomic.LongAdder handoffs = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder floats = new java.util.concurrent.atomic.LongAdder();
    /** Per-loop data-path state, by loop; the map and the session counts are the home loop's. */
    private final java.util.IdentityHashMap<io.netty.channel.EventLoop, LoopState> loopStates =
            new java.util.IdentityHashMap<>();
    /** The home loop's own state (its read batch, its dirty links, its hand-overs to other loops). */
    private LoopState homeState;
    private ChannelHandlerContext udp;
    private volatile io.netty.channel.EventLoop home;
    private ByteBufAllocator alloc;
    private final java.util.LinkedHashSet<Session> sessions = new java.util.LinkedHashSet<>();
    private ScheduledFuture<?> ticker;
    /** The coarse clock: set by the home loop's tick, read by the data loops too. */
    private volatile long now;
    private int handshakes;
    private int clients;
    private long sessionsCreated;
    private long authFailures;

    private OpenVpnServer(Builder b) {
        shared = b.shared(true);
        tlsCryptV2Key = b.tlsCryptV2Key;
        if (shared.staticKeyProtection() && tlsCryptV2Key != null) {
            throw new IllegalArgumentException("choose one of tls-auth, tls-crypt and tls-crypt-v2");
        }
        stateless = b.stateless;
        tap = b.tap;
        compression = b.compression;
        renegBytes = b.renegBytes;
        ipv6Network = b.ipv6Network;
        ipv6PrefixLength = b.ipv6PrefixLength;
        standaloneWrap = shared.newWrap();
        v2Unwrapper = tlsCryptV2Key == null ? null : tlsCryptV2Key.unwrapper();
        try {
            byte[] k = new byte[32];
            random.nextBytes(k);
            cookieMac = javax.crypto.Mac.getInstance("HmacSHA256");
            cookieMac.init(new javax.crypto.spec.SecretKeySpec(k, "HmacSHA256"));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable", e);
        }
        pool = b.pool;
        push = List.copyOf(b.push);
        ping = b.ping;
        pingRestart = b.pingRestart;
        authenticator = b.authenticator;
        maxClients = Math.min(b.maxClients, pool.capacity());
        maxHandshakes = b.maxHandshakes;
        maxQueuedPerClient = b.maxQueuedPerClient;
        clientInitializer = b.clientInitializer;
        byPeerId = new java.util.concurrent.atomic.AtomicReferenceArray<>(maxClients);
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---- counters (read from any thread; racy but monotonic) ----

    public long drops(OpenVpnDropReason reason) {
        return drops.get(reason.ordinal());
    }

    /** All non-zero drop counters. */
    public Map<OpenVpnDropReason, Long> drops() {
        Map<OpenVpnDropReason, Long> m = new java.util.EnumMap<>(OpenVpnDropReason.class);
        for (OpenVpnDropReason r : OpenVpnDropReason.values()) {
            if (drops.get(r.ordinal()) != 0) {
                m.put(r, drops.get(r.ordinal()));
            }
        }
        return m;
    }

    io.netty.channel.EventLoop homeLoop() {
        return home;
    }

    void countDrop(OpenVpnDropReason r) {
        drops.incrementAndGet(r.ordinal());
    }

    /**
     * Data packets handed over from the loop that received them to their session's loop (the session's data
     * channel runs on another loop of the group than the UDP socket's, or a TCP frame went through the home loop).
     */
    public long handoffs() {
        return handoffs.sum();
    }

    /** Clients whose transport address changed (float), taken when a data packet from the new address authenticated. */
    public long floats() {
        return floats.sum();
    }

    /** Sessions that exist now (handshaking or connected). */
    public int sessionCount() {
        return handshakes + clients;
    }

    /** Connected (authenticated) clients. */
    public int clientCount() {
        return clients;
    }

    /** Sessions ever created (a flood that creates none leaves this unchanged). */
    public long sessionsCreated() {
        return sessionsCreated;
    }

    /** Keys renegotiated (soft resets completed, either side's). */
    public long renegotiations() {
        return renegotiations;
    }

    /** Hard resets answered statelessly (with an HMAC cookie as our session ID, no state kept). */
    public long statelessReplies() {
        return statelessReplies;
    }

    /** Clients answered with {@code AUTH_FAILED} (refused by the authenticator, no shared cipher, pool full). */
    public long authFailures() {
        return authFailures;
    }

    /** The server's own IPv6 address in the tunnel ({@code server-ipv6}'s network + 1), or null. */
    public java.net.Inet6Address serverAddress6() {
        return ipv6Network == null ? null : v6Plus(ipv6Network, 1);
    }

    /**
     * A client's IPv6 address: the {@code server-ipv6} network plus 0x1000 plus the index of its IPv4 address in
     * the subnet (10.8.0.2 gets ::1002), so the IPv4 pool bounds both and the pair is freed together.
     */
    private java.net.Inet6Address ipv6For(Inet4Address v4) {
        int index = AddressPool.toInt(v4) - (AddressPool.toInt(pool.serverAddress()) - 1);
        return v6Plus(ipv6Network, 0x1000L + index);
    }

    private static java.net.Inet6Address v6Plus(java.net.Inet6Address net, long add) {
        byte[] b = net.getAddress();
        long low = 0;
        for (int i = 8; i < 16; i++) {
            low = (low << 8) | (b[i] & 0xff);
        }
        low += add;
        for (int i = 15; i >= 8; i--) {
            b[i] = (byte) low;
            low >>>= 8;
        }
        try {
            return (java.net.Inet6Address) java.net.InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Whether clients are L2 ports carrying Ethernet frames ({@code dev tap}) rather than IP packets. */
    public boolean isTap() {
        return tap;
    }

    /** The connected clients' channels (call on the loop). */
    public List<OpenVpnClientChannel> clientChannels() {
        List<OpenVpnClientChannel> out = new ArrayList<>();
        for (int i = 0; i < byPeerId.length(); i++) {
            Session s = byPeerId.get(i);
            if (s != null && s.child != null) {
                out.add(s.child);
            }
        }
        return out;
    }

    // ---- pipeline ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (udp != null) {
            throw new IllegalStateException("an OpenVpnServer serves one UDP channel");
        }
        udp = ctx;
        setHome(ctx.channel().eventLoop(), ctx.alloc());
    }

    /** The loop all of this server's state lives on: the UDP channel's, or the first TCP connection's. */
    private synchronized void setHome(io.netty.channel.EventLoop loop, ByteBufAllocator a) {
        if (home == null) {
            alloc = a;
            now = System.nanoTime();
            homeState = new LoopState(loop);
            homeState.udp = udp;
            loopStates.put(loop, homeState);
            home = loop;
            home.execute(() -> {
                if (ticker == null) {
                    ticker = home.scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
                }
            });
        } else if (udp != null && udp.channel().eventLoop() != home) {
            throw new IllegalStateException("the UDP channel must be on the loop the server already runs on");
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        shutdown();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        shutdown();
    }

    private void shutdown() {
        if (ticker != null) {
            ticker.cancel(false);
            ticker = null;
        }
        if (homeState != null) {
            for (Handoff h : homeState.outbox.values()) {
                h.release();
            }
            homeState.outbox.clear();
        }
        for (Session s : new ArrayList<>(sessions)) {
            remove(s);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket dp)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            onPacket(dp.content(), dp.sender(), null, homeState);
        } finally {
            dp.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        completeBatch(homeState);
        dispatchHandoffs(homeState);
        ctx.fireChannelReadComplete();
    }

    /** On {@code ls}'s loop at the end of a read batch: the sessions' channels complete their reads; links flush. */
    private void completeBatch(LoopState ls) {
        ArrayList<Session> batch = ls.readBatch;
        for (int i = 0; i < batch.size(); i++) {
            Session s = batch.get(i);
            s.inBatch = false;
            if (s.child != null) {
                s.child.completeRead();
            }
        }
        batch.clear();
        flushLinks(ls);
    }

    /** On {@code rx}'s loop at the end of its read batch: one task per loop that has packets handed over. */
    private void dispatchHandoffs(LoopState rx) {
        java.util.IdentityHashMap<LoopState, Handoff> outbox = rx.outbox;
        if (outbox.isEmpty()) {
            return;
        }
        for (Handoff h : outbox.values()) {
            try {
                h.target.loop.execute(() -> runHandoff(h));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                h.release(); // the loop is shutting down
            }
        }
        outbox.clear();
    }

    /** On the target loop: the handed-over packets through their sessions' data channels, then the batch end. */
    private void runHandoff(Handoff h) {
        for (int i = 0; i < h.packets.size(); i++) {
            ByteBuf p = h.packets.get(i);
            try {
                openData(h.sessions.get(i), p, p.readerIndex(), p.readableBytes(), h.senders.get(i));
            } finally {
                p.release();
            }
        }
        completeBatch(h.target);
    }

    /**
     * On the home loop: one packet from UDP ({@code conn} null) or one frame from a TCP connection; {@code socket}
     * is the loop whose UDP socket received it (the home loop's, or a {@link #reusePortSocket()}'s).
     */
    private void onPacket(ByteBuf c, InetSocketAddress from, TcpConnection conn, LoopState socket) {
        int off = c.readerIndex();
        int len = c.readableBytes();
        if (len < 1) {
            countDrop(OpenVpnDropReason.MALFORMED);
            return;
        }
        int op = Opcode.of(c.getByte(off));
        if (op == Opcode.DATA_V2 || op == Opcode.DATA_V1) {
            onData(c, off, len, op, from, conn, homeState);
            return;
        }
        boolean reset = op == Opcode.CONTROL_HARD_RESET_CLIENT_V2 || op == Opcode.CONTROL_HARD_RESET_CLIENT_V3;
        Session s = conn != null ? conn.session : byAddress.get(from);
        if (s != null && reset && len >= 9 && s.control.remoteSessionId() != c.getLong(off + 1)) {
            remove(s); // the client restarted from the same address
            s = null;
        }
        if (s != null) {
            s.socket = socket;
        }
        if (s == null && conn == null && stateless) {
            onStateless(c, off, len, op, from, socket);
            return;
        }
        if (s == null) {
            if (!reset) {
                countDrop(OpenVpnDropReason.NO_SESSION);
                return;
            }
            if (handshakes >= maxHandshakes || handshakes + clients >= maxClients) {
                countDrop(OpenVpnDropReason.SESSION_LIMIT);
                return;
            }
            ControlWrap wrap = standaloneWrapFor(op);
            int plen = len;
            if (op == Opcode.CONTROL_HARD_RESET_CLIENT_V3) {
                int wl = v2Unwrapper == null ? -1 : TlsCryptV2.Unwrapper.wkcLength(c, off, len);
                StaticKey kc = wl < 0 ? null : v2Unwrapper.unwrap(c, off + len - wl, wl);
                if (kc == null) {
                    countDrop(OpenVpnDropReason.BAD_WKC);
                    return;
                }
                wrap = new TlsCrypt(kc, true);
                plen = len - wl;
            } else if (v2Unwrapper != null) {
                countDrop(OpenVpnDropReason.BAD_HMAC); // tls-crypt-v2 servers accept only wrapped clients
                return;
            }
            s = newSession(from, conn, random.nextLong(), wrap == standaloneWrap ? shared.newWrap() : wrap);
            s.socket = socket;
            OpenVpnDropReason r = s.control.onPacket(c.retainedSlice(off, plen), now);
            if (r != null) {
                countDrop(r);
                remove(s); // a reset that does not verify creates no lasting state
                return;
            }
            s.control.sendReset(now);
        } else {
            int plen = len;
            if (op == Opcode.CONTROL_HARD_RESET_CLIENT_V3 || op == Opcode.CONTROL_WKC_V1) {
                // the session's key is set up already: the WKc part is ignored (as OpenVPN does)
                int wl = TlsCryptV2.Unwrapper.wkcLength(c, off, len);
                if (wl < 0 || v2Unwrapper == null) {
                    countDrop(OpenVpnDropReason.BAD_WKC);
                    return;
                }
                plen = len - wl;
            }
            int keyId = Opcode.keyId(c.getByte(off));
            if (keyId != s.keyId) {
                onOtherKey(s, c, off, plen, op, keyId);
                return;
            }
            OpenVpnDropReason r = s.control.onPacket(c.retainedSlice(off, plen), now);
            if (r != null) {
                countDrop(r);
            }
        }
        afterControlInput(s);
    }

    /** The server-wide protection for a first packet of opcode {@code op} (null: none). */
    private ControlWrap standaloneWrapFor(int op) {
        return standaloneWrap;
    }

    /** The tls-crypt packet-id prefix of a 2.6 tls-crypt-v2 client's reset that announces early negotiation. */
    static final long EARLY_NEG_START = 0x0f000000L;
    static final int TLV_EARLY_NEG_FLAGS = 1;
    static final int EARLY_NEG_FLAG_RESEND_WKC = 1;

    /**
     * A control packet from a UDP address with no session, under the stateless HMAC-cookie handshake (OpenVPN
     * 2.6's): a verified hard reset is answered with our reset whose session ID is an HMAC of a time slot, the
     * client's address and the client's session ID, and nothing is kept; a session is created only when a
     * control, ack or WKC packet echoes a valid cookie (and acknowledges nothing beyond message 1).
     */
    private void onStateless(ByteBuf c, int off, int len, int op, InetSocketAddress from, LoopState socket) {
        boolean v3 = op == Opcode.CONTROL_HARD_RESET_CLIENT_V3 || op == Opcode.CONTROL_WKC_V1;
        if (op != Opcode.CONTROL_HARD_RESET_CLIENT_V2 && op != Opcode.CONTROL_V1 && op != Opcode.ACK_V1
                && !(v3 && v2Unwrapper != null)) {
            countDrop(OpenVpnDropReason.NO_SESSION);
            return;
        }
        if (len < ControlPacket.HEADER_LENGTH || Opcode.keyId(c.getByte(off)) != 0) {
            countDrop(OpenVpnDropReason.MALFORMED);
            return;
        }
        ControlWrap wrap = standaloneWrap;
        int plen = len;
        if (v3) {
            int wl = TlsCryptV2.Unwrapper.wkcLength(c, off, len);
            StaticKey kc = wl < 0 ? null : v2Unwrapper.unwrap(c, off + len - wl, wl);
            if (kc == null) {
                countDrop(OpenVpnDropReason.BAD_WKC);
                return;
            }
            wrap = new TlsCrypt(kc, true);
            plen = len - wl;
        } else if (v2Unwrapper != null) {
            countDrop(OpenVpnDropReason.BAD_HMAC);
            return;
        }
        int p = off;
        int pl = plen;
        long pid = 0;
        if (wrap != null) {
            p = wrap.unwrap(c, off, plen);
            if (p < 0) {
                countDrop(OpenVpnDropReason.BAD_HMAC);
                return;
            }
            pl = plen - (p - off);
            pid = wrap.lastPacketId();
        }
        if (ControlPacket.check(c, p, pl) != ControlPacket.OK) {
            countDrop(OpenVpnDropReason.MALFORMED);
            return;
        }
        long clientSid = ControlPacket.sessionId(c, p);
        if (op == Opcode.CONTROL_HARD_RESET_CLIENT_V2 || op == Opcode.CONTROL_HARD_RESET_CLIENT_V3) {
            if (ControlPacket.messageId(c, p) != 0) {
                countDrop(OpenVpnDropReason.BAD_OPCODE);
                return;
            }
            boolean earlyNeg = (pid & 0xff000000L) == EARLY_NEG_START;
            if (op == Opcode.CONTROL_HARD_RESET_CLIENT_V3 && !earlyNeg) {
                // a tls-crypt-v2 client that cannot resend its WKc: it needs state now (OpenVPN does the same)
                if (handshakes >= maxHandshakes || handshakes + clients >= maxClients) {
                    countDrop(OpenVpnDropReason.SESSION_LIMIT);
                    return;
                }
                Session s = newSession(from, null, random.nextLong(), wrap);
                s.socket = socket;
                OpenVpnDropReason r = s.control.onUnwrapped(c.retain(), p, pl, pid, now);
                if (r != null) {
                    countDrop(r);
                    remove(s);
                    return;
                }
                s.control.sendReset(now);
                afterControlInput(s);
                return;
            }
            statelessReset(from, clientSid, wrap, op == Opcode.CONTROL_HARD_RESET_CLIENT_V3);
            return;
        }
        int n = ControlPacket.ackCount(c, p);
        if (n == 0) {
            countDrop(OpenVpnDropReason.BAD_COOKIE);
            return;
        }
        for (int i = 0; i < n; i++) {
            if (ControlPacket.ack(c, p, i) > 1) {
                countDrop(OpenVpnDropReason.BAD_COOKIE);
                return;
            }
        }
        if (op != Opcode.ACK_V1 && ControlPacket.messageId(c, p) > 1) {
            countDrop(OpenVpnDropReason.BAD_COOKIE);
            return;
        }
        long cookie = ControlPacket.remoteSessionId(c, p);
        if (!cookieValid(cookie, from, clientSid)) {
            countDrop(OpenVpnDropReason.BAD_COOKIE);
            return;
        }
        if (handshakes >= maxHandshakes || handshakes + clients >= maxClients) {
            countDrop(OpenVpnDropReason.SESSION_LIMIT);
            return;
        }
        Session s = newSession(from, null, cookie, wrap == standaloneWrap ? shared.newWrap() : wrap);
        s.socket = socket;
        s.control.startAfterResets(clientSid, now);
        OpenVpnDropReason r = s.control.onUnwrapped(c.retain(), p, pl, pid, now);
        if (r != null) {
            countDrop(r);
            remove(s);
            return;
        }
        afterControlInput(s);
    }

    private void statelessReset(InetSocketAddress to, long clientSid, ControlWrap wrap, boolean resendWkc) {
        long cookie = cookie(to, clientSid, 0);
        ByteBuf plain = alloc.buffer(64);
        long[] ack = {0};
        ControlPacket.writeHeader(plain, Opcode.CONTROL_HARD_RESET_SERVER_V2, 0, cookie, ack, 1, clientSid, 0);
        if (resendWkc) {
            plain.writeShort(TLV_EARLY_NEG_FLAGS).writeShort(2).writeShort(EARLY_NEG_FLAG_RESEND_WKC);
        }
        ByteBuf out = plain;
        if (wrap != null) {
            out = wrap.wrap(alloc, plain, 1, System.currentTimeMillis() / 1000);
            plain.release();
        }
        statelessReplies++;
        udp.write(new DatagramPacket(out, to), udp.voidPromise());
        homeState.udpDirty = true;
    }

    /** Our session ID for a client: HMAC-SHA256(server secret, time slot, address, port, client session ID). */
    private long cookie(InetSocketAddress from, long clientSid, int slotOffset) {
        long slot = TimeUnit.NANOSECONDS.toSeconds(now) / ((handWindowSeconds() + 1) / 2) + slotOffset;
        javax.crypto.Mac m = cookieMac;
        m.update((byte) (slot >>> 24));
        m.update((byte) (slot >>> 16));
        m.update((byte) (slot >>> 8));
        m.update((byte) slot);
        m.update(from.getAddress().getAddress());
        m.update((byte) (from.getPort() >>> 8));
        m.update((byte) from.getPort());
        for (int i = 56; i >= 0; i -= 8) {
            m.update((byte) (clientSid >>> i));
        }
        try {
            m.doFinal(cookieScratch, 0);
        } catch (javax.crypto.ShortBufferException e) {
            throw new IllegalStateException(e);
        }
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (cookieScratch[i] & 0xff);
        }
        return v;
    }

    /** A cookie of this slot or one of the two before it (each slot is half the hand-window). */
    private boolean cookieValid(long cookie, InetSocketAddress from, long clientSid) {
        boolean ok = false;
        for (int off = -2; off <= 0; off++) {
            ok |= cookie(from, clientSid, off) == cookie;
        }
        return ok;
    }

    private long handWindowSeconds() {
        return Math.max(2, TimeUnit.NANOSECONDS.toSeconds(shared.handWindowNanos()));
    }

    private Session newSession(InetSocketAddress from, TcpConnection conn, long localSid, ControlWrap auth) {
        Session s = new Session(from);
        if (conn != null) {
            s.tcp = conn.channel;
            conn.session = s;
        }
        s.control = new ControlChannel(alloc, shared.reliableConfig(), auth, true, localSid, 0,
                ControlChannel.DEFAULT_SEND_QUEUE, now, out -> {
                    if (!s.closed) {
                        transmit(homeState, s, out);
                    } else {
                        out.release();
                    }
                }, msg -> s.tlsIn(msg));
        s.sslHandler = shared.ssl().newHandler(alloc);
        s.sslHandler.setHandshakeTimeoutMillis(0);
        s.tls = new EmbeddedChannel(s.sslHandler);
        s.created = now;
        if (conn == null) {
            byAddress.put(from, s);
        }
        sessions.add(s);
        handshakes++;
        sessionsCreated++;
        return s;
    }

    private void afterControlInput(Session s) {
        if (s.closed) {
            return;
        }
        s.pumpTls();
        if (s.closed) {
            return;
        }
        try {
            processPlaintext(s);
        } catch (IllegalArgumentException e) {
            countDrop(OpenVpnDropReason.BAD_CONTROL_MESSAGE);
            remove(s);
            return;
        }
        s.pumpTls();
        if (!s.closed) {
            s.control.flushAcks();
        }
    }

    private void processPlaintext(Session s) {
        ByteBuf p = s.plain;
        if (s.state == State.TLS && p.isReadable()) {
            KeyMethod2Message m = KeyMethod2Message.read(p, true);
            if (m == null) {
                if (p.readableBytes() > MAX_PLAINTEXT / 2) {
                    throw new IllegalArgumentException("key method 2 message too long");
                }
                return;
            }
            onClientKeyMethod2(s, m);
        }
        while (s.state.compareTo(State.AUTHENTICATING) >= 0 && !s.closed) {
            int nul = p.indexOf(p.readerIndex(), p.writerIndex(), (byte) 0);
            if (nul < 0) {
                if (p.readableBytes() > 4096) {
                    throw new IllegalArgumentException("control message without terminator");
                }
                break;
            }
            String m = p.toString(p.readerIndex(), nul - p.readerIndex(), StandardCharsets.UTF_8);
            p.readerIndex(nul + 1);
            onControlMessage(s, m);
        }
        if (!s.closed) {
            p.discardReadBytes();
        }
    }

    private void onClientKeyMethod2(Session s, KeyMethod2Message m) {
        s.clientKm2 = m;
        Map<String, String> info = m.peerInfoMap();
        int ivProto = 0;
        try {
            ivProto = Integer.parseInt(info.getOrDefault("IV_PROTO", "0").trim());
        } catch (NumberFormatException e) {
            ivProto = 0;
        }
        s.ivProto = ivProto;
        String cn = "";
        try {
            SSLSession ts = s.sslHandler.engine().getSession();
            if (ts.getPeerCertificates().length > 0 && ts.getPeerCertificates()[0] instanceof X509Certificate x) {
                cn = commonName(x);
            }
        } catch (SSLPeerUnverifiedException e) {
            cn = "";
        }
        s.credentials = new OpenVpnCredentials(m.username(), m.password(), cn, info, s.remote);
        List<String> names = new ArrayList<>();
        for (DataCipher c : shared.dataCiphers()) {
            names.add(c.openVpnName);
        }
        String chosen = Ncp.select(names, info.get("IV_CIPHERS")).orElse(null);
        s.state = State.AUTHENTICATING;
        if (chosen == null) {
            answerAuth(s, false);
            return;
        }
        s.cipher = DataCipher.byName(chosen);
        authenticator.authenticate(s.credentials).whenComplete((ok, err) -> home.execute(() -> {
            if (!s.closed) {
                answerAuth(s, err == null && Boolean.TRUE.equals(ok));
                s.pumpTls();
                if (!s.closed) {
                    s.control.flushAcks();
                }
                flushLinks(homeState);
            }
        }));
    }

    /**
     * The client's common name as OpenVPN takes it (the last CN in certificate order, a part of a multi-valued RDN
     * included, escapes undone), or "" without one. Read from the DER, not by splitting the RFC 2253 string, which
     * breaks on an escaped comma ({@code CN=Doe\, John}).
     */
    static String commonName(X509Certificate x) {
        String cn = OpenVpnTls.ServerCheck.commonName(x.getSubjectX500Principal());
        return cn == null ? "" : cn;
    }

    private void answerAuth(Session s, boolean ok) {
        byte[] r1 = new byte[KeyMethod2Message.RANDOM];
        byte[] r2 = new byte[KeyMethod2Message.RANDOM];
        random.nextBytes(r1);
        random.nextBytes(r2);
        ByteBuf out = alloc.buffer();
        new KeyMethod2Message(new byte[0], r1, r2, optionsString(s), "", "", "").emit(out);
        s.tlsOut(out);
        if (!ok || (s.address = pool.allocate()) == null) {
            sendControlMessage(s, "AUTH_FAILED");
            authFailures++;
            s.state = State.FAILED;
            s.failedAt = now;
            return;
        }
        s.ekm = shared.tlsEkm() && (s.ivProto & IV_PROTO_TLS_KEY_EXPORT) != 0 && KeyDerivation.exporterAvailable();
        byte[] key2 = s.ekm ? KeyDerivation.exporter(s.sslHandler.engine().getSession())
                : KeyDerivation.prf(s.clientKm2.preMaster(), s.clientKm2.random1(), r1, s.clientKm2.random2(), r2,
                        s.control.remoteSessionId(), s.control.localSessionId());
        s.data = KeyDerivation.dataChannel(s.cipher, shared.authDigest(), key2, true, new ReplayWindow());
        Arrays.fill(key2, (byte) 0);
        int peerId = 0;
        while (byPeerId.get(peerId) != null) {
            peerId++;
        }
        s.peerId = peerId;
        s.useV2 = (s.ivProto & IV_PROTO_DATA_V2) != 0;
        s.state = State.CONNECTED;
        s.keyStarted = now;
        s.lastRx = now;
        s.lastTx = now;
        handshakes--;
        clients++;
        s.address6 = ipv6Network == null ? null : ipv6For(s.address);
        OpenVpnClientChannel child = new OpenVpnClientChannel(this, s.tcp != null ? s.tcp : udp.channel(), s,
                s.address);
        s.child = child;
        if (clientInitializer != null) {
            child.pipeline().addLast(clientInitializer);
        }
        publishKeys(s);
        LoopState ls = placeSession(s);
        s.ls = ls; // after every field the data path reads: the volatile write publishes them
        byPeerId.set(peerId, s);
        ls.loop.register(child);
    }

    /**
     * The loop a new client's data channel and hub port live on: a TCP client's connection loop; for UDP the loop
     * of the UDP channel's group with the fewest clients (the UDP channel's own loop on a tie), so the per-packet
     * AEAD work of different clients runs on different loops. On a tie, the loop whose socket the client's
     * datagrams arrive at ({@link #reusePortSocket()}: the kernel's choice), so that nothing needs handing over.
     */
    private LoopState placeSession(Session s) {
        LoopState best;
        if (s.tcp != null) {
            best = stateFor(s.tcp.eventLoop());
        } else {
            best = s.socket != null ? s.socket : homeState;
            io.netty.channel.EventLoopGroup group = udp.channel().eventLoop().parent();
            if (group != null) {
                for (io.netty.util.concurrent.EventExecutor e : group) {
                    if (e instanceof io.netty.channel.EventLoop l) {
                        LoopState c = stateFor(l);
                        if (c.sessions < best.sessions) {
                            best = c;
                        }
                    }
                }
            }
        }
        best.sessions++;
        return best;
    }

    private LoopState stateFor(io.netty.channel.EventLoop loop) {
        return loopStates.computeIfAbsent(loop, LoopState::new);
    }

    /** On the home loop, after any change of a session's keys: the data loop sees them at its next packet. */
    private static void publishKeys(Session s) {
        Rekey r = s.rekey;
        s.keys = new Keys(s.data, s.dataKeyId, s.lameData, s.lameKeyId, r == null ? null : r.data,
                r == null ? -1 : r.keyId);
    }

    /**
     * Destroys data keys no longer published ({@link #publishKeys} ran without them) on the session's data loop,
     * after whatever packet it is working on.
     */
    private static void retire(Session s, dev.pktkit.openvpn.data.DataChannel... keys) {
        Runnable destroy = () -> {
            for (dev.pktkit.openvpn.data.DataChannel k : keys) {
                if (k != null) {
                    k.destroy();
                }
            }
        };
        LoopState ls = s.ls;
        if (ls == null || ls.loop.inEventLoop()) {
            destroy.run();
            return;
        }
        try {
            ls.loop.execute(destroy);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            destroy.run(); // the loop is gone: nothing uses the keys any more
        }
    }

    /** Ends a renegotiation in progress: unpublished first, then released. */
    private void dropRekey(Session s) {
        Rekey r = s.rekey;
        s.rekey = null;
        publishKeys(s);
        r.release();
    }

    private void onHome(Runnable r) {
        if (home.inEventLoop()) {
            r.run();
        } else {
            home.execute(r);
        }
    }

    /** Our OCC options string (key method 2); clients only compare it and warn. */
    private String optionsString(Session s) {
        String cipherName = s.cipher == null ? "[null-cipher]" : s.cipher.openVpnName;
        return "V4,dev-type " + (tap ? "tap,link-mtu 1563" : "tun,link-mtu 1549")
                + ",tun-mtu 1500,proto " + (s.tcp != null ? "TCPv4_SERVER" : "UDPv4") + ",cipher " + cipherName
                + ",auth " + (s.cipher != null && !s.cipher.isAead() ? shared.authDigest() : "[null-digest]")
                + ",keysize " + (s.cipher == null ? 0 : s.cipher.keyLength * 8)
                + ",key-method 2,tls-server";
    }

    // ---- renegotiation ----

    /** The key ID after {@code k}: 1..7 cycling (0 is only the first key's). */
    static int nextKeyId(int k) {
        return k % 7 + 1;
    }

    /** Starts a new key on {@code s} (the peer's soft reset arrived, or ours is due): a fresh TLS session. */
    private Rekey startRekey(Session s, int keyId) {
        Rekey r = new Rekey(s, keyId);
        r.control = new ControlChannel(alloc, shared.reliableConfig(), s.control.wrap(), true,
                s.control.localSessionId(), keyId, ControlChannel.DEFAULT_SEND_QUEUE, now, out -> {
                    if (!s.closed) {
                        transmit(homeState, s, out);
                    } else {
                        out.release();
                    }
                }, msg -> s.tlsInto(r.tls, r.plain, msg));
        r.control.softReset(s.control.remoteSessionId());
        r.control.shareProtection(s.control);
        r.sslHandler = shared.ssl().newHandler(alloc);
        r.sslHandler.setHandshakeTimeoutMillis(0);
        r.tls = new EmbeddedChannel(r.sslHandler);
        r.started = now;
        s.rekey = r;
        return r;
    }

    /** A control packet for a key ID other than the session's primary one. */
    private void onOtherKey(Session s, ByteBuf c, int off, int plen, int op, int keyId) {
        Rekey r = s.rekey;
        if (r == null || r.keyId != keyId) {
            if (op != Opcode.CONTROL_SOFT_RESET_V1 || s.state != State.CONNECTED || keyId != nextKeyId(s.keyId)) {
                countDrop(OpenVpnDropReason.BAD_OPCODE);
                return;
            }
            if (r != null) {
                dropRekey(s);
            }
            r = startRekey(s, keyId);
            OpenVpnDropReason d = r.control.onPacket(c.retainedSlice(off, plen), now);
            if (d != null) {
                countDrop(d);
                dropRekey(s);
                return;
            }
            r.control.sendReset(now);
        } else {
            OpenVpnDropReason d = r.control.onPacket(c.retainedSlice(off, plen), now);
            if (d != null) {
                countDrop(d);
            }
        }
        afterRekeyInput(s);
    }

    private void afterRekeyInput(Session s) {
        Rekey r = s.rekey;
        if (r == null || s.closed) {
            return;
        }
        s.pumpTls(r.tls, r.control);
        if (r.data == null && r.plain.isReadable()) {
            KeyMethod2Message m;
            try {
                m = KeyMethod2Message.read(r.plain, true);
            } catch (IllegalArgumentException e) {
                countDrop(OpenVpnDropReason.BAD_CONTROL_MESSAGE);
                remove(s);
                return;
            }
            if (m != null) {
                byte[] r1 = new byte[KeyMethod2Message.RANDOM];
                byte[] r2 = new byte[KeyMethod2Message.RANDOM];
                random.nextBytes(r1);
                random.nextBytes(r2);
                ByteBuf out = alloc.buffer();
                new KeyMethod2Message(new byte[0], r1, r2, optionsString(s), "", "", "").emit(out);
                s.tlsOutTo(r.tls, r.control, out);
                byte[] key2 = s.ekm ? KeyDerivation.exporter(r.sslHandler.engine().getSession())
                        : KeyDerivation.prf(m.preMaster(), m.random1(), r1, m.random2(), r2,
                                r.control.remoteSessionId(), r.control.localSessionId());
                r.data = KeyDerivation.dataChannel(s.cipher, shared.authDigest(), key2, true, new ReplayWindow());
                Arrays.fill(key2, (byte) 0);
                publishKeys(s); // the client may send with the new key from now on
                r.plain.discardReadBytes();
            }
        }
        s.pumpTls(r.tls, r.control);
        r.control.flushAcks();
        if (r.data != null && r.control.idle()) {
            promote(s); // our key method 2 message was acknowledged: the client has the new key
        }
    }

    /** The new key becomes primary for sending; the old data key stays a lame duck for the transition window. */
    private void promote(Session s) {
        Rekey r = s.rekey;
        s.rekey = null;
        dev.pktkit.openvpn.data.DataChannel oldLame = s.lameData;
        s.lameData = s.data;
        s.lameKeyId = s.dataKeyId;
        s.lameUntil = now + shared.transitionNanos();
        s.data = r.data;
        s.dataKeyId = r.keyId;
        s.control.release();
        s.tls.finishAndReleaseAll();
        s.plain.release();
        s.control = r.control;
        s.sslHandler = r.sslHandler;
        s.tls = r.tls;
        s.plain = r.plain;
        s.keyId = r.keyId;
        s.keyStarted = now;
        s.keyBytesBase = s.keyBytes;
        s.renegotiations++;
        renegotiations++;
        publishKeys(s);
        retire(s, oldLame);
    }

    private void onControlMessage(Session s, String m) {
        if (m.equals("PUSH_REQUEST")) {
            if (s.state == State.CONNECTED && !s.pushed) {
                s.pushed = true;
                sendControlMessage(s, pushReply(s));
            } else if (s.state == State.FAILED) {
                sendControlMessage(s, "AUTH_FAILED");
            }
        } else if (m.equals("EXIT")) {
            remove(s);
        }
        // other messages (INFO, ACC, ...) are not used by this server
    }

    String pushReply(Session s) {
        StringBuilder b = new StringBuilder("PUSH_REPLY");
        for (String p : push) {
            b.append(',').append(p);
        }
        b.append(",route-gateway ").append(pool.serverAddress().getHostAddress());
        b.append(tap ? "" : ",topology subnet").append(",ping ").append(ping).append(",ping-restart ").append(pingRestart);
        b.append(",ifconfig ").append(s.address.getHostAddress()).append(' ')
                .append(pool.netmask().getHostAddress());
        if (s.address6 != null) {
            b.append(",ifconfig-ipv6 ").append(s.address6.getHostAddress()).append('/').append(ipv6PrefixLength)
                    .append(' ').append(serverAddress6().getHostAddress());
        }
        if (s.useV2) {
            b.append(",peer-id ").append(s.peerId);
        }
        b.append(",cipher ").append(s.cipher.openVpnName);
        if (compression.directive != null) {
            b.append(',').append(compression.directive);
        }
        if ((s.ivProto & IV_PROTO_CC_EXIT_NOTIFY) != 0) {
            b.append(",protocol-flags cc-exit").append(s.ekm ? " tls-ekm" : "");
        } else if (s.ekm) {
            b.append(",key-derivation tls-ekm");
        }
        return b.toString();
    }

    private void sendControlMessage(Session s, String m) {
        byte[] bytes = m.getBytes(StandardCharsets.UTF_8);
        ByteBuf out = alloc.buffer(bytes.length + 1);
        out.writeBytes(bytes).writeByte(0);
        s.tlsOut(out);
    }

    // ---- data channel ----
    //
    // Threads: a connected session's data channel (keys, packet-ids, replay window, its client channel and the hub
    // port behind it) lives on the session's loop (Session.ls), chosen at authentication (placeSession). A data
    // packet is looked up on the loop that received it (peer-id: a lock-free array read) and opened there when
    // that is the session's loop, else handed over (Handoff, one task per target loop per read batch). Keys are
    // made on the home loop and published as an immutable Keys snapshot; retired keys are destroyed on the data
    // loop. What the data path learns that the home loop owns (float, exit, the client's use of a new key) goes
    // back with home.execute.

    /** A data packet on the loop that received it (the home loop, or a TCP connection's loop for its frames). */
    private void onData(ByteBuf c, int off, int len, int op, InetSocketAddress from, TcpConnection conn,
                        LoopState rx) {
        Session s;
        if (conn != null) {
            s = conn.session;
        } else if (op == Opcode.DATA_V2) {
            if (len < 4) {
                countDrop(OpenVpnDropReason.MALFORMED);
                return;
            }
            int peerId = c.getUnsignedMedium(off + 1);
            s = peerId < byPeerId.length() ? byPeerId.get(peerId) : null;
        } else {
            s = byAddress.get(from); // P_DATA_V1 (no peer-id): only received on the home loop
        }
        if (s == null) {
            countDrop(OpenVpnDropReason.NO_SESSION);
            return;
        }
        LoopState ls = s.ls;
        if (ls == null) {
            countDrop(OpenVpnDropReason.NO_KEYS); // not connected yet
            return;
        }
        if (ls.loop.inEventLoop()) {
            openData(s, c, off, len, from);
            return;
        }
        Handoff h = rx.outbox.get(ls);
        if (h == null) {
            h = new Handoff(ls);
            rx.outbox.put(ls, h);
        }
        h.add(s, c.retainedSlice(off, len), from);
        handoffs.increment();
    }

    /** On the session's loop: verify, decrypt and deliver one data packet; does not take {@code c}. */
    private void openData(Session s, ByteBuf c, int off, int len, InetSocketAddress from) {
        if (s.closed) {
            countDrop(OpenVpnDropReason.NO_SESSION);
            return;
        }
        Keys k = s.keys;
        dev.pktkit.openvpn.data.DataChannel key = k.forKey(Opcode.keyId(c.getByte(off)));
        if (key == null) {
            countDrop(OpenVpnDropReason.NO_KEYS);
            return;
        }
        ByteBuf plain = key.open(alloc, c, off, len);
        if (plain == null) {
            countDrop(key.lastRejection() == AeadDataChannel.REPLAYED
                    ? OpenVpnDropReason.DATA_REPLAY : OpenVpnDropReason.DATA_BAD_TAG);
            return;
        }
        if (key == k.next && s.promoteAskedFor != key) {
            s.promoteAskedFor = key; // the client sends with the new key: it is active on both sides
            onHome(() -> {
                if (!s.closed && s.rekey != null && s.rekey.data == key) {
                    promote(s);
                }
            });
        }
        if (!compression.unframe(plain)) {
            plain.release();
            countDrop(OpenVpnDropReason.COMPRESSED);
            return;
        }
        if (s.tcp == null && !from.equals(s.remote)) {
            // float: the packet authenticated under this client's keys, so its new address is the client's
            InetSocketAddress old = s.remote;
            s.remote = from;
            floats.increment();
            onHome(() -> floated(s, old, from));
        }
        s.lastRx = now;
        s.keyBytes += len;
        if (startsWith(plain, PING)) {
            plain.release();
            return;
        }
        if (startsWith(plain, OCC)) {
            boolean exit = plain.readableBytes() > OCC.length
                    && plain.getUnsignedByte(plain.readerIndex() + OCC.length) == OCC_EXIT;
            plain.release();
            if (exit) {
                onHome(() -> remove(s));
            }
            return;
        }
        if (s.child == null) {
            plain.release();
            return;
        }
        if (shared.mssfix() > 0) {
            MssFix.apply(plain, tap, maxMss(s, key)); // our own decrypted buffer: rewritten in place
        }
        if (!s.inBatch) {
            s.inBatch = true;
            s.ls.readBatch.add(s);
        }
        s.child.deliver(plain, maxQueuedPerClient);
    }

    /** On the home loop: the address table follows a client's float. */
    private void floated(Session s, InetSocketAddress old, InetSocketAddress from) {
        if (byAddress.get(old) == s) {
            byAddress.remove(old);
        }
        if (s.closed || !from.equals(s.remote)) {
            return; // gone, or floated again (that move's task follows)
        }
        Session other = byAddress.put(from, s);
        if (other != null && other != s) {
            remove(other);
            byAddress.put(from, s);
        }
    }

    static boolean startsWith(ByteBuf b, byte[] prefix) {
        if (b.readableBytes() < prefix.length) {
            return false;
        }
        int r = b.readerIndex();
        for (int i = 0; i < prefix.length; i++) {
            if (b.getByte(r + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** On the session's loop (its client channel's): one IP packet to encrypt and send; takes {@code packet}. */
    void sendData(Session s, ByteBuf packet) {
        try {
            Keys k = s.keys;
            if (s.closed || k.primary == null) {
                countDrop(OpenVpnDropReason.NO_KEYS);
                return;
            }
            if (shared.mssfix() > 0) {
                packet = MssFix.clampOutgoing(packet, tap, maxMss(s, k.primary));
            }
            packet = compression.frame(alloc, packet);
            ByteBuf out = k.primary.seal(alloc, packet, k.primaryId, s.useV2 ? s.peerId : -1);
            if (out == null) {
                countDrop(OpenVpnDropReason.PACKET_ID_EXHAUSTED);
                return;
            }
            s.lastTx = now;
            s.keyBytes += out.readableBytes();
            transmit(s.ls, s, out);
        } finally {
            packet.release();
        }
    }

    /** The MSS limit for TCP over IPv4 in {@code s}'s tunnel under {@code key} ({@link MssFix#maxMss}). */
    private int maxMss(Session s, dev.pktkit.openvpn.data.DataChannel key) {
        InetSocketAddress remote = s.remote;
        return MssFix.maxMss(shared.mssfix(), key.overhead(), compression, s.tcp != null,
                remote != null && remote.getAddress() instanceof java.net.Inet6Address, tap);
    }

    /** From a client channel's flush, on the session's loop. */
    void flushLink(Session s) {
        flushLinks(s.ls);
    }

    /** On {@code ls}'s loop: one packet to the client (UDP: through the one UDP channel, from any loop). */
    private void transmit(LoopState ls, Session s, ByteBuf out) {
        if (s.tcp != null) {
            s.tcp.write(out, s.tcp.voidPromise()); // the connection's LengthFieldPrepender adds the length
            if (!s.dirty) {
                s.dirty = true;
                ls.dirtyTcp.add(s);
            }
        } else {
            ChannelHandlerContext u = ls.udp != null ? ls.udp : udp; // this loop's own socket, if it has one
            u.write(new DatagramPacket(out, s.remote), u.voidPromise());
            ls.udpDirty = true;
        }
    }

    /** On {@code ls}'s loop: flushes the links written from it. */
    private void flushLinks(LoopState ls) {
        if (ls.udpDirty) {
            ls.udpDirty = false;
            (ls.udp != null ? ls.udp : udp).flush();
        }
        ArrayList<Session> dirty = ls.dirtyTcp;
        for (int i = 0; i < dirty.size(); i++) {
            Session s = dirty.get(i);
            s.dirty = false;
            s.tcp.flush();
        }
        dirty.clear();
    }

    /** From the client channel's close, on the session's loop. */
    void clientChannelClosed(Session s) {
        onHome(() -> {
            if (!s.closed) {
                if (s.state == State.CONNECTED) {
                    // tell the client; it restarts and reconnects (OpenVPN's server sends the same on a kill)
                    sendControlMessage(s, "RESTART");
                    s.pumpTls();
                    flushLinks(homeState);
                }
                remove(s);
            }
        });
    }

    // ---- timers ----

    private void tick() {
        now = System.nanoTime();
        long pingNanos = TimeUnit.SECONDS.toNanos(ping);
        long deadNanos = TimeUnit.SECONDS.toNanos(2L * pingRestart);
        for (Session s : new ArrayList<>(sessions)) {
            if (s.closed) {
                continue;
            }
            if (s.state == State.CONNECTED) {
                if (now - s.lastRx > deadNanos) {
                    remove(s);
                    continue;
                }
                if (now - s.lastTx >= pingNanos && s.pushed) {
                    sendPing(s);
                }
                if (s.lameData != null && now - s.lameUntil > 0) {
                    dev.pktkit.openvpn.data.DataChannel lame = s.lameData;
                    s.lameData = null;
                    publishKeys(s);
                    retire(s, lame);
                }
                if (s.rekey != null && now - s.rekey.started > shared.handWindowNanos()) {
                    dropRekey(s); // the peer did not finish the new key in time; the old one carries on
                    countDrop(OpenVpnDropReason.RENEGOTIATION_FAILED);
                } else if (s.rekey == null && (shared.renegNanos() > 0 && now - s.keyStarted > shared.renegNanos()
                        || renegBytes > 0 && s.keyBytes - s.keyBytesBase > renegBytes)) {
                    Rekey r = startRekey(s, nextKeyId(s.keyId));
                    r.control.sendReset(now);
                }
                if (s.rekey != null) {
                    s.rekey.control.tick(now);
                }
            } else if (s.state == State.FAILED) {
                if (now - s.failedAt > TimeUnit.SECONDS.toNanos(5)) {
                    remove(s);
                    continue;
                }
            } else if (now - s.created > shared.handWindowNanos()) {
                remove(s);
                continue;
            }
            s.control.tick(now);
        }
        flushLinks(homeState);
    }

    /** Our keepalive ping, sealed on the session's loop. */
    private void sendPing(Session s) {
        LoopState ls = s.ls;
        if (ls.loop.inEventLoop()) {
            sendData(s, Unpooled.wrappedBuffer(PING));
            return;
        }
        s.lastTx = now; // one ping per interval, not one per tick until the data loop ran it
        ls.loop.execute(() -> {
            sendData(s, Unpooled.wrappedBuffer(PING));
            flushLinks(ls);
        });
    }

    private void remove(Session s) {
        if (s.closed) {
            return;
        }
        s.closed = true;
        sessions.remove(s);
        if (s.tcp != null) {
            s.tcp.close();
        } else if (byAddress.get(s.remote) == s) {
            byAddress.remove(s.remote);
        }
        if (s.peerId >= 0 && byPeerId.get(s.peerId) == s) {
            byPeerId.set(s.peerId, null);
        }
        if (s.ls != null) {
            s.ls.sessions--;
        }
        if (s.state == State.CONNECTED) {
            clients--;
        } else {
            handshakes--;
        }
        if (s.address != null) {
            pool.release(s.address);
        }
        s.control.release();
        s.tls.finishAndReleaseAll();
        s.plain.release();
        if (s.rekey != null) {
            dropRekey(s);
        }
        retire(s, s.data, s.lameData); // the data loop sees closed first, then the keys go
        if (s.child != null) {
            s.child.closeFromServer();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.fireExceptionCaught(cause);
    }

    /**
     * The child handler for a TCP {@link io.netty.channel.ServerChannel} ({@code proto tcp-server}): each accepted
     * connection carries one client, every packet preceded by its 16-bit length. Connections may sit on any loop;
     * their packets are handled on this server's loop (the UDP channel's when there is one, so both transports
     * share one client table, pool and peer-id space), and closing a connection ends its session.
     */
    public ChannelHandler tcpInitializer() {
        return new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
            @Override
            protected void initChannel(io.netty.channel.Channel ch) {
                setHome(ch.eventLoop(), ch.alloc());
                ch.pipeline().addLast(new io.netty.handler.codec.LengthFieldBasedFrameDecoder(2 + 0xffff, 0, 2, 0, 2),
                        new io.netty.handler.codec.LengthFieldPrepender(2), new TcpConnection(ch));
            }
        };
    }

    /**
     * The handler for one more UDP socket on the server's port, bound with {@code SO_REUSEPORT} on another loop of the
     * group (epoll; io_uring has the same option, untested here), so that the kernel spreads clients' datagrams over the loops by their address hash:
     * <pre>{@code
     * Bootstrap b = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
     *         .option(UnixChannelOption.SO_REUSEPORT, true);
     * b.clone().handler(server).bind(1194).sync();                 // the server's own socket: its home loop
     * for (int i = 1; i < loops; i++) {
     *     b.clone().handler(server.reusePortSocket()).bind(1194).sync();  // the group's next loops
     * }
     * }</pre>
     * A data packet (P_DATA_V2) is looked up by its peer-id on the loop that received it (a lock-free read) and
     * opened there when its session lives on that loop, else handed over to the session's loop and counted
     * ({@link #handoffs()}); the session's packets to the client leave through its loop's socket. Control packets
     * and P_DATA_V1 go to the home loop, where the control channel runs. Bind the server's own UDP channel first.
     * One handler per socket (not {@code @Sharable}).
     */
    public ChannelHandler reusePortSocket() {
        return new ReusePortSocket();
    }

    /** One extra SO_REUSEPORT UDP socket of this server. */
    final class ReusePortSocket extends ChannelDuplexHandler {
        /** This socket's loop's state; set by the home loop (null until then: everything goes to the home loop). */
        private volatile LoopState ls;
        private ChannelHandlerContext ctx;

        @Override
        public void handlerAdded(ChannelHandlerContext c) {
            if (home == null || udp == null) {
                throw new IllegalStateException("bind the server's own UDP channel before its SO_REUSEPORT sockets");
            }
            ctx = c;
            io.netty.channel.EventLoop loop = c.channel().eventLoop();
            home.execute(() -> {
                LoopState s = stateFor(loop);
                if (s.udp == null) {
                    s.udp = c;
                }
                ls = s;
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext c, Object msg) {
            if (!(msg instanceof DatagramPacket dp)) {
                c.fireChannelRead(msg);
                return;
            }
            LoopState me = ls;
            ByteBuf b = dp.content();
            int off = b.readerIndex();
            if (me != null && b.readableBytes() >= 1 && Opcode.of(b.getByte(off)) == Opcode.DATA_V2) {
                try {
                    onData(b, off, b.readableBytes(), Opcode.DATA_V2, dp.sender(), null, me);
                } finally {
                    dp.release();
                }
                return;
            }
            try {
                home.execute(() -> {
                    try {
                        onPacket(dp.content(), dp.sender(), null, me);
                    } finally {
                        dp.release();
                    }
                    completeBatch(homeState);
                    dispatchHandoffs(homeState);
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                dp.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext c) {
            LoopState me = ls;
            if (me != null) {
                completeBatch(me);
                dispatchHandoffs(me);
            }
            c.fireChannelReadComplete();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext c) {
            LoopState me = ls;
            if (me != null) {
                for (Handoff h : me.outbox.values()) {
                    h.release();
                }
                me.outbox.clear();
                try {
                    home.execute(() -> {
                        if (me.udp == ctx) {
                            me.udp = null; // the loop's sessions send through the home socket again
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    me.udp = null; // the server is going away
                }
            }
        }
    }

    /** One TCP connection's frames into the server's loop. */
    final class TcpConnection extends io.netty.channel.ChannelInboundHandlerAdapter {
        final io.netty.channel.Channel channel;
        /** Written on the server's loop; read on the connection's loop for its data frames. */
        volatile Session session;
        /** A data frame was opened on this connection's loop in the current read batch. */
        private boolean openedHere;

        TcpConnection(io.netty.channel.Channel channel) {
            this.channel = channel;
        }

        @Override
        public void channelRead(ChannelHandlerContext c, Object msg) {
            if (!(msg instanceof ByteBuf frame)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            InetSocketAddress from = (InetSocketAddress) channel.remoteAddress();
            Session s = session;
            LoopState ls = s == null ? null : s.ls;
            if (ls != null && ls.loop.inEventLoop() && !home.inEventLoop() && frame.isReadable()) {
                int op = Opcode.of(frame.getByte(frame.readerIndex()));
                if (op == Opcode.DATA_V2 || op == Opcode.DATA_V1) {
                    // the session's data channel lives on this connection's loop: no hop to the home loop
                    try {
                        openData(s, frame, frame.readerIndex(), frame.readableBytes(), from);
                    } finally {
                        frame.release();
                    }
                    openedHere = true;
                    return;
                }
            }
            if (home.inEventLoop()) {
                onFrame(frame, from);
            } else {
                home.execute(() -> onFrame(frame, from));
            }
        }

        private void onFrame(ByteBuf frame, InetSocketAddress from) {
            try {
                onPacket(frame, from, this, null);
            } finally {
                frame.release();
            }
            completeBatch(homeState);
            dispatchHandoffs(homeState);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext c) {
            if (openedHere) {
                openedHere = false;
                Session s = session;
                if (s != null && s.ls != null) {
                    completeBatch(s.ls);
                }
            }
            c.fireChannelReadComplete();
        }

        @Override
        public void channelInactive(ChannelHandlerContext c) {
            home.execute(() -> {
                if (session != null) {
                    remove(session);
                }
            });
            c.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
            c.close(); // a broken stream ends the session (OpenVPN restarts a TCP client the same way)
        }
    }

    enum State { TLS, AUTHENTICATING, FAILED, CONNECTED }

    /** One loop's data-path state. */
    static final class LoopState {
        final io.netty.channel.EventLoop loop;
        /** Connected sessions placed on this loop; the home loop's. */
        int sessions;
        /** The loop's own: sessions that delivered packets in the current batch, links written. */
        final ArrayList<Session> readBatch = new ArrayList<>();
        final ArrayList<Session> dirtyTcp = new ArrayList<>();
        boolean udpDirty;
        /** Packets this loop received for sessions on other loops, per target, until its read batch ends. */
        final java.util.IdentityHashMap<LoopState, Handoff> outbox = new java.util.IdentityHashMap<>();
        /** This loop's own UDP socket (the server's, or a {@link OpenVpnServer#reusePortSocket()}'s); null: the home one. */
        volatile ChannelHandlerContext udp;

        LoopState(io.netty.channel.EventLoop loop) {
            this.loop = loop;
        }
    }

    /** Packets of one read batch handed over to one loop; the batch owns one reference to each. */
    static final class Handoff {
        final LoopState target;
        final ArrayList<Session> sessions = new ArrayList<>();
        final ArrayList<ByteBuf> packets = new ArrayList<>();
        final ArrayList<InetSocketAddress> senders = new ArrayList<>();

        Handoff(LoopState target) {
            this.target = target;
        }

        void add(Session s, ByteBuf packet, InetSocketAddress from) {
            sessions.add(s);
            packets.add(packet);
            senders.add(from);
        }

        void release() {
            for (ByteBuf b : packets) {
                b.release();
            }
            packets.clear();
        }
    }

    /** A session's data keys as its data loop sees them: an immutable snapshot the home loop replaces. */
    record Keys(dev.pktkit.openvpn.data.DataChannel primary, int primaryId,
                dev.pktkit.openvpn.data.DataChannel lame, int lameId,
                dev.pktkit.openvpn.data.DataChannel next, int nextId) {
        static final Keys NONE = new Keys(null, -1, null, -1, null, -1);

        dev.pktkit.openvpn.data.DataChannel forKey(int keyId) {
            return keyId == primaryId && primary != null ? primary
                    : keyId == lameId && lame != null ? lame
                    : keyId == nextId && next != null ? next : null;
        }
    }

    /** A key being negotiated on an established session (soft reset, new TLS session, key method 2). */
    final class Rekey {
        final Session session;
        final int keyId;
        ControlChannel control;
        SslHandler sslHandler;
        EmbeddedChannel tls;
        final ByteBuf plain = Unpooled.buffer(256, MAX_PLAINTEXT);
        dev.pktkit.openvpn.data.DataChannel data;
        long started;

        Rekey(Session session, int keyId) {
            this.session = session;
            this.keyId = keyId;
        }

        /** On the home loop, after {@link #publishKeys} ran without this key. */
        void release() {
            control.release();
            tls.finishAndReleaseAll();
            plain.release();
            retire(session, data);
        }
    }

    /**
     * One client's state, from its hard reset until it goes. The control side is confined to the server's home
     * loop; the data side (the fields marked so) to the session's loop {@link #ls} once it is connected.
     */
    final class Session {
        /** Written by the home loop, and by the data loop on a float. */
        volatile InetSocketAddress remote;
        /** The session's data loop, set once at authentication (after everything the data path reads). */
        volatile LoopState ls;
        /** The keys the data loop uses, published by the home loop. */
        volatile Keys keys = Keys.NONE;
        /** Home loop: the loop whose UDP socket the client's control packets last arrived at. */
        LoopState socket;
        /** Data loop only: the next key whose first use was reported to the home loop. */
        dev.pktkit.openvpn.data.DataChannel promoteAskedFor;
        ControlChannel control;
        SslHandler sslHandler;
        EmbeddedChannel tls;
        ByteBuf plain = Unpooled.buffer(256, MAX_PLAINTEXT);
        /** The primary key's ID (its control channel's) and the data key used for sending. */
        int keyId;
        int dataKeyId;
        long keyStarted;
        /** The renegotiation in progress, or null. */
        Rekey rekey;
        /** The previous data key, still accepted until {@code lameUntil}. */
        dev.pktkit.openvpn.data.DataChannel lameData;
        int lameKeyId = -1;
        long lameUntil;
        long renegotiations;
        /** Data-channel bytes (both ways), written by the data loop; since the current key: minus the base. */
        volatile long keyBytes;
        long keyBytesBase;
        State state = State.TLS;
        KeyMethod2Message clientKm2;
        OpenVpnCredentials credentials;
        DataCipher cipher;
        dev.pktkit.openvpn.data.DataChannel data;
        Inet4Address address;
        java.net.Inet6Address address6;
        OpenVpnClientChannel child;
        int ivProto;
        int peerId = -1;
        boolean useV2;
        boolean ekm;
        boolean pushed;
        volatile boolean closed;
        /** TLS failed (alert sent); the session is removed on the next loop turn, input is dropped until then. */
        boolean tlsFailed;
        boolean inBatch;
        boolean dirty;
        /** The TCP connection this session runs over, or null for UDP. */
        io.netty.channel.Channel tcp;
        long created;
        /** Written by the data loop (and the home loop before it starts), read by the home loop's tick. */
        volatile long lastRx;
        volatile long lastTx;
        long failedAt;

        Session(InetSocketAddress remote) {
            this.remote = remote;
        }

        String cipherName() {
            return cipher == null ? null : cipher.openVpnName;
        }

        /** A control message's payload (TLS records) from the reliability layer. */
        void tlsIn(ByteBuf records) {
            tlsInto(tls, plain, records);
        }

        /** TLS records into {@code tls}; its plaintext into {@code plain}. */
        void tlsInto(EmbeddedChannel tls, ByteBuf plain, ByteBuf records) {
            // a closed EmbeddedChannel throws without taking the message: never hand it one
            if (closed || tlsFailed || !tls.isOpen()) {
                records.release();
                return;
            }
            try {
                tls.writeInbound(records);
            } catch (Exception e) { // EmbeddedChannel rethrows checked ones too (ClosedChannelException)
                tlsFailed = true;
                // TLS failure (bad or revoked certificate, bad record): send the TLS alert the engine made, so the
                // client learns why at once; the session is over
                ControlChannel cc = tls == this.tls ? control : rekey != null && tls == rekey.tls ? rekey.control
                        : null;
                if (cc != null) {
                    pumpTls(tls, cc);
                }
                home.execute(() -> remove(this));
                return;
            }
            ByteBuf in;
            while ((in = tls.readInbound()) != null) {
                if (plain.maxWritableBytes() < in.readableBytes()) {
                    in.release();
                    countDrop(OpenVpnDropReason.BAD_CONTROL_MESSAGE);
                    home.execute(() -> remove(this));
                    return;
                }
                plain.writeBytes(in);
                in.release();
            }
        }

        /** Plaintext for the peer: through TLS into the reliability layer. */
        void tlsOut(ByteBuf plaintext) {
            if (closed || tlsFailed || !tls.isOpen()) {
                plaintext.release();
                return;
            }
            try {
                tls.writeOutbound(plaintext);
            } catch (Exception e) {
                tlsFailed = true;
                home.execute(() -> remove(this));
            }
            pumpTls();
        }

        /** Plaintext into a renegotiation's TLS session. */
        void tlsOutTo(EmbeddedChannel tls, ControlChannel control, ByteBuf plaintext) {
            if (closed || tlsFailed || !tls.isOpen()) {
                plaintext.release();
                return;
            }
            try {
                tls.writeOutbound(plaintext);
            } catch (Exception e) {
                tlsFailed = true;
                home.execute(() -> remove(this));
            }
            pumpTls(tls, control);
        }

        /** Moves TLS output into control packets. */
        void pumpTls() {
            pumpTls(tls, control);
        }

        void pumpTls(EmbeddedChannel tls, ControlChannel control) {
            Object o;
            while (!closed && (o = tls.readOutbound()) != null) {
                if (o instanceof ByteBuf b) {
                    if (!control.send(b, now)) {
                        countDrop(OpenVpnDropReason.SEND_QUEUE_FULL);
                    }
                } else {
                    ReferenceCountUtil.release(o);
                }
            }
        }
    }

    /** Configuration; defaults follow OpenVPN 2.6's. */
    public static final class Builder extends OpenVpnOptions<Builder> {
        private TlsCryptV2.ServerKey tlsCryptV2Key;
        private boolean stateless = true;
        private boolean tap;
        private Compression compression = Compression.NONE;
        private long renegBytes;
        private java.net.Inet6Address ipv6Network;
        private int ipv6PrefixLength;
        private AddressPool pool = AddressPool.parse("10.8.0.0 255.255.255.0");
        private final List<String> push = new ArrayList<>();
        private int ping = 10;
        private int pingRestart = 60;
        private OpenVpnAuthenticator authenticator = OpenVpnAuthenticator.CERTIFICATE_ONLY;
        private int maxClients = 1024;
        private int maxHandshakes = 64;
        private int maxQueuedPerClient = 256;
        private ChannelHandler clientInitializer;

        Builder() {
            super(KeyDirection.NORMAL, 3600);
        }

        /**
         * {@code tls-crypt-v2 SERVERKEY}: clients present their own tls-crypt key wrapped by this server key; only
         * such clients are accepted.
         */
        public Builder tlsCryptV2(TlsCryptV2.ServerKey key) {
            this.tlsCryptV2Key = key;
            return this;
        }

        /**
         * Whether UDP handshakes use the stateless HMAC-cookie exchange (default true, as OpenVPN 2.6): a hard
         * reset is answered without creating state; false creates a session on each verified reset (bounded by
         * {@code maxHandshakes}). TCP connections are always stateful (the connection is the state).
         */
        public Builder statelessHandshake(boolean on) {
            this.stateless = on;
            return this;
        }

        /**
         * {@code dev tap} (true) or {@code dev tun} (false, the default): in TAP mode each client channel carries
         * Ethernet frames (attach it to an {@code L2Hub} with {@link L2HubClientAttacher}); the pushed
         * {@code ifconfig} and {@code route-gateway} are the same, {@code topology} is not pushed.
         */
        public Builder tap(boolean tap) {
            this.tap = tap;
            return this;
        }

        /**
         * {@code server-ipv6 NETWORK/LEN} (LEN 64..112): the server takes NETWORK+1, client n gets NETWORK+0x1000+n
         * and is pushed {@code ifconfig-ipv6 ADDR/LEN SERVER}; push {@code route-ipv6} with {@link #push}.
         */
        public Builder serverIpv6(String cidr) {
            if (cidr == null) {
                this.ipv6Network = null;
                return this;
            }
            int slash = cidr.indexOf('/');
            if (slash < 0) {
                throw new IllegalArgumentException("expected NETWORK/LEN: " + cidr);
            }
            int len = Integer.parseInt(cidr.substring(slash + 1).trim());
            if (len < 64 || len > 112) {
                throw new IllegalArgumentException("server-ipv6 prefix /" + len + " must be /64../112");
            }
            try {
                java.net.InetAddress a = java.net.InetAddress.getByName(cidr.substring(0, slash).trim());
                if (!(a instanceof java.net.Inet6Address v6)) {
                    throw new IllegalArgumentException("not an IPv6 network: " + cidr);
                }
                this.ipv6Network = v6;
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException("not an IPv6 network: " + cidr, e);
            }
            this.ipv6PrefixLength = len;
            return this;
        }

        /** {@code reneg-bytes}: the server starts a new key after this many data-channel bytes (0: never, the default). */
        public Builder renegBytes(long bytes) {
            this.renegBytes = bytes;
            return this;
        }

        /** Compression framing (never compression) and the directive pushed for it. */
        public Builder compression(Compression c) {
            this.compression = Objects.requireNonNull(c);
            return this;
        }

        /** {@code server NETWORK NETMASK} (topology subnet). */
        public Builder server(String networkAndMask) {
            this.pool = AddressPool.parse(networkAndMask);
            return this;
        }

        /** One {@code push "..."} option, e.g. {@code "route 10.9.0.0 255.255.255.0"}. */
        public Builder push(String option) {
            if (option.indexOf(',') >= 0 || option.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("a pushed option cannot contain ',' or NUL: " + option);
            }
            this.push.add(option);
            return this;
        }

        /** {@code keepalive PING RESTART}: ping and ping-restart pushed to clients; we drop after 2 × restart. */
        public Builder keepalive(int pingSeconds, int restartSeconds) {
            if (pingSeconds < 1 || restartSeconds <= pingSeconds) {
                throw new IllegalArgumentException("keepalive needs 0 < ping < restart");
            }
            this.ping = pingSeconds;
            this.pingRestart = restartSeconds;
            return this;
        }

        public Builder authenticator(OpenVpnAuthenticator authenticator) {
            this.authenticator = Objects.requireNonNull(authenticator);
            return this;
        }

        /** Bound on sessions (also bounded by the pool), and on those not yet authenticated. */
        public Builder maxClients(int maxClients, int maxHandshakes) {
            this.maxClients = maxClients;
            this.maxHandshakes = maxHandshakes;
            return this;
        }

        public Builder maxQueuedPerClient(int n) {
            this.maxQueuedPerClient = n;
            return this;
        }

        /** Added to each client channel's pipeline before it is registered, e.g. {@link L3HubClientAttacher}. */
        public Builder clientInitializer(ChannelHandler h) {
            this.clientInitializer = h;
            return this;
        }

        public OpenVpnServer build() {
            return new OpenVpnServer(this);
        }
    }
}

package dev.pktkit.openvpn;

import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.ReplayWindow;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.data.AeadDataChannel;
import dev.pktkit.openvpn.data.DataChannel;
import dev.pktkit.openvpn.data.DataCipher;
import dev.pktkit.openvpn.data.KeyDerivation;
import dev.pktkit.openvpn.wire.Opcode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The client role of the same protocol code as {@link OpenVpnServer}: a handler on a UDP
 * {@link io.netty.channel.socket.DatagramChannel} connected to an OpenVPN 2.6 server (or, through
 * {@link #tcpInitializer()}, on a TCP connection), that dials it the way {@code openvpn --client} does, and once
 * the server's {@code PUSH_REPLY} is in, opens the tunnel as an L3 {@link OpenVpnTunnelChannel} (Ethernet frames
 * with {@code dev tap}; not built) registered on the transport's loop with the
 * {@linkplain Builder#tunnelInitializer tunnel initializer} in its pipeline.
 *
 * <pre>{@code
 * OpenVpnClient client = OpenVpnClient.builder().ssl(OpenVpnTls.clientContext(cert, key, ca))
 *         .tlsCrypt(StaticKey.parse(Files.readString(ta)))
 *         .tunnelInitializer(new ChannelInitializer<OpenVpnTunnelChannel>() { ... }).build();
 * new Bootstrap().group(group).channel(EpollDatagramChannel.class).handler(client).connect(server, 1194);
 * client.tunnel().addListener(f -> ...);   // the tunnel channel, with client.pushReply()'s addresses
 * }</pre>
 *
 * <p>What a connection goes through: our hard reset (client V2) → the server's reset (its session ID, an HMAC
 * cookie with OpenVPN 2.6, is echoed from then on) → TLS as the TLS client (Netty's {@link SslHandler} in an
 * {@link EmbeddedChannel} over the {@link ControlChannel}) → our key method 2 message (pre-master, randoms,
 * username/password, peer-info {@code IV_VER}, {@code IV_PROTO} (data v2, TLS key export when the JDK has it,
 * cc-exit), {@code IV_CIPHERS}) → the server's key method 2 message → {@code PUSH_REQUEST} → {@code PUSH_REPLY}
 * (continuations joined; {@link OpenVpnPushReply}) → data keys (the RFC 5705 exporter when the server pushed
 * {@code tls-ekm}, else the PRF) → P_DATA_V2 with the pushed peer-id (V1 without one). {@code AUTH_FAILED} fails
 * {@link #tunnel()}.
 *
 * <p>Renegotiation either way (the server's soft reset, or ours after {@link Builder#renegSeconds}): a new TLS
 * session and key method 2 on the next key ID; the new key is used as soon as it is derived, the old one is
 * accepted for the transition window. Keepalive: our pings after {@code ping} seconds without sending; with no
 * packet from the server for {@code ping-restart} seconds the transport is closed (reconnecting is the caller's
 * choice). Closing the tunnel channel sends explicit-exit-notify (OCC_EXIT in the data channel, and the
 * {@code EXIT} control message when the server pushed {@code cc-exit}) and closes the transport.
 *
 * <p>Not done: tls-crypt-v2 client keys (the client's WKc), {@code dev tap} (Ethernet frames), re-sending the
 * WKc, proxies, reconnect loops (one instance dials one server once; {@link OpenVpnClientConfig#connect} tries a
 * profile's {@code remote} list in turn until one tunnel is up), the options string
 * consistency check (we send ours; the server's is not compared), pushed {@code compress} other than the framing
 * stubs. Bounds: the reliability layer's windows, a 64-entry control send queue, 64 KiB of TLS plaintext,
 * {@code maxQueued} packets waiting for the tunnel channel's read; every drop counted ({@link #drops}).
 *
 * <p>One instance per transport channel (not {@code @Sharable}); all state is on that channel's event loop.
 */
public final class OpenVpnClient extends ChannelDuplexHandler {
    /** IV_PROTO bits (ssl.h) this client announces. */
    static final int IV_PROTO_DATA_V2 = OpenVpnServer.IV_PROTO_DATA_V2;
    static final int IV_PROTO_TLS_KEY_EXPORT = OpenVpnServer.IV_PROTO_TLS_KEY_EXPORT;
    static final int IV_PROTO_CC_EXIT_NOTIFY = OpenVpnServer.IV_PROTO_CC_EXIT_NOTIFY;
    private static final long TICK_MILLIS = 200;
    private static final long PUSH_REQUEST_RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final OpenVpnOptions.Shared shared;
    private final String username;
    private final String password;
    private final ChannelHandler tunnelInitializer;
    private final int maxQueued;
    private final int localPing;
    private final int localPingRestart;
    private final SecureRandom random = new SecureRandom();
    private final long[] drops = new long[OpenVpnDropReason.values().length];

    private ChannelHandlerContext ctx;
    private ByteBufAllocator alloc;
    private boolean tcp;
    private InetSocketAddress remote;
    private Promise<OpenVpnTunnelChannel> tunnelPromise;
    private ScheduledFuture<?> ticker;
    private long now;
    private long started;
    private boolean closed;
    private boolean dirty;
    private long localSessionId;

    /** The session's primary key (its control channel carries control messages) and a renegotiation's. */
    private Key key;
    private Key rekey;
    private DataChannel data;
    private int dataKeyId;
    private DataChannel lameData;
    private int lameKeyId = -1;
    private long lameUntil;
    private long keyStarted;
    private long renegotiations;

    private Phase phase = Phase.RESET;
    private long pushRequestedAt;
    private final List<String> pushOptions = new ArrayList<>();
    private OpenVpnPushReply pushReply;
    private DataCipher cipher;
    private Compression compression = Compression.NONE;
    private boolean useEkm;
    private int peerId = -1;
    private long pingNanos;
    private long pingRestartNanos;
    private long lastRx;
    private long lastTx;
    private OpenVpnTunnelChannel tunnel;
    private String failure;

    private enum Phase { RESET, TLS, KEY_SENT, PUSH_REQUESTED, CONNECTED, FAILED }

    private OpenVpnClient(Builder b) {
        shared = b.shared(false);
        username = b.username;
        password = b.password;
        tunnelInitializer = b.tunnelInitializer;
        maxQueued = b.maxQueued;
        localPing = b.ping;
        localPingRestart = b.pingRestart;
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---- what callers see ----

    /** Completes with the tunnel channel once the server's push is in (fails on AUTH_FAILED, timeout, close). */
    public Future<OpenVpnTunnelChannel> tunnel() {
        if (tunnelPromise == null) {
            throw new IllegalStateException("add the client to a channel first");
        }
        return tunnelPromise;
    }

    /** The server's address this client dials (the transport channel's remote address), or null before. */
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    /** What the server pushed, or null before the tunnel is up. */
    public OpenVpnPushReply pushReply() {
        return pushReply;
    }

    /** The data cipher in use (the pushed one), or null before. */
    public String cipher() {
        return cipher == null ? null : cipher.openVpnName;
    }

    /** Whether the data keys came from the TLS exporter ({@code tls-ekm}) rather than the PRF. */
    public boolean keysFromExporter() {
        return useEkm;
    }

    /** Keys renegotiated (either side's soft reset completed). */
    public long renegotiations() {
        return renegotiations;
    }

    public long drops(OpenVpnDropReason reason) {
        return drops[reason.ordinal()];
    }

    /** All non-zero drop counters. */
    public java.util.Map<OpenVpnDropReason, Long> drops() {
        java.util.Map<OpenVpnDropReason, Long> m = new java.util.EnumMap<>(OpenVpnDropReason.class);
        for (OpenVpnDropReason r : OpenVpnDropReason.values()) {
            if (drops[r.ordinal()] != 0) {
                m.put(r, drops[r.ordinal()]);
            }
        }
        return m;
    }

    void countDrop(OpenVpnDropReason r) {
        drops[r.ordinal()]++;
    }

    /**
     * The handler for a TCP {@link io.netty.channel.socket.SocketChannel} to the server ({@code proto tcp-client}):
     * every packet preceded by its 16-bit length. Use it instead of the client itself as the bootstrap's handler.
     */
    public ChannelHandler tcpInitializer() {
        OpenVpnClient self = this;
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                self.tcp = true;
                ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(2 + 0xffff, 0, 2, 0, 2),
                        new LengthFieldPrepender(2), self);
            }
        };
    }

    // ---- pipeline ----

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (this.ctx != null) {
            throw new IllegalStateException("an OpenVpnClient serves one transport channel");
        }
        this.ctx = ctx;
        this.alloc = ctx.alloc();
        this.tunnelPromise = ctx.executor().newPromise();
        if (ctx.channel().isActive() && ctx.channel().remoteAddress() != null) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        if (key == null && !closed) {
            start();
        }
    }

    private void start() {
        if (!(ctx.channel().remoteAddress() instanceof InetSocketAddress r)) {
            fail("the transport channel must be connected to the server");
            ctx.close();
            return;
        }
        remote = r;
        now = System.nanoTime();
        started = now;
        localSessionId = random.nextLong();
        key = newKey(0, false);
        key.control.sendReset(now);
        ticker = ctx.executor().scheduleAtFixedRate(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        flush();
    }

    private Key newKey(int keyId, boolean soft) {
        Key k = new Key(keyId);
        k.control = new ControlChannel(alloc, shared.reliableConfig(), soft ? key.control.wrap() : shared.newWrap(),
                false, localSessionId, keyId, ControlChannel.DEFAULT_SEND_QUEUE, now, this::transmit, k::tlsIn);
        if (soft) {
            k.control.softReset(key.control.remoteSessionId());
            k.control.shareProtection(key.control);
        }
        k.started = now;
        return k;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf c;
        if (msg instanceof DatagramPacket dp) {
            if (remote != null && !remote.equals(dp.sender())) {
                countDrop(OpenVpnDropReason.NO_SESSION);
                dp.release();
                return;
            }
            c = dp.content();
        } else if (msg instanceof ByteBuf b) {
            c = b;
        } else {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (key != null && !closed) {
                now = System.nanoTime();
                onPacket(c);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
        if (tcp) {
            readComplete();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        readComplete();
        ctx.fireChannelReadComplete();
    }

    private void readComplete() {
        if (tunnel != null) {
            tunnel.completeRead();
        }
        flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        shutdown("the transport closed");
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        shutdown("the client was removed");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (tcp) {
            ctx.close(); // a broken stream ends the session, as OpenVPN's TCP client restarts
            return;
        }
        if (cause instanceof java.net.PortUnreachableException && phase != Phase.CONNECTED && !closed) {
            // the connected UDP socket got ICMP port unreachable: nobody listens there, give up on this server
            fail("the server's port is unreachable (ICMP)");
            close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    // ---- input ----

    private void onPacket(ByteBuf c) {
        int off = c.readerIndex();
        int len = c.readableBytes();
        if (len < 1) {
            countDrop(OpenVpnDropReason.MALFORMED);
            return;
        }
        int op = Opcode.of(c.getByte(off));
        if (op == Opcode.DATA_V2 || op == Opcode.DATA_V1) {
            onData(c, off, len);
            return;
        }
        int keyId = Opcode.keyId(c.getByte(off));
        Key k = keyId == key.keyId ? key : rekey != null && rekey.keyId == keyId ? rekey : null;
        if (k == null) {
            if (op != Opcode.CONTROL_SOFT_RESET_V1 || phase != Phase.CONNECTED
                    || keyId != OpenVpnServer.nextKeyId(key.keyId)) {
                countDrop(OpenVpnDropReason.BAD_OPCODE);
                return;
            }
            if (rekey != null) {
                rekey.release();
            }
            rekey = k = newKey(keyId, true); // the server renegotiates
            OpenVpnDropReason r = k.control.onPacket(c.retainedSlice(off, len), now);
            if (r != null) {
                countDrop(r);
                k.release();
                rekey = null;
                return;
            }
            k.control.sendReset(now);
            k.startTls();
        } else {
            OpenVpnDropReason r = k.control.onPacket(c.retainedSlice(off, len), now);
            if (r != null) {
                countDrop(r);
            }
        }
        afterControlInput(k);
    }

    private void afterControlInput(Key k) {
        if (closed) {
            return;
        }
        if (k.tls == null && k.control.remoteKnown()) {
            k.startTls(); // the server's reset is in: its session ID is known (and echoed from now on)
        }
        k.pumpTls();
        try {
            process(k);
        } catch (IllegalArgumentException e) {
            countDrop(OpenVpnDropReason.BAD_CONTROL_MESSAGE);
            fail("bad control message from the server: " + e.getMessage());
            close();
            return;
        }
        if (closed) {
            return;
        }
        k.pumpTls();
        k.control.flushAcks();
    }

    private void process(Key k) {
        if (k.tls == null || k.failed) {
            return;
        }
        if (!k.keySent && k.sslHandler.handshakeFuture().isSuccess()) {
            k.keySent = true;
            k.km2 = ourKeyMethod2();
            ByteBuf out = alloc.buffer();
            k.km2.emit(out);
            k.tlsOut(out);
            if (k == key && phase == Phase.RESET) {
                phase = Phase.KEY_SENT;
            }
        }
        if (k.keySent && k.serverKm2 == null && k.plain.isReadable()) {
            KeyMethod2Message m = KeyMethod2Message.read(k.plain, false);
            if (m == null) {
                if (k.plain.readableBytes() > OpenVpnServer.MAX_PLAINTEXT / 2) {
                    throw new IllegalArgumentException("key method 2 message too long");
                }
                return;
            }
            k.serverKm2 = m;
            if (k == key) {
                sendControlMessage(key, "PUSH_REQUEST");
                phase = Phase.PUSH_REQUESTED;
                pushRequestedAt = now;
            } else {
                activateRekey();
                return;
            }
        }
        if (k != key) {
            return;
        }
        ByteBuf p = k.plain;
        while (k.serverKm2 != null && !closed) {
            int nul = p.indexOf(p.readerIndex(), p.writerIndex(), (byte) 0);
            if (nul < 0) {
                if (p.readableBytes() > 4096 * 4) {
                    throw new IllegalArgumentException("control message without terminator");
                }
                break;
            }
            String m = p.toString(p.readerIndex(), nul - p.readerIndex(), StandardCharsets.UTF_8);
            p.readerIndex(nul + 1);
            onControlMessage(m);
        }
        if (!closed) {
            p.discardReadBytes();
        }
    }

    private KeyMethod2Message ourKeyMethod2() {
        byte[] pre = new byte[KeyMethod2Message.PRE_MASTER];
        byte[] r1 = new byte[KeyMethod2Message.RANDOM];
        byte[] r2 = new byte[KeyMethod2Message.RANDOM];
        random.nextBytes(pre);
        random.nextBytes(r1);
        random.nextBytes(r2);
        int ivProto = IV_PROTO_DATA_V2 | IV_PROTO_CC_EXIT_NOTIFY
                | (shared.tlsEkm() && KeyDerivation.exporterAvailable() ? IV_PROTO_TLS_KEY_EXPORT : 0);
        StringBuilder ciphers = new StringBuilder();
        for (DataCipher c : shared.dataCiphers()) {
            ciphers.append(ciphers.isEmpty() ? "" : ":").append(c.openVpnName);
        }
        String info = "IV_VER=2.6.14\nIV_PLAT=linux\nIV_PROTO=" + ivProto + "\nIV_NCP=2\nIV_CIPHERS=" + ciphers
                + "\nIV_MTU=1600\nIV_TCPNL=1\nIV_GUI_VER=netty-pktkit\n";
        return new KeyMethod2Message(pre, r1, r2, optionsString(), username, password, info);
    }

    /** Our OCC options string; servers only compare it and warn. */
    private String optionsString() {
        DataCipher c = cipher != null ? cipher : shared.dataCiphers().get(0);
        return "V4,dev-type tun,link-mtu 1549,tun-mtu 1500,proto " + (tcp ? "TCPv4_CLIENT" : "UDPv4")
                + ",cipher " + c.openVpnName + ",auth " + (c.isAead() ? "[null-digest]" : shared.authDigest())
                + ",keysize " + c.keyLength * 8 + ",key-method 2,tls-client";
    }

    private void onControlMessage(String m) {
        if (m.startsWith("PUSH_REPLY")) {
            if (phase != Phase.PUSH_REQUESTED) {
                return; // a repeated reply (answer to a retried request)
            }
            if (!OpenVpnPushReply.collect(m, pushOptions)) {
                onPushed(OpenVpnPushReply.parse(pushOptions));
            }
        } else if (m.startsWith("AUTH_FAILED")) {
            fail("the server refused us: " + m);
            close();
        } else if (m.equals("RESTART") || m.startsWith("RESTART,") || m.equals("HALT") || m.startsWith("HALT,")
                || m.equals("EXIT")) {
            fail("the server ended the session: " + m);
            close();
        }
        // INFO, AUTH_PENDING, ... carry nothing this client acts on
    }

    private void onPushed(OpenVpnPushReply reply) {
        DataCipher c = reply.cipher() != null ? DataCipher.byName(reply.cipher()) : shared.dataCiphers().get(0);
        if (c == null || !shared.dataCiphers().contains(c)) {
            fail("the server pushed cipher " + reply.cipher() + ", not one of ours");
            close();
            return;
        }
        if (reply.address() == null) {
            fail("the server pushed no ifconfig (topology subnet is needed)");
            close();
            return;
        }
        pushReply = reply;
        cipher = c;
        compression = reply.compression();
        peerId = reply.peerId();
        useEkm = reply.tlsEkm();
        if (useEkm && !KeyDerivation.exporterAvailable()) {
            fail("the server chose tls-ekm, which this JDK cannot export");
            close();
            return;
        }
        pingNanos = TimeUnit.SECONDS.toNanos(reply.ping() > 0 ? reply.ping() : localPing);
        pingRestartNanos = TimeUnit.SECONDS.toNanos(reply.pingRestart() > 0 ? reply.pingRestart() : localPingRestart);
        data = deriveData(key);
        dataKeyId = key.keyId;
        keyStarted = now;
        lastRx = now;
        lastTx = now;
        phase = Phase.CONNECTED;
        tunnel = new OpenVpnTunnelChannel(this, ctx.channel(), reply);
        if (tunnelInitializer != null) {
            tunnel.pipeline().addLast(tunnelInitializer);
        }
        ctx.channel().eventLoop().register(tunnel).addListener(f -> {
            if (f.isSuccess()) {
                tunnelPromise.trySuccess(tunnel);
            } else {
                tunnelPromise.tryFailure(f.cause());
                close();
            }
        });
    }

    private DataChannel deriveData(Key k) {
        byte[] key2 = useEkm ? KeyDerivation.exporter(k.sslHandler.engine().getSession())
                : KeyDerivation.prf(k.km2.preMaster(), k.km2.random1(), k.serverKm2.random1(), k.km2.random2(),
                        k.serverKm2.random2(), localSessionId, k.control.remoteSessionId());
        try {
            return KeyDerivation.dataChannel(cipher, shared.authDigest(), key2, false, new ReplayWindow());
        } finally {
            Arrays.fill(key2, (byte) 0);
        }
    }

    /** A renegotiation's key method 2 exchange is done: its data key is used for sending from now on. */
    private void activateRekey() {
        Key k = rekey;
        rekey = null;
        if (lameData != null) {
            lameData.destroy();
        }
        lameData = data;
        lameKeyId = dataKeyId;
        lameUntil = now + shared.transitionNanos();
        data = deriveData(k);
        dataKeyId = k.keyId;
        // carry unread control plaintext (none is expected on the old key) and switch the session's channel
        key.release();
        key = k;
        keyStarted = now;
        renegotiations++;
    }

    private void sendControlMessage(Key k, String m) {
        byte[] bytes = m.getBytes(StandardCharsets.UTF_8);
        ByteBuf out = alloc.buffer(bytes.length + 1);
        out.writeBytes(bytes).writeByte(0);
        k.tlsOut(out);
    }

    private void onData(ByteBuf c, int off, int len) {
        int keyId = Opcode.keyId(c.getByte(off));
        DataChannel k = data != null && keyId == dataKeyId ? data
                : lameData != null && keyId == lameKeyId ? lameData : null;
        if (k == null) {
            countDrop(OpenVpnDropReason.NO_KEYS);
            return;
        }
        ByteBuf plain = k.open(alloc, c, off, len);
        if (plain == null) {
            countDrop(k.lastRejection() == AeadDataChannel.REPLAYED
                    ? OpenVpnDropReason.DATA_REPLAY : OpenVpnDropReason.DATA_BAD_TAG);
            return;
        }
        if (!compression.unframe(plain)) {
            plain.release();
            countDrop(OpenVpnDropReason.COMPRESSED);
            return;
        }
        lastRx = now;
        if (OpenVpnServer.startsWith(plain, OpenVpnServer.PING)) {
            plain.release();
            return;
        }
        if (OpenVpnServer.startsWith(plain, OpenVpnServer.OCC)) {
            boolean exit = plain.readableBytes() > OpenVpnServer.OCC.length
                    && plain.getUnsignedByte(plain.readerIndex() + OpenVpnServer.OCC.length) == OpenVpnServer.OCC_EXIT;
            plain.release();
            if (exit) {
                fail("the server sent explicit-exit-notify");
                close();
            }
            return;
        }
        if (tunnel == null) {
            plain.release();
            return;
        }
        if (shared.mssfix() > 0) {
            MssFix.apply(plain, false, maxMss(k)); // our own decrypted buffer: rewritten in place
        }
        tunnel.deliver(plain, maxQueued);
    }

    // ---- output ----

    /** From the tunnel channel: one IP packet to encrypt and send; takes {@code packet}'s reference. */
    void sendData(ByteBuf packet) {
        try {
            if (closed || data == null) {
                countDrop(OpenVpnDropReason.NO_KEYS);
                return;
            }
            if (shared.mssfix() > 0) {
                packet = MssFix.clampOutgoing(packet, false, maxMss(data));
            }
            packet = compression.frame(alloc, packet);
            ByteBuf out = data.seal(alloc, packet, dataKeyId, peerId);
            if (out == null) {
                countDrop(OpenVpnDropReason.PACKET_ID_EXHAUSTED);
                return;
            }
            lastTx = now;
            transmit(out);
        } finally {
            packet.release();
        }
    }

    /** The MSS limit for TCP over IPv4 in the tunnel under {@code key} ({@link MssFix#maxMss}). */
    private int maxMss(DataChannel key) {
        InetSocketAddress r = remote;
        return MssFix.maxMss(shared.mssfix(), key.overhead(), compression, tcp,
                r != null && r.getAddress() instanceof java.net.Inet6Address, false); // the client is TUN only
    }

    private void transmit(ByteBuf out) {
        if (closed) {
            out.release();
            return;
        }
        ctx.write(tcp ? out : new DatagramPacket(out, remote), ctx.voidPromise());
        dirty = true;
    }

    /** Flushes what was written to the transport (also called by the tunnel channel after a write batch). */
    void flush() {
        if (dirty && !closed) {
            dirty = false;
            ctx.flush();
        }
    }

    // ---- timers and the end ----

    private void tick() {
        if (closed) {
            return;
        }
        now = System.nanoTime();
        key.control.tick(now);
        if (rekey != null) {
            rekey.control.tick(now);
        }
        if (phase != Phase.CONNECTED) {
            if (now - started > shared.handWindowNanos()) {
                fail("no tunnel within the hand-window (phase " + phase + ")");
                close();
                return;
            }
            if (phase == Phase.PUSH_REQUESTED && now - pushRequestedAt > PUSH_REQUEST_RETRY_NANOS) {
                pushRequestedAt = now;
                sendControlMessage(key, "PUSH_REQUEST");
            }
            key.pumpTls();
            flush();
            return;
        }
        if (pingRestartNanos > 0 && now - lastRx > pingRestartNanos) {
            fail("ping-restart: nothing from the server for " + TimeUnit.NANOSECONDS.toSeconds(pingRestartNanos) + " s");
            close();
            return;
        }
        if (pingNanos > 0 && now - lastTx >= pingNanos) {
            sendData(Unpooled.wrappedBuffer(OpenVpnServer.PING));
        }
        if (lameData != null && now - lameUntil > 0) {
            lameData.destroy();
            lameData = null;
        }
        if (rekey != null && now - rekey.started > shared.handWindowNanos()) {
            rekey.release();
            rekey = null;
            countDrop(OpenVpnDropReason.RENEGOTIATION_FAILED);
        } else if (rekey == null && shared.renegNanos() > 0 && now - keyStarted > shared.renegNanos()) {
            rekey = newKey(OpenVpnServer.nextKeyId(key.keyId), true);
            rekey.control.sendReset(now);
            rekey.startTls();
            rekey.pumpTls();
        }
        flush();
    }

    /** From the tunnel channel's close: tell the server (explicit-exit-notify) and close the transport. */
    void tunnelClosed() {
        if (closed) {
            return;
        }
        if (phase == Phase.CONNECTED) {
            if (pushReply.options().stream().anyMatch(o -> o.startsWith("protocol-flags") && o.contains("cc-exit"))) {
                sendControlMessage(key, "EXIT");
            }
            if (!tcp) {
                ByteBuf exit = Unpooled.buffer(OpenVpnServer.OCC.length + 1).writeBytes(OpenVpnServer.OCC)
                        .writeByte(OpenVpnServer.OCC_EXIT);
                sendData(exit);
            }
            flush();
        }
        close();
    }

    private void fail(String why) {
        if (failure == null) {
            failure = why;
        }
        phase = phase == Phase.CONNECTED ? phase : Phase.FAILED;
        if (tunnelPromise != null) {
            tunnelPromise.tryFailure(new OpenVpnException(why));
        }
    }

    /** Why the connection failed or ended, or null. */
    public String failure() {
        return failure;
    }

    private void close() {
        ctx.close();
        shutdown(failure != null ? failure : "closed");
    }

    private void shutdown(String why) {
        if (closed) {
            return;
        }
        fail(why);
        closed = true;
        if (ticker != null) {
            ticker.cancel(false);
        }
        if (key != null) {
            key.release();
        }
        if (rekey != null) {
            rekey.release();
        }
        if (data != null) {
            data.destroy();
        }
        if (lameData != null) {
            lameData.destroy();
        }
        if (tunnel != null) {
            tunnel.closeFromClient();
        }
    }

    /** One key's control channel and TLS session. */
    private final class Key {
        final int keyId;
        ControlChannel control;
        SslHandler sslHandler;
        EmbeddedChannel tls;
        final ByteBuf plain = Unpooled.buffer(256, OpenVpnServer.MAX_PLAINTEXT);
        KeyMethod2Message km2;
        KeyMethod2Message serverKm2;
        boolean keySent;
        boolean failed;
        boolean released;
        long started;

        Key(int keyId) {
            this.keyId = keyId;
        }

        void startTls() {
            sslHandler = shared.ssl().newHandler(alloc);
            sslHandler.setHandshakeTimeoutMillis(0);
            tls = new EmbeddedChannel(sslHandler); // active at once: the ClientHello is waiting in its outbound
            pumpTls();
        }

        void tlsIn(ByteBuf records) {
            if (tls == null || failed || released || !tls.isOpen()) {
                records.release();
                return;
            }
            try {
                tls.writeInbound(records);
            } catch (Exception e) {
                failed = true;
                pumpTls(); // the alert, if the engine made one
                if (this == key) {
                    ctx.executor().execute(() -> {
                        fail("TLS failed: " + e);
                        close();
                    });
                }
                return;
            }
            ByteBuf in;
            while ((in = tls.readInbound()) != null) {
                if (plain.maxWritableBytes() < in.readableBytes()) {
                    in.release();
                    countDrop(OpenVpnDropReason.BAD_CONTROL_MESSAGE);
                    failed = true;
                    return;
                }
                plain.writeBytes(in);
                in.release();
            }
        }

        void tlsOut(ByteBuf plaintext) {
            if (tls == null || failed || released || !tls.isOpen()) {
                plaintext.release();
                return;
            }
            try {
                tls.writeOutbound(plaintext);
            } catch (Exception e) {
                failed = true;
            }
            pumpTls();
        }

        void pumpTls() {
            if (tls == null || released) {
                return;
            }
            Object o;
            while ((o = tls.readOutbound()) != null) {
                if (o instanceof ByteBuf b) {
                    if (!control.send(b, now)) {
                        countDrop(OpenVpnDropReason.SEND_QUEUE_FULL);
                    }
                } else {
                    ReferenceCountUtil.release(o);
                }
            }
        }

        void release() {
            if (released) {
                return;
            }
            released = true;
            control.release();
            if (tls != null) {
                tls.finishAndReleaseAll();
            }
            plain.release();
        }
    }

    /** Configuration; defaults follow OpenVPN 2.6's client. */
    public static final class Builder extends OpenVpnOptions<Builder> {
        private String username = "";
        private String password = "";
        private ChannelHandler tunnelInitializer;
        private int maxQueued = 256;
        private int ping;
        private int pingRestart;

        Builder() {
            super(KeyDirection.INVERSE, 0);
        }

        /** {@code auth-user-pass}: sent in our key method 2 message (inside TLS). */
        public Builder credentials(String username, String password) {
            this.username = Objects.requireNonNull(username);
            this.password = Objects.requireNonNull(password);
            return this;
        }

        /** Added to the tunnel channel's pipeline before it is registered. */
        public Builder tunnelInitializer(ChannelHandler h) {
            this.tunnelInitializer = h;
            return this;
        }

        /** Packets that may wait for the tunnel channel's {@code read()} with auto-read off (256). */
        public Builder maxQueued(int n) {
            this.maxQueued = n;
            return this;
        }

        /**
         * The profile's own {@code ping} and {@code ping-restart} seconds (0: none, the default), used where the
         * server's {@code PUSH_REPLY} pushes none (a pushed value wins, as in OpenVPN).
         */
        public Builder keepalive(int pingSeconds, int pingRestartSeconds) {
            if (pingSeconds < 0 || pingRestartSeconds < 0) {
                throw new IllegalArgumentException("ping and ping-restart are seconds, 0 for none");
            }
            this.ping = pingSeconds;
            this.pingRestart = pingRestartSeconds;
            return this;
        }

        public OpenVpnClient build() {
            return new OpenVpnClient(this);
        }
    }
}

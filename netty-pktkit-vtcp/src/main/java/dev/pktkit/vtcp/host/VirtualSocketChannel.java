package dev.pktkit.vtcp.host;

import dev.pktkit.vtcp.engine.SynVerdict;
import dev.pktkit.vtcp.engine.TcpConnection;
import dev.pktkit.vtcp.engine.TcpConnectionHandler;
import dev.pktkit.vtcp.engine.TcpSocketOptions;
import dev.pktkit.vtcp.engine.TcpState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.StringUtil;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A Netty {@link SocketChannel} over the {@link VirtualHost}'s TCP engine: any bootstrap, codec or handler that
 * runs on {@code NioSocketChannel} runs on it.
 *
 * <pre>{@code
 * new Bootstrap().group(loop).channelFactory(host.socketChannels()).handler(new HttpClientCodec())
 *         .connect("10.0.0.1", 80);
 * }</pre>
 *
 * <ul>
 * <li>Connect errors are those Netty users know: {@link java.net.ConnectException} "Connection refused" on RST,
 * {@link ConnectTimeoutException} after {@code CONNECT_TIMEOUT_MILLIS} or when the SYN retries run out.</li>
 * <li>Writes: a write's promise completes when its bytes enter the connection's send buffer ({@code SO_SNDBUF});
 * while the send buffer is full, writes wait in Netty's outbound buffer, so writability follows the send buffer
 * through {@code WRITE_BUFFER_WATER_MARK}. The send buffer holds the written buffers themselves and retransmits
 * from them (no copy until the segment is built).</li>
 * <li>Reads: data arrives as {@code ByteBuf}s; the receive window opens as the pipeline reads, so
 * {@code AUTO_READ} off (or a slow reader) pushes back on the peer through TCP's flow control.</li>
 * <li>{@code shutdownOutput()} sends FIN after the queued data; a FIN from the peer closes the channel, or with
 * {@code ALLOW_HALF_CLOSURE} fires {@link ChannelInputShutdownEvent}. {@code SO_LINGER} 0 makes
 * {@code close()} send RST.</li>
 * <li>A child of a {@link VirtualServerSocketChannel} with {@link VirtualChannelOption#DEFERRED_ACCEPT} starts
 * inactive: {@link #acceptConnection()} or {@link #refuseConnection(Refusal)} decides.</li>
 * </ul>
 *
 * <p>The channel may run on any event loop; the TCP engine runs on the host's loop. On the same loop everything
 * is synchronous; across loops each flush and each read batch costs one task hop.
 */
public final class VirtualSocketChannel extends AbstractVirtualChannel implements SocketChannel, PortTable.Bound {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private enum State { OPEN, CONNECTING, PENDING, ACTIVE, CLOSED }

    private final VirtualSocketChannelConfig config;
    private volatile State state = State.OPEN;
    /** The engine's connection; touched only on the host's loop. */
    private TcpConnection conn;
    private volatile Endpoint local;
    private volatile Endpoint remote;
    private volatile int boundPort = -1;
    private volatile boolean ephemeralBound;
    private volatile boolean engineWritable = true;
    private volatile boolean writeBlocked;
    private final AtomicLong inTransit = new AtomicLong();
    private volatile boolean inputShutdown;
    private volatile boolean outputShutdown;
    private volatile Throwable pendingAbortCause;
    private ChannelPromise connectPromise;
    private ChannelPromise pendingShutdown;
    private ScheduledFuture<?> connectTimeout;
    private List<Runnable> beforeRegistration;
    private final Runnable resumeWrites = this::resumeWrites;
    private final TcpConnectionHandler events = new Events();

    VirtualSocketChannel(VirtualHost host) {
        super(null, host);
        this.config = new VirtualSocketChannelConfig(this, new TcpSocketOptions().noDelay(true));
    }

    /** An accepted (or deferred) child; runs on the host's loop. */
    VirtualSocketChannel(VirtualServerSocketChannel parent, VirtualHost host, TcpConnection conn, boolean deferred) {
        super(parent, host);
        this.config = new VirtualSocketChannelConfig(this, conn.options());
        this.conn = conn;
        this.local = Endpoint.of(conn.localAddress());
        this.remote = Endpoint.of(conn.remoteAddress());
        this.state = deferred ? State.PENDING : State.ACTIVE;
        this.engineWritable = conn.isWritable();
        conn.attachment(this);
    }

    TcpConnectionHandler events() {
        return events;
    }

    // ---- PortTable.Bound ----

    @Override
    public Endpoint local() {
        return local;
    }

    @Override
    public Endpoint remote() {
        return null; // bound client sockets are listed by port only
    }

    @Override
    public boolean transparent() {
        return false;
    }

    // ---- Channel ----

    @Override
    public VirtualServerSocketChannel parent() {
        return (VirtualServerSocketChannel) super.parent();
    }

    @Override
    public VirtualSocketChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isOpen() {
        return state != State.CLOSED;
    }

    @Override
    public boolean isActive() {
        return state == State.ACTIVE;
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return (InetSocketAddress) super.remoteAddress();
    }

    @Override
    protected SocketAddress localAddress0() {
        Endpoint l = local;
        return l == null ? null : l.toSocketAddress();
    }

    @Override
    protected SocketAddress remoteAddress0() {
        Endpoint r = remote;
        return r == null ? null : r.toSocketAddress();
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new SocketUnsafe();
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        super.doRegister(promise);
        List<Runnable> early;
        synchronized (this) {
            early = beforeRegistration;
            beforeRegistration = null;
        }
        if (early != null) {
            for (Runnable r : early) {
                eventLoop().execute(r); // after register0 has added the handlers
            }
        }
    }

    /** Runs {@code r} on this channel's loop: now when there, later once registered. */
    private void onChannelLoop(Runnable r) {
        if (!isRegistered()) {
            synchronized (this) {
                if (!isRegistered()) {
                    if (beforeRegistration == null) {
                        beforeRegistration = new ArrayList<>(2);
                    }
                    beforeRegistration.add(r);
                    return;
                }
            }
        }
        EventLoop l = eventLoop();
        if (l.inEventLoop()) {
            r.run();
        } else {
            try {
                l.execute(r);
            } catch (RejectedExecutionException ignored) {
                // the loop is shutting down; the channel dies with it
            }
        }
    }

    /** Runs {@code r} on the host's loop (where the engine lives). */
    private void onHostLoop(Runnable r) {
        EventLoop l = host.tcpLayer().loop;
        if (l.inEventLoop()) {
            r.run();
        } else {
            l.execute(r);
        }
    }

    /** Applies a setting to the live connection, if there is one. */
    void onLive(Consumer<TcpConnection> setting) {
        if (state == State.OPEN || state == State.CLOSED) {
            return;
        }
        try {
            onHostLoop(() -> {
                TcpConnection c = conn;
                if (c != null && c.state() != TcpState.CLOSED) {
                    setting.accept(c);
                }
            });
        } catch (RuntimeException ignored) {
            // no TCP layer: nothing is live
        }
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        if (!(localAddress instanceof InetSocketAddress isa)) {
            throw new IllegalArgumentException("not an InetSocketAddress: " + localAddress);
        }
        bind0(Endpoint.of(isa));
    }

    private void bind0(Endpoint want) throws java.io.IOException {
        if (local != null) {
            throw new java.net.BindException("already bound to " + local);
        }
        if (want.family() == 4 && !host.isLocalIpv4(want.v4())
                || want.family() == 6 && !host.isLocalIpv6(want.hi(), want.lo())) {
            throw new java.net.BindException("Cannot assign requested address: " + want
                    + " is not an address of " + host);
        }
        synchronized (host.tcpPorts) {
            int port = host.tcpPorts.reservePort(want, false);
            local = want.withPort(port);
            boundPort = port;
            ephemeralBound = want.port() == 0;
            host.tcpPorts.add(port, this);
        }
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        State was = state;
        state = State.CLOSED;
        int p = boundPort;
        if (p >= 0) {
            host.tcpPorts.remove(p, this);
            boundPort = -1;
        }
        ScheduledFuture<?> t = connectTimeout;
        if (t != null) {
            t.cancel(false);
        }
        ChannelPromise cp = connectPromise;
        if (cp != null) {
            connectPromise = null;
            cp.tryFailure(new ClosedChannelException());
        }
        releaseQueued(); // never read: left unconsumed, so TCP resets (RFC 2525 §2.17) if there were any
        long read = takeReadNotReported(); // read by the pipeline in this batch (a close from channelRead)
        if (was != State.OPEN) {
            try {
                onHostLoop(() -> {
                    TcpConnection c = conn;
                    if (c == null) {
                        return;
                    }
                    conn = null;
                    if (c.isDeferred()) {
                        c.refuseDeferred(SynVerdict.REJECT_RST);
                    } else if (c.state() != TcpState.CLOSED && c.state() != TcpState.TIME_WAIT) {
                        if (read > 0) {
                            c.consumed((int) Math.min(read, Integer.MAX_VALUE));
                        }
                        c.close(); // FIN after the send buffer, or RST with SO_LINGER 0
                    }
                });
            } catch (RuntimeException ignored) {
                // no TCP layer (never connected)
            }
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type: " + StringUtil.simpleClassName(msg)
                + " (expected: ByteBuf)");
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        if (outputShutdown) {
            ClosedChannelException e = new ClosedChannelException();
            while (in.remove(e)) {
                // output shut down: the writes fail as on a real socket
            }
            return;
        }
        WriteBatch w = writeBatch;
        for (;;) {
            w.reset(Math.max(config.getSendBufferSize(), 1024));
            in.forEachFlushedMessage(w);
            if (w.single != null) {
                handToEngine(w.single, w.rest, w.bytes);
            }
            // Only now do the writes' promises complete: a listener that shuts the output down or closes the
            // channel from there queues its FIN behind these bytes, never in front of them.
            for (int i = 0; i < w.entries; i++) {
                in.remove();
            }
            if (w.entries == 0 || w.blocked || in.isEmpty()) {
                break;
            }
            // a listener wrote and flushed more while its promise completed: take that too
        }
        maybeFinishShutdown(in);
    }

    private final WriteBatch writeBatch = new WriteBatch();

    /** Takes flushed messages off the front of the outbound buffer, without removing them, up to the budget. */
    private final class WriteBatch implements ChannelOutboundBuffer.MessageProcessor {
        private long budget;
        ByteBuf single;
        List<ByteBuf> rest;
        long bytes;
        int entries;
        boolean blocked;

        void reset(long budget) {
            this.budget = budget;
            single = null;
            rest = null;
            bytes = 0;
            entries = 0;
            blocked = false;
        }

        @Override
        public boolean processMessage(Object m) {
            ByteBuf b = (ByteBuf) m;
            int n = b.readableBytes();
            if (n == 0) {
                entries++;
                return true;
            }
            if (!engineWritable || inTransit.get() + bytes >= budget) {
                writeBlocked = true;
                // Look again: the engine may have turned writable between the check and the flag.
                if (!engineWritable || inTransit.get() + bytes >= budget) {
                    blocked = true;
                    return false;
                }
                writeBlocked = false;
            }
            b.retain(); // the engine's reference; the outbound buffer's goes when the entry is removed
            entries++;
            bytes += n;
            if (single == null) {
                single = b;
            } else {
                if (rest == null) {
                    rest = new ArrayList<>();
                    rest.add(single);
                }
                rest.add(b);
            }
            return true;
        }
    }

    private void handToEngine(ByteBuf first, List<ByteBuf> rest, long handed) {
        inTransit.addAndGet(handed);
        onHostLoop(() -> {
            TcpConnection c = conn;
            boolean batch = host.holdFlushes(); // the segments of these bytes leave with few device flushes
            try {
                if (rest == null) {
                    writeToEngine(c, first);
                } else {
                    for (ByteBuf b : rest) {
                        writeToEngine(c, b);
                    }
                }
                if (c != null) {
                    c.flush();
                    engineWritable = c.isWritable();
                }
            } finally {
                host.releaseFlushes(batch);
                // even when the engine threw: bytes left counted in transit would block this channel's writes
                // for good (the exception itself reaches the loop's log)
                inTransit.addAndGet(-handed);
                if (writeBlocked && engineWritable) {
                    scheduleResume();
                }
            }
        });
    }

    private void maybeFinishShutdown(ChannelOutboundBuffer in) {
        ChannelPromise p = pendingShutdown;
        if (p != null && in.isEmpty()) {
            pendingShutdown = null;
            // after this flush returns: the event must not run inside the write path
            eventLoop().execute(() -> {
                if (isActive()) {
                    finishShutdownOutput(p);
                } else {
                    p.tryFailure(new ClosedChannelException());
                }
            });
        }
    }

    private static void writeToEngine(TcpConnection c, ByteBuf b) {
        if (c == null || !c.write(b)) {
            if (c == null) {
                b.release();
            }
            // the engine released it: the connection is closing; the close event follows
        }
    }

    /**
     * Resumes writing in a task of its own: the engine may turn writable while this channel is inside its own
     * flush (same loop), where a nested flush would be ignored and the wake-up lost.
     */
    private void scheduleResume() {
        if (isRegistered()) {
            try {
                eventLoop().execute(resumeWrites);
            } catch (RejectedExecutionException ignored) {
                // shutting down
            }
        }
    }

    private void resumeWrites() {
        writeBlocked = false;
        if (isActive()) {
            ((SocketUnsafe) unsafe()).resume();
        }
    }

    @Override
    void afterRead(long bytes) {
        onHostLoop(() -> {
            TcpConnection c = conn;
            if (c != null && c.state() != TcpState.CLOSED) {
                c.consumed((int) bytes);
            }
        });
    }

    /**
     * A snapshot of the connection's TCP state (RFC 9293 state, windows, RTT, retransmissions, negotiated
     * options), taken on the host's loop; fails when there is no connection (not connected yet, or gone).
     */
    public io.netty.util.concurrent.Future<dev.pktkit.vtcp.engine.TcpConnectionStats> connectionStats() {
        io.netty.util.concurrent.Promise<dev.pktkit.vtcp.engine.TcpConnectionStats> p =
                io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE.newPromise();
        try {
            onHostLoop(() -> {
                TcpConnection c = conn;
                if (c == null) {
                    p.tryFailure(new ClosedChannelException());
                } else {
                    p.trySuccess(c.stats());
                }
            });
        } catch (RuntimeException e) {
            p.tryFailure(e);
        }
        return p;
    }

    /** Debugging aid for tests: writability flags of the channel's write path. */
    String writeState() {
        return "engineWritable=" + engineWritable + " writeBlocked=" + writeBlocked + " inTransit=" + inTransit.get();
    }

    // ---- deferred accept ----

    /**
     * For a child held by {@link VirtualChannelOption#DEFERRED_ACCEPT}: sends the SYN-ACK. The channel becomes
     * active (and {@code channelActive} fires) when the handshake completes. No effect on other channels.
     */
    public void acceptConnection() {
        onHostLoop(() -> {
            TcpConnection c = conn;
            if (c == null) {
                return;
            }
            if (c.state() == TcpState.CLOSED) {
                onChannelLoop(() -> close());
                return;
            }
            if (c.isDeferred()) {
                c.acceptDeferred();
            }
        });
    }

    /** For a child held by {@link VirtualChannelOption#DEFERRED_ACCEPT}: refuses it and closes the channel. */
    public void refuseConnection(Refusal how) {
        SynVerdict v = switch (how) {
            case RESET -> SynVerdict.REJECT_RST;
            case ICMP_UNREACHABLE -> SynVerdict.REJECT_ICMP;
            case DROP -> SynVerdict.DROP;
        };
        onHostLoop(() -> {
            TcpConnection c = conn;
            if (c != null && c.isDeferred()) {
                conn = null;
                c.refuseDeferred(v);
            }
            onChannelLoop(() -> close());
        });
    }

    /**
     * Why the engine gave up this deferred child before the application accepted or refused it: the peer reset it
     * (a {@link java.net.ConnectException}) or it waited longer than
     * {@link dev.pktkit.vtcp.engine.TcpEngineConfig#deferredTimeoutNanos()} (an {@link java.io.IOException}); the
     * channel is then closed. {@code null} for any other channel.
     */
    public Throwable pendingAbortCause() {
        return pendingAbortCause;
    }

    /** On the host's loop: the engine dropped this pending connection ({@code TcpListener.onDeferredAborted}). */
    void deferredAborted(Throwable cause) {
        conn = null;
        pendingAbortCause = cause;
        onChannelLoop(() -> closedByEngine(cause));
    }

    /** Whether this is a deferred child that was neither accepted nor refused yet. */
    public boolean isPending() {
        return state == State.PENDING;
    }

    // ---- shutdown ----

    @Override
    public boolean isInputShutdown() {
        return inputShutdown || !isActive();
    }

    @Override
    public boolean isOutputShutdown() {
        return outputShutdown || !isActive();
    }

    @Override
    public boolean isShutdown() {
        return isInputShutdown() && isOutputShutdown();
    }

    @Override
    public ChannelFuture shutdownOutput() {
        return shutdownOutput(newPromise());
    }

    @Override
    public ChannelFuture shutdownOutput(ChannelPromise promise) {
        EventLoop l = eventLoop();
        if (l.inEventLoop()) {
            shutdownOutput0(promise);
        } else {
            l.execute(() -> shutdownOutput0(promise));
        }
        return promise;
    }

    private void shutdownOutput0(ChannelPromise promise) {
        if (!isActive()) {
            promise.tryFailure(new ClosedChannelException());
            return;
        }
        if (outputShutdown) {
            promise.trySuccess();
            return;
        }
        // FIN goes after everything written so far: what still waits in Netty's outbound buffer (the send buffer
        // being full) moves into the send buffer first, then the engine queues the FIN behind it.
        unsafe().flush();
        ChannelOutboundBuffer ob = unsafe().outboundBuffer();
        if (ob != null && !ob.isEmpty()) {
            if (pendingShutdown == null) {
                pendingShutdown = promise;
            } else {
                pendingShutdown.addListener(f -> promise.trySuccess());
            }
            return;
        }
        finishShutdownOutput(promise);
    }

    private void finishShutdownOutput(ChannelPromise promise) {
        outputShutdown = true;
        onHostLoop(() -> {
            TcpConnection c = conn;
            if (c != null) {
                c.shutdownOutput();
            }
        });
        promise.trySuccess();
        pipeline().fireUserEventTriggered(ChannelOutputShutdownEvent.INSTANCE);
    }

    @Override
    public ChannelFuture shutdownInput() {
        return shutdownInput(newPromise());
    }

    @Override
    public ChannelFuture shutdownInput(ChannelPromise promise) {
        inputShutdown = true;
        releaseQueued();
        promise.trySuccess();
        return promise;
    }

    @Override
    public ChannelFuture shutdown() {
        return shutdown(newPromise());
    }

    @Override
    public ChannelFuture shutdown(ChannelPromise promise) {
        shutdownInput();
        return shutdownOutput(promise);
    }

    @Override
    public String toString() {
        return "VirtualSocketChannel(" + local + (remote == null ? "" : " -> " + remote) + ", " + state + ")";
    }

    // ---- engine events (on the host's loop) ----

    private final class Events implements TcpConnectionHandler {
        @Override
        public void onEstablished(TcpConnection c) {
            if (conn == null && state != State.CLOSED) {
                // the handshake completed inside engine.connect() (a peer answering synchronously, as a host on
                // the same loop over a PacketPipe does): writes from channelActive need the connection now
                conn = c;
                c.attachment(VirtualSocketChannel.this);
            }
            Endpoint l = Endpoint.of(c.localAddress());
            engineWritable = c.isWritable();
            onChannelLoop(() -> {
                local = l;
                if (state == State.CLOSED) {
                    return;
                }
                boolean wasActive = isActive();
                state = State.ACTIVE;
                ChannelPromise p = connectPromise;
                connectPromise = null;
                ScheduledFuture<?> t = connectTimeout;
                if (t != null) {
                    t.cancel(false);
                }
                boolean promiseSet = p == null || p.trySuccess();
                if (!wasActive) {
                    pipeline().fireChannelActive(); // reads when AUTO_READ is on
                }
                if (!promiseSet) {
                    close();
                }
            });
        }

        @Override
        public void onData(TcpConnection c, ByteBuf data) {
            if (inputShutdown) {
                int n = data.readableBytes();
                data.release();
                c.consumed(n);
                return;
            }
            offer(data, data.readableBytes(), 0, Long.MAX_VALUE);
        }

        @Override
        public void onPeerFin(TcpConnection c) {
            offer((Runnable) VirtualSocketChannel.this::peerFin, 0, 0, Long.MAX_VALUE);
        }

        @Override
        public void onWritabilityChanged(TcpConnection c, boolean writable) {
            engineWritable = writable;
            if (writable && writeBlocked) {
                scheduleResume();
            }
        }

        @Override
        public void onClosed(TcpConnection c, Throwable cause) {
            if (conn == c) {
                conn = null;
            }
            Runnable closed = () -> closedByEngine(cause);
            if (state == State.ACTIVE) {
                // after the data already queued, like a read that returns the error
                if (!offer(closed, 0, 0, Long.MAX_VALUE)) {
                    return;
                }
                // a reader that stopped reading still learns that the connection is gone
                onChannelLoop(() -> {
                    if (isOpen() && !config.isAutoRead() && cause != null) {
                        closedByEngine(cause);
                    }
                });
            } else {
                onChannelLoop(closed);
            }
        }
    }

    private void peerFin() {
        if (!isOpen() || inputShutdown) {
            return;
        }
        inputShutdown = true;
        if (config.isAllowHalfClosure()) {
            pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
        } else {
            close();
        }
    }

    private void closedByEngine(Throwable cause) {
        if (!isOpen()) {
            return;
        }
        ChannelPromise p = connectPromise;
        if (p != null) {
            connectPromise = null;
            ScheduledFuture<?> t = connectTimeout;
            if (t != null) {
                t.cancel(false);
            }
            // closed first, as a refused NIO connect leaves a closed channel behind when its promise fails
            close();
            p.tryFailure(cause != null ? cause : new ClosedChannelException());
            return;
        }
        if (cause != null && isActive()) {
            pipeline().fireExceptionCaught(cause);
        }
        close();
    }

    private final class SocketUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            if (!promise.setUncancellable() || !ensureOpen(promise)) {
                return;
            }
            try {
                if (state == State.ACTIVE || state == State.PENDING || parent() != null) {
                    throw new AlreadyConnectedException();
                }
                if (connectPromise != null) {
                    throw new ConnectionPendingException();
                }
                if (!(remoteAddress instanceof InetSocketAddress to)) {
                    throw new IllegalArgumentException("not an InetSocketAddress: " + remoteAddress);
                }
                Endpoint r = Endpoint.of(to);
                if (r.isWildcard()) {
                    throw new java.net.ConnectException("cannot connect to the wildcard address " + to);
                }
                TcpLayer layer = host.tcpLayer();
                Endpoint want = local;
                if (want == null) {
                    Endpoint req = localAddress == null ? Endpoint.WILDCARD : Endpoint.of((InetSocketAddress) localAddress);
                    bind0(req);
                    want = local;
                }
                boolean ephemeral = ephemeralBound;
                Endpoint src = sourceFor(want, r);
                remote = r;
                state = State.CONNECTING;
                connectPromise = promise;
                int timeoutMillis = config.getConnectTimeoutMillis();
                if (timeoutMillis > 0) {
                    connectTimeout = eventLoop().schedule(() -> {
                        ChannelPromise p = connectPromise;
                        if (p != null && !p.isDone()) {
                            connectPromise = null;
                            close(voidPromise());
                            p.tryFailure(new ConnectTimeoutException("connection timed out after " + timeoutMillis
                                    + " ms: " + to));
                        }
                    }, timeoutMillis, TimeUnit.MILLISECONDS);
                }
                TcpSocketOptions options = config.toOptions();
                InetSocketAddress remoteIsa = r.toSocketAddress();
                Endpoint src0 = src;
                onHostLoopForConnect(layer, () -> {
                    if (state == State.CLOSED) {
                        return;
                    }
                    try {
                        InetSocketAddress localIsa = src0.toSocketAddress();
                        // an ephemeral port still in TIME-WAIT with this peer: pick another (RFC 6056 §3.3.2)
                        for (int tries = 0; ephemeral && tries < 64 && layer.engine.isInUse(localIsa, remoteIsa);
                                tries++) {
                            localIsa = rebindEphemeral(src0).toSocketAddress();
                        }
                        TcpConnection c = layer.engine.connect(localIsa, remoteIsa, options, events);
                        c.attachment(VirtualSocketChannel.this);
                        if (state == State.CLOSED) {
                            c.abort();
                        } else {
                            conn = c;
                        }
                    } catch (RuntimeException | java.net.BindException e) {
                        java.net.ConnectException ce = new java.net.ConnectException(e.getMessage());
                        ce.initCause(e);
                        onChannelLoop(() -> closedByEngine(ce));
                    }
                });
            } catch (Throwable t) {
                promise.tryFailure(t);
                closeIfClosed();
            }
        }

        void resume() {
            flush0();
        }
    }

    /** Moves this channel to another ephemeral port; returns the source endpoint with it. */
    private Endpoint rebindEphemeral(Endpoint src) throws java.net.BindException {
        synchronized (host.tcpPorts) {
            int old = boundPort;
            Endpoint bound = local;
            int port = host.tcpPorts.reservePort(bound.withPort(0), false);
            host.tcpPorts.add(port, this);
            local = bound.withPort(port);
            boundPort = port;
            if (old >= 0) {
                host.tcpPorts.remove(old, this);
            }
            return src.withPort(port);
        }
    }

    private static void onHostLoopForConnect(TcpLayer layer, Runnable r) {
        if (layer.loop.inEventLoop()) {
            r.run();
        } else {
            layer.loop.execute(r);
        }
    }

    /** The source address for a connection from {@code bound} to {@code r}: the bound address or the host's. */
    private Endpoint sourceFor(Endpoint bound, Endpoint r) throws java.io.IOException {
        if (bound.family() != 0) {
            if (bound.family() != r.family()) {
                throw new java.net.ConnectException("bound to " + bound + " but connecting to " + r);
            }
            return bound;
        }
        if (r.family() == 4) {
            int a = host.sourceIpv4();
            if (a == 0) {
                throw new java.net.NoRouteToHostException("the host has no IPv4 address");
            }
            return new Endpoint(4, a, 0, 0, bound.port());
        }
        long[] s = new long[2];
        if (!host.sourceIpv6(r.hi(), s)) {
            throw new java.net.NoRouteToHostException("the host has no IPv6 address");
        }
        return new Endpoint(6, 0, s[0], s[1], bound.port());
    }
}

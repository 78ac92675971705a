package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.TcpOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;

/**
 * One host's TCP: demultiplexes inbound segments to connections, listeners and TIME-WAIT entries, answers what
 * matches nothing with RST (RFC 9293 §3.10.7.1), runs every connection's timers from one deadline heap, and
 * sends through a {@link SegmentSink}. Single-threaded (see the package documentation).
 *
 * <ul>
 *   <li>Initial sequence numbers: RFC 6528 §3, {@code ISN = M + F(localip, localport, remoteip, remoteport,
 *       secretkey)} with {@code M} a 4 µs clock and {@code F} SipHash-2-4 keyed from
 *       {@link TcpEngineConfig#secret()}. Timestamp offsets are keyed per flow the same way (RFC 7323 §5.4).</li>
 *   <li>SYN cookies (RFC 4987 §3.6), in Linux's layout: {@code cookie = H1(flow) + ISN_peer + (minute << 24) +
 *       ((H2(flow, minute) + mssIndex) & 0xFFFFFF)}, valid for two minutes. With timestamps, the low 6 bits of
 *       our timestamp value carry the peer's window scale (4 bits, 15 = none), SACK permission and ECN, and
 *       come back in the ACK's TSecr (Linux's {@code cookie_init_timestamp}); without timestamps, a cookie
 *       connection has no window scaling and no SACK.</li>
 *   <li>TIME-WAIT (RFC 9293 §3.10.7.4): entries are bounded ({@link TcpEngineConfig#maxTimeWait()}, the oldest is
 *       recycled); a new SYN with a higher sequence number or newer timestamp reopens the 4-tuple (RFC 6191,
 *       RFC 1122 §4.2.2.13); RST is ignored in TIME-WAIT (RFC 1337).</li>
 *   <li>RFC 5961 §7: challenge ACKs are limited engine-wide per second.</li>
 * </ul>
 */
public final class TcpEngine {
    /** Listen on any port ({@link #listen}). */
    public static final int ANY_PORT = -1;

    /** MSS values a SYN cookie can carry (3 bits); the largest not above the peer's MSS is used. */
    static final int[] COOKIE_MSS = {536, 1220, 1300, 1440, 1460, 4312, 8960, 65495};
    private static final long COOKIE_PERIOD = 60_000_000_000L;

    final TcpEngineConfig config;
    final TcpClock clock;
    final TcpScheduler scheduler;
    final SegmentSink sink;
    final ByteBufAllocator alloc;
    final int[] sackScratch = new int[2 * TcpOptions.MAX_SACK_BLOCKS];
    /**
     * Where a segment's payload passes between the send queue and the packet while it is summed, and where a
     * received segment is summed (the engine's thread; never both at once).
     */
    final byte[] copyScratch = new byte[4096];

    private final long[] drops = new long[DropReason.values().length];
    private final HashMap<FlowKey, TcpConnection> conns = new HashMap<>();
    private final FlowKey lookup = new FlowKey();
    private final HashMap<ListenKey, Listener> listeners = new HashMap<>();
    private final ListenKey listenLookup = new ListenKey();
    private final Segment seg = new Segment();
    private final ScratchFlow scratch = new ScratchFlow();
    private final SipHash isnHash;
    private final SipHash cookieHash;

    private TcpConnection[] heap = new TcpConnection[64];
    private int heapSize;
    private long requestedWake = Long.MAX_VALUE;

    private int connectionCount;
    private int halfOpen;
    private int timeWaitCount;
    private TcpConnection twHead;
    private TcpConnection twTail;
    private long cookiesSent;
    private long cookiesAccepted;
    private long challengeWindowStart;
    private int challengeCount;
    private boolean closed;
    /** Engine frames on the stack (input, ICMP, timers, a send through the sink): above 0, input is deferred. */
    private int depth;
    private boolean draining;
    private ByteBuf[] dqBufs = new ByteBuf[16];
    private long[] dqAddr = new long[64];
    private int[] dqMeta = new int[16];
    private int dqHead;
    private int dqCount;
    private ArrayDeque<DeferredIcmp> deferredIcmp;

    /**
     * Creates an engine.
     *
     * @param config    bounds and engine-wide settings (copied)
     * @param clock     time source in nanoseconds
     * @param scheduler how the engine asks for {@link #onTimer()} calls
     * @param sink      where outbound segments go
     * @param alloc     allocator for header buffers and copied payloads (the host's channel allocator)
     */
    public TcpEngine(TcpEngineConfig config, TcpClock clock, TcpScheduler scheduler, SegmentSink sink,
                     ByteBufAllocator alloc) {
        this.config = Objects.requireNonNull(config, "config").copy();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.alloc = Objects.requireNonNull(alloc, "alloc");
        byte[] secret = this.config.secret();
        byte[] k = new byte[32];
        System.arraycopy(secret, 0, k, 0, Math.min(secret.length, 32));
        if (secret.length < 32) {
            System.arraycopy(secret, 0, k, 16, 16);
        }
        this.isnHash = SipHash.fromKey(k, 0);
        this.cookieHash = SipHash.fromKey(k, 16);
    }

    // ------------------------------------------------------------------------------------------------ input

    /**
     * Processes one inbound IPv4 TCP segment. Never throws for wire input: a bad segment is released and counted
     * ({@link #drops(DropReason)}).
     *
     * @param segment          the TCP segment from {@code readerIndex()} (header first) to {@code writerIndex()}
     *                         (end of payload, without IP padding); ownership passes to the engine
     * @param src              the IP source address (the remote end)
     * @param dst              the IP destination address (the local end; may be any address for any-address
     *                         listeners)
     * @param ecn              the IP header's ECN bits (0..3)
     * @param checksumVerified {@code true} when the host (or offload) already verified the TCP checksum
     */
    public void input4(ByteBuf segment, int src, int dst, int ecn, boolean checksumVerified) {
        if (depth > 0) {
            defer(segment, false, 0, src & 0xFFFF_FFFFL, 0, dst & 0xFFFF_FFFFL, ecn, checksumVerified);
            return;
        }
        depth++;
        try {
            process4(segment, src, dst, ecn, checksumVerified);
        } finally {
            segment.release();
            depth--;
            afterEvent();
        }
    }

    private int largeSegmentBytes = -1;

    /**
     * The large-segment size in use (0: off): {@link TcpEngineConfig#largeSegmentBytes} (its
     * {@link TcpEngineConfig#LARGE_SEGMENTS_OFF} read as 0) unless the host changed it.
     */
    public int largeSegmentBytes() {
        int n = largeSegmentBytes;
        return n < 0 ? Math.max(0, config.largeSegmentBytes()) : n;
    }

    /**
     * Changes the large-segment size (0 off, at most 65 000) for segments sent from now on; on the engine's thread.
     * A host sets it when it learns that its device takes large segments ({@code VirtualHost}: the channel's
     * {@code OffloadPacket.ACCEPTS}); the sink must then implement {@link SegmentSink#sendLarge}.
     */
    public void largeSegmentBytes(int bytes) {
        if (bytes < 0 || bytes > 65_000) {
            throw new IllegalArgumentException("largeSegmentBytes " + bytes + " (0..65000)");
        }
        largeSegmentBytes = bytes;
    }

    /** From this many bytes a direct segment's checksum is summed in {@link #copyScratch} rather than in place. */
    static final int SCRATCH_SUM_MIN = 256;

    /**
     * {@code Tcp.verifyChecksumV4/V6} over the readable bytes. A direct segment of one piece and at least
     * {@value #SCRATCH_SUM_MIN} bytes is read in bulk into {@link #copyScratch} (4 KiB at a time, an even size, so
     * words stay aligned) and summed there: codec's {@code Checksums.partial} would read it in place 8 bytes per
     * bounds-checked call, several times slower. Netty's bulk read makes a {@code ByteBuffer} duplicate per call on
     * JDK 25 without {@code Unsafe}, which C2 removes once the path is compiled. Shorter segments (ACKs), heap
     * and composite buffers go to {@code Checksums.partial}.
     */
    private boolean checksumOk(ByteBuf segment, long pseudo) {
        int len = segment.readableBytes();
        if (len < Tcp.MIN_HEADER_LENGTH) {
            return false;
        }
        int off = segment.readerIndex();
        long sum;
        if (len < SCRATCH_SUM_MIN || segment.hasArray() || segment.nioBufferCount() != 1) {
            sum = Checksums.partial(segment, off, len, pseudo);
        } else {
            byte[] a = copyScratch;
            sum = pseudo;
            while (len > 0) {
                int k = Math.min(len, a.length);
                segment.getBytes(off, a, 0, k);
                sum = Checksums.partial(a, 0, k, sum);
                off += k;
                len -= k;
            }
        }
        return Checksums.fold(sum) == 0xFFFF;
    }

    private void process4(ByteBuf segment, int src, int dst, int ecn, boolean checksumVerified) {
        if (closed) {
            drop(DropReason.IGNORED);
            return;
        }
        if (!checksumVerified && !checksumOk(segment, Checksums.pseudoHeaderV4(src, dst, IpProtocol.TCP,
                segment.readableBytes()))) {
            drop(segment.readableBytes() < Tcp.MIN_HEADER_LENGTH ? DropReason.MALFORMED_HEADER
                    : DropReason.BAD_CHECKSUM);
            return;
        }
        if (badV4(src) || badV4(dst) || src == 0) {
            drop(DropReason.BAD_ADDRESS);
            return;
        }
        dispatch(segment, false, 0, src & 0xFFFF_FFFFL, 0, dst & 0xFFFF_FFFFL, ecn);
    }

    /** {@link #input4} for IPv6: addresses as high and low 64 bits. */
    public void input6(ByteBuf segment, long srcHi, long srcLo, long dstHi, long dstLo, int ecn,
                       boolean checksumVerified) {
        if (depth > 0) {
            defer(segment, true, srcHi, srcLo, dstHi, dstLo, ecn, checksumVerified);
            return;
        }
        depth++;
        try {
            process6(segment, srcHi, srcLo, dstHi, dstLo, ecn, checksumVerified);
        } finally {
            segment.release();
            depth--;
            afterEvent();
        }
    }

    private void process6(ByteBuf segment, long srcHi, long srcLo, long dstHi, long dstLo, int ecn,
                          boolean checksumVerified) {
        if (closed) {
            drop(DropReason.IGNORED);
            return;
        }
        if (!checksumVerified && !checksumOk(segment, Checksums.pseudoHeaderV6(srcHi, srcLo, dstHi, dstLo,
                IpProtocol.TCP, segment.readableBytes()))) {
            drop(segment.readableBytes() < Tcp.MIN_HEADER_LENGTH ? DropReason.MALFORMED_HEADER
                    : DropReason.BAD_CHECKSUM);
            return;
        }
        if ((srcHi >>> 56) == 0xFF || (dstHi >>> 56) == 0xFF || (srcHi == 0 && srcLo == 0)) {
            drop(DropReason.BAD_ADDRESS);
            return;
        }
        dispatch(segment, true, srcHi, srcLo, dstHi, dstLo, ecn);
    }

    // ------------------------------------------------------------------------------------------------ re-entry

    /**
     * Queues a segment that arrived while the engine was busy: a sink that delivers synchronously (two hosts on one
     * event loop over a {@code PacketPipe}) hands the peer's answer back from inside {@link SegmentSink#send}, in
     * the middle of this engine's own output. Processing it there would change SND.UNA, the send queue and the
     * scoreboard under the caller (and overwrite the parsed segment): it is processed when the outermost call
     * returns, in arrival order, bounded by {@link TcpEngineConfig#maxDeferredInputs()}.
     */
    private void defer(ByteBuf segment, boolean v6, long sHi, long sLo, long dHi, long dLo, int ecn,
                       boolean verified) {
        if (closed) {
            drop(DropReason.IGNORED);
            segment.release();
            return;
        }
        if (dqCount == dqBufs.length) {
            if (dqCount >= config.maxDeferredInputs()) {
                drop(DropReason.DEFERRED_INPUT_FULL);
                segment.release();
                return;
            }
            growDeferred();
        }
        int i = (dqHead + dqCount) & (dqBufs.length - 1);
        dqBufs[i] = segment;
        dqAddr[4 * i] = sHi;
        dqAddr[4 * i + 1] = sLo;
        dqAddr[4 * i + 2] = dHi;
        dqAddr[4 * i + 3] = dLo;
        dqMeta[i] = (v6 ? 1 : 0) | (verified ? 2 : 0) | ((ecn & 3) << 2);
        dqCount++;
    }

    private void growDeferred() {
        int n = dqBufs.length * 2;
        ByteBuf[] b = new ByteBuf[n];
        long[] a = new long[4 * n];
        int[] m = new int[n];
        for (int k = 0; k < dqCount; k++) {
            int j = (dqHead + k) & (dqBufs.length - 1);
            b[k] = dqBufs[j];
            System.arraycopy(dqAddr, 4 * j, a, 4 * k, 4);
            m[k] = dqMeta[j];
        }
        dqBufs = b;
        dqAddr = a;
        dqMeta = m;
        dqHead = 0;
    }

    /** Processes the deferred segments and ICMP errors, once nothing of this engine is on the stack. */
    private void drainDeferred() {
        draining = true;
        try {
            while (dqCount > 0 || deferredIcmp != null && !deferredIcmp.isEmpty()) {
                if (dqCount > 0) {
                    int i = dqHead;
                    ByteBuf b = dqBufs[i];
                    dqBufs[i] = null;
                    dqHead = (dqHead + 1) & (dqBufs.length - 1);
                    dqCount--;
                    int m = dqMeta[i];
                    depth++;
                    try {
                        if ((m & 1) != 0) {
                            process6(b, dqAddr[4 * i], dqAddr[4 * i + 1], dqAddr[4 * i + 2], dqAddr[4 * i + 3],
                                    m >>> 2, (m & 2) != 0);
                        } else {
                            process4(b, (int) dqAddr[4 * i + 1], (int) dqAddr[4 * i + 3], m >>> 2, (m & 2) != 0);
                        }
                    } finally {
                        b.release();
                        depth--;
                    }
                } else {
                    DeferredIcmp d = deferredIcmp.poll();
                    depth++;
                    try {
                        processIcmp(d.v6, d.sHi, d.sLo, d.dHi, d.dLo, d.quoted, d.error, d.mtu);
                    } finally {
                        d.quoted.release();
                        depth--;
                    }
                }
            }
        } finally {
            draining = false;
        }
    }

    /** An ICMP error that arrived while the engine was busy (rare: a copy of its quote is kept). */
    private record DeferredIcmp(boolean v6, long sHi, long sLo, long dHi, long dLo, ByteBuf quoted, IcmpError error,
                                int mtu) {
    }

    private void releaseDeferred() {
        while (dqCount > 0) {
            dqBufs[dqHead].release();
            dqBufs[dqHead] = null;
            dqHead = (dqHead + 1) & (dqBufs.length - 1);
            dqCount--;
        }
        if (deferredIcmp != null) {
            DeferredIcmp d;
            while ((d = deferredIcmp.poll()) != null) {
                d.quoted.release();
            }
        }
    }

    /** Sends through the sink, marking the engine busy so that a synchronous answer is deferred. */
    void send(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn) {
        depth++;
        try {
            sink.send(flow, header, payload, ecn);
        } finally {
            depth--;
        }
    }

    void sendLarge(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn, int segmentSize) {
        depth++;
        try {
            sink.sendLarge(flow, header, payload, ecn, segmentSize);
        } finally {
            depth--;
        }
    }

    void sendUnreachable(TcpFlow flow, ByteBuf quotedTcpHeader) {
        depth++;
        try {
            sink.sendUnreachable(flow, quotedTcpHeader);
        } finally {
            depth--;
        }
    }

    private static boolean badV4(int a) {
        return (a >>> 28) == 0xE || a == -1;
    }

    private void dispatch(ByteBuf buf, boolean v6, long sHi, long sLo, long dHi, long dLo, int ecn) {
        Segment s = seg;
        DropReason r = s.parse(buf);
        if (r != null) {
            drop(r);
            return;
        }
        if (s.srcPort == 0 || s.dstPort == 0) {
            drop(DropReason.BAD_ADDRESS);
            return;
        }
        int f = s.flags;
        if ((f & (Tcp.SYN | Tcp.FIN)) == (Tcp.SYN | Tcp.FIN) || (f & (Tcp.SYN | Tcp.RST)) == (Tcp.SYN | Tcp.RST)
                || (f & (Tcp.SYN | Tcp.ACK | Tcp.RST | Tcp.FIN)) == 0) {
            drop(DropReason.BAD_FLAGS);
            return;
        }
        s.ecn = ecn & 3;
        long now = clock.nanoTime();
        FlowKey key = lookup.set(v6, dHi, dLo, sHi, sLo, s.dstPort, s.srcPort);
        TcpConnection c = conns.get(key);
        if (c != null && c.state == TcpState.TIME_WAIT && s.has(Tcp.SYN) && !s.has(Tcp.ACK)
                && (Seq.gt(s.seq, c.rcvNxt) || (c.tsOk && s.hasTs && s.tsVal - c.tsRecent > 0))) {
            remove(c); // RFC 6191: a new incarnation may reuse the 4-tuple
            c = null;
        }
        if (c != null) {
            c.input(s, now);
            return;
        }
        noConnection(s, key, now);
    }

    /** A segment matching no connection: listeners, cookies, else RST (RFC 9293 §3.10.7.1–2). */
    private void noConnection(Segment s, FlowKey key, long now) {
        if (s.has(Tcp.RST)) {
            drop(DropReason.NO_CONNECTION);
            return;
        }
        Listener l = findListener(key);
        if (l == null) {
            drop(DropReason.NO_CONNECTION);
            replyRst(s, key);
            return;
        }
        if (s.has(Tcp.SYN) && !s.has(Tcp.ACK)) {
            listenSyn(l, s, key, now);
            return;
        }
        if (s.has(Tcp.ACK) && !s.has(Tcp.SYN)) {
            if (config.synCookies() != SynCookieMode.OFF && tryCookie(l, s, key, now)) {
                return;
            }
            drop(cookiesSent > 0 ? DropReason.BAD_COOKIE : DropReason.NO_CONNECTION);
            replyRst(s, key);
            return;
        }
        drop(DropReason.BAD_FLAGS);
    }

    private void listenSyn(Listener l, Segment s, FlowKey key, long now) {
        if (connectionCount >= config.maxConnections()) {
            drop(DropReason.CONNECTION_LIMIT);
            return;
        }
        SynVerdict v;
        try {
            v = l.listener.onSyn(scratch.set(key));
        } catch (RuntimeException e) {
            v = SynVerdict.DROP;
        }
        if (v == null) {
            v = SynVerdict.DROP;
        }
        boolean full = halfOpen >= config.maxHalfOpen() || l.halfOpen >= l.backlog;
        switch (v) {
            case REJECT_RST -> {
                drop(DropReason.LISTENER_REFUSED);
                replyRst(s, key);
            }
            case REJECT_ICMP -> {
                drop(DropReason.LISTENER_REFUSED);
                sendUnreachable(scratch.set(key), s.buf.copy(s.off, s.hl));
            }
            case DROP -> drop(DropReason.LISTENER_REFUSED);
            case DEFER -> {
                if (full) {
                    drop(DropReason.SYN_QUEUE_FULL);
                    return;
                }
                TcpConnection c = newPassive(l, key);
                c.synHeader = s.buf.copy(s.off, s.hl);
                c.startPassive(s, now, true);
                reschedule(c);
                l.listener.onDeferred(c);
            }
            case ACCEPT -> {
                SynCookieMode mode = config.synCookies();
                if (mode == SynCookieMode.ALWAYS || (full && mode == SynCookieMode.ON_OVERFLOW)) {
                    sendCookieSynAck(l, s, key, now);
                    return;
                }
                if (full) {
                    drop(DropReason.SYN_QUEUE_FULL);
                    return;
                }
                TcpConnection c = newPassive(l, key);
                c.startPassive(s, now, false);
                reschedule(c);
            }
        }
    }

    private TcpConnection newPassive(Listener l, FlowKey key) {
        TcpConnection c = new TcpConnection(this, key.copy(), l.options.copy());
        c.listener = l;
        conns.put(c.key, c);
        connectionCount++;
        halfOpen++;
        l.halfOpen++;
        c.halfOpenCounted = true;
        return c;
    }

    void halfOpenDone(TcpConnection c) {
        if (c.halfOpenCounted) {
            c.halfOpenCounted = false;
            halfOpen--;
            if (c.listener != null) {
                c.listener.halfOpen--;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ cookies

    private int cookieH(FlowKey k, long count) {
        return (int) cookieHash.hash(k.localHi, k.localLo, k.remoteHi, k.remoteLo,
                ((long) k.localPort << 16 | k.remotePort) | (k.v6 ? 1L << 40 : 0), count);
    }

    int cookieIss(FlowKey k, int peerIsn, long minute, int data) {
        return cookieH(k, -1) + peerIsn + (int) ((minute & 0xFF) << 24) + ((cookieH(k, minute) + data) & 0xFF_FFFF);
    }

    /** The data (MSS index) of a valid cookie, or -1 (RFC 4987 §3.6: at most two minutes old). */
    int checkCookie(FlowKey k, int peerIsn, int cookie, long now) {
        int diff = cookie - cookieH(k, -1) - peerIsn;
        long cur = now / COOKIE_PERIOD;
        int age = (int) ((cur - (diff >>> 24)) & 0xFF);
        if (age > 2) {
            return -1;
        }
        long minute = cur - age;
        int data = ((diff & 0xFF_FFFF) - cookieH(k, minute)) & 0xFF_FFFF;
        return data < COOKIE_MSS.length ? data : -1;
    }

    private static int cookieMssIndex(int peerMss) {
        int idx = 0;
        for (int i = 0; i < COOKIE_MSS.length; i++) {
            if (COOKIE_MSS[i] <= peerMss) {
                idx = i;
            }
        }
        return idx;
    }

    /** Window scale we announce for a listener's connections (deterministic, so cookie ACKs can recompute it). */
    static int wscaleFor(TcpSocketOptions o) {
        int ws = 0;
        long max = Math.max(o.receiveBufferMax(), o.receiveBuffer());
        while (ws < TcpOptions.MAX_WINDOW_SCALE && (65535L << ws) < max) {
            ws++;
        }
        return ws;
    }

    private void sendCookieSynAck(Listener l, Segment s, FlowKey key, long now) {
        TcpSocketOptions o = l.options;
        int peerMss = s.mss > 0 ? s.mss : 536;
        int idx = cookieMssIndex(peerMss);
        long minute = now / COOKIE_PERIOD;
        int iss = cookieIss(key, s.seq, minute, idx);
        boolean ts = o.timestamps() && s.hasTs;
        boolean ws = ts && o.windowScaling() && s.wscale >= 0;
        boolean sack = ts && o.sack() && s.sackOk;
        boolean ecn = o.ecn() && (s.flags & (Tcp.ECE | Tcp.CWR)) == (Tcp.ECE | Tcp.CWR);
        int optLen = 4 + (ts ? 12 : 0) + (ws ? 4 : 0);
        ByteBuf h = header(key, iss, s.seq + 1, Tcp.SYN | Tcp.ACK | (ecn ? Tcp.ECE : 0),
                Math.min(o.receiveBuffer(), 65535), optLen);
        int p = h.readerIndex() + 20;
        int ipHeader = key.v6 ? 40 : 20;
        int ourMss = config.mtu() - ipHeader - 20;
        if (o.mssClamp() > 0) {
            ourMss = Math.min(ourMss, o.mssClamp());
        }
        h.setInt(p, (TcpOptions.KIND_MSS << 24) | (4 << 16) | Math.min(ourMss, 65535));
        p += 4;
        if (ts) {
            int bits = (ws ? Math.min(s.wscale, TcpOptions.MAX_WINDOW_SCALE) : 0xF) | (sack ? 0x10 : 0)
                    | (ecn ? 0x20 : 0);
            int nowTs = (int) (now / 1_000_000L) + tsOffset(key);
            int tsv = (nowTs & ~0x3F) | bits;
            if (tsv - nowTs > 0) {
                tsv -= 0x40; // never ahead of the clock the connection will use
            }
            h.setShort(p, sack ? (TcpOptions.KIND_SACK_PERMITTED << 8) | 2 : 0x0101);
            h.setShort(p + 2, (TcpOptions.KIND_TIMESTAMPS << 8) | 10);
            h.setInt(p + 4, tsv);
            h.setInt(p + 8, s.tsVal);
            p += 12;
        }
        if (ws) {
            h.setInt(p, 0x0100_0000 | (TcpOptions.KIND_WINDOW_SCALE << 16) | (3 << 8) | wscaleFor(o));
        }
        cookiesSent++;
        finishStateless(key, h);
    }

    private boolean tryCookie(Listener l, Segment s, FlowKey key, long now) {
        int peerIsn = s.seq - 1;
        int iss = s.ack - 1;
        int idx = checkCookie(key, peerIsn, iss, now);
        if (idx < 0) {
            return false;
        }
        if (connectionCount >= config.maxConnections()) {
            drop(DropReason.CONNECTION_LIMIT);
            return true;
        }
        int bits = s.hasTs ? s.tsEcr & 0x3F : 0xF;
        TcpConnection c = new TcpConnection(this, key.copy(), l.options.copy());
        c.listener = l;
        conns.put(c.key, c);
        connectionCount++;
        c.startFromCookie(s, iss, peerIsn, COOKIE_MSS[idx], bits, wscaleFor(l.options), now);
        cookiesAccepted++;
        c.input(s, now);
        if (c.state != TcpState.CLOSED) {
            reschedule(c);
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------------ stateless

    /** A header buffer for a stateless reply: fields set, checksum pending, options space zeroed. */
    private ByteBuf header(FlowKey key, int seq, int ack, int flags, int window, int optLen) {
        int hl = 20 + optLen;
        int w = config.headroom();
        ByteBuf h = alloc.directBuffer(w + hl);
        h.writerIndex(w).readerIndex(w);
        h.setShort(w, key.localPort);
        h.setShort(w + 2, key.remotePort);
        h.setInt(w + 4, seq);
        h.setInt(w + 8, ack);
        h.setShort(w + 12, (hl << 10) | flags);
        h.setShort(w + 14, window);
        h.setInt(w + 16, 0);
        h.setZero(w + 20, optLen);
        h.writerIndex(w + hl);
        return h;
    }

    private void finishStateless(FlowKey key, ByteBuf h) {
        int off = h.readerIndex();
        int len = h.readableBytes();
        long pseudo = key.v6
                ? Checksums.pseudoHeaderV6(key.localHi, key.localLo, key.remoteHi, key.remoteLo, IpProtocol.TCP, len)
                : Checksums.pseudoHeaderV4((int) key.localLo, (int) key.remoteLo, IpProtocol.TCP, len);
        if (config.computeChecksums()) {
            h.setShort(off + 16, Checksums.finish(Checksums.partial(h, off, len, pseudo)));
        } else {
            h.setShort(off + 16, Checksums.fold(pseudo));
        }
        send(scratch.set(key), h, null, 0);
    }

    /** RFC 9293 §3.10.7.1: the reset for a segment that matches nothing. */
    private void replyRst(Segment s, FlowKey key) {
        if (s.has(Tcp.ACK)) {
            finishStateless(key, header(key, s.ack, 0, Tcp.RST, 0, 0));
        } else {
            finishStateless(key, header(key, 0, s.seq + s.seqLen(), Tcp.RST | Tcp.ACK, 0, 0));
        }
    }

    /** A RST on a connection's flow. */
    void sendRst(TcpConnection c, int seq, int ack, boolean withAck) {
        finishStateless(c.key, header(c.key, seq, ack, Tcp.RST | (withAck ? Tcp.ACK : 0), 0, 0));
    }

    boolean challengeAllowed(long now) {
        if (now - challengeWindowStart >= 1_000_000_000L) {
            challengeWindowStart = now;
            challengeCount = 0;
        }
        return challengeCount++ < config.challengeAckLimit();
    }

    // ------------------------------------------------------------------------------------------------ ICMP

    /**
     * An ICMPv4 error quoting one of our segments (RFC 5927 checks: the quoted flow must exist and the quoted
     * sequence number must be in SND.UNA..SND.NXT; otherwise it is counted as {@link DropReason#ICMP_UNMATCHED}).
     * {@link IcmpError#PACKET_TOO_BIG} lowers the path MTU to {@code mtu} (RFC 1191 §6.4 / RFC 8201 §4; never
     * below 576 for IPv4 — an MTU of 0 or below 68 falls back to 576 — or 1280 for IPv6) and retransmits with
     * the smaller MSS; hard errors abort a connection in SYN-SENT/SYN-RECEIVED; soft errors are remembered as the
     * cause if the connection later times out (RFC 1122 §4.2.3.9).
     *
     * @param quotedSrc the quoted IP header's source (our local address)
     * @param quotedDst the quoted IP header's destination (the remote address)
     * @param quotedTcp the quoted bytes after the IP header from {@code readerIndex()}: at least 8 (ports and
     *                  sequence number); not released by the engine (the host keeps ownership)
     * @param mtu       for {@link IcmpError#PACKET_TOO_BIG}, the next-hop MTU from the ICMP message (0 if absent)
     */
    public void icmpError4(int quotedSrc, int quotedDst, ByteBuf quotedTcp, IcmpError error, int mtu) {
        icmp(false, 0, quotedSrc & 0xFFFF_FFFFL, 0, quotedDst & 0xFFFF_FFFFL, quotedTcp, error, mtu);
    }

    /** {@link #icmpError4} for ICMPv6 (minimum MTU 1280, RFC 8201). */
    public void icmpError6(long quotedSrcHi, long quotedSrcLo, long quotedDstHi, long quotedDstLo, ByteBuf quotedTcp,
                           IcmpError error, int mtu) {
        icmp(true, quotedSrcHi, quotedSrcLo, quotedDstHi, quotedDstLo, quotedTcp, error, mtu);
    }

    private void icmp(boolean v6, long sHi, long sLo, long dHi, long dLo, ByteBuf q, IcmpError error, int mtu) {
        if (depth > 0) {
            if (closed || q == null) {
                drop(DropReason.ICMP_UNMATCHED);
                return;
            }
            if (deferredIcmp == null) {
                deferredIcmp = new ArrayDeque<>();
            }
            if (deferredIcmp.size() + dqCount >= config.maxDeferredInputs()) {
                drop(DropReason.DEFERRED_INPUT_FULL);
                return;
            }
            deferredIcmp.add(new DeferredIcmp(v6, sHi, sLo, dHi, dLo, q.copy(), error, mtu));
            return;
        }
        depth++;
        try {
            processIcmp(v6, sHi, sLo, dHi, dLo, q, error, mtu);
        } finally {
            depth--;
            afterEvent();
        }
    }

    private void processIcmp(boolean v6, long sHi, long sLo, long dHi, long dLo, ByteBuf q, IcmpError error,
                             int mtu) {
        if (closed || error == null || q == null || q.readableBytes() < 8) {
            drop(DropReason.ICMP_UNMATCHED);
            return;
        }
        int r = q.readerIndex();
        int sport = q.getUnsignedShort(r);
        int dport = q.getUnsignedShort(r + 2);
        int seqq = q.getInt(r + 4);
        TcpConnection c = conns.get(lookup.set(v6, sHi, sLo, dHi, dLo, sport, dport));
        if (c == null || c.state == TcpState.TIME_WAIT) {
            drop(DropReason.ICMP_UNMATCHED);
            return;
        }
        c.icmpError(seqq, error, mtu, clock.nanoTime());
        if (c.state != TcpState.CLOSED) {
            reschedule(c);
        }
    }

    // ------------------------------------------------------------------------------------------------ timers

    /** Runs due timers; the host calls it when a {@link TcpScheduler#wakeAt} deadline is reached. */
    public void onTimer() {
        requestedWake = Long.MAX_VALUE;
        long now = clock.nanoTime();
        int guard = heapSize * 4 + 16;
        depth++;
        try {
            while (heapSize > 0 && heap[0].deadline <= now && guard-- > 0) {
                TcpConnection c = heap[0];
                heapRemove(c);
                c.onTimers(now);
                if (c.state != TcpState.CLOSED && conns.get(c.key) == c) {
                    reschedule(c);
                }
            }
        } finally {
            depth--;
        }
        afterEvent();
    }

    /** Re-files a connection in the deadline heap after its timers changed. */
    void reschedule(TcpConnection c) {
        long d = c.nextDeadline();
        if (d == 0 || c.state == TcpState.CLOSED) {
            if (c.heapIndex >= 0) {
                heapRemove(c);
            }
            return;
        }
        if (c.heapIndex >= 0) {
            long old = c.deadline;
            c.deadline = d;
            if (d < old) {
                siftUp(c.heapIndex);
            } else if (d > old) {
                siftDown(c.heapIndex);
            }
        } else {
            if (heapSize == heap.length) {
                heap = java.util.Arrays.copyOf(heap, heapSize * 2);
            }
            c.deadline = d;
            c.heapIndex = heapSize;
            heap[heapSize++] = c;
            siftUp(c.heapIndex);
        }
    }

    private void heapRemove(TcpConnection c) {
        int i = c.heapIndex;
        if (i < 0) {
            return;
        }
        c.heapIndex = -1;
        heapSize--;
        if (i == heapSize) {
            heap[i] = null;
            return;
        }
        TcpConnection last = heap[heapSize];
        heap[heapSize] = null;
        heap[i] = last;
        last.heapIndex = i;
        siftUp(i);
        siftDown(last.heapIndex);
    }

    private void siftUp(int i) {
        TcpConnection c = heap[i];
        while (i > 0) {
            int p = (i - 1) >>> 1;
            TcpConnection pc = heap[p];
            if (pc.deadline <= c.deadline) {
                break;
            }
            heap[i] = pc;
            pc.heapIndex = i;
            i = p;
        }
        heap[i] = c;
        c.heapIndex = i;
    }

    private void siftDown(int i) {
        TcpConnection c = heap[i];
        while (true) {
            int l = 2 * i + 1;
            if (l >= heapSize) {
                break;
            }
            int m = l + 1 < heapSize && heap[l + 1].deadline < heap[l].deadline ? l + 1 : l;
            if (heap[m].deadline >= c.deadline) {
                break;
            }
            heap[i] = heap[m];
            heap[i].heapIndex = i;
            i = m;
        }
        heap[i] = c;
        c.heapIndex = i;
    }

    /** Asks the scheduler for a wake-up if the earliest deadline moved before the one asked for. */
    void afterEvent() {
        if (depth == 0 && !draining && (dqCount > 0 || deferredIcmp != null && !deferredIcmp.isEmpty())) {
            drainDeferred();
        }
        if (heapSize > 0) {
            long top = heap[0].deadline;
            if (top < requestedWake) {
                requestedWake = top;
                scheduler.wakeAt(top);
            }
        }
    }

    long now() {
        return clock.nanoTime();
    }

    // ------------------------------------------------------------------------------------------------ table

    int isn(FlowKey k, long now) {
        return (int) isnHash.hash(k.localHi, k.localLo, k.remoteHi, k.remoteLo,
                (long) k.localPort << 16 | k.remotePort, k.v6 ? 6 : 4) + (int) (now / 4000L);
    }

    int tsOffset(FlowKey k) {
        return (int) isnHash.hash(k.remoteHi, k.remoteLo, k.localHi, k.localLo, 0x7473, k.v6 ? 6 : 4);
    }

    void enteredTimeWait(TcpConnection c) {
        connectionCount--;
        timeWaitCount++;
        c.twPrev = twTail;
        c.twNext = null;
        if (twTail != null) {
            twTail.twNext = c;
        } else {
            twHead = c;
        }
        twTail = c;
        reschedule(c);
        while (timeWaitCount > config.maxTimeWait() && twHead != null) {
            drop(DropReason.TIME_WAIT_TABLE_FULL);
            remove(twHead);
        }
    }

    /** Forgets a connection (CLOSED, or a TIME-WAIT entry expiring or recycled). */
    void remove(TcpConnection c) {
        if (conns.get(c.key) == c) {
            conns.remove(c.key);
            boolean tw = c.twPrev != null || twHead == c;
            if (tw) {
                if (c.twPrev != null) {
                    c.twPrev.twNext = c.twNext;
                } else {
                    twHead = c.twNext;
                }
                if (c.twNext != null) {
                    c.twNext.twPrev = c.twPrev;
                } else {
                    twTail = c.twPrev;
                }
                c.twPrev = null;
                c.twNext = null;
                timeWaitCount--;
            } else {
                connectionCount--;
            }
        }
        halfOpenDone(c);
        heapRemove(c);
        c.state = c.state == TcpState.TIME_WAIT ? TcpState.CLOSED : c.state;
        if (c.state != TcpState.CLOSED) {
            c.terminate(null);
        }
    }

    void drop(DropReason r) {
        drops[r.ordinal()]++;
    }

    // ------------------------------------------------------------------------------------------------ open

    /**
     * Active open (RFC 9293 §3.10.1): sends a SYN now and returns the connection in SYN-SENT. Events go to
     * {@code handler}: {@link TcpConnectionHandler#onEstablished} or {@link TcpConnectionHandler#onClosed} with a
     * {@link java.net.ConnectException} or {@link io.netty.channel.ConnectTimeoutException}.
     *
     * @param local   local address and port (port 1..65535: the host picks ephemeral ports, see
     *                {@link #isInUse}); IPv4 and IPv6 must match {@code remote}
     * @param remote  remote address and port
     * @param options per-connection options (copied); {@code null} for defaults
     * @throws IllegalStateException    if the 4-tuple is in use or the connection table is full
     * @throws IllegalArgumentException for mismatched families, port 0, unresolved addresses
     */
    public TcpConnection connect(InetSocketAddress local, InetSocketAddress remote, TcpSocketOptions options,
                                 TcpConnectionHandler handler) {
        Objects.requireNonNull(handler, "handler");
        FlowKey key = key(local, remote);
        if (closed) {
            throw new IllegalStateException("engine closed");
        }
        if (conns.containsKey(key)) {
            throw new IllegalStateException("address in use: " + local + " -> " + remote);
        }
        if (connectionCount >= config.maxConnections()) {
            throw new IllegalStateException("connection table full (" + config.maxConnections() + ")");
        }
        TcpConnection c = new TcpConnection(this, key,
                options == null ? new TcpSocketOptions() : options.copy());
        c.handler = handler;
        conns.put(key, c);
        connectionCount++;
        c.startActive(clock.nanoTime());
        reschedule(c);
        afterEvent();
        return c;
    }

    private static FlowKey key(InetSocketAddress local, InetSocketAddress remote) {
        if (local.isUnresolved() || remote.isUnresolved()) {
            throw new IllegalArgumentException("unresolved address");
        }
        if (local.getPort() == 0 || remote.getPort() == 0) {
            throw new IllegalArgumentException("port 0");
        }
        InetAddress la = local.getAddress();
        InetAddress ra = remote.getAddress();
        boolean v6 = !(la instanceof Inet4Address);
        if (v6 == ra instanceof Inet4Address) {
            throw new IllegalArgumentException("address families differ: " + local + " -> " + remote);
        }
        long[] l = words(la);
        long[] r = words(ra);
        return new FlowKey().set(v6, l[0], l[1], r[0], r[1], local.getPort(), remote.getPort());
    }

    static long[] words(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 4) {
            return new long[]{0, ((b[0] & 0xFFL) << 24) | ((b[1] & 0xFFL) << 16) | ((b[2] & 0xFFL) << 8)
                    | (b[3] & 0xFFL)};
        }
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = (hi << 8) | (b[i] & 0xFF);
            lo = (lo << 8) | (b[8 + i] & 0xFF);
        }
        return new long[]{hi, lo};
    }

    /**
     * Passive open: listens on {@code address} ({@code null}, or a wildcard address such as {@code 0.0.0.0} or
     * {@code ::}, for any address of either family — including addresses that are not the host's: any-address
     * listening for gateways) and {@code port} ({@link #ANY_PORT} for any). A SYN picks the most specific
     * listener: exact address and port, then any address with the port, then the address with any port, then
     * any/any. Options (copied) apply to the accepted connections.
     *
     * @param backlog SYN-RECEIVED (incl. deferred) entries of this listener before SYN cookies start (or SYNs are
     *                dropped, see {@link TcpEngineConfig#synCookies()}); at least 1
     * @throws IllegalStateException if the same address and port are already listened on
     */
    public TcpListenHandle listen(InetAddress address, int port, int backlog, TcpSocketOptions options,
                                  TcpListener listener) {
        Objects.requireNonNull(listener, "listener");
        if (port != ANY_PORT && (port < 1 || port > 65535)) {
            throw new IllegalArgumentException("port " + port);
        }
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog " + backlog);
        }
        if (closed) {
            throw new IllegalStateException("engine closed");
        }
        ListenKey k = new ListenKey();
        if (address == null || address.isAnyLocalAddress()) {
            k.set(false, 0, 0, true, port);
        } else {
            long[] w = words(address);
            k.set(!(address instanceof Inet4Address), w[0], w[1], false, port);
        }
        if (listeners.containsKey(k)) {
            throw new IllegalStateException("already listening on " + address + ":" + port);
        }
        Listener l = new Listener(k, backlog, options == null ? new TcpSocketOptions() : options.copy(), listener);
        listeners.put(k, l);
        return l;
    }

    private Listener findListener(FlowKey f) {
        ListenKey k = listenLookup;
        Listener l = listeners.get(k.set(f.v6, f.localHi, f.localLo, false, f.localPort));
        if (l == null) {
            l = listeners.get(k.set(false, 0, 0, true, f.localPort));
        }
        if (l == null) {
            l = listeners.get(k.set(f.v6, f.localHi, f.localLo, false, ANY_PORT));
        }
        if (l == null) {
            l = listeners.get(k.set(false, 0, 0, true, ANY_PORT));
        }
        return l;
    }

    /** Whether a connection or TIME-WAIT entry uses this 4-tuple (for the host's ephemeral port choice). */
    public boolean isInUse(InetSocketAddress local, InetSocketAddress remote) {
        return conns.containsKey(key(local, remote));
    }

    // ------------------------------------------------------------------------------------------------ counters

    /** Segments dropped for {@code reason} since the engine started. */
    public long drops(DropReason reason) {
        return drops[reason.ordinal()];
    }

    /** All drop counters, indexed by {@link DropReason#ordinal()} (a copy). */
    public long[] dropCounts() {
        return drops.clone();
    }

    /** Connections (not TIME-WAIT, not listeners), half-open ones included. */
    public int connectionCount() {
        return connectionCount;
    }

    /** SYN-RECEIVED entries, deferred ones included. */
    public int halfOpenCount() {
        return halfOpen;
    }

    /** TIME-WAIT entries. */
    public int timeWaitCount() {
        return timeWaitCount;
    }

    /** SYN-ACKs sent with a SYN cookie. */
    public long synCookiesSent() {
        return cookiesSent;
    }

    /** Connections established from a valid SYN cookie. */
    public long synCookiesAccepted() {
        return cookiesAccepted;
    }

    /** The clock this engine runs on. */
    public TcpClock clock() {
        return clock;
    }

    /**
     * Aborts every connection (RST; {@link TcpConnectionHandler#onClosed} with "Connection aborted"), closes every
     * listener and forgets TIME-WAIT entries, releasing all buffers. The engine is unusable afterwards.
     */
    public void close() {
        if (closed) {
            return;
        }
        for (Listener l : new ArrayList<>(listeners.values())) {
            l.close();
        }
        for (TcpConnection c : new ArrayList<>(conns.values())) {
            if (c.state == TcpState.TIME_WAIT) {
                remove(c);
            } else {
                c.abort();
            }
        }
        closed = true;
        releaseDeferred();
    }

    // ------------------------------------------------------------------------------------------------ types

    /** A listener's address and port as a hash key ({@code any} for any address; port {@link #ANY_PORT}). */
    static final class ListenKey {
        boolean v6;
        long hi;
        long lo;
        boolean any;
        int port;

        ListenKey set(boolean v6, long hi, long lo, boolean any, int port) {
            this.v6 = v6;
            this.hi = hi;
            this.lo = lo;
            this.any = any;
            this.port = port;
            return this;
        }

        @Override
        public int hashCode() {
            return (int) (lo * 0x9E3779B97F4A7C15L >>> 32) ^ (int) hi ^ port * 31 ^ (any ? 7 : 0);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ListenKey k && k.port == port && k.any == any && k.v6 == v6 && k.lo == lo
                    && k.hi == hi;
        }
    }

    /** A listening endpoint. */
    final class Listener implements TcpListenHandle {
        final ListenKey key;
        final int backlog;
        final TcpSocketOptions options;
        final TcpListener listener;
        int halfOpen;
        boolean open = true;

        Listener(ListenKey key, int backlog, TcpSocketOptions options, TcpListener listener) {
            this.key = key;
            this.backlog = backlog;
            this.options = options;
            this.listener = listener;
        }

        @Override
        public void close() {
            if (!open) {
                return;
            }
            open = false;
            listeners.remove(key);
            List<TcpConnection> pending = new ArrayList<>();
            for (TcpConnection c : conns.values()) {
                if (c.listener == this && c.state == TcpState.SYN_RECEIVED && c.handler == null) {
                    pending.add(c);
                }
            }
            for (TcpConnection c : pending) {
                sendRst(c, c.deferred ? 0 : c.sndNxt, c.rcvNxt, c.deferred);
                c.terminate(null);
            }
            afterEvent();
        }

        @Override
        public int halfOpen() {
            return halfOpen;
        }

        @Override
        public int backlog() {
            return backlog;
        }

        @Override
        public boolean isOpen() {
            return open;
        }
    }

    /** The flow of a stateless reply; valid only during the sink call. */
    static final class ScratchFlow implements TcpFlow {
        private FlowKey k;

        ScratchFlow set(FlowKey key) {
            this.k = key;
            return this;
        }

        @Override
        public boolean isIpv6() {
            return k.v6;
        }

        @Override
        public int localV4() {
            return (int) k.localLo;
        }

        @Override
        public int remoteV4() {
            return (int) k.remoteLo;
        }

        @Override
        public long localHi() {
            return k.localHi;
        }

        @Override
        public long localLo() {
            return k.localLo;
        }

        @Override
        public long remoteHi() {
            return k.remoteHi;
        }

        @Override
        public long remoteLo() {
            return k.remoteLo;
        }

        @Override
        public int localPort() {
            return k.localPort;
        }

        @Override
        public int remotePort() {
            return k.remotePort;
        }
    }
}

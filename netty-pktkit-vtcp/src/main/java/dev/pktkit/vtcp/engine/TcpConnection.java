package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.TcpOptions;
import dev.pktkit.vtcp.engine.cc.CongestionControl;
import dev.pktkit.vtcp.engine.cc.Cubic;
import dev.pktkit.vtcp.engine.cc.NewReno;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ConnectTimeoutException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * One TCP connection (RFC 9293 transmission control block and state machine). Created by
 * {@link TcpEngine#connect} or by a listener; all methods run on the engine's thread.
 *
 * <p>What implements what:
 * <ul>
 *   <li>RFC 9293 §3.10.7.3 (SYN-SENT) in {@code inputSynSent}, §3.10.7.4 (other states: sequence check, RST,
 *       SYN, ACK, text, FIN) in {@code inputSynchronized}; §3.10.4–5 close and abort; §3.8.6.2 SWS avoidance
 *       on both sides; §3.8.6.1 zero-window probing (persist timer).</li>
 *   <li>RFC 5961 §3.2 (RST exactly at RCV.NXT, else challenge ACK), §4.2 (SYN in synchronized states: challenge
 *       ACK), §5.2 (ACK acceptability with MAX.SND.WND).</li>
 *   <li>RFC 6298 RTO (srtt/rttvar, Karn's rule via the scoreboard, exponential backoff); RFC 1122 §4.2.3.5 R2
 *       ({@link TcpSocketOptions#dataRetries()}).</li>
 *   <li>RFC 7323 §2 window scaling, §3–4 timestamps, §5 PAWS.</li>
 *   <li>RFC 2018 SACK (sender scoreboard and receiver blocks), RFC 6675 pipe / NextSeg loss recovery, RFC 8985
 *       RACK time-based loss marking and TLP, RFC 6582 NewReno partial ACKs when SACK is off.</li>
 *   <li>RFC 3168 §6.1 ECN (ECE/CWR negotiation, ECT(0) on new data, ECE echo until CWR, one window reduction
 *       per round trip).</li>
 *   <li>RFC 1122 §4.2.3.2 delayed ACKs (every second full segment, quick-ack at start), §4.2.3.4 Nagle,
 *       §4.2.3.6 keepalive; RFC 1191/8201 PMTU.</li>
 *   <li>Receive-window auto-tuning: each receiver RTT (measured from echoed timestamps, else by the time a
 *       window takes to arrive), when the application consumed more than half the buffer, the buffer grows to
 *       four times what was consumed, up to {@link TcpSocketOptions#receiveBufferMax()}.</li>
 * </ul>
 */
public final class TcpConnection implements TcpFlow {
    private static final int ACK_EVERY = 2;
    private static final int QUICK_ACKS = 16;
    private static final long TLP_WORST_CASE_DELACK = 200_000_000L;
    /** RFC 6675 §2 DupThresh. */
    private static final int DUP_THRESH = 3;
    private static final long FIN_WAIT_2_TIMEOUT = 60_000_000_000L;

    final TcpEngine engine;
    final FlowKey key;
    final boolean v6;
    final int local4;
    final int remote4;
    final long localHi;
    final long localLo;
    final long remoteHi;
    final long remoteLo;
    final int lport;
    final int rport;

    TcpState state = TcpState.CLOSED;
    TcpConnectionHandler handler;
    Object attachment;
    final TcpSocketOptions opts;
    TcpEngine.Listener listener;
    boolean deferred;
    boolean halfOpenCounted;
    boolean closedNotified;
    /** SYN header copy kept for a deferred REJECT_ICMP. */
    ByteBuf synHeader;

    // send side
    int iss;
    int sndUna;
    int sndNxt;
    int sndWnd;
    int sndWl1;
    int sndWl2;
    int maxSndWnd;
    int sndWscale;
    int rcvWscale;
    boolean finQueued;
    boolean finSent;
    int finSeq;
    final SendBuffer sendBuf;
    final Scoreboard sb = new Scoreboard();
    boolean writable = true;

    // receive side
    int irs;
    int rcvNxt;
    int rcvAdv;
    int rcvBuf;
    int unconsumed;
    final ReassemblyQueue ooo = new ReassemblyQueue();
    boolean finReceived;
    boolean oooFin;
    int oooFinSeq;
    boolean receiveClosed;

    // negotiated
    int mss;
    int peerMss = 536;
    int pmtu;
    boolean tsOk;
    boolean sackOk;
    boolean ecnOk;
    boolean wsOk;
    int tsRecent;
    long tsRecentAge;
    int tsOffset;
    int lastAckSent;

    // RTT / RTO (RFC 6298)
    long srtt;
    long rttvar;
    long rto;
    long minRtt = Long.MAX_VALUE;
    int rtoRetries;

    // congestion control and recovery
    CongestionControl cc;
    boolean inRecovery;
    boolean retransmitNow;
    boolean recoveryReducesCwnd;
    int recoveryPoint;
    int dupAcks;
    long rackXmit;
    int rackEnd;
    long rackRtt;
    boolean tlpOutstanding;
    final int[] lostScratch = new int[1];
    /** SACK-based fast recovery (RFC 6675 §5), as opposed to RTO or PMTU recovery: NextSeg rules 3–4 apply. */
    boolean fastRecovery;
    /** RFC 6675 RescueRxt ({@code rescueValid} false: undefined). */
    int rescueRxt;
    boolean rescueValid;
    long rescueRetransmits;
    /** NextSeg rule 3 retransmissions (for tests). */
    long rule3Retransmits;

    // RFC 2883 D-SACK: the duplicate range to report first in the next ACK
    boolean dsackPending;
    int dsackLeft;
    int dsackRight;
    long dsacksSent;
    long dsacksReceived;

    // RFC 8985 §6.2 step 4: reordering window adaptation
    int reoWndMult = 1;
    int reoWndPersist;
    boolean dsackRoundValid;
    int dsackRound;

    // RFC 8985 §7.4: the tail-loss probe episode (TLP.end_seq, TLP.is_retrans)
    boolean tlpEpisode;
    boolean tlpIsRetrans;
    int tlpEndSeq;
    int tlpProbeSeq;
    int tlpProbeEnd;
    long tailLossRepairs;

    // ECN (RFC 3168)
    boolean eceSend;
    boolean cwrNext;
    int ecnRecoverSeq;

    // delayed ACK
    boolean inInput;
    int unackedSegs;
    boolean ackNow;
    int quickAcks = QUICK_ACKS;

    // timers, 0 = off
    long rtxAt;
    long tlpAt;
    long persistAt;
    long ackAt;
    long kaAt;
    long reoAt;
    long twAt;
    /** When the (first) SYN or SYN-ACK went out: the handshake's RTT sample (Karn: only if never retransmitted). */
    long synSentAt;
    long deadline;
    int heapIndex = -1;
    int persistBackoff;
    long lastRecv;
    int kaProbes;

    // auto-tuning
    long atStart;
    int atCopied;
    int atMarkSeq;
    long rcvRtt;

    // time-wait list
    TcpConnection twPrev;
    TcpConnection twNext;

    // stats
    long retransmits;
    long rtoExpiries;
    long fastRetransmits;
    long tailLossProbes;
    long segmentsSent;
    long segmentsReceived;
    long bytesAcked;
    long bytesReceived;
    long ecnEvents;
    String softError;

    TcpConnection(TcpEngine engine, FlowKey key, TcpSocketOptions opts) {
        this.engine = engine;
        this.key = key;
        this.v6 = key.v6;
        this.local4 = (int) key.localLo;
        this.remote4 = (int) key.remoteLo;
        this.localHi = key.localHi;
        this.localLo = key.localLo;
        this.remoteHi = key.remoteHi;
        this.remoteLo = key.remoteLo;
        this.lport = key.localPort;
        this.rport = key.remotePort;
        this.opts = opts;
        this.sendBuf = new SendBuffer(engine.alloc);
        this.rcvBuf = opts.receiveBuffer();
        this.rto = engine.config.initialRtoNanos();
        this.pmtu = engine.config.mtu();
        int ws = 0;
        if (opts.windowScaling()) {
            long max = Math.max(opts.receiveBufferMax(), opts.receiveBuffer());
            while (ws < TcpOptions.MAX_WINDOW_SCALE && (65535L << ws) < max) {
                ws++;
            }
        }
        this.rcvWscale = ws;
        this.quickAcks = opts.quickAck() ? QUICK_ACKS : 0;
    }

    // ------------------------------------------------------------------------------------------------ public API

    /** The RFC 9293 state. */
    public TcpState state() {
        return state;
    }

    /**
     * Queues {@code data} in the send buffer (ownership passes; the buffer is held, not copied, and retransmitted
     * as slices). The bytes go out on {@link #flush()} as the windows allow. The send buffer bound is enforced
     * through {@link #isWritable()}, as Netty's outbound buffer does: a write while not writable is still
     * accepted. A write promise may complete when this returns {@code true}.
     *
     * @return {@code false} (and {@code data} released) if the output is shut down or the connection closed
     */
    public boolean write(ByteBuf data) {
        if (finQueued || state == TcpState.CLOSED || state == TcpState.TIME_WAIT || state == TcpState.LISTEN
                || deferred) {
            data.release();
            return false;
        }
        sendBuf.add(data);
        if (writable && sendBuf.bytes > opts.sendBufferHighWaterMark()) {
            writable = false;
            notifyWritability();
        }
        return true;
    }

    /** Sends what the windows, Nagle (unless NODELAY) and the congestion window allow. */
    public void flush() {
        if (state.isSynchronized() && state != TcpState.TIME_WAIT) {
            output(engine.now());
            engine.reschedule(this);
            engine.afterEvent();
        }
    }

    /**
     * The application consumed {@code bytes} of delivered data: the receive window opens by that much (a window
     * update is sent when it grew by at least min(MSS, half the buffer), RFC 9293 §3.8.6.2.2 / RFC 1122
     * §4.2.3.3). Not needed with {@link TcpSocketOptions#autoConsume()}.
     */
    public void consumed(int bytes) {
        if (bytes <= 0 || opts.autoConsume()) {
            return;
        }
        unconsumed = Math.max(0, unconsumed - bytes);
        atCopied += bytes;
        if (state == TcpState.CLOSED || state == TcpState.TIME_WAIT) {
            return;
        }
        long now = engine.now();
        autoTune(now);
        int avail = rcvBuf - unconsumed;
        int advertised = rcvAdv - rcvNxt;
        // a window update only when the window at least doubles from at most half the buffer (as Linux's
        // tcp_cleanup_rbuf), and grows by at least min(MSS, half the buffer) (RFC 9293 §3.8.6.2.2)
        if (state.isSynchronized() && !finReceived && advertised <= rcvBuf / 2 && avail >= 2 * advertised
                && avail - advertised >= Math.min(rcvBuf / 2, mss)) {
            if (inInput) {
                ackNow = true; // sent when the segment being processed is done
            } else {
                sendAck(now);
                engine.reschedule(this);
                engine.afterEvent();
            }
        }
    }

    /** Sends FIN after the queued data (half-close, RFC 9293 §3.10.4); reading continues. Idempotent. */
    public void shutdownOutput() {
        if (finQueued || deferred) {
            return;
        }
        switch (state) {
            case SYN_SENT, SYN_RECEIVED -> finQueued = true;
            case ESTABLISHED -> {
                finQueued = true;
                state = TcpState.FIN_WAIT_1;
            }
            case CLOSE_WAIT -> {
                finQueued = true;
                state = TcpState.LAST_ACK;
            }
            default -> {
                return;
            }
        }
        if (state.isSynchronized()) {
            output(engine.now());
            engine.reschedule(this);
        }
        engine.afterEvent();
    }

    /**
     * Closes both directions: FIN after the queued data; data arriving afterwards is answered with RST (RFC 9293
     * §3.6 / RFC 1122 §4.2.2.13, also when delivered data was left unconsumed, RFC 2525 §2.17). With
     * {@link TcpSocketOptions#lingerSeconds()} 0 this is {@link #abort()}. For a deferred connection, refuses it
     * with RST.
     */
    public void close() {
        if (deferred) {
            refuseDeferred(SynVerdict.REJECT_RST);
            return;
        }
        if (state == TcpState.CLOSED || state == TcpState.TIME_WAIT) {
            return;
        }
        if (opts.lingerSeconds() == 0 || unconsumed > 0 || state == TcpState.SYN_SENT) {
            abort();
            return;
        }
        receiveClosed = true;
        ooo.releaseAll();
        shutdownOutput();
        if (state == TcpState.FIN_WAIT_2) {
            twAt = engine.now() + FIN_WAIT_2_TIMEOUT;
            engine.reschedule(this);
            engine.afterEvent();
        }
    }

    /** Sends RST and drops the connection at once (SO_LINGER 0, RFC 9293 §3.10.5). */
    public void abort() {
        if (state == TcpState.CLOSED) {
            return;
        }
        if (state == TcpState.TIME_WAIT) {
            engine.remove(this);
            return;
        }
        if (state != TcpState.SYN_SENT && !deferred) {
            engine.sendRst(this, sndNxt, 0, false);
        }
        terminate(new IOException("Connection aborted"));
        engine.afterEvent();
    }

    /** For a connection deferred by {@link SynVerdict#DEFER}: sends the SYN-ACK now. */
    public void acceptDeferred() {
        if (!deferred || state != TcpState.SYN_RECEIVED) {
            return;
        }
        deferred = false;
        releaseSynHeader();
        long now = engine.now();
        rtxAt = 0; // was the deferral's expiry; now the SYN-ACK's retransmission timer
        sendSyn(now);
        engine.afterEvent();
    }

    /**
     * For a deferred connection: refuses it ({@link SynVerdict#REJECT_RST}, {@link SynVerdict#REJECT_ICMP} or
     * {@link SynVerdict#DROP}) and forgets it.
     */
    public void refuseDeferred(SynVerdict how) {
        if (!deferred || state != TcpState.SYN_RECEIVED) {
            return;
        }
        switch (how) {
            case REJECT_RST -> engine.sendRst(this, 0, irs + 1, true);
            case REJECT_ICMP -> {
                if (synHeader != null) {
                    ByteBuf h = synHeader;
                    synHeader = null;
                    engine.sendUnreachable(this, h);
                }
            }
            default -> {
            }
        }
        deferred = false;
        terminate(null);
        engine.afterEvent();
    }

    /** Whether the bytes in the send buffer are below the high water mark (with hysteresis, see the options). */
    public boolean isWritable() {
        return writable;
    }

    /** Bytes in the send buffer: queued but unsent plus sent but unacknowledged. */
    public int sendBufferBytes() {
        return sendBuf.bytes;
    }

    /** {@link TcpSocketOptions#sendBufferHighWaterMark()} minus {@link #sendBufferBytes()} (may be negative). */
    public int sendBufferFree() {
        return opts.sendBufferHighWaterMark() - sendBuf.bytes;
    }

    /** Whether our FIN was queued (shutdownOutput or close). */
    public boolean isOutputShutdown() {
        return finQueued;
    }

    /** Whether the peer's FIN arrived. */
    public boolean isInputShutdown() {
        return finReceived;
    }

    /** Whether the connection is deferred, waiting for {@link #acceptDeferred()}. */
    public boolean isDeferred() {
        return deferred;
    }

    public void setNoDelay(boolean on) {
        opts.noDelay(on);
        if (on) {
            flush();
        }
    }

    /** Turns keepalive on or off with the current idle/interval/count. */
    public void setKeepAlive(boolean on) {
        opts.keepAlive(on);
        armKeepAlive(engine.now());
        engine.reschedule(this);
        engine.afterEvent();
    }

    /** Sets SO_LINGER for a later {@link #close()} (0 = abort). */
    public void setLinger(int seconds) {
        opts.lingerSeconds(seconds);
    }

    /** A copy of the connection's options as they are now. */
    public TcpSocketOptions options() {
        return opts.copy();
    }

    /** Counters and control variables now. */
    public TcpConnectionStats stats() {
        return new TcpConnectionStats(state, mss, cc == null ? 0 : cc.cwnd(), cc == null ? 0 : cc.ssthresh(), srtt,
                rttvar, rto, retransmits, rtoExpiries, fastRetransmits, tailLossProbes, segmentsSent,
                segmentsReceived, bytesAcked, bytesReceived, sndWnd, rcvAdv - rcvNxt, rcvBuf, sndNxt - sndUna,
                sendBuf.bytes, ooo.bytes, tsOk, sackOk, ecnOk, sndWscale, wsOk ? rcvWscale : 0, opts.congestion(),
                ecnEvents, rescueRetransmits, dsacksSent, dsacksReceived, tailLossRepairs, reoWndMult);
    }

    /** The congestion controller (for tests and monitoring), {@code null} before the handshake. */
    public CongestionControl congestionControl() {
        return cc;
    }

    /** The handler receiving this connection's events ({@code null} before {@link TcpListener#onAccepted}). */
    public TcpConnectionHandler handler() {
        return handler;
    }

    /** The local address and port (allocates; control path). */
    public InetSocketAddress localAddress() {
        return new InetSocketAddress(address(localHi, localLo), lport);
    }

    /** The remote address and port (allocates; control path). */
    public InetSocketAddress remoteAddress() {
        return new InetSocketAddress(address(remoteHi, remoteLo), rport);
    }

    private InetAddress address(long hi, long lo) {
        try {
            if (!v6) {
                int a = (int) lo;
                return InetAddress.getByAddress(new byte[]{(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8),
                        (byte) a});
            }
            byte[] b = new byte[16];
            for (int i = 0; i < 8; i++) {
                b[i] = (byte) (hi >>> (56 - 8 * i));
                b[8 + i] = (byte) (lo >>> (56 - 8 * i));
            }
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A slot for the host's own object (its channel), untouched by the engine. */
    public Object attachment() {
        return attachment;
    }

    public void attachment(Object attachment) {
        this.attachment = attachment;
    }

    @Override
    public boolean isIpv6() {
        return v6;
    }

    @Override
    public int localV4() {
        return local4;
    }

    @Override
    public int remoteV4() {
        return remote4;
    }

    @Override
    public long localHi() {
        return localHi;
    }

    @Override
    public long localLo() {
        return localLo;
    }

    @Override
    public long remoteHi() {
        return remoteHi;
    }

    @Override
    public long remoteLo() {
        return remoteLo;
    }

    @Override
    public int localPort() {
        return lport;
    }

    @Override
    public int remotePort() {
        return rport;
    }

    @Override
    public String toString() {
        return "TcpConnection[" + localAddress() + " -> " + remoteAddress() + ", " + state + "]";
    }

    // ------------------------------------------------------------------------------------------------ open

    private int ipHeader() {
        return v6 ? 40 : 20;
    }

    /** RFC 6691: the MSS we announce: MTU − IP header − 20, clamped. */
    int announcedMss() {
        int m = engine.config.mtu() - ipHeader() - Tcp.MIN_HEADER_LENGTH;
        if (opts.mssClamp() > 0) {
            m = Math.min(m, opts.mssClamp());
        }
        return Math.min(m, 65535);
    }

    /** The data bytes per segment: min(peer MSS, PMTU − headers, clamp) minus the options we always send. */
    private void updateMss() {
        int m = Math.min(peerMss, pmtu - ipHeader() - Tcp.MIN_HEADER_LENGTH);
        if (opts.mssClamp() > 0) {
            m = Math.min(m, opts.mssClamp());
        }
        if (tsOk) {
            m -= 12; // RFC 6691 §3: the MSS excludes options; we send timestamps on every segment
        }
        mss = Math.max(m, 64);
        if (cc != null) {
            cc.mss(mss);
        }
    }

    /**
     * RFC 9293 §3.7.1 and RFC 6691 §3: the data bytes the next segment may carry: the effective MSS less the TCP
     * options actually sent beyond those {@link #mss} already excludes, i.e. the SACK option while out-of-order
     * data is held (as Linux's {@code tcp_current_mss}). {@link #emit} builds exactly this option, so a segment
     * of this size fits the path MTU.
     */
    int currentMss() {
        if (sackOk && (dsackPending || !ooo.isEmpty())) {
            int blocks = sackBlocksToSend();
            if (blocks > 0) {
                return mss - 4 - 8 * blocks;
            }
        }
        return mss;
    }

    /** The SACK blocks {@link #emit} puts on the next ACK: a pending D-SACK first, then the out-of-order runs. */
    private int sackBlocksToSend() {
        int max = tsOk ? 3 : 4;
        if (dsackPending) {
            return 1 + (ooo.isEmpty() ? 0 : ooo.sackBlockCount(max - 1));
        }
        return ooo.isEmpty() ? 0 : ooo.sackBlockCount(max);
    }

    /**
     * RFC 2883 §4: the next ACK reports {@code [l, r)}, data received twice, in its first SACK block (once; a
     * newer duplicate replaces an unsent report).
     */
    private void reportDuplicate(int l, int r) {
        if (sackOk && Seq.lt(l, r)) {
            ackNow = true;
            dsackPending = true;
            dsackLeft = l;
            dsackRight = r;
        }
    }

    void startActive(long now) {
        iss = engine.isn(key, now);
        sndUna = iss;
        sndNxt = iss + 1;
        sendBuf.start(iss + 1);
        tsOffset = engine.tsOffset(key);
        state = TcpState.SYN_SENT;
        sendSyn(now);
    }

    /** Passive open from a SYN (RFC 9293 §3.10.7.2), state SYN-RECEIVED; the SYN-ACK goes out unless deferred. */
    void startPassive(Segment seg, long now, boolean defer) {
        irs = seg.seq;
        rcvNxt = seg.seq + 1;
        rcvAdv = rcvNxt;
        lastAckSent = rcvNxt;
        iss = engine.isn(key, now);
        sndUna = iss;
        sndNxt = iss + 1;
        sendBuf.start(iss + 1);
        tsOffset = engine.tsOffset(key);
        negotiate(seg, true);
        sndWnd = seg.wnd; // RFC 7323 §2.2: the window in a SYN is never scaled
        sndWl1 = seg.seq;
        sndWl2 = seg.ack;
        maxSndWnd = sndWnd;
        state = TcpState.SYN_RECEIVED;
        lastRecv = now;
        deferred = defer;
        if (defer) {
            rtxAt = now + engine.config.deferredTimeoutNanos(); // the entry's expiry while nobody decides
        } else {
            sendSyn(now);
        }
    }

    /**
     * A connection from a valid SYN cookie's ACK (RFC 4987 §3.6): set up as if in SYN-RECEIVED with the options
     * the cookie carried, so that the ACK itself then completes the handshake through the normal path.
     */
    void startFromCookie(Segment s, int cookieIss, int peerIsn, int cookieMss, int bits, int ourWscale, long now) {
        irs = peerIsn;
        rcvNxt = peerIsn + 1;
        rcvAdv = rcvNxt + Math.min(opts.receiveBuffer(), 65535);
        lastAckSent = rcvNxt;
        iss = cookieIss;
        sndUna = cookieIss;
        sndNxt = cookieIss + 1;
        sendBuf.start(cookieIss + 1);
        tsOffset = engine.tsOffset(key);
        peerMss = cookieMss;
        int ws = bits & 0xF;
        wsOk = ws != 0xF && opts.windowScaling();
        sndWscale = wsOk ? Math.min(ws, TcpOptions.MAX_WINDOW_SCALE) : 0;
        rcvWscale = wsOk ? ourWscale : 0;
        sackOk = (bits & 0x10) != 0 && opts.sack();
        ecnOk = (bits & 0x20) != 0 && opts.ecn();
        tsOk = s.hasTs && opts.timestamps();
        if (tsOk) {
            tsRecent = s.tsVal;
            tsRecentAge = now;
        }
        updateMss();
        sndWl1 = s.seq;
        sndWl2 = s.ack;
        state = TcpState.SYN_RECEIVED;
        lastRecv = now;
    }

    /** Takes the peer's SYN options (RFC 9293 §3.7.1 MSS, RFC 7323 §2.2/§3.2, RFC 2018 §2, RFC 3168 §6.1.1). */
    private void negotiate(Segment seg, boolean passive) {
        peerMss = seg.mss > 0 ? seg.mss : (v6 ? 1220 : 536);
        if (opts.windowScaling() && seg.wscale >= 0) {
            wsOk = true;
            sndWscale = Math.min(seg.wscale, TcpOptions.MAX_WINDOW_SCALE); // RFC 7323 §2.3: use 14 if larger
        } else {
            wsOk = false;
            sndWscale = 0;
            rcvWscale = 0;
        }
        tsOk = opts.timestamps() && seg.hasTs;
        if (tsOk) {
            tsRecent = seg.tsVal;
            tsRecentAge = engine.now();
        }
        sackOk = opts.sack() && seg.sackOk;
        if (passive) {
            ecnOk = opts.ecn() && (seg.flags & (Tcp.ECE | Tcp.CWR)) == (Tcp.ECE | Tcp.CWR);
        } else {
            ecnOk = opts.ecn() && (seg.flags & (Tcp.ECE | Tcp.CWR)) == Tcp.ECE;
        }
        updateMss();
    }

    /** Sets up the congestion controller once the MSS is known. */
    private void startCongestionControl() {
        if (cc == null) {
            int iw = CongestionControl.initialWindow(mss);
            cc = opts.congestion() == CongestionAlgorithm.CUBIC ? new Cubic(mss, iw) : new NewReno(mss, iw);
        }
    }

    /** Sends our SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), arming the retransmission timer. */
    private void sendSyn(long now) {
        boolean synAck = state == TcpState.SYN_RECEIVED;
        int flags = Tcp.SYN;
        if (synAck) {
            flags |= Tcp.ACK;
            if (ecnOk) {
                flags |= Tcp.ECE;
            }
        } else if (opts.ecn() && rtoRetries == 0) {
            flags |= Tcp.ECE | Tcp.CWR; // RFC 3168 §6.1.1; a retransmitted SYN goes without (§6.1.1.1)
        }
        if (rtoRetries == 0) {
            synSentAt = now;
        }
        if (rtxAt == 0) {
            rtxAt = now + rto;
        }
        emit(iss, 0, flags, now, false);
        engine.reschedule(this);
    }

    // ------------------------------------------------------------------------------------------------ input

    /** Processes a segment for this connection (the engine parsed and validated it). */
    void input(Segment seg, long now) {
        segmentsReceived++;
        inInput = true;
        try {
            switch (state) {
                case SYN_SENT -> inputSynSent(seg, now);
                case CLOSED, LISTEN -> engine.drop(DropReason.IGNORED);
                default -> inputSynchronized(seg, now);
            }
        } finally {
            inInput = false;
        }
        if (ackNow && state.isSynchronized()) {
            output(now);
        }
        if (state != TcpState.CLOSED) {
            engine.reschedule(this);
        }
    }

    /** RFC 9293 §3.10.7.3. */
    private void inputSynSent(Segment seg, long now) {
        boolean hasAck = seg.has(Tcp.ACK);
        if (hasAck && (Seq.le(seg.ack, iss) || Seq.gt(seg.ack, sndNxt))) {
            if (!seg.has(Tcp.RST)) {
                engine.sendRst(this, seg.ack, 0, false);
            }
            engine.drop(DropReason.ACK_UNSENT);
            return;
        }
        if (seg.has(Tcp.RST)) {
            if (hasAck) {
                terminate(new ConnectException("Connection refused: " + remoteAddress()));
            } else {
                engine.drop(DropReason.RST_OUT_OF_WINDOW);
            }
            return;
        }
        if (!seg.has(Tcp.SYN)) {
            engine.drop(DropReason.IGNORED);
            return;
        }
        irs = seg.seq;
        rcvNxt = seg.seq + 1;
        rcvAdv = rcvNxt;
        negotiate(seg, false);
        lastRecv = now;
        if (hasAck) {
            // RFC 7323 §2.2: the SYN-ACK's window is not scaled
            sndWnd = seg.wnd;
            maxSndWnd = sndWnd;
            sndWl1 = seg.seq;
            sndWl2 = seg.ack;
            sampleRtt(now, rtoRetries == 0 ? now - synSentAt : -1);
            sndUna = seg.ack;
            rtxAt = 0;
            rtoRetries = 0;
            state = TcpState.ESTABLISHED;
            startCongestionControl();
            ackNow = true;
            if (finQueued) {
                state = TcpState.FIN_WAIT_1;
            }
            if (handler != null) {
                handler.onEstablished(this);
            }
            if (state == TcpState.CLOSED) {
                return;
            }
            armKeepAlive(now);
            if (seg.payloadLen > 0 || seg.has(Tcp.FIN)) {
                // data on the SYN-ACK is not queued (rare); the peer retransmits it after our ACK
                engine.drop(DropReason.IGNORED);
            }
            output(now);
        } else {
            // simultaneous open (RFC 9293 §3.5 figure 8)
            sndWnd = seg.wnd;
            maxSndWnd = sndWnd;
            sndWl1 = seg.seq;
            state = TcpState.SYN_RECEIVED;
            rtxAt = 0;
            sendSyn(now);
        }
    }

    /** RFC 9293 §3.10.7.4, for SYN-RECEIVED and every synchronized state. */
    private void inputSynchronized(Segment seg, long now) {
        // RFC 7323 §5.3 PAWS (R1): an old timestamp means a segment from an earlier incarnation
        if (tsOk && seg.hasTs && !seg.has(Tcp.RST) && tsRecent - seg.tsVal > 0
                && now - tsRecentAge < 24L * 24 * 3600 * 1_000_000_000L) {
            engine.drop(DropReason.PAWS);
            if (!seg.has(Tcp.RST)) {
                challengeAck(now, DropReason.PAWS);
            }
            return;
        }
        // simultaneous open (RFC 9293 §3.5 figure 8, line 7): the SYN-ACK answering our SYN in SYN-RECEIVED
        // acknowledges our SYN; its SYN repeats the one we have, so it is processed as an ACK
        if (state == TcpState.SYN_RECEIVED && listener == null && seg.has(Tcp.SYN) && seg.has(Tcp.ACK)
                && seg.seq == irs) {
            seg.seq += 1;
            seg.flags &= ~Tcp.SYN;
        }
        // SYN-RECEIVED: a retransmitted SYN repeats our SYN-ACK (unless deferred)
        if (state == TcpState.SYN_RECEIVED && seg.has(Tcp.SYN) && !seg.has(Tcp.ACK) && seg.seq == irs) {
            if (!deferred) {
                emit(iss, 0, Tcp.SYN | Tcp.ACK | (ecnOk ? Tcp.ECE : 0), now, false);
            }
            engine.drop(DropReason.IGNORED);
            return;
        }
        if (deferred) {
            if (seg.has(Tcp.RST) && seg.seq == rcvNxt) {
                abortDeferred(new java.net.ConnectException("Connection reset by peer before it was accepted: "
                        + remoteAddress()));
            } else {
                engine.drop(DropReason.IGNORED);
            }
            return;
        }
        // first: sequence number acceptability (the four cases of §3.10.7.4)
        int segLen = seg.seqLen();
        int rcvWnd = Math.max(0, rcvAdv - rcvNxt);
        boolean acceptable;
        if (segLen == 0) {
            acceptable = rcvWnd == 0 ? seg.seq == rcvNxt : Seq.inRange(seg.seq, rcvNxt, rcvNxt + rcvWnd);
        } else {
            acceptable = rcvWnd != 0 && (Seq.inRange(seg.seq, rcvNxt, rcvNxt + rcvWnd)
                    || Seq.inRange(seg.seq + segLen - 1, rcvNxt, rcvNxt + rcvWnd));
        }
        // a zero-window probe or an old duplicate still carries a valid ACK: process ACK-only parts below
        if (!acceptable) {
            if (seg.has(Tcp.RST)) {
                engine.drop(DropReason.RST_OUT_OF_WINDOW);
                return;
            }
            if (state == TcpState.TIME_WAIT && seg.has(Tcp.FIN)) {
                restartTimeWait(now);
            }
            engine.drop(DropReason.OUT_OF_WINDOW);
            if (seg.payloadLen > 0 && Seq.lt(seg.seq, rcvNxt) && Seq.le(seg.seq + seg.payloadLen, rcvNxt)) {
                reportDuplicate(seg.seq, seg.seq + seg.payloadLen); // RFC 2883 §4.1.1: data received twice
            }
            if (seg.has(Tcp.ACK) && state.isSynchronized() && segLen > 0 && Seq.lt(seg.seq, rcvNxt)) {
                // retransmission of data we have: its ACK may still advance SND.UNA / the window (RFC 9293
                // says drop; processing the ACK field too is what Linux does and helps lossy ACK paths)
                processAck(seg, now, true);
                if (state == TcpState.CLOSED) {
                    return;
                }
            }
            sendAck(now);
            return;
        }
        // second: RST (RFC 5961 §3.2)
        if (seg.has(Tcp.RST)) {
            if (seg.seq != rcvNxt) {
                challengeAck(now, DropReason.RST_CHALLENGED);
                return;
            }
            if (state == TcpState.SYN_RECEIVED && handler == null) {
                terminate(null); // passive open: back to LISTEN, i.e. forget the entry
            } else if (state == TcpState.SYN_RECEIVED && listener == null) {
                terminate(new ConnectException("Connection refused: " + remoteAddress()));
            } else if (state == TcpState.TIME_WAIT) {
                engine.drop(DropReason.TIME_WAIT); // RFC 1337: TIME-WAIT ignores RST
            } else if (state == TcpState.CLOSING || state == TcpState.LAST_ACK) {
                terminate(null);
            } else {
                terminate(new IOException("Connection reset by peer"));
            }
            return;
        }
        // fourth: SYN (RFC 5961 §4.2, RFC 9293 MUST-69: challenge ACK)
        if (seg.has(Tcp.SYN)) {
            if (state == TcpState.TIME_WAIT) {
                engine.drop(DropReason.TIME_WAIT);
                return;
            }
            challengeAck(now, DropReason.SYN_CHALLENGED);
            return;
        }
        // fifth: ACK
        if (!seg.has(Tcp.ACK)) {
            engine.drop(DropReason.BAD_FLAGS);
            return;
        }
        lastRecv = now;
        kaProbes = 0;
        // RFC 7323 §4.3: update TS.Recent when the segment covers Last.ACK.sent
        if (tsOk && seg.hasTs && Seq.le(seg.seq, lastAckSent)) {
            tsRecent = seg.tsVal;
            tsRecentAge = now;
        }
        if (state == TcpState.SYN_RECEIVED) {
            if (Seq.le(seg.ack, sndUna) || Seq.gt(seg.ack, sndNxt)) {
                engine.sendRst(this, seg.ack, 0, false);
                engine.drop(DropReason.ACK_UNSENT);
                return;
            }
            if (rtoRetries == 0 && synSentAt != 0) {
                sampleRtt(now, now - synSentAt);
            }
            sndUna = seg.ack;
            rtxAt = 0;
            rtoRetries = 0;
            sndWnd = seg.wnd << sndWscale;
            maxSndWnd = sndWnd;
            sndWl1 = seg.seq;
            sndWl2 = seg.ack;
            state = finQueued ? TcpState.FIN_WAIT_1 : TcpState.ESTABLISHED;
            startCongestionControl();
            if (!established()) {
                return;
            }
            armKeepAlive(now);
        } else if (!processAck(seg, now, false)) {
            return;
        }
        if (state == TcpState.CLOSED) {
            return;
        }
        if (state == TcpState.TIME_WAIT) {
            if (seg.has(Tcp.FIN)) {
                restartTimeWait(now); // RFC 9293: the only thing that can arrive is a FIN retransmission
                sendAck(now);
            } else {
                engine.drop(DropReason.TIME_WAIT);
            }
            return;
        }
        // ECN: a CE mark on data makes us echo ECE until the sender's CWR (RFC 3168 §6.1.3)
        if (ecnOk) {
            if (seg.has(Tcp.CWR)) {
                eceSend = false;
            }
            if (seg.ecn == 3) {
                eceSend = true;
                ackNow = true;
            }
        }
        // seventh: text
        if (seg.payloadLen > 0 || seg.has(Tcp.FIN)) {
            receiveText(seg, now);
            if (state == TcpState.CLOSED) {
                return;
            }
        }
        output(now);
        if (ackAt != 0 || ackNow) {
            engine.reschedule(this);
        }
    }

    /** SYN-RECEIVED → ESTABLISHED bookkeeping (RFC 9293 §3.10.7.4 fifth step). False if the connection died. */
    private boolean established() {
        if (halfOpenCounted) {
            engine.halfOpenDone(this);
        }
        if (handler == null && listener != null) {
            TcpConnectionHandler h;
            try {
                h = listener.listener.onAccepted(this);
            } catch (RuntimeException e) {
                h = null;
            }
            if (h == null) {
                engine.drop(DropReason.LISTENER_REFUSED);
                engine.sendRst(this, sndNxt, 0, false);
                terminate(null);
                return false;
            }
            handler = h;
        }
        if (state == TcpState.CLOSED) {
            return false;
        }
        handler.onEstablished(this);
        return state != TcpState.CLOSED;
    }

    /**
     * The fifth step for synchronized states: RFC 5961 §5.2 acceptability, RFC 9293 SND.UNA/SND.WND updates, SACK
     * scoreboard, RACK, RTT sample, congestion control, state changes when our FIN is acknowledged.
     *
     * @return false if the segment must be dropped (an ACK was sent if needed)
     */
    private boolean processAck(Segment seg, long now, boolean ackOnly) {
        int ack = seg.ack;
        if (Seq.gt(ack, sndNxt)) {
            engine.drop(DropReason.ACK_UNSENT);
            challengeAck(now, DropReason.ACK_UNSENT);
            return false;
        }
        if (Seq.lt(ack, sndUna - maxSndWnd) && Seq.lt(ack, sndUna - 65535)) {
            engine.drop(DropReason.ACK_TOO_OLD);
            challengeAck(now, DropReason.ACK_TOO_OLD);
            return false;
        }
        int inFlightBefore = pipe();
        int oldWnd = sndWnd;
        // window update (RFC 9293 §3.10.7.4: SND.WL1 < SEG.SEQ or (= and SND.WL2 <= SEG.ACK))
        if (Seq.ge(ack, sndUna) && (Seq.lt(sndWl1, seg.seq) || (sndWl1 == seg.seq && Seq.le(sndWl2, ack)))) {
            sndWnd = seg.wnd << sndWscale;
            sndWl1 = seg.seq;
            sndWl2 = ack;
            maxSndWnd = Math.max(maxSndWnd, sndWnd);
            if (sndWnd > 0 && persistAt != 0) {
                persistAt = 0;
                persistBackoff = 0;
            }
        }
        boolean sackAdvanced = false;
        boolean dsack = false;
        int dsackL = 0;
        int dsackR = 0;
        sb.beginAck(now, minRtt);
        if (sackOk && seg.sackBlocks > 0) {
            // RFC 2883 §4: a first block below the cumulative ACK, or inside the second block, reports a duplicate
            int l0 = seg.sack[0];
            int r0 = seg.sack[1];
            if (Seq.lt(l0, r0) && (Seq.le(r0, ack) || seg.sackBlocks > 1 && Seq.ge(l0, seg.sack[2])
                    && Seq.le(r0, seg.sack[3]))) {
                dsack = true;
                dsackL = l0;
                dsackR = r0;
                dsacksReceived++;
            }
            for (int i = dsack ? 1 : 0; i < seg.sackBlocks; i++) {
                int l = seg.sack[2 * i];
                int r = seg.sack[2 * i + 1];
                // RFC 2018 §4 / RFC 6675: ignore blocks outside SND.UNA..SND.NXT (and D-SACKs below SND.UNA)
                if (Seq.lt(l, r) && Seq.ge(l, Seq.max(sndUna, ack)) && Seq.le(r, sndNxt)) {
                    if (sb.markSacked(l, r) > 0) {
                        sackAdvanced = true;
                    }
                }
            }
        }
        boolean newAck = Seq.gt(ack, sndUna);
        if (newAck) {
            int acked = ack - sndUna;
            long sample = sb.ackTo(ack);
            if (sample >= 0) {
                sampleRtt(now, now - sample);
            }
            int dataAckEnd = finSent && Seq.gt(ack, finSeq) ? finSeq : ack;
            sendBuf.ackTo(dataAckEnd);
            bytesAcked += acked;
            sndUna = ack;
            rtoRetries = 0;
            tlpOutstanding = false;
            tlpAt = 0;
            persistBackoff = 0;
            if (inRecovery) {
                if (Seq.ge(ack, recoveryPoint)) {
                    inRecovery = false;
                    fastRecovery = false;
                    dupAcks = 0;
                    if (recoveryReducesCwnd) {
                        cc.onRecoveryEnd(now);
                        reoWndOnRecoveryEnd();
                    }
                } else if (!sackOk) {
                    // RFC 6582 §3.2 step 5: a partial ACK retransmits the next unacknowledged segment
                    if (sb.count > 0) {
                        sb.markLost(0);
                    }
                    dupAcks = 0;
                }
            } else {
                dupAcks = 0;
                cc.onAck(acked, inFlightBefore, now, srtt);
            }
            if (ecnOk && seg.has(Tcp.ECE) && Seq.ge(ack, ecnRecoverSeq) && !inRecovery) {
                // RFC 3168 §6.1.2: at most one reduction per window of data
                cc.onCongestion(inFlightBefore, now);
                ecnEvents++;
                cwrNext = true;
                ecnRecoverSeq = sndNxt;
            }
            if (sndUna == sndNxt) {
                rtxAt = 0;
            } else {
                rtxAt = now + backedOffRto(); // RFC 6298 §5.3
                armTlp(now); // RFC 8985 §7.2: re-arm the PTO on an ACK that advances SND.UNA
            }
            if (!writable && sendBuf.bytes <= opts.sendBufferLowWaterMark()) {
                writable = true;
                notifyWritability();
                if (state == TcpState.CLOSED) {
                    return false;
                }
            }
            // our FIN acknowledged?
            if (finSent && Seq.gt(ack, finSeq)) {
                switch (state) {
                    case FIN_WAIT_1 -> {
                        state = TcpState.FIN_WAIT_2;
                        if (receiveClosed) {
                            twAt = now + FIN_WAIT_2_TIMEOUT;
                        }
                    }
                    case CLOSING -> enterTimeWait(now);
                    case LAST_ACK -> {
                        terminate(null);
                        return false;
                    }
                    default -> {
                    }
                }
            }
        } else if (ack == sndUna && !ackOnly && seg.payloadLen == 0 && !seg.has(Tcp.FIN) && sndNxt != sndUna
                && sndWnd == oldWnd) {
            // RFC 5681 §2 duplicate ACK
            dupAcks++;
            if (!sackOk && !inRecovery && dupAcks == 3) {
                sb.markLost(0);
                enterRecovery(inFlightBefore, now);
            }
        }
        if (dsack) {
            onDsack();
        }
        if (tlpEpisode) {
            tlpProcessAck(ack, dsack, dsackL, dsackR, inFlightBefore, now);
        }
        if (sackOk && sb.marked > 0) {
            rackAndDupThresh(now, inFlightBefore);
        }
        return true;
    }

    /**
     * RFC 8985 §6.2 step 4: a D-SACK grows the reordering window once per round trip (RACK.dsack_round); it also
     * counts as reordering seen (a segment was resent that had arrived: the network reordered or delayed it more
     * than the window allowed).
     */
    private void onDsack() {
        if (dsackRoundValid && Seq.ge(sndUna, dsackRound)) {
            dsackRoundValid = false;
        }
        if (!dsackRoundValid) {
            dsackRoundValid = true;
            dsackRound = sndNxt;
            reoWndMult++;
            reoWndPersist = 16;
        }
        sb.reorderingSeen = true;
    }

    /** RFC 8985 §6.2 step 4 on leaving fast or RTO recovery: 16 D-SACK-free recoveries reset the multiplier. */
    private void reoWndOnRecoveryEnd() {
        if (--reoWndPersist <= 0) {
            reoWndPersist = 0;
            reoWndMult = 1;
        }
    }

    /**
     * RFC 8985 §6.2 step 4 RACK.reo_wnd: 0 while no reordering was seen and (in recovery, or DupThresh segments
     * were SACKed), else min(reo_wnd_mult · min_RTT / 4, SRTT).
     */
    long reoWnd() {
        if (minRtt == Long.MAX_VALUE) {
            return 0;
        }
        if (!sb.reorderingSeen && (inRecovery || sb.sackedCount() >= DUP_THRESH)) {
            return 0;
        }
        return Math.min(reoWndMult * (minRtt / 4), srtt);
    }

    /**
     * RFC 8985 §7.4: ends the tail-loss probe episode once the ACK reaches TLP.end_seq. A probe of new data needs
     * nothing more; a retransmitted probe that the receiver reports by D-SACK was a duplicate (nothing was lost);
     * an ACK beyond TLP.end_seq without that D-SACK means the probe repaired a loss, which gets the congestion
     * response of a loss (RFC 8985 §7.4.2: cwnd and ssthresh reduced as for fast recovery, once). An episode
     * whose probe was acknowledged exactly at TLP.end_seq stays open until a D-SACK or a later ACK decides it
     * (as Linux's {@code tcp_process_tlp_ack}); no further probe is sent meanwhile.
     */
    private void tlpProcessAck(int ack, boolean dsack, int dsackL, int dsackR, int inFlightBefore, long now) {
        if (!tlpIsRetrans) {
            if (Seq.ge(ack, tlpEndSeq)) {
                tlpEpisode = false;
            }
            return;
        }
        if (dsack && Seq.le(dsackL, tlpProbeSeq) && Seq.ge(dsackR, tlpProbeEnd) && Seq.lt(tlpProbeSeq, tlpProbeEnd)) {
            tlpEpisode = false; // the probe was a duplicate: the original had arrived
            return;
        }
        if (Seq.gt(ack, tlpEndSeq)) {
            tlpEpisode = false;
            tailLossRepairs++;
            if (!inRecovery) {
                cc.onCongestion(inFlightBefore, now);
                if (ecnOk) {
                    cwrNext = true;
                    ecnRecoverSeq = sndNxt;
                }
            }
        }
    }

    /** RFC 8985 §6.2 RACK plus RFC 6675 §4 DupThresh loss marking; starts recovery on new losses. */
    private void rackAndDupThresh(long now, int inFlightBefore) {
        if (sb.deliveredXmit > rackXmit || (sb.deliveredXmit == rackXmit && Seq.gt(sb.deliveredEnd, rackEnd))) {
            rackXmit = sb.deliveredXmit;
            rackEnd = sb.deliveredEnd;
            if (!sb.deliveredRetrans) {
                rackRtt = Math.max(0, now - rackXmit);
            }
        }
        int lost = 0;
        if (rackXmit > 0) {
            reoAt = sb.rackDetect(now, rackXmit, rackEnd, rackRtt, reoWnd(), lostScratch);
            lost += lostScratch[0];
        }
        if (!sb.reorderingSeen) {
            // RFC 6675 §4 IsLost; once reordering was seen, RACK's adaptive window alone decides (RFC 8985 §6.2
            // step 4 returns 0 exactly where DupThresh would fire, and DupThresh cannot wait for reordering)
            lost += sb.markLostByDupThresh(DUP_THRESH);
        }
        if (lost > 0 && !inRecovery) {
            enterRecovery(inFlightBefore, now);
        }
    }

    private void enterRecovery(int inFlight, long now) {
        inRecovery = true;
        fastRecovery = sackOk;
        retransmitNow = true; // RFC 5681 §3.2 step 4 / RFC 6675 §5 step 4.3: the first loss goes out at once
        recoveryReducesCwnd = true;
        recoveryPoint = sndNxt;
        fastRetransmits++;
        if (!ecnOk || Seq.ge(sndUna, ecnRecoverSeq)) {
            cc.onCongestion(inFlight, now);
        }
        if (ecnOk) {
            cwrNext = true;
            ecnRecoverSeq = sndNxt;
        }
    }

    /** RFC 9293 §3.10.7.4 seventh and eighth steps. */
    private void receiveText(Segment seg, long now) {
        if (receiveClosed && seg.payloadLen > 0) {
            // RFC 9293 §3.6 / RFC 1122 §4.2.2.13: data after close: reset
            engine.drop(DropReason.DATA_AFTER_CLOSE);
            engine.sendRst(this, sndNxt, 0, false);
            terminate(new IOException("Connection reset: data after close"));
            return;
        }
        if (finReceived) {
            // peer's FIN already processed: retransmission; re-ACK
            ackNow = true;
            return;
        }
        int seq = seg.seq;
        int len = seg.payloadLen;
        int dataOff = seg.payloadOff;
        boolean fin = seg.has(Tcp.FIN);
        // trim to the window (left: already received; right: beyond the window)
        if (Seq.lt(seq, rcvNxt)) {
            int cut = rcvNxt - seq;
            if (cut > len) {
                // only the FIN (or nothing) is new
                cut = len;
            }
            reportDuplicate(seq, seq + cut); // RFC 2883 §4.1.1: the part already received
            dataOff += cut;
            len -= cut;
            seq += cut;
        }
        int right = rcvNxt + Math.max(0, rcvAdv - rcvNxt);
        if (Seq.gt(seq + len, right)) {
            len = Math.max(0, right - seq);
            fin = false;
        }
        if (len > 0 && (state == TcpState.ESTABLISHED || state == TcpState.FIN_WAIT_1
                || state == TcpState.FIN_WAIT_2)) {
            if (seq == rcvNxt) {
                ByteBuf data = seg.buf.retainedSlice(dataOff, len);
                rcvNxt += len;
                bytesReceived += len;
                deliver(data, len);
                if (state == TcpState.CLOSED) {
                    return;
                }
                boolean filled = !ooo.isEmpty();
                ByteBuf next;
                while ((next = ooo.pollAt(rcvNxt)) != null) {
                    int n = next.readableBytes();
                    rcvNxt += n;
                    bytesReceived += n;
                    deliver(next, n);
                    if (state == TcpState.CLOSED) {
                        return;
                    }
                }
                if (ooo.isEmpty()) {
                    ooo.hasLast = false;
                }
                if (oooFin && rcvNxt == oooFinSeq) {
                    fin = true;
                }
                measureRcvRtt(seg, now);
                unackedSegs++;
                if (filled || quickAcks > 0 || unackedSegs >= ACK_EVERY) {
                    if (quickAcks > 0) {
                        quickAcks--;
                    }
                    ackNow = true;
                } else if (ackAt == 0) {
                    ackAt = now + engine.config.delayedAckNanos();
                }
            } else {
                // out of order: hold it (bounded), ACK at once (RFC 5681 §4.2)
                int room = Math.min(engine.config.maxOutOfOrderBytes(), rcvBuf) - ooo.bytes;
                if (len <= room) {
                    if (ooo.insert(seq, seg.buf.retainedSlice(dataOff, len)) == 0) {
                        reportDuplicate(seq, seq + len); // RFC 2883 §4.2: held out of order already
                    }
                    if (fin) {
                        oooFin = true;
                        oooFinSeq = seq + len;
                    }
                } else {
                    engine.drop(DropReason.OUT_OF_ORDER_FULL);
                }
                fin = false;
                ackNow = true;
            }
        } else if (len > 0) {
            engine.drop(DropReason.IGNORED); // CLOSE-WAIT, CLOSING, LAST-ACK: "ignore the segment text"
        } else if (seq != rcvNxt) {
            if (fin && Seq.gt(seq, rcvNxt)) {
                oooFin = true;
                oooFinSeq = seq;
            }
            fin = false;
            ackNow = true;
        }
        if (fin && seq + len == rcvNxt || (fin && oooFin && rcvNxt == oooFinSeq)) {
            receiveFin(now);
        }
    }

    private void deliver(ByteBuf data, int len) {
        if (opts.autoConsume()) {
            atCopied += len;
        } else {
            unconsumed += len;
        }
        if (handler != null) {
            handler.onData(this, data);
        } else {
            data.release();
        }
    }

    /**
     * RFC 9293 §3.10.7.4 eighth step. The handler hears of the FIN before the connection closes: a half-closed
     * connection (our FIN acknowledged) that now enters TIME-WAIT reports {@code onPeerFin} first, then
     * {@code onClosed} — in the other order a channel closed without ever seeing its input end.
     */
    private void receiveFin(long now) {
        rcvNxt++;
        finReceived = true;
        oooFin = false;
        ackNow = true;
        boolean timeWait = false;
        switch (state) {
            case SYN_RECEIVED, ESTABLISHED -> state = TcpState.CLOSE_WAIT;
            case FIN_WAIT_1 -> {
                if (finSent && Seq.gt(sndUna, finSeq)) {
                    timeWait = true;
                } else {
                    state = TcpState.CLOSING;
                }
            }
            case FIN_WAIT_2 -> timeWait = true;
            default -> {
            }
        }
        if (handler != null) {
            handler.onPeerFin(this);
        }
        if (timeWait && state != TcpState.CLOSED && state != TcpState.TIME_WAIT) {
            enterTimeWait(now);
        }
    }

    // ------------------------------------------------------------------------------------------------ output

    /** Bytes in flight for sending decisions: RFC 6675 pipe with SACK, else flight minus dupACK estimate. */
    int pipe() {
        if (inRecovery && !sackOk) {
            // RFC 6582 / RFC 5681 §3.2: each duplicate ACK is a segment that left the network
            return Math.max(0, (sb.marked > 0 ? sb.pipe() : sndNxt - sndUna) - dupAcks * mss);
        }
        if (sb.marked > 0) {
            return sb.pipe();
        }
        return sndNxt - sndUna;
    }

    /**
     * Sends retransmissions of lost segments (RFC 6675 NextSeg rule 1: only the holes), then new data within
     * min(cwnd, peer window) subject to Nagle and sender SWS avoidance, then FIN, then a pure ACK if one is due.
     */
    void output(long now) {
        if (state == TcpState.TIME_WAIT) {
            if (ackNow) {
                sendAck(now);
            }
            return;
        }
        if (!state.isSynchronized() || cc == null) {
            if (ackNow && state == TcpState.SYN_RECEIVED) {
                ackNow = false;
            }
            return;
        }
        boolean sent = false;
        for (int guard = 0; guard < 1_000_000; guard++) {
            int cwnd = cc.cwnd();
            int pipe = pipe();
            int lost = sb.firstLost();
            int segMss = currentMss();
            if (lost >= 0) {
                int s = sb.start(lost);
                int e = sb.end(lost);
                int fl = (sb.flags(lost) & Scoreboard.FIN) != 0 ? 1 : 0;
                if (e - fl - s > segMss) {
                    // sent when the options were smaller: retransmit in pieces that fit (Linux's tcp_fragment)
                    sb.splitAt(lost, s + segMss);
                    e = s + segMss;
                }
                int len = e - s;
                if (pipe + len > cwnd && pipe > 0 && !retransmitNow) {
                    break;
                }
                retransmitNow = false;
                flushRun(now);
                boolean fin = (sb.flags(lost) & Scoreboard.FIN) != 0;
                int dataLen = fin ? len - 1 : len;
                emit(s, dataLen, Tcp.ACK | (fin ? Tcp.FIN : 0) | Tcp.PSH, now, true);
                sb.retransmitted(lost, now);
                retransmits++;
                sent = true;
                if (rtxAt == 0) {
                    rtxAt = now + backedOffRto();
                }
                continue;
            }
            int dataEnd = sendBuf.endSeq();
            int unsent = dataEnd - sndNxt;
            if (unsent > 0) {
                int wndRight = sndUna + sndWnd;
                int usable = Math.min(wndRight - sndNxt, cwnd - pipe);
                int n = Math.min(Math.min(unsent, segMss), usable);
                int large = engine.largeSegmentBytes();
                if (large > segMss && !runOpen && pipe > 0 && unsent > usable && usable < Math.min(large, cwnd / 3)) {
                    // TSO deferral (as Linux's tcp_tso_should_defer): data is in flight, so an ACK will come and
                    // open more; wait for it rather than cut a small large segment
                    break;
                }
                if (n <= 0) {
                    if (sndWnd - (sndNxt - sndUna) <= 0 && sndNxt == sndUna && persistAt == 0) {
                        persistAt = now + persistInterval(); // RFC 9293 §3.8.6.1
                    }
                    if (fastRecovery && wndRight - sndNxt <= 0 && nextSegRule3Or4(now, cwnd, pipe, segMss)) {
                        sent = true; // NextSeg rule 2 failed on the receiver's window
                        continue;
                    }
                    break;
                }
                if (n < segMss) {
                    boolean all = n == unsent;
                    boolean nagleOk = opts.noDelay() || sndNxt == sndUna || finQueued;
                    // RFC 9293 §3.8.6.2.1 sender SWS avoidance and RFC 1122 §4.2.3.4 Nagle
                    if (!(all && nagleOk) && n < maxSndWnd / 2) {
                        break;
                    }
                }
                boolean fin = finQueued && !finSent && n == unsent;
                int flags = Tcp.ACK | (n == unsent ? Tcp.PSH : 0) | (fin ? Tcp.FIN : 0);
                if (large > segMss) {
                    // TSO: extend the run while its pieces are full-sized (of one size: the device cuts at it)
                    // and it stays within the limit
                    if (runOpen && (runMss != segMss || runLen % segMss != 0 || runLen + n > large
                            || runSeq + runLen != sndNxt)) {
                        flushRun(now);
                    }
                    if (!runOpen) {
                        runOpen = true;
                        runSeq = sndNxt;
                        runLen = 0;
                        runMss = segMss;
                    }
                    runLen += n;
                    runFlags = flags;
                    if (fin || n < segMss) {
                        flushRun(now);
                    }
                } else {
                    emit(sndNxt, n, flags, now, false);
                }
                int end = sndNxt + n + (fin ? 1 : 0);
                sb.add(sndNxt, end, now, fin);
                if (fin) {
                    finSent = true;
                    finSeq = sndNxt + n;
                }
                sndNxt = end;
                sent = true;
                armAfterSend(now);
                continue;
            }
            if (finQueued && !finSent) {
                flushRun(now);
                emit(sndNxt, 0, Tcp.ACK | Tcp.FIN, now, false);
                sb.add(sndNxt, sndNxt + 1, now, true);
                finSent = true;
                finSeq = sndNxt;
                sndNxt++;
                sent = true;
                armAfterSend(now);
                continue;
            }
            if (fastRecovery && nextSegRule3Or4(now, cwnd, pipe, segMss)) {
                sent = true;
                continue;
            }
            break;
        }
        flushRun(now);
        if (!sent && ackNow) {
            sendAck(now);
        }
    }

    /**
     * RFC 6675 §4 NextSeg() rules 3 and 4, when rule 1 (a lost segment) and rule 2 (new data) have nothing to
     * send and cwnd − pipe allows a segment (§5 step C): rule 3 retransmits the first unSACKed segment below the
     * highest SACKed one that was not retransmitted yet (not deemed lost: RACK or DupThresh may still be waiting
     * on it); rule 4 retransmits, once per recovery episode (RescueRxt), the segment holding the highest
     * outstanding unSACKed octet (a "rescue" for a lost tail that nothing above it can reveal). HighRxt is kept
     * per segment (its retransmitted mark); such a segment counts twice in pipe until SACKed, acknowledged or
     * marked lost. Both only in SACK-based fast recovery.
     *
     * @return whether a segment was sent
     */
    private boolean nextSegRule3Or4(long now, int cwnd, int pipe, int segMss) {
        if (cwnd - pipe < segMss) {
            return false;
        }
        int i = sb.firstUnsackedBelowSacked();
        boolean rescue = false;
        if (i < 0) {
            if (rescueValid && !Seq.gt(sndUna, rescueRxt)) {
                return false;
            }
            i = sb.lastUnsacked();
            if (i < 0) {
                return false;
            }
            rescue = true;
        }
        int s = sb.start(i);
        int e = sb.end(i);
        boolean fin = (sb.flags(i) & Scoreboard.FIN) != 0;
        int dataLen = e - s - (fin ? 1 : 0);
        if (dataLen > segMss) {
            if (rescue) {
                // rule 4: the piece must hold the highest outstanding octet: split off the tail
                s = e - (fin ? 1 : 0) - segMss;
                sb.splitAt(i, s);
                i++;
            } else {
                sb.splitAt(i, s + segMss);
                e = s + segMss;
                fin = false;
            }
            dataLen = e - s - (fin ? 1 : 0);
        }
        if (dataLen == 0 && !fin) {
            return false;
        }
        flushRun(now);
        emit(s, dataLen, Tcp.ACK | Tcp.PSH | (fin ? Tcp.FIN : 0), now, true);
        sb.retransmittedUnlost(i, now);
        retransmits++;
        if (rescue) {
            rescueValid = true;
            rescueRxt = recoveryPoint;
            rescueRetransmits++;
        } else {
            rule3Retransmits++;
        }
        if (rtxAt == 0) {
            rtxAt = now + backedOffRto();
        }
        return true;
    }

    private void armAfterSend(long now) {
        if (rtxAt == 0) {
            rtxAt = now + backedOffRto();
        }
        armTlp(now);
    }

    /** RFC 8985 §7.2: arm the tail-loss probe when not in recovery and an RTT is known. */
    private void armTlp(long now) {
        if (!inRecovery && srtt > 0 && !tlpOutstanding && !tlpEpisode && sndNxt != sndUna) {
            long pto = 2 * srtt;
            if (sndNxt - sndUna <= mss + 1) {
                pto += TLP_WORST_CASE_DELACK;
            }
            pto = Math.max(pto, 10_000_000L);
            tlpAt = now + pto;
            if (tlpAt >= rtxAt) {
                tlpAt = 0;
            }
        }
    }

    /** Sends a pure ACK now. */
    void sendAck(long now) {
        emit(sndNxt, 0, Tcp.ACK, now, false);
    }

    private void challengeAck(long now, DropReason reason) {
        if (reason != DropReason.PAWS && reason != DropReason.ACK_UNSENT && reason != DropReason.ACK_TOO_OLD) {
            engine.drop(reason);
        }
        if (engine.challengeAllowed(now)) {
            sendAck(now);
        } else {
            engine.drop(DropReason.CHALLENGE_ACK_LIMITED);
        }
    }

    /** The receive window to advertise, with receiver SWS avoidance (RFC 9293 §3.8.6.2.2), never shrinking. */
    private int windowField(boolean syn) {
        int avail = Math.max(0, rcvBuf - unconsumed);
        if (syn) {
            return Math.min(avail, 65535);
        }
        int right = rcvNxt + avail;
        int current = rcvAdv - rcvNxt;
        if (Seq.gt(right, rcvAdv)) {
            int growth = right - rcvAdv;
            if (current > 0 && growth < Math.min(rcvBuf / 2, mss) && avail < rcvBuf) {
                right = rcvAdv; // withhold a small increase
            }
        } else {
            right = Seq.max(rcvAdv, rcvNxt); // never shrink
        }
        int w = right - rcvNxt;
        int field = (w + (1 << rcvWscale) - 1) >>> rcvWscale;
        if (Seq.lt(rcvNxt + (field << rcvWscale), rcvAdv)) {
            field++;
        }
        field = Math.min(field, 65535);
        int adv = rcvNxt + (field << rcvWscale);
        if (Seq.gt(adv, rcvAdv)) {
            rcvAdv = adv;
        }
        return field;
    }

    /**
     * Builds and sends one segment: header with options into a fresh buffer with headroom, payload as a slice of
     * the send buffer, checksum over both.
     */
    void emit(int seq, int len, int flags, long now, boolean retransmission) {
        boolean syn = (flags & Tcp.SYN) != 0;
        TcpEngineConfig cfg = engine.config;
        int optLen;
        int sackN = 0;
        int[] sackEdges = engine.sackScratch;
        if (syn) {
            boolean synAck = (flags & Tcp.ACK) != 0;
            boolean ts = synAck ? tsOk : opts.timestamps();
            boolean sack = synAck ? sackOk : opts.sack();
            boolean ws = synAck ? wsOk : opts.windowScaling();
            optLen = 4 + (ts ? 12 : (sack ? 4 : 0)) + (ws ? 4 : 0);
        } else {
            optLen = tsOk ? 12 : 0;
            if (sackOk && (dsackPending || !ooo.isEmpty()) && (flags & Tcp.ACK) != 0) {
                int max = tsOk ? 3 : 4;
                if (dsackPending) {
                    // RFC 2883 §4: the D-SACK block first, then the usual blocks (the one holding it first)
                    sackEdges[0] = dsackLeft;
                    sackEdges[1] = dsackRight;
                    sackN = 1;
                    if (!ooo.isEmpty()) {
                        sackN += ooo.sackBlocksAfterDuplicate(sackEdges, 2, max - 1, dsackLeft, dsackRight);
                    }
                    dsackPending = false;
                    dsacksSent++;
                } else {
                    sackN = ooo.sackBlocks(sackEdges, max);
                }
                optLen += 4 + 8 * sackN;
            }
        }
        int hl = Tcp.MIN_HEADER_LENGTH + optLen;
        boolean copy = cfg.copyPayload() && len > 0;
        int headroom = cfg.headroom();
        ByteBuf h = engine.alloc.directBuffer(headroom + hl + (copy ? len : 0));
        h.writerIndex(headroom).readerIndex(headroom);
        int w = headroom;
        int window = (flags & Tcp.ACK) != 0 || syn ? windowField(syn) : 0;
        if (syn && (flags & Tcp.ACK) != 0 && Seq.gt(rcvNxt + window, rcvAdv)) {
            rcvAdv = rcvNxt + window; // RFC 7323 §2.2: the SYN-ACK's window is unscaled
        }
        int ackField = (flags & Tcp.ACK) != 0 ? rcvNxt : 0;
        if ((flags & Tcp.ACK) != 0) {
            if (ecnOk && eceSend && !syn) {
                flags |= Tcp.ECE;
            }
            if (ecnOk && cwrNext && len > 0 && !retransmission && !syn) {
                flags |= Tcp.CWR;
                cwrNext = false;
            }
        }
        h.setShort(w, lport);
        h.setShort(w + 2, rport);
        h.setInt(w + 4, seq);
        h.setInt(w + 8, ackField);
        h.setShort(w + 12, (hl << 10) | flags);
        h.setShort(w + 14, window);
        h.setInt(w + 16, 0);
        int p = w + 20;
        int tsNow = tsValue(now);
        if (syn) {
            boolean synAck = (flags & Tcp.ACK) != 0;
            boolean ts = synAck ? tsOk : opts.timestamps();
            boolean sack = synAck ? sackOk : opts.sack();
            boolean ws = synAck ? wsOk : opts.windowScaling();
            h.setInt(p, (TcpOptions.KIND_MSS << 24) | (4 << 16) | announcedMss());
            p += 4;
            if (ts) {
                if (sack) {
                    h.setShort(p, (TcpOptions.KIND_SACK_PERMITTED << 8) | 2);
                } else {
                    h.setShort(p, 0x0101);
                }
                h.setShort(p + 2, (TcpOptions.KIND_TIMESTAMPS << 8) | 10);
                h.setInt(p + 4, tsNow);
                h.setInt(p + 8, synAck ? tsRecent : 0);
                p += 12;
            } else if (sack) {
                h.setInt(p, 0x0101_0000 | (TcpOptions.KIND_SACK_PERMITTED << 8) | 2);
                p += 4;
            }
            if (ws) {
                h.setInt(p, 0x0100_0000 | (TcpOptions.KIND_WINDOW_SCALE << 16) | (3 << 8) | rcvWscale);
                p += 4;
            }
        } else {
            if (tsOk) {
                h.setInt(p, 0x0101_0000 | (TcpOptions.KIND_TIMESTAMPS << 8) | 10);
                h.setInt(p + 4, tsNow);
                h.setInt(p + 8, tsRecent);
                p += 12;
            }
            if (sackN > 0) {
                h.setInt(p, 0x0101_0000 | (TcpOptions.KIND_SACK << 8) | (2 + 8 * sackN));
                p += 4;
                for (int i = 0; i < sackN; i++) {
                    h.setInt(p, sackEdges[2 * i]);
                    h.setInt(p + 4, sackEdges[2 * i + 1]);
                    p += 8;
                }
            }
        }
        h.writerIndex(w + hl);
        int total = hl + len;
        long pseudo = v6 ? Checksums.pseudoHeaderV6(localHi, localLo, remoteHi, remoteLo, IpProtocol.TCP, total)
                : Checksums.pseudoHeaderV4(local4, remote4, IpProtocol.TCP, total);
        // the piece size of a large segment: the MSS less the SACK option this header carries (currentMss())
        int pieceMss = mss - (sackN > 0 ? 4 + 8 * sackN : 0);
        boolean large = engine.largeSegmentBytes() > 0 && len > pieceMss && !syn;
        boolean sum = cfg.computeChecksums() && !large;
        ByteBuf payload = null;
        if (sum && copy) {
            // the header's words (hl is a multiple of 4, so the payload's words stay aligned), then the payload's,
            // summed as they are copied
            long s = Checksums.partial(h, w, hl, pseudo);
            s = sendBuf.copyIntoSummed(seq, len, h, s, engine.copyScratch);
            h.setShort(w + 16, Checksums.finish(s));
        } else {
            if (len > 0) {
                if (copy) {
                    sendBuf.copyInto(seq, len, h);
                } else {
                    payload = sendBuf.slice(seq, len);
                }
            }
            if (sum) {
                long s = Checksums.partial(h, w, h.writerIndex() - w, pseudo);
                if (payload != null) {
                    s = Checksums.partial(payload, payload.readerIndex(), len, s);
                }
                h.setShort(w + 16, Checksums.finish(s));
            } else {
                h.setShort(w + 16, Checksums.fold(pseudo));
            }
        }
        if ((flags & Tcp.ACK) != 0) {
            lastAckSent = rcvNxt;
            ackAt = 0;
            ackNow = false;
            unackedSegs = 0;
        }
        segmentsSent++;
        int ecn = ecnOk && len > 0 && !retransmission && !syn ? 2 : 0;
        if (large) {
            engine.sendLarge(this, h, payload, ecn, pieceMss);
        } else {
            engine.send(this, h, payload, ecn);
        }
    }

    // ---- segmentation offload: a run of full-sized new-data segments emitted as one (TcpEngineConfig) ----

    private int runSeq;
    private int runLen;
    private int runFlags;
    private int runMss;
    private boolean runOpen;

    /** Emits the pending run of new data, if any. */
    private void flushRun(long now) {
        if (runOpen) {
            runOpen = false;
            emit(runSeq, runLen, runFlags, now, false);
        }
    }

    int tsValue(long now) {
        return (int) (now / 1_000_000L) + tsOffset;
    }

    // ------------------------------------------------------------------------------------------------ RTT, timers

    /** RFC 6298 §2.2–2.3. */
    private void sampleRtt(long now, long r) {
        if (r < 0) {
            return;
        }
        if (r < minRtt) {
            minRtt = r;
        }
        if (srtt == 0) {
            srtt = Math.max(r, 1);
            rttvar = r / 2;
        } else {
            long err = Math.abs(srtt - r);
            rttvar = rttvar - rttvar / 4 + err / 4; // beta = 1/4
            srtt = srtt - srtt / 8 + r / 8; // alpha = 1/8
        }
        TcpEngineConfig cfg = engine.config;
        long g = 1_000_000L; // clock granularity G: 1 ms (timestamps' tick)
        rto = Math.min(Math.max(srtt + Math.max(g, 4 * rttvar), cfg.minRtoNanos()), cfg.maxRtoNanos());
    }

    /** The current RTO with RFC 6298 §5.5 backoff applied. */
    private long backedOffRto() {
        long r = rto;
        for (int i = 0; i < rtoRetries && r < engine.config.maxRtoNanos(); i++) {
            r *= 2;
        }
        return Math.min(r, engine.config.maxRtoNanos());
    }

    private long persistInterval() {
        long r = rto;
        for (int i = 0; i < persistBackoff && r < engine.config.maxRtoNanos(); i++) {
            r *= 2;
        }
        return Math.min(r, engine.config.maxRtoNanos());
    }

    private void armKeepAlive(long now) {
        if (opts.keepAlive() && (state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT)) {
            kaAt = lastRecv + opts.keepAliveIdleNanos();
        } else {
            kaAt = 0;
        }
    }

    /** The earliest armed timer, or 0. */
    long nextDeadline() {
        long d = 0;
        d = minNonZero(d, rtxAt);
        d = minNonZero(d, tlpAt);
        d = minNonZero(d, persistAt);
        d = minNonZero(d, ackAt);
        d = minNonZero(d, kaAt);
        d = minNonZero(d, reoAt);
        d = minNonZero(d, twAt);
        if (ackNow && d == 0) {
            d = 1;
        }
        return d;
    }

    private static long minNonZero(long a, long b) {
        if (a == 0) {
            return b;
        }
        if (b == 0) {
            return a;
        }
        return Math.min(a, b);
    }

    /** Runs this connection's due timers. */
    void onTimers(long now) {
        if (twAt != 0 && now >= twAt) {
            twAt = 0;
            if (state == TcpState.TIME_WAIT) {
                engine.remove(this);
                return;
            }
            if (state == TcpState.FIN_WAIT_2) {
                terminate(null); // orphaned FIN-WAIT-2 (Linux tcp_fin_timeout)
                return;
            }
        }
        if (rtxAt != 0 && now >= rtxAt) {
            rtxAt = 0;
            onRetransmissionTimeout(now);
            if (state == TcpState.CLOSED) {
                return;
            }
        }
        if (tlpAt != 0 && now >= tlpAt) {
            tlpAt = 0;
            onTailLossProbe(now);
        }
        if (reoAt != 0 && now >= reoAt) {
            reoAt = 0;
            if (sackOk) {
                rackAndDupThresh(now, pipe());
                output(now);
            }
        }
        if (persistAt != 0 && now >= persistAt) {
            persistAt = 0;
            if (sndWnd - (sndNxt - sndUna) <= 0 && sendBuf.endSeq() != sndNxt) {
                // RFC 9293 §3.8.6.1 zero-window probe (one byte before SND.UNA, eliciting an ACK with the window)
                emit(sndUna - 1, 0, Tcp.ACK, now, false);
                persistBackoff++;
                persistAt = now + persistInterval();
            } else {
                output(now);
            }
        }
        if (ackAt != 0 && now >= ackAt) {
            ackAt = 0;
            sendAck(now);
        } else if (ackNow) {
            sendAck(now);
        }
        if (kaAt != 0 && now >= kaAt) {
            kaAt = 0;
            if (opts.keepAlive() && (state == TcpState.ESTABLISHED || state == TcpState.CLOSE_WAIT)) {
                if (now - lastRecv >= opts.keepAliveIdleNanos() && sndNxt == sndUna) {
                    if (kaProbes >= opts.keepAliveCount()) {
                        engine.sendRst(this, sndNxt, 0, false);
                        terminate(timedOut());
                        return;
                    }
                    // RFC 1122 §4.2.3.6: SEG.SEQ = SND.NXT − 1, no data
                    emit(sndUna - 1, 0, Tcp.ACK, now, false);
                    kaProbes++;
                    kaAt = now + opts.keepAliveIntervalNanos();
                } else {
                    kaAt = Math.max(lastRecv + opts.keepAliveIdleNanos(), now + 1);
                }
            }
        }
    }

    /** RFC 6298 §5.4–5.7, RFC 5681 §3.1, RFC 1122 R2. */
    private void onRetransmissionTimeout(long now) {
        if (deferred) {
            abortDeferred(new IOException("Deferred connection not accepted within "
                    + engine.config.deferredTimeoutNanos() / 1_000_000 + " ms: " + remoteAddress()));
            return;
        }
        int retries = state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED ? opts.synRetries()
                : opts.dataRetries();
        if (rtoRetries >= retries) {
            if (state == TcpState.SYN_SENT) {
                terminate(new ConnectTimeoutException("connection timed out: " + remoteAddress()));
            } else if (state == TcpState.SYN_RECEIVED && handler == null) {
                terminate(null);
            } else {
                engine.sendRst(this, sndNxt, 0, false);
                terminate(timedOut());
            }
            return;
        }
        rtoRetries++;
        rtoExpiries++;
        if (state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED) {
            // RFC 6298 §5.7: after a lost SYN, the RTO for data starts at 3 s... we keep backing off
            rtxAt = now + backedOffRto();
            sendSyn(now);
            return;
        }
        if (sndNxt == sndUna) {
            return;
        }
        int flight = pipe();
        if (rtoRetries == 1) {
            cc.onRetransmissionTimeout(flight, now);
        }
        sb.markAllLost();
        inRecovery = true;
        fastRecovery = false;
        recoveryReducesCwnd = true;
        recoveryPoint = sndNxt;
        dupAcks = 0;
        tlpOutstanding = false;
        tlpEpisode = false; // RFC 8985 §7.4: an RTO ends the probe episode
        tlpAt = 0;
        rtxAt = now + backedOffRto();
        output(now);
    }

    /** RFC 8985 §7.3: send one new segment if possible, else retransmit the last one. */
    private void onTailLossProbe(long now) {
        if (inRecovery || sndNxt == sndUna || tlpOutstanding || tlpEpisode) {
            return;
        }
        tailLossProbes++;
        tlpOutstanding = true;
        tlpEpisode = true;
        int unsent = sendBuf.endSeq() - sndNxt;
        if (unsent > 0 && Seq.gt(sndUna + sndWnd, sndNxt)) {
            int n = Math.min(Math.min(unsent, currentMss()), sndUna + sndWnd - sndNxt);
            boolean fin = finQueued && !finSent && n == unsent;
            emit(sndNxt, n, Tcp.ACK | Tcp.PSH | (fin ? Tcp.FIN : 0), now, false);
            int end = sndNxt + n + (fin ? 1 : 0);
            sb.add(sndNxt, end, now, fin);
            if (fin) {
                finSent = true;
                finSeq = sndNxt + n;
            }
            sndNxt = end;
            tlpIsRetrans = false;
            tlpEndSeq = sndNxt;
        } else if (sb.count > 0) {
            int last = sb.count - 1;
            int s = sb.start(last);
            int e = sb.end(last);
            boolean fin = (sb.flags(last) & Scoreboard.FIN) != 0;
            int segMss = currentMss();
            if (e - (fin ? 1 : 0) - s > segMss) {
                // RFC 8985 §7.3 probes with the last segment; it must fit the current options (tcp_fragment)
                s = e - (fin ? 1 : 0) - segMss;
                sb.splitAt(last, s);
                last++;
            }
            emit(s, e - s - (fin ? 1 : 0), Tcp.ACK | Tcp.PSH | (fin ? Tcp.FIN : 0), now, true);
            sb.retransmitted(last, now);
            retransmits++;
            tlpIsRetrans = true;
            tlpEndSeq = sndNxt;
            tlpProbeSeq = s;
            tlpProbeEnd = e - (fin ? 1 : 0);
        } else {
            tlpEpisode = false;
        }
        rtxAt = now + backedOffRto();
    }

    private IOException timedOut() {
        return new IOException(softError == null ? "Connection timed out" : "Connection timed out: " + softError);
    }

    // ------------------------------------------------------------------------------------------------ ICMP

    /** RFC 5927 §4 / RFC 1122 §4.2.3.9 / RFC 1191 §6.4. */
    void icmpError(int quotedSeq, IcmpError error, int mtu, long now) {
        boolean inFlight = state == TcpState.SYN_SENT ? quotedSeq == iss
                : Seq.ge(quotedSeq, sndUna) && Seq.lt(quotedSeq, sndNxt) || quotedSeq == iss;
        if (!inFlight || deferred) {
            engine.drop(DropReason.ICMP_UNMATCHED);
            return;
        }
        if (error == IcmpError.PACKET_TOO_BIG) {
            int min = v6 ? 1280 : 576;
            int m = mtu < 68 ? min : Math.max(min, mtu);
            if (m >= pmtu) {
                return;
            }
            pmtu = m;
            updateMss();
            if (sb.count > 0) {
                sb.split(mss);
                // RFC 1191 §6.5: retransmit what was sent too large, without a congestion response
                for (int i = 0; i < sb.count; i++) {
                    sb.markLost(i);
                }
                if (!inRecovery) {
                    inRecovery = true;
                    fastRecovery = false;
                    recoveryReducesCwnd = false;
                    recoveryPoint = sndNxt;
                }
                output(now);
            }
            return;
        }
        softError = error.name().toLowerCase().replace('_', ' ');
        if (error.isHard() && (state == TcpState.SYN_SENT || state == TcpState.SYN_RECEIVED)) {
            if (state == TcpState.SYN_SENT) {
                terminate(new ConnectException(softError.equals("port unreachable") || softError.equals(
                        "protocol unreachable") ? "Connection refused: " + remoteAddress()
                        : "No route to host (" + softError + "): " + remoteAddress()));
            } else {
                terminate(null);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ teardown

    private void notifyWritability() {
        if (handler != null) {
            handler.onWritabilityChanged(this, writable);
        }
    }

    private void enterTimeWait(long now) {
        state = TcpState.TIME_WAIT;
        rtxAt = 0;
        tlpAt = 0;
        persistAt = 0;
        ackAt = 0;
        kaAt = 0;
        reoAt = 0;
        ackNow = true;
        releaseBuffers();
        twAt = now + engine.config.timeWaitNanos();
        engine.enteredTimeWait(this);
        notifyClosed(null);
    }

    private void restartTimeWait(long now) {
        twAt = now + engine.config.timeWaitNanos();
        engine.reschedule(this);
    }

    /** A deferred connection dies before the application decided: forget it and tell the listener. */
    private void abortDeferred(Throwable cause) {
        TcpListener l = listener == null ? null : listener.listener;
        terminate(null);
        if (l != null) {
            l.onDeferredAborted(this, cause);
        }
    }

    /** Ends the connection: CLOSED, buffers released, removed from the engine, handler told once. */
    void terminate(Throwable cause) {
        if (state == TcpState.CLOSED) {
            return;
        }
        state = TcpState.CLOSED;
        deferred = false;
        releaseBuffers();
        releaseSynHeader();
        engine.remove(this);
        notifyClosed(cause);
    }

    private void notifyClosed(Throwable cause) {
        if (!closedNotified) {
            closedNotified = true;
            if (handler != null) {
                handler.onClosed(this, cause);
            }
        }
    }

    private void releaseBuffers() {
        sendBuf.releaseAll();
        ooo.releaseAll();
        sb.clear();
    }

    private void releaseSynHeader() {
        if (synHeader != null) {
            synHeader.release();
            synHeader = null;
        }
    }

    // ------------------------------------------------------------------------------------------------ auto-tuning

    /** Receiver RTT for auto-tuning: from the echoed timestamp (Linux's rcv_rtt_measure_ts), else per window. */
    private void measureRcvRtt(Segment seg, long now) {
        if (tsOk && seg.hasTs && seg.tsEcr != 0) {
            long ms = (tsValue(now) - seg.tsEcr) & 0xFFFF_FFFFL;
            if (ms < 60_000) {
                long r = Math.max(ms, 1) * 1_000_000L;
                rcvRtt = rcvRtt == 0 ? r : Math.min(rcvRtt - rcvRtt / 8 + r / 8, Math.max(r, rcvRtt / 2) * 2);
            }
        } else if (Seq.ge(rcvNxt, atMarkSeq)) {
            if (atMarkSeq != 0 || rcvRtt != 0) {
                long r = Math.max(now - atStart, 1_000_000L);
                rcvRtt = rcvRtt == 0 ? r : Math.min(rcvRtt, r);
            }
            atMarkSeq = rcvNxt + Math.max(rcvAdv - rcvNxt, mss);
        }
        autoTune(now);
    }

    /**
     * Dynamic right-sizing: once per receiver RTT, if the application consumed more than half the buffer in it,
     * grow the buffer to four times that (the sender's window can double per RTT in slow start), capped.
     */
    private void autoTune(long now) {
        if (!opts.autoTuning() || !wsOk) {
            return;
        }
        long period = rcvRtt != 0 ? rcvRtt : (srtt != 0 ? srtt : 0);
        if (period == 0) {
            return;
        }
        if (atStart == 0) {
            atStart = now;
            atCopied = 0;
            return;
        }
        if (now - atStart < period) {
            return;
        }
        int cap = opts.receiveBufferMax();
        if (2L * atCopied > rcvBuf && rcvBuf < cap) {
            rcvBuf = (int) Math.min(cap, 4L * atCopied);
        }
        atStart = now;
        atCopied = 0;
    }
}

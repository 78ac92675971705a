package dev.pktkit.vtcp.engine;

/**
 * Per-connection options (the socket options of Netty's {@code ChannelOption}s), with defaults. A mutable
 * value: {@link TcpEngine#connect} and {@link TcpEngine#listen} copy it, so later changes to the passed object do
 * not affect the connection; change a live connection through {@link TcpConnection}'s setters.
 *
 * <p>Defaults: receive buffer 256 KiB growing by auto-tuning up to 4 MiB ({@link #receiveBufferMax}), send
 * buffer 256 KiB (high water mark = send buffer, low = half), Nagle on (NODELAY off), keepalive off (idle 2 h,
 * interval 75 s, 9 probes), linger off, no MSS clamp, CUBIC, timestamps/SACK/window scaling/ECN on, 6 SYN
 * retries (about 127 s with 1 s initial RTO, as Linux), 15 data retransmissions (RFC 1122 R2, Linux's
 * {@code tcp_retries2}).
 */
public final class TcpSocketOptions implements Cloneable {
    private int receiveBuffer = 256 * 1024;
    private int receiveBufferMax = 4 * 1024 * 1024;
    private boolean autoTuning = true;
    private int sendBuffer = 256 * 1024;
    private int sendBufferHighWaterMark = -1;
    private int sendBufferLowWaterMark = -1;
    private boolean noDelay;
    private boolean keepAlive;
    private long keepAliveIdleNanos = 7_200_000_000_000L;
    private long keepAliveIntervalNanos = 75_000_000_000L;
    private int keepAliveCount = 9;
    private int lingerSeconds = -1;
    private int mssClamp;
    private CongestionAlgorithm congestion = CongestionAlgorithm.CUBIC;
    private boolean timestamps = true;
    private boolean sack = true;
    private boolean windowScaling = true;
    private boolean ecn = true;
    private boolean autoConsume;
    private int synRetries = 6;
    private int dataRetries = 15;
    private boolean quickAck = true;

    /** A copy of this object. */
    public TcpSocketOptions copy() {
        try {
            return (TcpSocketOptions) clone();
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }

    /** SO_RCVBUF: the initial receive buffer (the window offered when nothing is unconsumed), bytes. */
    public int receiveBuffer() {
        return receiveBuffer;
    }

    public TcpSocketOptions receiveBuffer(int bytes) {
        if (bytes < 1024) {
            throw new IllegalArgumentException("receive buffer " + bytes + " < 1024");
        }
        this.receiveBuffer = bytes;
        return this;
    }

    /** The cap for receive-window auto-tuning; at least {@link #receiveBuffer()}. */
    public int receiveBufferMax() {
        return Math.max(receiveBufferMax, receiveBuffer);
    }

    public TcpSocketOptions receiveBufferMax(int bytes) {
        this.receiveBufferMax = bytes;
        return this;
    }

    /** Receive-window auto-tuning (grow the buffer with the measured bandwidth-delay product). Off when the
     * application sets SO_RCVBUF explicitly, as on Linux — the host decides. */
    public boolean autoTuning() {
        return autoTuning;
    }

    public TcpSocketOptions autoTuning(boolean on) {
        this.autoTuning = on;
        return this;
    }

    /** SO_SNDBUF: the send buffer bound, bytes of unsent plus unacknowledged data. */
    public int sendBuffer() {
        return sendBuffer;
    }

    public TcpSocketOptions sendBuffer(int bytes) {
        if (bytes < 1024) {
            throw new IllegalArgumentException("send buffer " + bytes + " < 1024");
        }
        this.sendBuffer = bytes;
        return this;
    }

    /** Writability turns off above this many bytes in the send buffer; default: {@link #sendBuffer()}. */
    public int sendBufferHighWaterMark() {
        return sendBufferHighWaterMark < 0 ? sendBuffer : sendBufferHighWaterMark;
    }

    /** Writability turns on again below this; default: half the high water mark. */
    public int sendBufferLowWaterMark() {
        int high = sendBufferHighWaterMark();
        return sendBufferLowWaterMark < 0 ? high / 2 : Math.min(sendBufferLowWaterMark, high);
    }

    public TcpSocketOptions sendBufferWaterMarks(int low, int high) {
        if (low < 0 || high < low) {
            throw new IllegalArgumentException("water marks " + low + "/" + high);
        }
        this.sendBufferLowWaterMark = low;
        this.sendBufferHighWaterMark = high;
        return this;
    }

    /** TCP_NODELAY: disables Nagle's algorithm (RFC 1122 §4.2.3.4). */
    public boolean noDelay() {
        return noDelay;
    }

    public TcpSocketOptions noDelay(boolean on) {
        this.noDelay = on;
        return this;
    }

    /** SO_KEEPALIVE (RFC 1122 §4.2.3.6). */
    public boolean keepAlive() {
        return keepAlive;
    }

    public TcpSocketOptions keepAlive(boolean on) {
        this.keepAlive = on;
        return this;
    }

    /** TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT. */
    public TcpSocketOptions keepAlive(long idleNanos, long intervalNanos, int count) {
        if (idleNanos <= 0 || intervalNanos <= 0 || count < 1) {
            throw new IllegalArgumentException("keepalive " + idleNanos + "/" + intervalNanos + "/" + count);
        }
        this.keepAliveIdleNanos = idleNanos;
        this.keepAliveIntervalNanos = intervalNanos;
        this.keepAliveCount = count;
        return this;
    }

    public long keepAliveIdleNanos() {
        return keepAliveIdleNanos;
    }

    public long keepAliveIntervalNanos() {
        return keepAliveIntervalNanos;
    }

    public int keepAliveCount() {
        return keepAliveCount;
    }

    /** SO_LINGER in seconds, -1 off. 0 makes {@link TcpConnection#close()} an abort (RST). Other values are
     * kept for the host (which may wait that long for the send buffer to drain); the engine treats them as off. */
    public int lingerSeconds() {
        return lingerSeconds;
    }

    public TcpSocketOptions lingerSeconds(int seconds) {
        this.lingerSeconds = seconds;
        return this;
    }

    /** TCP_MAXSEG: clamp of the MSS we announce and use (0 = none; RFC 6691, RFC 879). */
    public int mssClamp() {
        return mssClamp;
    }

    public TcpSocketOptions mssClamp(int mss) {
        if (mss != 0 && (mss < 88 || mss > 65495)) {
            throw new IllegalArgumentException("mss clamp " + mss);
        }
        this.mssClamp = mss;
        return this;
    }

    public CongestionAlgorithm congestion() {
        return congestion;
    }

    public TcpSocketOptions congestion(CongestionAlgorithm algorithm) {
        this.congestion = java.util.Objects.requireNonNull(algorithm, "algorithm");
        return this;
    }

    /** RFC 7323 timestamps (and PAWS) offered/accepted. */
    public boolean timestamps() {
        return timestamps;
    }

    public TcpSocketOptions timestamps(boolean on) {
        this.timestamps = on;
        return this;
    }

    /** RFC 2018 SACK offered/accepted. */
    public boolean sack() {
        return sack;
    }

    public TcpSocketOptions sack(boolean on) {
        this.sack = on;
        return this;
    }

    /** RFC 7323 window scaling offered/accepted. */
    public boolean windowScaling() {
        return windowScaling;
    }

    public TcpSocketOptions windowScaling(boolean on) {
        this.windowScaling = on;
        return this;
    }

    /** RFC 3168 ECN offered/accepted. */
    public boolean ecn() {
        return ecn;
    }

    public TcpSocketOptions ecn(boolean on) {
        this.ecn = on;
        return this;
    }

    /** Whether delivered data counts as consumed at once (AUTO_READ hosts); else the host calls
     * {@link TcpConnection#consumed(int)}. Default off. */
    public boolean autoConsume() {
        return autoConsume;
    }

    public TcpSocketOptions autoConsume(boolean on) {
        this.autoConsume = on;
        return this;
    }

    /** SYN (and SYN-ACK) retransmissions before giving up. */
    public int synRetries() {
        return synRetries;
    }

    public TcpSocketOptions synRetries(int n) {
        if (n < 0 || n > 30) {
            throw new IllegalArgumentException("syn retries " + n);
        }
        this.synRetries = n;
        return this;
    }

    /** Data retransmissions (RTO expiries in a row) before the connection times out (RFC 1122 R2). */
    public int dataRetries() {
        return dataRetries;
    }

    public TcpSocketOptions dataRetries(int n) {
        if (n < 1 || n > 30) {
            throw new IllegalArgumentException("data retries " + n);
        }
        this.dataRetries = n;
        return this;
    }

    /** Quick-ack at connection start (ACK every segment for the first ones, as Linux) before delaying ACKs. */
    public boolean quickAck() {
        return quickAck;
    }

    public TcpSocketOptions quickAck(boolean on) {
        this.quickAck = on;
        return this;
    }
}

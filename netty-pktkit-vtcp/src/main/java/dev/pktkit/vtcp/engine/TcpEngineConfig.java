package dev.pktkit.vtcp.engine;

import java.security.SecureRandom;

/**
 * Engine-wide configuration and bounds. A mutable value copied by {@link TcpEngine}'s constructor.
 *
 * <table>
 *   <caption>Bounds and their defaults</caption>
 *   <tr><th>bound</th><th>default</th><th>when reached</th></tr>
 *   <tr><td>{@link #maxConnections()}</td><td>65 536</td><td>new SYNs and connects refused
 *       ({@link DropReason#CONNECTION_LIMIT}; connect throws)</td></tr>
 *   <tr><td>{@link #maxHalfOpen()}</td><td>4 096</td><td>SYN cookies (or drop)</td></tr>
 *   <tr><td>listener backlog ({@link TcpEngine#listen})</td><td>given per listener</td><td>SYN cookies (or
 *       drop)</td></tr>
 *   <tr><td>{@link #maxOutOfOrderBytes()}</td><td>4 MiB per connection (and never beyond the window)</td><td>
 *       segment dropped ({@link DropReason#OUT_OF_ORDER_FULL})</td></tr>
 *   <tr><td>send buffer</td><td>{@link TcpSocketOptions#sendBuffer()}</td><td>writability off</td></tr>
 *   <tr><td>{@link #deferredTimeoutNanos()}</td><td>60 s per deferred SYN</td><td>the entry expires
 *       ({@link TcpListener#onDeferredAborted})</td></tr>
 *   <tr><td>{@link #maxDeferredInputs()}</td><td>4 096</td><td>input arriving while the engine is busy is
 *       dropped ({@link DropReason#DEFERRED_INPUT_FULL})</td></tr>
 *   <tr><td>{@link #maxTimeWait()}</td><td>16 384</td><td>the oldest entry is recycled early
 *       ({@link DropReason#TIME_WAIT_TABLE_FULL})</td></tr>
 * </table>
 */
public final class TcpEngineConfig implements Cloneable {
    private int maxConnections = 65_536;
    private int maxHalfOpen = 4_096;
    private int maxOutOfOrderBytes = 4 * 1024 * 1024;
    private int maxTimeWait = 16_384;
    private long timeWaitNanos = 60_000_000_000L;
    private long deferredTimeoutNanos = 60_000_000_000L;
    private int maxDeferredInputs = 4_096;
    private SynCookieMode synCookies = SynCookieMode.ON_OVERFLOW;
    private boolean computeChecksums = true;
    private boolean copyPayload;
    private int headroom = 64;
    private int largeSegmentBytes;
    private int mtu = 1500;
    private long initialRtoNanos = 1_000_000_000L;
    private long minRtoNanos = 200_000_000L;
    private long maxRtoNanos = 60_000_000_000L;
    private long delayedAckNanos = 40_000_000L;
    private int challengeAckLimit = 1000;
    private byte[] secret;

    public TcpEngineConfig copy() {
        try {
            TcpEngineConfig c = (TcpEngineConfig) clone();
            c.secret = secret == null ? null : secret.clone();
            return c;
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }

    /** Connections in any state but LISTEN and TIME-WAIT, SYN-RECEIVED included. */
    public int maxConnections() {
        return maxConnections;
    }

    public TcpEngineConfig maxConnections(int n) {
        this.maxConnections = positive(n, "maxConnections");
        return this;
    }

    /** SYN-RECEIVED entries (incl. deferred ones) across all listeners. */
    public int maxHalfOpen() {
        return maxHalfOpen;
    }

    public TcpEngineConfig maxHalfOpen(int n) {
        this.maxHalfOpen = positive(n, "maxHalfOpen");
        return this;
    }

    /** Bytes of out-of-order data one connection may hold (RFC 9293 §3.10.7.4 allows keeping them). */
    public int maxOutOfOrderBytes() {
        return maxOutOfOrderBytes;
    }

    public TcpEngineConfig maxOutOfOrderBytes(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("maxOutOfOrderBytes " + n);
        }
        this.maxOutOfOrderBytes = n;
        return this;
    }

    /** TIME-WAIT entries kept (each is a small record; the connection object is released). */
    public int maxTimeWait() {
        return maxTimeWait;
    }

    public TcpEngineConfig maxTimeWait(int n) {
        this.maxTimeWait = positive(n, "maxTimeWait");
        return this;
    }

    /** How long TIME-WAIT lasts: 2×MSL (RFC 9293 §3.4.2); default 60 s as Linux. */
    public long timeWaitNanos() {
        return timeWaitNanos;
    }

    public TcpEngineConfig timeWaitNanos(long nanos) {
        this.timeWaitNanos = positive(nanos, "timeWaitNanos");
        return this;
    }

    /**
     * How long a deferred SYN ({@link SynVerdict#DEFER}) waits for {@link TcpConnection#acceptDeferred()} or
     * {@link TcpConnection#refuseDeferred} before the entry expires (silently, no SYN-ACK having been sent) and
     * {@link TcpListener#onDeferredAborted} is called; default 60 s (a Linux client retries its SYN for about
     * 127 s, so an accept within this time still completes the handshake).
     */
    public long deferredTimeoutNanos() {
        return deferredTimeoutNanos;
    }

    public TcpEngineConfig deferredTimeoutNanos(long nanos) {
        this.deferredTimeoutNanos = positive(nanos, "deferredTimeoutNanos");
        return this;
    }

    /**
     * Segments and ICMP errors that may wait while the engine is busy: a sink that delivers synchronously (two
     * hosts on one loop) hands answers back from inside {@link SegmentSink#send}; they are processed when the
     * engine's outermost call returns. Beyond this they are dropped ({@link DropReason#DEFERRED_INPUT_FULL}).
     */
    public int maxDeferredInputs() {
        return maxDeferredInputs;
    }

    public TcpEngineConfig maxDeferredInputs(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("maxDeferredInputs: " + n + " (expected: >= 1)");
        }
        this.maxDeferredInputs = n;
        return this;
    }

    public SynCookieMode synCookies() {
        return synCookies;
    }

    public TcpEngineConfig synCookies(SynCookieMode mode) {
        this.synCookies = java.util.Objects.requireNonNull(mode, "mode");
        return this;
    }

    /** Fill outbound checksums (default); off leaves them for offload ({@link SegmentSink}). */
    public boolean computeChecksums() {
        return computeChecksums;
    }

    public TcpEngineConfig computeChecksums(boolean on) {
        this.computeChecksums = on;
        return this;
    }

    /** Copy the payload into the header buffer so the sink always gets one buffer (default off). */
    public boolean copyPayload() {
        return copyPayload;
    }

    public TcpEngineConfig copyPayload(boolean on) {
        this.copyPayload = on;
        return this;
    }

    /**
     * {@link #largeSegmentBytes(int)} value that keeps segmentation offload off even on a device that takes large
     * segments (a {@code VirtualHost} on a channel marked {@code OffloadPacket.ACCEPTS} otherwise turns it on).
     */
    public static final int LARGE_SEGMENTS_OFF = -1;

    /**
     * Segmentation offload (TSO): when above 0, runs of full-sized new-data segments are handed to the sink as one
     * large segment of up to this many payload bytes, through {@link SegmentSink#sendLarge}, for the device to cut
     * into MSS-sized pieces (a TUN's virtio-net GSO, as Linux hands 64 KiB to a NIC). The segments stay separate in
     * the engine (scoreboard, SACK, retransmissions are per MSS), only their emission is batched; the large
     * segment's checksum field holds the pseudo-header sum (partial checksum, completed per piece by the device).
     * Default 0: off for the engine alone, and "automatic" for a {@code VirtualHost}, which turns it on (64 000
     * bytes) when its device channel is marked {@code OffloadPacket.ACCEPTS}. {@link #LARGE_SEGMENTS_OFF} (-1):
     * off, never turned on by a host. At most 65 000.
     */
    public int largeSegmentBytes() {
        return largeSegmentBytes;
    }

    /**
     * Sets the large-segment size: 1..65 000 bytes on, 0 off (a {@code VirtualHost} decides from its device), or
     * {@link #LARGE_SEGMENTS_OFF} (-1) for off even on a device that takes large segments.
     */
    public TcpEngineConfig largeSegmentBytes(int bytes) {
        if (bytes < LARGE_SEGMENTS_OFF || bytes > 65_000) {
            throw new IllegalArgumentException("largeSegmentBytes " + bytes + " (-1..65000)");
        }
        this.largeSegmentBytes = bytes;
        return this;
    }

    /** Bytes reserved before the TCP header in every header buffer for the host's IP and link headers. */
    public int headroom() {
        return headroom;
    }

    public TcpEngineConfig headroom(int bytes) {
        if (bytes < 0 || bytes > 256) {
            throw new IllegalArgumentException("headroom " + bytes);
        }
        this.headroom = bytes;
        return this;
    }

    /** The IP MTU of the host's interface: our MSS is MTU − 40 (IPv4) or − 60 (IPv6) (RFC 6691, RFC 879). */
    public int mtu() {
        return mtu;
    }

    public TcpEngineConfig mtu(int bytes) {
        if (bytes < 576 || bytes > 65_535) {
            throw new IllegalArgumentException("mtu " + bytes);
        }
        this.mtu = bytes;
        return this;
    }

    /** RFC 6298 §2.1 initial RTO (1 s). */
    public long initialRtoNanos() {
        return initialRtoNanos;
    }

    /** RFC 6298 §2.4 says 1 s minimum; default 200 ms as Linux, documented as a deviation. */
    public long minRtoNanos() {
        return minRtoNanos;
    }

    /** RFC 6298 §2.5 maximum (at least 60 s). */
    public long maxRtoNanos() {
        return maxRtoNanos;
    }

    public TcpEngineConfig rto(long initialNanos, long minNanos, long maxNanos) {
        if (minNanos <= 0 || initialNanos < minNanos || maxNanos < initialNanos) {
            throw new IllegalArgumentException("rto " + initialNanos + "/" + minNanos + "/" + maxNanos);
        }
        this.initialRtoNanos = initialNanos;
        this.minRtoNanos = minNanos;
        this.maxRtoNanos = maxNanos;
        return this;
    }

    /** RFC 1122 §4.2.3.2 delayed-ACK timeout (must be under 500 ms); default 40 ms. */
    public long delayedAckNanos() {
        return delayedAckNanos;
    }

    public TcpEngineConfig delayedAckNanos(long nanos) {
        if (nanos <= 0 || nanos >= 500_000_000L) {
            throw new IllegalArgumentException("delayed ACK " + nanos);
        }
        this.delayedAckNanos = nanos;
        return this;
    }

    /** RFC 5961 §7: challenge ACKs per second, engine-wide. */
    public int challengeAckLimit() {
        return challengeAckLimit;
    }

    public TcpEngineConfig challengeAckLimit(int perSecond) {
        this.challengeAckLimit = positive(perSecond, "challengeAckLimit");
        return this;
    }

    /** The secret keying ISNs (RFC 6528), timestamp offsets and SYN cookies; random by default. */
    public byte[] secret() {
        if (secret == null) {
            secret = new byte[32];
            new SecureRandom().nextBytes(secret);
        }
        return secret.clone();
    }

    public TcpEngineConfig secret(byte[] key) {
        if (key.length < 16) {
            throw new IllegalArgumentException("secret shorter than 16 bytes");
        }
        this.secret = key.clone();
        return this;
    }

    private static int positive(int n, String what) {
        if (n <= 0) {
            throw new IllegalArgumentException(what + " " + n);
        }
        return n;
    }

    private static long positive(long n, String what) {
        if (n <= 0) {
            throw new IllegalArgumentException(what + " " + n);
        }
        return n;
    }
}

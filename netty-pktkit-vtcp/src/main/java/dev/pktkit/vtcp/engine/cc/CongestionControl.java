package dev.pktkit.vtcp.engine.cc;

/**
 * A congestion controller: owns {@code cwnd} and {@code ssthresh} in bytes. Called on the connection's thread.
 */
public interface CongestionControl {
    /** The congestion window, bytes. */
    int cwnd();

    /** The slow-start threshold, bytes ({@link Integer#MAX_VALUE} until the first congestion event). */
    int ssthresh();

    /** The sender MSS changed (PMTU, RFC 1191); the window is kept in bytes. */
    void mss(int mss);

    /**
     * New data was cumulatively acknowledged outside loss recovery.
     *
     * @param acked    bytes newly acknowledged
     * @param inFlight bytes in flight before this ACK (RFC 5681 §3.1 / RFC 7661: the window only grows while it
     *                 is used — {@code cwnd} grows only when {@code inFlight} was close to it)
     * @param srttNanos the smoothed RTT, or 0 if unknown
     */
    void onAck(int acked, int inFlight, long nowNanos, long srttNanos);

    /**
     * A congestion event (loss detected by fast retransmit/SACK/RACK, or an ECN-Echo): the window shrinks once
     * per event (RFC 5681 §3.2 step 2, RFC 9438 §4.6, RFC 3168 §6.1.2).
     */
    void onCongestion(int inFlight, long nowNanos);

    /** The retransmission timer expired (RFC 5681 §3.1 eq. 4: ssthresh, then cwnd = 1 MSS). */
    void onRetransmissionTimeout(int inFlight, long nowNanos);

    /** Loss recovery finished: the window is set to ssthresh (RFC 6582 §3.2 step 6 "deflate"). */
    void onRecoveryEnd(long nowNanos);

    /** Creates a controller. */
    static CongestionControl create(String name, int mss, int initialWindow) {
        return switch (name) {
            case "newreno" -> new NewReno(mss, initialWindow);
            case "cubic" -> new Cubic(mss, initialWindow);
            default -> throw new IllegalArgumentException("congestion control " + name);
        };
    }

    /** RFC 6928 initial window: min(10 × MSS, max(2 × MSS, 14600)). */
    static int initialWindow(int mss) {
        return Math.min(10 * mss, Math.max(2 * mss, 14600));
    }
}

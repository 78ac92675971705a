package dev.pktkit.vtcp.engine.cc;

/**
 * RFC 5681 slow start and congestion avoidance, with the window reduction of RFC 5681 §3.2 / RFC 6582 §3.2.
 * Slow start grows {@code cwnd} by the bytes acknowledged, at most one MSS per ACK (RFC 5681 §3.1, eq. 2; RFC
 * 3465 L=1). Congestion avoidance grows it by one MSS per window of acknowledged bytes (RFC 5681 eq. 3, the byte
 * counting variant). A congestion event sets {@code ssthresh = max(FlightSize / 2, 2 × MSS)} (eq. 4); the
 * connection's recovery logic (RFC 6675 pipe, or RFC 6582 partial ACKs) then sends within {@code cwnd =
 * ssthresh}.
 */
public final class NewReno implements CongestionControl {
    private int mss;
    private int cwnd;
    private int ssthresh = Integer.MAX_VALUE;
    private int bytesAcked;

    public NewReno(int mss, int initialWindow) {
        this.mss = mss;
        this.cwnd = initialWindow;
    }

    @Override
    public int cwnd() {
        return cwnd;
    }

    @Override
    public int ssthresh() {
        return ssthresh;
    }

    @Override
    public void mss(int mss) {
        this.mss = mss;
    }

    @Override
    public void onAck(int acked, int inFlight, long nowNanos, long srttNanos) {
        if (inFlight + 3 * mss < cwnd) {
            return; // application-limited: RFC 7661 §4.1, do not grow an unused window
        }
        if (cwnd < ssthresh) {
            cwnd = sat(cwnd + Math.min(acked, mss));
        } else {
            bytesAcked += acked;
            if (bytesAcked >= cwnd) {
                bytesAcked -= cwnd;
                cwnd = sat(cwnd + mss);
            }
        }
    }

    @Override
    public void onCongestion(int inFlight, long nowNanos) {
        ssthresh = Math.max(inFlight / 2, 2 * mss);
        cwnd = ssthresh;
        bytesAcked = 0;
    }

    @Override
    public void onRetransmissionTimeout(int inFlight, long nowNanos) {
        ssthresh = Math.max(inFlight / 2, 2 * mss);
        cwnd = mss;
        bytesAcked = 0;
    }

    @Override
    public void onRecoveryEnd(long nowNanos) {
        cwnd = Math.max(ssthresh, 2 * mss);
    }

    static int sat(long v) {
        return (int) Math.min(v, 1 << 30);
    }
}

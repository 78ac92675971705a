package dev.pktkit.vtcp.engine.cc;

/**
 * RFC 9438 CUBIC. Windows are kept in bytes; the cubic function works in segments as the RFC writes it.
 * <ul>
 *   <li>§4.2: {@code W_cubic(t) = C × (t − K)^3 + W_max} with {@code C = 0.4}, {@code K = cbrt(W_max × (1 − β) /
 *       C)} (eq. 2, with {@code cwnd_epoch = β × W_max}), {@code t} the time since the congestion event; the
 *       target is {@code W_cubic(t + RTT)} clamped to {@code [cwnd, 1.5 × cwnd]}, and {@code cwnd} grows by
 *       {@code (target − cwnd) / cwnd} segments per acknowledged segment.</li>
 *   <li>§4.3: the Reno-friendly region: {@code W_est} grows by {@code α_cubic = 3(1 − β)/(1 + β)} segments per
 *       window (1 once {@code W_est ≥ W_max}); when {@code W_cubic < W_est}, {@code cwnd = W_est}.</li>
 *   <li>§4.6: on congestion {@code ssthresh = cwnd × β} with {@code β = 0.7} (at least 2 MSS), {@code cwnd =
 *       ssthresh}; §4.7 fast convergence lowers {@code W_max} to {@code cwnd × (1 + β) / 2} when the window did
 *       not reach the previous {@code W_max}.</li>
 *   <li>§4.8: on RTO, {@code cwnd = 1 MSS} and the epoch restarts when congestion avoidance resumes.</li>
 *   <li>§4.10: slow start as RFC 5681 below {@code ssthresh} (HyStart++ is not implemented).</li>
 * </ul>
 * Application-limited periods do not grow the window (RFC 7661 §4.1, as RFC 9438 §5.8 recommends).
 */
public final class Cubic implements CongestionControl {
    /** RFC 9438 §5: C = 0.4 segments/s^3. */
    public static final double C = 0.4;
    /** RFC 9438 §4.6: β_cubic = 0.7. */
    public static final double BETA = 0.7;
    static final double ALPHA = 3 * (1 - BETA) / (1 + BETA);

    private int mss;
    private int cwnd;
    private int ssthresh = Integer.MAX_VALUE;
    /** W_max in segments; 0 before the first congestion event. */
    private double wMax;
    private double wLastMax;
    private double k;
    /** Epoch start, ns; {@link Long#MIN_VALUE} while no epoch runs. */
    private long epochStart = Long.MIN_VALUE;
    /** W_est in segments. */
    private double wEst;
    /** Fractional cwnd growth in segments, carried between ACKs. */
    private double pending;

    public Cubic(int mss, int initialWindow) {
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

    /** W_max of the current epoch, in segments (for tests). */
    public double wMax() {
        return wMax;
    }

    /** K of the current epoch, seconds (for tests). */
    public double k() {
        return k;
    }

    /** RFC 9438 eq. 1: W_cubic(t) in segments, t in seconds since the epoch started. */
    public double wCubic(double t) {
        double d = t - k;
        return C * d * d * d + wMax;
    }

    @Override
    public void onAck(int acked, int inFlight, long nowNanos, long srttNanos) {
        if (inFlight + 3 * mss < cwnd) {
            return;
        }
        if (cwnd < ssthresh) {
            cwnd = NewReno.sat(cwnd + Math.min(acked, mss));
            return;
        }
        double segs = cwnd / (double) mss;
        if (epochStart == Long.MIN_VALUE) {
            // RFC 9438 §4.2: a new epoch (after RTO or when CA starts without a prior congestion event)
            epochStart = nowNanos;
            if (wMax <= segs) {
                k = 0;
                wMax = segs;
            } else {
                k = Math.cbrt((wMax - segs) / C);
            }
            wEst = segs;
        }
        double ackedSegs = acked / (double) mss;
        // §4.3 Reno-friendly estimate
        double alpha = wEst >= wMax ? 1.0 : ALPHA;
        wEst += alpha * ackedSegs / segs;
        double t = (nowNanos - epochStart) / 1e9;
        double rtt = srttNanos / 1e9;
        double cubic = wCubic(t);
        double growth;
        if (cubic < wEst) {
            growth = wEst - segs; // Reno-friendly region: cwnd = W_est
        } else {
            double target = wCubic(t + rtt);
            target = Math.max(segs, Math.min(target, 1.5 * segs));
            growth = (target - segs) / segs * ackedSegs;
        }
        if (growth > 0) {
            pending += growth;
            int add = (int) (pending * mss);
            if (add > 0) {
                cwnd = NewReno.sat((long) cwnd + add);
                pending -= add / (double) mss;
            }
        }
    }

    @Override
    public void onCongestion(int inFlight, long nowNanos) {
        double segs = cwnd / (double) mss;
        // §4.7 fast convergence
        if (segs < wLastMax) {
            wLastMax = segs;
            wMax = segs * (1 + BETA) / 2;
        } else {
            wLastMax = segs;
            wMax = segs;
        }
        ssthresh = Math.max((int) (cwnd * BETA), 2 * mss);
        cwnd = ssthresh;
        epochStart = nowNanos;
        double epochWindow = cwnd / (double) mss;
        k = wMax > epochWindow ? Math.cbrt((wMax - epochWindow) / C) : 0;
        wEst = epochWindow;
        pending = 0;
    }

    @Override
    public void onRetransmissionTimeout(int inFlight, long nowNanos) {
        double segs = cwnd / (double) mss;
        wLastMax = segs;
        wMax = segs;
        ssthresh = Math.max((int) (cwnd * BETA), 2 * mss);
        cwnd = mss;
        epochStart = Long.MIN_VALUE;
        pending = 0;
    }

    @Override
    public void onRecoveryEnd(long nowNanos) {
        cwnd = Math.max(ssthresh, 2 * mss);
    }
}

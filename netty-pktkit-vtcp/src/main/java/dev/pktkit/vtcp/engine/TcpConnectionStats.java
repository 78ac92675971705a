package dev.pktkit.vtcp.engine;

/**
 * A snapshot of one connection's counters and control variables ({@link TcpConnection#stats()}). Times are in
 * nanoseconds; windows and buffers in bytes. {@code rescueRetransmits}: RFC 6675 NextSeg rule 4; {@code dsacksSent} /
 * {@code dsacksReceived}: RFC 2883 D-SACK blocks; {@code tailLossRepairs}: losses that a tail-loss probe repaired
 * (RFC 8985 §7.4, each with a congestion response); {@code reorderingWindowMultiplier}: RACK's reo_wnd_mult (RFC 8985
 * §6.2 step 4, grown by D-SACKs).
 */
public record TcpConnectionStats(
        TcpState state,
        int mss,
        int cwnd,
        int ssthresh,
        long srttNanos,
        long rttvarNanos,
        long rtoNanos,
        long retransmits,
        long rtoExpiries,
        long fastRetransmits,
        long tailLossProbes,
        long segmentsSent,
        long segmentsReceived,
        long bytesAcked,
        long bytesReceived,
        int sendWindow,
        int receiveWindow,
        int receiveBuffer,
        int bytesInFlight,
        int sendBufferBytes,
        int outOfOrderBytes,
        boolean timestamps,
        boolean sack,
        boolean ecn,
        int sendWindowScale,
        int receiveWindowScale,
        CongestionAlgorithm congestion,
        long ecnCongestionEvents,
        long rescueRetransmits,
        long dsacksSent,
        long dsacksReceived,
        long tailLossRepairs,
        int reorderingWindowMultiplier) {
}

package dev.pktkit.vtcp.engine;

/**
 * A snapshot of one connection's counters and control variables ({@link TcpConnection#stats()}). Times are in
 * nanoseconds; windows and buffers in bytes.
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
        long ecnCongestionEvents) {
}

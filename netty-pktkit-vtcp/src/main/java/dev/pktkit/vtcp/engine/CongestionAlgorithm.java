package dev.pktkit.vtcp.engine;

/** The congestion control of a connection ({@link TcpSocketOptions#congestion}). */
public enum CongestionAlgorithm {
    /** RFC 5681 slow start and congestion avoidance with RFC 6582 NewReno fast recovery (RFC 6675 with SACK). */
    NEW_RENO,
    /** RFC 9438 CUBIC (the default, as on Linux). */
    CUBIC
}

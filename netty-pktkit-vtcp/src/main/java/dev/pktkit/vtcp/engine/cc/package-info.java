/**
 * Congestion control: RFC 5681 slow start and congestion avoidance with RFC 6582 NewReno, and RFC 9438 CUBIC.
 * Each algorithm is a small state object behind {@link dev.pktkit.vtcp.engine.cc.CongestionControl}, driven by
 * the connection with ACK, loss and ECN events and the engine's clock. Loss detection and recovery (RFC 6675,
 * RFC 8985, RFC 6582's partial ACKs) live in the connection; these classes only decide the window.
 */
package dev.pktkit.vtcp.engine.cc;

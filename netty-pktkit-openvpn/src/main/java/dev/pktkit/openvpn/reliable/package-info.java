/**
 * The control channel's reliability layer (OpenVPN 2.6 {@code reliable.c} semantics): message IDs, non-cumulative
 * acks, send window, receive slots, retransmission with exponential backoff, hand-window. Driven by a caller-given
 * clock so it is tested under a virtual one.
 */
package dev.pktkit.openvpn.reliable;

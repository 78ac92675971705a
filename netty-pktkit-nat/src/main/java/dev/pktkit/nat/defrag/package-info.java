/**
 * IP defragmentation in front of the NAT ({@link dev.pktkit.nat.defrag.Defragmenter}, IPv4 and IPv6, bounded,
 * overlap- and tiny-fragment-safe) and re-fragmentation on egress ({@link dev.pktkit.nat.defrag.Fragmenter}).
 */
package dev.pktkit.nat.defrag;

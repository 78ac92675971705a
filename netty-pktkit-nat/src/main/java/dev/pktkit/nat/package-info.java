/**
 * Packet NAT (conntrack, NAPT, ALGs, NAT64, defragmentation) and slirp, a userspace NAT to real sockets.
 *
 * <p>This module is being built; its README says what works.
 */
package dev.pktkit.nat;

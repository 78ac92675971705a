/**
 * slirp: a userspace NAT from a virtual network to the host's own sockets, as libslirp, passt/pasta and
 * gvisor-tap-vsock are for QEMU and containers. {@link dev.pktkit.slirp.Slirp} attaches to an L3 port (a
 * {@code PacketPipe} end behind an {@code L2Adapter}, an {@code L3Hub} port, a {@code TunChannel}); guests' TCP
 * connections end in the vtcp virtual host and continue as real Netty connections from the host, UDP flows as
 * per-flow host datagram channels.
 *
 * <p>This package needs {@code netty-pktkit-vtcp} at run time; the packet NAT ({@code dev.pktkit.nat}) in the same
 * module does not, and a user of only the packet NAT never loads a TCP engine.
 */
package dev.pktkit.slirp;

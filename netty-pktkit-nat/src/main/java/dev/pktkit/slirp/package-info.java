/**
 * slirp: a userspace NAT from a virtual network to the host's own sockets, as libslirp, passt/pasta and
 * gvisor-tap-vsock are for QEMU and containers. {@link dev.pktkit.slirp.Slirp} attaches to an L3 port (a
 * {@code PacketPipe} end behind an {@code L2Adapter}, an {@code L3Hub} port, a {@code TunChannel}); guests' TCP
 * connections end in the vtcp virtual host and continue as real Netty connections from the host, UDP flows as
 * per-flow host datagram channels, ICMP echo through host ICMP sockets ({@link dev.pktkit.slirp.IcmpEchoSockets}),
 * DNS through a forwarder; {@link dev.pktkit.slirp.PortForward}s go the other way. {@link
 * dev.pktkit.slirp.SlirpGateway} gives L2 ports (QEMU guests, TAP devices) a tenant each — segment, DHCP, router
 * advertisements, slirp namespace — chosen per port or by key; {@link dev.pktkit.slirp.EgressPolicy} limits
 * where guests may go.
 *
 * <p>This package needs {@code netty-pktkit-vtcp} at run time; the packet NAT ({@code dev.pktkit.nat}) in the same
 * module does not, and a user of only the packet NAT never loads a TCP engine.
 */
package dev.pktkit.slirp;

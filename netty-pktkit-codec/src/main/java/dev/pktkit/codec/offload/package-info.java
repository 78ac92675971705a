/**
 * Offload state that travels with a packet: {@link dev.pktkit.codec.offload.OffloadPacket}, a packet (or frame)
 * whose transport checksum may still be partial and which may be a large segment to be cut, as a NIC with checksum
 * offload and TSO would get it, and {@link dev.pktkit.codec.offload.Offloads}, which completes that state in Java
 * for a receiver that wants plain, valid packets.
 *
 * <p>Transports that produce such packets (TUN/TAP with virtio-net headers) and devices that forward them (the
 * hubs, later NAT) share this one type, so a router can pass a partial checksum on as partial when it does not
 * change the bytes the checksum covers, as Linux forwards {@code CHECKSUM_PARTIAL} packets.
 */
package dev.pktkit.codec.offload;

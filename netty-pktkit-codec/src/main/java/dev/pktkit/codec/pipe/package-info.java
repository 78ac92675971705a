/**
 * The device model: {@link dev.pktkit.codec.pipe.PacketPipe} (an in-VM pair of channels, the virtual cable),
 * and the connector contract ({@link dev.pktkit.codec.pipe.PortConnector}, {@link dev.pktkit.codec.pipe.Attachment})
 * by which hubs and other devices accept ports; {@link dev.pktkit.codec.pipe.TunnelPeerChannel}, the base of the
 * child channels by which tunnels (WireGuard, OpenVPN) offer each peer as a port.
 */
package dev.pktkit.codec.pipe;

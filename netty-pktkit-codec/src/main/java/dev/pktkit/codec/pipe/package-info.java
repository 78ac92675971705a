/**
 * The device model: {@link dev.pktkit.codec.pipe.PacketPipe} (an in-VM pair of channels, the virtual cable),
 * and the connector contract ({@link dev.pktkit.codec.pipe.PortConnector}, {@link dev.pktkit.codec.pipe.Attachment})
 * by which hubs and other devices accept ports.
 */
package dev.pktkit.codec.pipe;

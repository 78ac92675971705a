/**
 * QEMU's userspace network socket protocols as Netty pipelines whose messages are Ethernet frames
 * ({@code ByteBuf}s holding one frame from {@code readerIndex()}, no prefix, no FCS).
 *
 * <h2>Framing</h2>
 * <ul>
 *   <li>Stream ({@code -netdev stream}, legacy {@code -netdev socket,listen=/connect=}; TCP or Unix):
 *       {@link dev.pktkit.qemu.QemuStreamFrameDecoder} and {@link dev.pktkit.qemu.QemuStreamFrameEncoder}, a
 *       4-byte big-endian length before each frame.</li>
 *   <li>Datagram ({@code -netdev dgram}, legacy {@code -netdev socket,udp=}; UDP or Unix):
 *       {@link dev.pktkit.qemu.QemuDatagramCodec}, one frame per datagram, to and from one locked peer: the
 *       configured remote, or the first sender.</li>
 * </ul>
 * Limits and constants are in {@link dev.pktkit.qemu.QemuFraming}: frames of 14 bytes (an Ethernet header) up to
 * QEMU's own 69,632 by default, either way. Bad input is dropped, released and counted
 * ({@link dev.pktkit.qemu.QemuFrameCounters}, {@link dev.pktkit.qemu.QemuDropReason}); a stream peer that
 * announces a bad length is cut off.
 *
 * <h2>Channels</h2>
 * {@link dev.pktkit.qemu.QemuNetdev} gives bootstraps with the right channel class for the event-loop group
 * (NIO, epoll, io_uring, kqueue) and formats QEMU's {@code -netdev} arguments;
 * {@link dev.pktkit.qemu.QemuAddress} names Unix and inet sockets independently of the transport.
 * {@link dev.pktkit.qemu.QemuListener} attaches every guest to a {@link dev.pktkit.codec.pipe.PortConnector}
 * (an {@code L2Hub}, or one connector per guest) and detaches it when it disconnects.
 *
 * <h2>Ownership and threads</h2>
 * Whoever receives a frame owns it; a write hands it to the channel. Every handler here runs on its channel's
 * event loop and is not sharable.
 */
package dev.pktkit.qemu;

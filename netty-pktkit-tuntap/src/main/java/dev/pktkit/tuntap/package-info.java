/**
 * Linux TUN and TAP devices as Netty channels on the epoll and io_uring event loops.
 *
 * <ul>
 *   <li>{@link dev.pktkit.tuntap.TunChannel}: messages are IP packets; {@link dev.pktkit.tuntap.TapChannel}:
 *       messages are Ethernet frames. Both register with a {@code MultiThreadIoEventLoopGroup} of epoll or
 *       io_uring loops through Netty's public {@code IoHandle} API, next to the application's sockets, and bind
 *       to a {@link dev.pktkit.tuntap.TunTapAddress} (create, attach, or either).</li>
 *   <li>{@link dev.pktkit.tuntap.TunTapChannelOption}: offloads ({@link dev.pktkit.tuntap.OffloadMode}),
 *       multi-queue ({@link dev.pktkit.tuntap.MultiQueue}), persistence, owner and group.</li>
 *   <li>{@link dev.pktkit.tuntap.TunTapLink}: MTU, up/down, addresses, routes, MAC address and namespace of the
 *       device, through rtnetlink ({@link dev.pktkit.linux.netlink}).</li>
 *   <li>{@link dev.pktkit.tuntap.VirtioNetCodec}: large segments as plain oversized packets for handlers that
 *       read only {@code ByteBuf}s.</li>
 *   <li>{@link dev.pktkit.tuntap.TunTapException}: why a device could not be opened, as a
 *       {@link dev.pktkit.tuntap.TunTapException.Reason}; {@link dev.pktkit.tuntap.TunTapCounters}: traffic
 *       and drops per channel.</li>
 * </ul>
 *
 * <h2>Ownership and threads</h2>
 * Whoever receives a packet owns it; a write hands it to the channel. Everything on the data path runs on the
 * channel's event loop without locks. Device setup (binding, re-reading the MTU) runs on a small setup executor,
 * never on the loop; device configuration ({@code link()}) runs on the calling thread and waits for the kernel's
 * answer, so call it from a thread that may block, not from an event loop.
 */
package dev.pktkit.tuntap;

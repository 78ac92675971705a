package dev.pktkit.tuntap;

import dev.pktkit.linux.NetNamespace;

/**
 * A Linux TUN device as a Netty channel: every message is one IP packet (IPv4 or IPv6) in a {@code ByteBuf}, from
 * {@code readerIndex()}, no packet-information prefix ({@code IFF_NO_PI}). Registers with epoll and io_uring
 * event loops; see {@link AbstractTunTapChannel} for the life cycle, reading and writing, and
 * {@link OffloadMode} for large segments.
 *
 * <pre>{@code
 * MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
 * TunChannel tun = (TunChannel) new Bootstrap().group(group)
 *         .channelFactory(TunChannel::new)
 *         .handler(new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.9.0.2"))))
 *         .bind(TunTapAddress.of("pk0")).sync().channel();
 * tun.link().addAddress("10.9.0.1/24").up();   // now `ping 10.9.0.2` is answered by the handler
 * }</pre>
 */
public final class TunChannel extends AbstractTunTapChannel {
    /** Opens {@code /dev/net/tun} in the caller's network namespace. */
    public TunChannel() {
        this(null);
    }

    /**
     * Opens {@code /dev/net/tun} in {@code namespace} (the caller's if null): the device that {@code bind}
     * creates lives there, and {@link #link()} configures it there.
     */
    public TunChannel(NetNamespace namespace) {
        this(namespace, TunDevice.DEFAULT_PATH);
    }

    /** With another device node than {@code /dev/net/tun} (tests). */
    TunChannel(NetNamespace namespace, String devicePath) {
        super(false, namespace, devicePath);
    }
}

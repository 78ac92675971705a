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

    /**
     * Opens the TUN device {@code name} (created if it does not exist) in the caller's namespace and binds a channel
     * to it on a loop of {@code group}, with {@code handlers} on its pipeline; no cast, no placeholder handler:
     * {@code hub.add(TunChannel.open(group, "tun0").sync().getNow())}. For channel options (offloads, queues, ...)
     * use a {@code Bootstrap} as in the class example. The future fails with the bind's {@link TunTapException}.
     */
    public static io.netty.util.concurrent.Future<TunChannel> open(io.netty.channel.EventLoopGroup group, String name,
                                                                 io.netty.channel.ChannelHandler... handlers) {
        return open(group, null, name, handlers);
    }

    /** The same as {@code open(group, name, handlers)}, in {@code namespace} (the caller's if null). */
    public static io.netty.util.concurrent.Future<TunChannel> open(io.netty.channel.EventLoopGroup group,
                                                                 NetNamespace namespace, String name,
                                                                 io.netty.channel.ChannelHandler... handlers) {
        return AbstractTunTapChannel.openWith(group, () -> new TunChannel(namespace), name, handlers);
    }

    /** With another device node than {@code /dev/net/tun} (tests). */
    TunChannel(NetNamespace namespace, String devicePath) {
        super(false, namespace, devicePath);
    }
}

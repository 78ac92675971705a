package dev.pktkit.tuntap;

import dev.pktkit.linux.NetNamespace;

/**
 * A Linux TAP device as a Netty channel: every message is one Ethernet frame in a {@code ByteBuf}, from
 * {@code readerIndex()} (destination MAC first, no preamble, no FCS), so the channel can be a port of an
 * {@code L2Hub} or carry an {@code L2Adapter}. Registers with epoll and io_uring event loops; see
 * {@link AbstractTunTapChannel}.
 *
 * <pre>{@code
 * TapChannel tap = (TapChannel) new Bootstrap().group(group)
 *         .channelFactory(TapChannel::new)
 *         .handler(new ChannelInitializer<>() { ... })
 *         .bind(TunTapAddress.of("pktap0")).sync().channel();
 * lan.add(tap);                       // the host's kernel is now a port of the hub
 * tap.link().up();
 * }</pre>
 */
public final class TapChannel extends AbstractTunTapChannel {
    /** Opens {@code /dev/net/tun} in the caller's network namespace. */
    public TapChannel() {
        this(null);
    }

    /** Opens {@code /dev/net/tun} in {@code namespace} (the caller's if null). */
    public TapChannel(NetNamespace namespace) {
        this(namespace, TunDevice.DEFAULT_PATH);
    }

    /**
     * Opens the TAP device {@code name} (created if it does not exist) in the caller's namespace and binds a channel
     * to it on a loop of {@code group}, with {@code handlers} on its pipeline; no cast, no placeholder handler:
     * {@code hub.add(TapChannel.open(group, "lan0").sync().getNow())}. For channel options (offloads, queues, ...)
     * use a {@code Bootstrap} as in the class example. The future fails with the bind's {@link TunTapException}.
     */
    public static io.netty.util.concurrent.Future<TapChannel> open(io.netty.channel.EventLoopGroup group, String name,
                                                                 io.netty.channel.ChannelHandler... handlers) {
        return open(group, null, name, handlers);
    }

    /** The same as {@code open(group, name, handlers)}, in {@code namespace} (the caller's if null). */
    public static io.netty.util.concurrent.Future<TapChannel> open(io.netty.channel.EventLoopGroup group,
                                                                 NetNamespace namespace, String name,
                                                                 io.netty.channel.ChannelHandler... handlers) {
        return AbstractTunTapChannel.openWith(group, () -> new TapChannel(namespace), name, handlers);
    }

    /** With another device node than {@code /dev/net/tun} (tests). */
    TapChannel(NetNamespace namespace, String devicePath) {
        super(true, namespace, devicePath);
    }
}

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

    /** With another device node than {@code /dev/net/tun} (tests). */
    TapChannel(NetNamespace namespace, String devicePath) {
        super(true, namespace, devicePath);
    }
}

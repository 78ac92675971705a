package dev.pktkit.openvpn;

import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.L2PortOptions;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;

import java.util.Objects;

/**
 * A client initializer for a TAP-mode server ({@link OpenVpnServer.Builder#tap}): every connected client becomes
 * a port of an {@link L2Hub} (its Ethernet frames switched by MAC, ARP and broadcasts flooded). Closing the
 * client detaches it.
 */
@ChannelHandler.Sharable
public final class L2HubClientAttacher extends ChannelInitializer<OpenVpnClientChannel> {
    private final L2Hub hub;
    private final L2PortOptions options;

    public L2HubClientAttacher(L2Hub hub) {
        this(hub, L2PortOptions.defaults());
    }

    public L2HubClientAttacher(L2Hub hub, L2PortOptions options) {
        this.hub = Objects.requireNonNull(hub, "hub");
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    protected void initChannel(OpenVpnClientChannel ch) {
        hub.attach(ch, options);
    }
}

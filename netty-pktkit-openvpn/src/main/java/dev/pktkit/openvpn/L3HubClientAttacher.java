package dev.pktkit.openvpn;

import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;

import java.util.Objects;

/**
 * A client initializer ({@link OpenVpnServer.Builder#clientInitializer}) that makes every connected client a
 * port of an {@link L3Hub} with its pushed addresses ({@code /32}, and {@code /128} with {@code server-ipv6})
 * routed to it. Closing the client detaches it.
 */
@ChannelHandler.Sharable
public final class L3HubClientAttacher extends ChannelInitializer<OpenVpnClientChannel> {
    private final L3Hub hub;

    public L3HubClientAttacher(L3Hub hub) {
        this.hub = Objects.requireNonNull(hub, "hub");
    }

    @Override
    protected void initChannel(OpenVpnClientChannel ch) {
        if (ch.tunnelAddress6() != null) {
            hub.attach(ch, L3PortOptions.prefixes(ch.tunnelAddress().getHostAddress() + "/32",
                    ch.tunnelAddress6().getHostAddress() + "/128"));
        } else {
            hub.attach(ch, L3PortOptions.prefixes(ch.tunnelAddress().getHostAddress() + "/32"));
        }
    }
}

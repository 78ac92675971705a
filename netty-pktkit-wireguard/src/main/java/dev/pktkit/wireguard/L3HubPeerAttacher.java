package dev.pktkit.wireguard;

import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.switching.lpm.Prefix;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;

/**
 * A peer initializer ({@link WireGuardEndpoint.Builder#peerInitializer}) that makes every peer a port of an
 * {@link L3Hub} routing the peer's allowed IPs to it: the hub's longest-prefix table then does outbound
 * cryptokey routing, the endpoint's own tables check inbound sources. Closing a peer detaches it.
 */
@ChannelHandler.Sharable
public final class L3HubPeerAttacher extends ChannelInitializer<WireGuardPeerChannel> {
    private final L3Hub hub;

    public L3HubPeerAttacher(L3Hub hub) {
        this.hub = java.util.Objects.requireNonNull(hub, "hub");
    }

    @Override
    protected void initChannel(WireGuardPeerChannel ch) {
        hub.attach(ch, L3PortOptions.prefixes(ch.peer.config.allowedIps().toArray(new Prefix[0])));
    }
}

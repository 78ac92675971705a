package dev.pktkit.wireguard;

import java.net.InetSocketAddress;

/**
 * Decides about initiations from keys that are not peers (server role). Called on the endpoint's loop after the
 * initiation decrypted (so the key is proven, the timestamp not yet checked); must not block.
 */
@FunctionalInterface
public interface WireGuardUnknownPeerHandler {
    /**
     * @return the configuration to admit {@code publicKey} with (its key must be {@code publicKey}), or null to
     *         ignore the initiation
     */
    WireGuardPeerConfig admit(WireGuardKey publicKey, InetSocketAddress source);
}

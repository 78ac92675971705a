package dev.pktkit.wireguard;

import dev.pktkit.switching.lpm.Prefix;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * One {@code [Peer]} of a wg(8) configuration.
 *
 * @param publicKey           the peer's public key
 * @param presharedKey        the preshared key, or null
 * @param allowedIps          the prefixes the peer may send from, and that route to it
 * @param endpoint            where to send until the peer is heard from (may be unresolved: it is resolved, off the
 *                            event loop, when a handshake is due), or null for a peer that must reach us first
 * @param persistentKeepalive seconds between keepalives when idle, or 0 for off
 */
public record WireGuardPeerConfig(WireGuardKey publicKey, WireGuardKey presharedKey, List<Prefix> allowedIps,
                                  InetSocketAddress endpoint, int persistentKeepalive) {
    public WireGuardPeerConfig {
        Objects.requireNonNull(publicKey, "publicKey");
        allowedIps = List.copyOf(allowedIps == null ? List.of() : allowedIps);
        if (persistentKeepalive < 0 || persistentKeepalive > 65535) {
            throw new IllegalArgumentException("persistentKeepalive must be 0..65535: " + persistentKeepalive);
        }
    }

    /** A peer with just a key and allowed IPs given as CIDR strings. */
    public static WireGuardPeerConfig of(WireGuardKey publicKey, String... allowedIps) {
        return new WireGuardPeerConfig(publicKey, null,
                java.util.Arrays.stream(allowedIps).map(Prefix::parse).toList(), null, 0);
    }

    public WireGuardPeerConfig withEndpoint(InetSocketAddress e) {
        return new WireGuardPeerConfig(publicKey, presharedKey, allowedIps, e, persistentKeepalive);
    }

    public WireGuardPeerConfig withPresharedKey(WireGuardKey psk) {
        return new WireGuardPeerConfig(publicKey, psk, allowedIps, endpoint, persistentKeepalive);
    }

    public WireGuardPeerConfig withPersistentKeepalive(int seconds) {
        return new WireGuardPeerConfig(publicKey, presharedKey, allowedIps, endpoint, seconds);
    }
}

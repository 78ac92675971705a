package dev.pktkit.wireguard;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * What {@code wg show} prints for a peer.
 *
 * @param publicKey           the peer's key
 * @param endpoint            the current endpoint (updated by roaming), or null
 * @param allowedIps          its allowed IPs as CIDR text
 * @param latestHandshakeMillis wall-clock time of the last completed handshake (ms since 1970), or 0
 * @param rxBytes             bytes received from it (datagram sizes, as wg counts)
 * @param txBytes             bytes sent to it
 * @param persistentKeepalive seconds, or 0
 * @param handshakes          completed handshakes
 */
public record WireGuardPeerStatus(WireGuardKey publicKey, InetSocketAddress endpoint, List<String> allowedIps,
                                  long latestHandshakeMillis, long rxBytes, long txBytes, int persistentKeepalive,
                                  long handshakes) {
}

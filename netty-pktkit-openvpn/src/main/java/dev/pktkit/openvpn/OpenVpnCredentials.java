package dev.pktkit.openvpn;

import java.net.SocketAddress;
import java.util.Map;

/**
 * What a client presented: the username and password of {@code auth-user-pass} (empty without it), the
 * common name of its verified certificate (empty without one), its peer-info lines and its transport address.
 */
public record OpenVpnCredentials(String username, String password, String commonName, Map<String, String> peerInfo,
                                 SocketAddress remoteAddress) {
    @Override
    public String toString() {
        return "OpenVpnCredentials{username=" + username + ", commonName=" + commonName + ", remote=" + remoteAddress
                + "}";
    }
}

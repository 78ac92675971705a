package dev.pktkit.wireguard;

import java.net.SocketAddress;

/** The address of a {@link WireGuardPeerChannel}: the peer's public key. */
public final class WireGuardPeerAddress extends SocketAddress {
    private static final long serialVersionUID = 1L;
    private final transient WireGuardKey publicKey;

    public WireGuardPeerAddress(WireGuardKey publicKey) {
        this.publicKey = publicKey;
    }

    public WireGuardKey publicKey() {
        return publicKey;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WireGuardPeerAddress a && a.publicKey.equals(publicKey);
    }

    @Override
    public int hashCode() {
        return publicKey.hashCode();
    }

    @Override
    public String toString() {
        return "wg:" + publicKey.toBase64();
    }
}

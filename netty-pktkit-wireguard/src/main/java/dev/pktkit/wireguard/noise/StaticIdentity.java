package dev.pktkit.wireguard.noise;

import dev.pktkit.wireguard.crypto.Blake2s;
import dev.pktkit.wireguard.crypto.Curve25519;

import java.nio.charset.StandardCharsets;

/** The local static key pair and the keys derived from its public half (mac1 and cookie keys). Immutable. */
public final class StaticIdentity {
    static final byte[] LABEL_MAC1 = "mac1----".getBytes(StandardCharsets.US_ASCII);
    static final byte[] LABEL_COOKIE = "cookie--".getBytes(StandardCharsets.US_ASCII);

    final byte[] privateKey;
    final byte[] publicKey;
    final byte[] mac1Key;
    final byte[] cookieKey;

    /** @param privateKey a 32-byte X25519 private key (copied) */
    public StaticIdentity(byte[] privateKey) {
        if (privateKey.length != Curve25519.KEY_LEN) {
            throw new IllegalArgumentException("private key must be 32 bytes");
        }
        this.privateKey = privateKey.clone();
        this.publicKey = Curve25519.publicKey(this.privateKey);
        this.mac1Key = Blake2s.hash(LABEL_MAC1, publicKey);
        this.cookieKey = Blake2s.hash(LABEL_COOKIE, publicKey);
    }

    /** The public key (a copy). */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /** {@code DH(our private key, remotePublic)}, or null for a low-order point. */
    public byte[] sharedSecret(byte[] remotePublic) {
        return Curve25519.dh(privateKey, remotePublic);
    }

    static byte[] mac1KeyOf(byte[] publicKey) {
        return Blake2s.hash(LABEL_MAC1, publicKey);
    }

    static byte[] cookieKeyOf(byte[] publicKey) {
        return Blake2s.hash(LABEL_COOKIE, publicKey);
    }
}

package dev.pktkit.wireguard.crypto;

import org.bouncycastle.math.ec.rfc7748.X25519;

import java.security.SecureRandom;

/** X25519 (RFC 7748) from Bouncy Castle: key generation, public keys and Diffie-Hellman. */
public final class Curve25519 {
    /** Length of private and public keys and of shared secrets. */
    public static final int KEY_LEN = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private Curve25519() {
    }

    /** A new private key, clamped as RFC 7748 requires (the form wg(8) prints). */
    public static byte[] generatePrivateKey() {
        byte[] k = new byte[KEY_LEN];
        X25519.generatePrivateKey(RANDOM, k);
        clamp(k);
        return k;
    }

    /** Clamps {@code k} in place (bits 0-2 and 255 cleared, bit 254 set), as {@code wg genkey} does. */
    public static void clamp(byte[] k) {
        k[0] &= (byte) 248;
        k[31] &= 127;
        k[31] |= 64;
    }

    /** The public key of {@code privateKey}. */
    public static byte[] publicKey(byte[] privateKey) {
        byte[] pub = new byte[KEY_LEN];
        X25519.scalarMultBase(privateKey, 0, pub, 0);
        return pub;
    }

    /**
     * {@code DH(privateKey, publicKey)}.
     *
     * @return the shared secret, or null if it is all zeros (a low-order public key), which WireGuard rejects
     */
    public static byte[] dh(byte[] privateKey, byte[] publicKey) {
        byte[] out = new byte[KEY_LEN];
        X25519.scalarMult(privateKey, 0, publicKey, 0, out, 0);
        int acc = 0;
        for (byte b : out) {
            acc |= b;
        }
        return acc == 0 ? null : out;
    }
}

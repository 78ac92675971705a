package dev.pktkit.wireguard;

import dev.pktkit.wireguard.crypto.Curve25519;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;

/**
 * A 32-byte WireGuard key (private, public or preshared) in the form wg(8) prints: standard base64 with padding,
 * 44 characters. Immutable; {@link #toString()} of a key never prints it (use {@link #toBase64()}).
 */
public final class WireGuardKey {
    /** Key length in bytes. */
    public static final int LEN = 32;

    private final byte[] bytes;

    private WireGuardKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A key from 32 bytes (copied). */
    public static WireGuardKey of(byte[] bytes) {
        if (bytes == null || bytes.length != LEN) {
            throw new IllegalArgumentException("a WireGuard key is 32 bytes");
        }
        return new WireGuardKey(bytes.clone());
    }

    /**
     * Parses wg(8)'s base64 form.
     *
     * @throws IllegalArgumentException if it is not 44 characters of base64 decoding to 32 bytes
     */
    public static WireGuardKey parse(String base64) {
        String s = base64 == null ? "" : base64.trim();
        byte[] b;
        try {
            b = Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a base64 WireGuard key", e);
        }
        if (s.length() != 44 || b.length != LEN) {
            throw new IllegalArgumentException("a WireGuard key is 44 base64 characters (32 bytes), got " + s.length());
        }
        return new WireGuardKey(b);
    }

    /** A new random private key, clamped ({@code wg genkey}). */
    public static WireGuardKey generatePrivate() {
        return new WireGuardKey(Curve25519.generatePrivateKey());
    }

    /** A new random preshared key ({@code wg genpsk}). */
    public static WireGuardKey generatePreshared() {
        byte[] b = new byte[LEN];
        new java.security.SecureRandom().nextBytes(b);
        return new WireGuardKey(b);
    }

    /** The public key of this private key ({@code wg pubkey}). */
    public WireGuardKey publicKey() {
        return new WireGuardKey(Curve25519.publicKey(bytes));
    }

    /** The bytes (a copy). */
    public byte[] bytes() {
        return bytes.clone();
    }

    byte[] unsafeBytes() {
        return bytes;
    }

    /** wg(8)'s base64 form. */
    public String toBase64() {
        return Base64.getEncoder().encodeToString(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WireGuardKey k && MessageDigest.isEqual(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** The first 8 base64 characters and an ellipsis: enough to tell public keys apart in logs. */
    @Override
    public String toString() {
        return toBase64().substring(0, 8) + "…";
    }
}

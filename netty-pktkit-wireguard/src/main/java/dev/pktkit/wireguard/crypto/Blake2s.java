package dev.pktkit.wireguard.crypto;

import org.bouncycastle.crypto.digests.Blake2sDigest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * BLAKE2s as WireGuard uses it (Bouncy Castle's {@link Blake2sDigest}): {@code HASH} (256-bit), {@code MAC}
 * (keyed, 128-bit), {@code HMAC} (RFC 2104 over BLAKE2s) and the Noise {@code KDF1/2/3} built from HMAC.
 *
 * <p>Allocates a digest per call: these run per handshake message, never per data packet.
 */
public final class Blake2s {
    /** Output of {@code HASH} and {@code HMAC}. */
    public static final int HASH_LEN = 32;
    /** Output of {@code MAC}. */
    public static final int MAC_LEN = 16;

    private Blake2s() {
    }

    /** {@code HASH(parts[0] || parts[1] || ...)}: unkeyed BLAKE2s-256. */
    public static byte[] hash(byte[]... parts) {
        Blake2sDigest d = new Blake2sDigest(256);
        for (byte[] p : parts) {
            d.update(p, 0, p.length);
        }
        byte[] out = new byte[HASH_LEN];
        d.doFinal(out, 0);
        return out;
    }

    /** {@code MAC(key, data[off..off+len))}: BLAKE2s keyed with {@code key}, 16-byte output. */
    public static byte[] mac(byte[] key, byte[] data, int off, int len) {
        byte[] out = new byte[MAC_LEN];
        mac(key, data, off, len, out, 0);
        return out;
    }

    /** Keyed BLAKE2s-128 of {@code data[off..off+len)} into {@code out[outOff..outOff+16)}. */
    public static void mac(byte[] key, byte[] data, int off, int len, byte[] out, int outOff) {
        Blake2sDigest d = new Blake2sDigest(key, MAC_LEN, null, null);
        d.update(data, off, len);
        d.doFinal(out, outOff);
    }

    /** {@code HMAC(key, parts...)}: RFC 2104 HMAC with BLAKE2s-256 (64-byte block). */
    public static byte[] hmac(byte[] key, byte[]... parts) {
        HMac h = new HMac(new Blake2sDigest(256));
        h.init(new KeyParameter(key));
        for (byte[] p : parts) {
            h.update(p, 0, p.length);
        }
        byte[] out = new byte[HASH_LEN];
        h.doFinal(out, 0);
        return out;
    }

    /**
     * The Noise HKDF over HMAC-BLAKE2s: {@code n} (1..3) outputs of 32 bytes from chaining key {@code key} and
     * {@code input}. {@code T0 = HMAC(key, input)}, {@code T1 = HMAC(T0, 0x1)}, {@code Ti = HMAC(T0, Ti-1 || i)}.
     */
    public static byte[][] kdf(int n, byte[] key, byte[] input) {
        if (n < 1 || n > 3) {
            throw new IllegalArgumentException("n must be 1..3: " + n);
        }
        byte[] t0 = hmac(key, input);
        byte[][] out = new byte[n][];
        byte[] prev = new byte[0];
        for (int i = 0; i < n; i++) {
            prev = hmac(t0, prev, new byte[] {(byte) (i + 1)});
            out[i] = prev;
        }
        java.util.Arrays.fill(t0, (byte) 0);
        return out;
    }
}

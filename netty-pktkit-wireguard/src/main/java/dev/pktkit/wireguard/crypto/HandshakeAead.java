package dev.pktkit.wireguard.crypto;

import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.modes.XChaCha20Poly1305;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * The AEADs of WireGuard's control messages, from Bouncy Castle: ChaCha20-Poly1305 with a zero nonce for the
 * handshake's static, timestamp and empty fields, and XChaCha20-Poly1305 (24-byte random nonce) for cookie
 * replies. Allocates per call; handshake messages are rare next to data.
 */
public final class HandshakeAead {
    /** Poly1305 tag length. */
    public static final int TAG_LEN = 16;
    /** XChaCha20 nonce length. */
    public static final int XNONCE_LEN = 24;

    private static final byte[] ZERO_NONCE = new byte[12];

    private HandshakeAead() {
    }

    /** {@code AEAD(key, 0, plaintext, ad)}: ciphertext followed by the tag. */
    public static byte[] seal(byte[] key, byte[] plaintext, byte[] ad) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305();
        c.init(true, new AEADParameters(new KeyParameter(key), TAG_LEN * 8, ZERO_NONCE, ad));
        return run(c, plaintext, 0, plaintext.length);
    }

    /** Opens {@code AEAD(key, 0, ..., ad)}; null if authentication fails. */
    public static byte[] open(byte[] key, byte[] sealed, int off, int len, byte[] ad) {
        ChaCha20Poly1305 c = new ChaCha20Poly1305();
        c.init(false, new AEADParameters(new KeyParameter(key), TAG_LEN * 8, ZERO_NONCE, ad));
        return run(c, sealed, off, len);
    }

    /** {@code XAEAD(key, nonce, plaintext, ad)}. */
    public static byte[] xseal(byte[] key, byte[] nonce, byte[] plaintext, byte[] ad) {
        XChaCha20Poly1305 c = new XChaCha20Poly1305();
        c.init(true, new AEADParameters(new KeyParameter(key), TAG_LEN * 8, nonce, ad));
        return run(c, plaintext, 0, plaintext.length);
    }

    /** Opens {@code XAEAD(key, nonce, ..., ad)}; null if authentication fails. */
    public static byte[] xopen(byte[] key, byte[] nonce, byte[] sealed, int off, int len, byte[] ad) {
        XChaCha20Poly1305 c = new XChaCha20Poly1305();
        c.init(false, new AEADParameters(new KeyParameter(key), TAG_LEN * 8, nonce, ad));
        return run(c, sealed, off, len);
    }

    private static byte[] run(org.bouncycastle.crypto.modes.AEADCipher c, byte[] in, int off, int len) {
        if (len < 0) {
            return null;
        }
        byte[] out = new byte[c.getOutputSize(len)];
        int n = c.processBytes(in, off, len, out, 0);
        try {
            n += c.doFinal(out, n);
        } catch (InvalidCipherTextException e) {
            return null;
        }
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }
}

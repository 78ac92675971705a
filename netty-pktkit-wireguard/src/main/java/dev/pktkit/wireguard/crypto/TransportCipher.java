package dev.pktkit.wireguard.crypto;

import io.netty.util.concurrent.FastThreadLocal;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * One direction of a transport keypair: the JDK's ChaCha20-Poly1305 ({@code javax.crypto}), nonce = 32 zero bits
 * then the 64-bit little-endian counter, no associated data (WireGuard paper §5.4.6).
 *
 * <p>Works in place on heap arrays (the JDK provider is fastest on {@code byte[]}, DESIGN.md §7). <b>Thread-safe</b>:
 * a {@link Cipher} is not, so each thread keeps one sealing and one opening {@code Cipher} of its own (a
 * {@link FastThreadLocal}) and initialises it with this key per packet; so several crypto workers can seal or open
 * under one keypair at once, as the multi-core data path does. Per call the JDK API forces one
 * {@link IvParameterSpec} (it copies the nonce); the provider's own allocations are measured in
 * {@code WireGuardBenchmark} (README).
 */
public final class TransportCipher {
    /** Poly1305 tag length. */
    public static final int TAG_LEN = 16;

    /** Per thread: [0] sealing cipher, [1] opening cipher. */
    private static final FastThreadLocal<Cipher[]> CIPHERS = new FastThreadLocal<>() {
        @Override
        protected Cipher[] initialValue() {
            try {
                return new Cipher[] {Cipher.getInstance("ChaCha20-Poly1305"), Cipher.getInstance("ChaCha20-Poly1305")};
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK offers no ChaCha20-Poly1305", e);
            }
        }
    };
    /** Per thread scratch nonce (the IvParameterSpec copies it). */
    private static final FastThreadLocal<byte[]> NONCE = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[12];
        }
    };

    private final SecretKeySpec key;
    private final byte[] keyBytes;
    private final boolean encrypt;
    private volatile boolean destroyed;

    /**
     * @param key32   the 32-byte key (copied)
     * @param encrypt true to seal, false to open
     */
    public TransportCipher(byte[] key32, boolean encrypt) {
        if (key32.length != 32) {
            throw new IllegalArgumentException("key must be 32 bytes");
        }
        this.keyBytes = key32.clone();
        this.key = new SecretKeySpec(keyBytes, "ChaCha20");
        this.encrypt = encrypt;
        CIPHERS.get(); // fail here, not on the first packet, if the JDK lacks the cipher
    }

    private Cipher init(long counter) throws GeneralSecurityException {
        byte[] nonce = NONCE.get();
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (counter >>> (8 * i));
        }
        Cipher c = CIPHERS.get()[encrypt ? 0 : 1];
        c.init(encrypt ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE, key, new IvParameterSpec(nonce));
        return c;
    }

    /**
     * Seals {@code a[off..off+len)} in place and writes the tag at {@code a[off+len..off+len+16)}.
     *
     * @throws IllegalStateException if the key was destroyed or the provider fails
     */
    public void seal(long counter, byte[] a, int off, int len) {
        if (!encrypt || destroyed) {
            throw new IllegalStateException(destroyed ? "key destroyed" : "an opening cipher");
        }
        try {
            init(counter).doFinal(a, off, len, a, off);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 seal failed", e);
        }
    }

    /**
     * Opens {@code a[off..off+len)} (ciphertext and tag) in place.
     *
     * @return the plaintext length, or -1 if the packet does not authenticate (or the key was destroyed)
     */
    public int open(long counter, byte[] a, int off, int len) {
        if (encrypt || destroyed || len < TAG_LEN) {
            return -1;
        }
        try {
            return init(counter).doFinal(a, off, len, a, off);
        } catch (AEADBadTagException e) {
            return -1;
        } catch (GeneralSecurityException e) {
            return -1;
        }
    }

    /** Whether {@link #destroy} was called. */
    public boolean isDestroyed() {
        return destroyed;
    }

    /** Zeroes this side's copy of the key; later calls fail. (The JDK's key objects cannot be wiped.) */
    public void destroy() {
        destroyed = true;
        Arrays.fill(keyBytes, (byte) 0);
    }
}

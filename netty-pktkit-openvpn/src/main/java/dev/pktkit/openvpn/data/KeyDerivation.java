package dev.pktkit.openvpn.data;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLSession;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * The 256-byte {@code key2} block OpenVPN's data channel keys come from: two slots of a 64-byte cipher key and a
 * 64-byte HMAC key. Slot 0 is what the client sends with, slot 1 what the server sends with (OpenVPN's
 * {@code key_direction = server ? KEY_DIRECTION_INVERSE : KEY_DIRECTION_NORMAL}); an AEAD cipher's implicit IV
 * is the first 8 bytes of its slot's HMAC key.
 *
 * <p>Two ways to make it:
 * <ul>
 *   <li>{@link #exporter}: RFC 5705 keying-material export with the label {@code EXPORTER-OpenVPN-datakeys}, no
 *       context, 256 bytes (OpenVPN 2.6's {@code key-derivation tls-ekm}). The JDK's TLS has this from JDK 25
 *       ({@code ExtendedSSLSession.exportKeyingMaterialData}); this module compiles with {@code --release 21}, so
 *       the method is looked up at run time ({@link #exporterAvailable()}) and the server falls back to the PRF
 *       on older JDKs.</li>
 *   <li>{@link #prf}: the TLS 1.0 PRF (MD5 ⊕ SHA-1, RFC 2246 §5) over the key method 2 randoms and the session
 *       IDs: {@code master = PRF(pre_master, "OpenVPN master secret", c.random1 + s.random1)}, then
 *       {@code key2 = PRF(master, "OpenVPN key expansion", c.random2 + s.random2 + c.sid + s.sid)}.</li>
 * </ul>
 */
public final class KeyDerivation {
    public static final int KEY2_LENGTH = 256;
    public static final String EXPORTER_LABEL = "EXPORTER-OpenVPN-datakeys";
    private static final MethodHandle EXPORT = findExporter();

    private KeyDerivation() {
    }

    private static MethodHandle findExporter() {
        try {
            Class<?> ext = Class.forName("javax.net.ssl.ExtendedSSLSession");
            return MethodHandles.publicLookup().findVirtual(ext, "exportKeyingMaterialData",
                    MethodType.methodType(byte[].class, String.class, byte[].class, int.class));
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    /** Whether the running JDK's TLS can export keying material (JDK 25 and later). */
    public static boolean exporterAvailable() {
        return EXPORT != null;
    }

    /**
     * RFC 5705 export from an established TLS session.
     *
     * @throws IllegalStateException when the JDK or the session cannot export
     */
    public static byte[] exporter(SSLSession session) {
        if (EXPORT == null || !(session instanceof javax.net.ssl.ExtendedSSLSession)) {
            throw new IllegalStateException("TLS keying-material export needs JDK 25's ExtendedSSLSession");
        }
        try {
            return (byte[]) EXPORT.invoke(session, EXPORTER_LABEL, (byte[]) null, KEY2_LENGTH);
        } catch (Throwable e) {
            throw new IllegalStateException("keying-material export failed: " + e, e);
        }
    }

    /** OpenVPN's PRF key expansion; see the class comment. Session IDs are the 8-byte values as longs. */
    public static byte[] prf(byte[] preMaster, byte[] clientRandom1, byte[] serverRandom1, byte[] clientRandom2,
                             byte[] serverRandom2, long clientSessionId, long serverSessionId) {
        byte[] master = tls1Prf(preMaster, "OpenVPN master secret", concat(clientRandom1, serverRandom1), 48);
        byte[] seed = concat(clientRandom2, serverRandom2, longBytes(clientSessionId), longBytes(serverSessionId));
        byte[] key2 = tls1Prf(master, "OpenVPN key expansion", seed, KEY2_LENGTH);
        Arrays.fill(master, (byte) 0);
        return key2;
    }

    /** The TLS 1.0/1.1 PRF of RFC 2246 §5: P_MD5 over the secret's first half XOR P_SHA1 over its second. */
    static byte[] tls1Prf(byte[] secret, String label, byte[] seed, int length) {
        byte[] ls = concat(label.getBytes(StandardCharsets.US_ASCII), seed);
        int half = (secret.length + 1) / 2;
        byte[] s1 = Arrays.copyOfRange(secret, 0, half);
        byte[] s2 = Arrays.copyOfRange(secret, secret.length - half, secret.length);
        byte[] a = pHash("HmacMD5", s1, ls, length);
        byte[] b = pHash("HmacSHA1", s2, ls, length);
        for (int i = 0; i < length; i++) {
            a[i] ^= b[i];
        }
        return a;
    }

    private static byte[] pHash(String alg, byte[] secret, byte[] seed, int length) {
        try {
            Mac mac = Mac.getInstance(alg);
            mac.init(new SecretKeySpec(secret.length == 0 ? new byte[1] : secret, alg));
            byte[] out = new byte[length];
            byte[] a = seed;
            int pos = 0;
            while (pos < length) {
                a = mac.doFinal(a);
                mac.update(a);
                byte[] chunk = mac.doFinal(seed);
                int n = Math.min(chunk.length, length - pos);
                System.arraycopy(chunk, 0, out, pos, n);
                pos += n;
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(alg + " unavailable: " + e, e);
        }
    }

    private static byte[] longBytes(long v) {
        byte[] b = new byte[8];
        for (int i = 7; i >= 0; i--) {
            b[i] = (byte) v;
            v >>>= 8;
        }
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int pos = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, pos, p.length);
            pos += p.length;
        }
        return out;
    }

    /** The data channel for one side from a {@code key2} block. */
    public static AeadDataChannel channel(DataCipher cipher, byte[] key2, boolean server,
                                          dev.pktkit.openvpn.crypto.ReplayWindow replay) {
        if (key2.length != KEY2_LENGTH) {
            throw new IllegalArgumentException("key2 must be " + KEY2_LENGTH + " bytes");
        }
        int out = server ? 1 : 0;
        int in = 1 - out;
        return new AeadDataChannel(cipher, slice(key2, out * 128, 64), slice(key2, out * 128 + 64, 64),
                slice(key2, in * 128, 64), slice(key2, in * 128 + 64, 64), replay);
    }

    /**
     * The data channel for one side from a {@code key2} block, for any cipher: AEAD ones as {@link #channel}; CBC
     * with its cipher key from the cipher slot and its HMAC key (the digest's length) from the HMAC slot.
     *
     * @param digest the {@code auth} digest for CBC ("SHA1", "SHA256", "SHA512"); ignored for AEAD
     */
    public static DataChannel dataChannel(DataCipher cipher, String digest, byte[] key2, boolean server,
                                          dev.pktkit.openvpn.crypto.ReplayWindow replay) {
        if (cipher.isAead()) {
            return channel(cipher, key2, server, replay);
        }
        int out = server ? 1 : 0;
        int in = 1 - out;
        return new CbcHmacDataChannel(cipher, digest, slice(key2, out * 128, 64), slice(key2, out * 128 + 64, 64),
                slice(key2, in * 128, 64), slice(key2, in * 128 + 64, 64), replay);
    }

    private static byte[] slice(byte[] b, int off, int len) {
        return Arrays.copyOfRange(b, off, off + len);
    }
}

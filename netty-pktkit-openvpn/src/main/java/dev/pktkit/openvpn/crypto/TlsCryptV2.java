package dev.pktkit.openvpn.crypto;

import io.netty.buffer.ByteBuf;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * {@code tls-crypt-v2}: each client has its own tls-crypt key {@code Kc} (a 256-byte {@link StaticKey}), and
 * carries it wrapped by the server key as {@code WKc} at the end of its first packets
 * ({@code P_CONTROL_HARD_RESET_CLIENT_V3}, {@code P_CONTROL_WKC_V1}), so the server keeps no per-client keys.
 *
 * <pre>
 * WKc = T || AES-256-CTR(Ke, IV = T[0..16], Kc || metadata) || len     T = HMAC-SHA256(Ka, len || Kc || metadata)
 * </pre>
 *
 * <p>{@code len} is WKc's own length as 16 bits big-endian. The server key ({@code openvpn --genkey
 * tls-crypt-v2-server}, PEM "OpenVPN tls-crypt-v2 server key") is 128 bytes: {@code Ke} in the first 32 of its
 * 64-byte cipher half, {@code Ka} in the first 32 of its 64-byte HMAC half. A client key file (PEM "OpenVPN
 * tls-crypt-v2 client key") is {@code Kc || WKc}. Metadata begins with a type byte: 0 user data, 1 a 64-bit
 * creation time (what {@code --genkey tls-crypt-v2-client} writes without metadata).
 */
public final class TlsCryptV2 {
    public static final String SERVER_PEM = "OpenVPN tls-crypt-v2 server key";
    public static final String CLIENT_PEM = "OpenVPN tls-crypt-v2 client key";
    /** OpenVPN's bound on WKc (TLS_CRYPT_V2_MAX_WKC_LEN). */
    public static final int MAX_WKC = 1024;
    /** OpenVPN's bound on metadata (TLS_CRYPT_V2_MAX_METADATA_LEN). */
    public static final int MAX_METADATA = MAX_WKC - (StaticKey.LENGTH + TlsCrypt.TAG + 2);
    public static final int METADATA_USER = 0;
    public static final int METADATA_TIMESTAMP = 1;

    private TlsCryptV2() {
    }

    /** The server key. Immutable; {@link #unwrapper()} gives a per-loop object that opens WKc. */
    public static final class ServerKey {
        public static final int LENGTH = 128;
        private final byte[] key;

        private ServerKey(byte[] key) {
            this.key = key;
        }

        public static ServerKey generate(SecureRandom random) {
            byte[] k = new byte[LENGTH];
            random.nextBytes(k);
            return new ServerKey(k);
        }

        /** Parses a server key file's text. */
        public static ServerKey parse(String text) {
            byte[] k = pemDecode(text, SERVER_PEM);
            if (k.length != LENGTH) {
                throw new IllegalArgumentException("tls-crypt-v2 server key must be " + LENGTH + " bytes, got "
                        + k.length);
            }
            return new ServerKey(k);
        }

        /** The key file's text as OpenVPN writes it. */
        public String format() {
            return pemEncode(key, SERVER_PEM);
        }

        SecretKeySpec cipherKey() {
            return new SecretKeySpec(key, 0, 32, "AES");
        }

        SecretKeySpec hmacKey() {
            return new SecretKeySpec(key, 64, 32, "HmacSHA256");
        }

        /** Wraps {@code clientKey} with {@code metadata} (at most {@link #MAX_METADATA} bytes) into WKc. */
        public byte[] wrap(StaticKey clientKey, byte[] metadata) {
            if (metadata.length > MAX_METADATA) {
                throw new IllegalArgumentException("metadata longer than " + MAX_METADATA);
            }
            int wkcLen = TlsCrypt.TAG + StaticKey.LENGTH + metadata.length + 2;
            byte[] pt = new byte[StaticKey.LENGTH + metadata.length];
            System.arraycopy(clientKey.bytes(), 0, pt, 0, StaticKey.LENGTH);
            System.arraycopy(metadata, 0, pt, StaticKey.LENGTH, metadata.length);
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(hmacKey());
                mac.update((byte) (wkcLen >>> 8));
                mac.update((byte) wkcLen);
                byte[] t = mac.doFinal(pt);
                Cipher c = Cipher.getInstance("AES/CTR/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, cipherKey(), new IvParameterSpec(t, 0, 16));
                byte[] ct = c.doFinal(pt);
                byte[] out = new byte[wkcLen];
                System.arraycopy(t, 0, out, 0, TlsCrypt.TAG);
                System.arraycopy(ct, 0, out, TlsCrypt.TAG, ct.length);
                out[wkcLen - 2] = (byte) (wkcLen >>> 8);
                out[wkcLen - 1] = (byte) wkcLen;
                return out;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            } finally {
                Arrays.fill(pt, (byte) 0);
            }
        }

        /**
         * A new client key file's text (as {@code openvpn --genkey tls-crypt-v2-client}): a random {@code Kc}
         * wrapped with {@code metadata}, or with a timestamp when {@code metadata} is null.
         */
        public String newClientKey(SecureRandom random, byte[] metadata) {
            byte[] kc = new byte[StaticKey.LENGTH];
            random.nextBytes(kc);
            if (metadata == null) {
                metadata = ByteBuffer.allocate(9).put((byte) METADATA_TIMESTAMP)
                        .putLong(System.currentTimeMillis() / 1000).array();
            }
            byte[] wkc = wrap(StaticKey.of(kc), metadata);
            byte[] file = new byte[kc.length + wkc.length];
            System.arraycopy(kc, 0, file, 0, kc.length);
            System.arraycopy(wkc, 0, file, kc.length, wkc.length);
            Arrays.fill(kc, (byte) 0);
            return pemEncode(file, CLIENT_PEM);
        }

        public Unwrapper unwrapper() {
            return new Unwrapper(this);
        }
    }

    /** A client key file: {@code Kc} and the WKc to send. */
    public record ClientKey(StaticKey key, byte[] wkc) {
        public static ClientKey parse(String text) {
            byte[] b = pemDecode(text, CLIENT_PEM);
            if (b.length < StaticKey.LENGTH + TlsCrypt.TAG + StaticKey.LENGTH + 2
                    || b.length > StaticKey.LENGTH + MAX_WKC) {
                throw new IllegalArgumentException("tls-crypt-v2 client key has a bad length " + b.length);
            }
            return new ClientKey(StaticKey.of(Arrays.copyOf(b, StaticKey.LENGTH)),
                    Arrays.copyOfRange(b, StaticKey.LENGTH, b.length));
        }
    }

    /** Opens WKc with the server key. Not thread-safe (one per loop). */
    public static final class Unwrapper {
        private final Mac mac;
        private final Cipher cipher;
        private final SecretKeySpec cipherKey;
        private final byte[] tag = new byte[TlsCrypt.TAG];
        private final byte[] expected = new byte[TlsCrypt.TAG];
        private final byte[] pt = new byte[MAX_WKC];
        private byte[] metadata = new byte[0];

        Unwrapper(ServerKey key) {
            try {
                mac = Mac.getInstance("HmacSHA256");
                mac.init(key.hmacKey());
                cipher = Cipher.getInstance("AES/CTR/NoPadding");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
            cipherKey = key.cipherKey();
        }

        /**
         * The length of the WKc at the end of the packet of {@code len} bytes at {@code off} (its last two
         * bytes), or -1 when it cannot be one.
         */
        public static int wkcLength(ByteBuf buf, int off, int len) {
            if (len < 1 + 2) {
                return -1;
            }
            int n = buf.getUnsignedShort(off + len - 2);
            if (n < TlsCrypt.TAG + StaticKey.LENGTH + 2 || n > MAX_WKC || n > len - 1) {
                return -1;
            }
            return n;
        }

        /**
         * Opens the WKc of {@code wkcLen} bytes at {@code off}.
         *
         * @return the client key, or null if it does not authenticate under this server key
         */
        public StaticKey unwrap(ByteBuf buf, int off, int wkcLen) {
            if (wkcLen < TlsCrypt.TAG + StaticKey.LENGTH + 2 || wkcLen > MAX_WKC
                    || buf.getUnsignedShort(off + wkcLen - 2) != wkcLen) {
                return null;
            }
            int ctLen = wkcLen - TlsCrypt.TAG - 2;
            buf.getBytes(off, tag);
            buf.getBytes(off + TlsCrypt.TAG, pt, 0, ctLen);
            try {
                cipher.init(Cipher.DECRYPT_MODE, cipherKey, new IvParameterSpec(tag, 0, 16));
                cipher.doFinal(pt, 0, ctLen, pt, 0);
                mac.update((byte) (wkcLen >>> 8));
                mac.update((byte) wkcLen);
                mac.update(pt, 0, ctLen);
                mac.doFinal(expected, 0);
            } catch (GeneralSecurityException e) {
                return null;
            }
            if (!MessageDigest.isEqual(tag, expected)) {
                Arrays.fill(pt, (byte) 0);
                return null;
            }
            StaticKey k = StaticKey.of(Arrays.copyOf(pt, StaticKey.LENGTH));
            metadata = Arrays.copyOfRange(pt, StaticKey.LENGTH, ctLen);
            Arrays.fill(pt, (byte) 0);
            return k;
        }

        /** The metadata of the last WKc {@link #unwrap} opened. */
        public byte[] lastMetadata() {
            return metadata.clone();
        }
    }

    static String pemEncode(byte[] data, String name) {
        StringBuilder sb = new StringBuilder("-----BEGIN ").append(name).append("-----\n");
        String b64 = Base64.getEncoder().encodeToString(data);
        for (int i = 0; i < b64.length(); i += 64) {
            sb.append(b64, i, Math.min(b64.length(), i + 64)).append('\n');
        }
        return sb.append("-----END ").append(name).append("-----\n").toString();
    }

    static byte[] pemDecode(String text, String name) {
        String begin = "-----BEGIN " + name + "-----";
        String end = "-----END " + name + "-----";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) {
            throw new IllegalArgumentException("no '" + begin + "' block");
        }
        try {
            return Base64.getDecoder().decode(text.substring(b + begin.length(), e).replaceAll("\\s+", ""));
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(name + " is not base64: " + ex.getMessage(), ex);
        }
    }
}

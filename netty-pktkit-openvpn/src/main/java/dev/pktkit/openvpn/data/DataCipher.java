package dev.pktkit.openvpn.data;

import java.util.Locale;

/** The data-channel ciphers this module speaks, by their OpenVPN names. */
public enum DataCipher {
    AES_256_GCM("AES-256-GCM", "AES", "AES/GCM/NoPadding", 32),
    AES_128_GCM("AES-128-GCM", "AES", "AES/GCM/NoPadding", 16),
    CHACHA20_POLY1305("CHACHA20-POLY1305", "ChaCha20", "ChaCha20-Poly1305", 32),
    /** CBC with an HMAC (the {@code auth} digest) for clients without AEAD; see {@link CbcHmacDataChannel}. */
    AES_256_CBC("AES-256-CBC", "AES", "AES/CBC/PKCS5Padding", 32);

    /** The name OpenVPN uses in {@code data-ciphers}, {@code IV_CIPHERS} and the pushed {@code cipher}. */
    public final String openVpnName;
    final String keyAlgorithm;
    final String transformation;
    /** Cipher key length in bytes. */
    public final int keyLength;

    DataCipher(String openVpnName, String keyAlgorithm, String transformation, int keyLength) {
        this.openVpnName = openVpnName;
        this.keyAlgorithm = keyAlgorithm;
        this.transformation = transformation;
        this.keyLength = keyLength;
    }

    /** Whether this is an AEAD cipher (no separate HMAC). */
    public boolean isAead() {
        return this != AES_256_CBC;
    }

    /** The cipher OpenVPN calls {@code name} (case-insensitive), or null. */
    public static DataCipher byName(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        for (DataCipher c : values()) {
            if (c.openVpnName.equals(n)) {
                return c;
            }
        }
        return null;
    }
}

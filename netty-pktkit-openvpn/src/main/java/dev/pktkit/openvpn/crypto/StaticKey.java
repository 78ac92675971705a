package dev.pktkit.openvpn.crypto;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * An OpenVPN static key ({@code openvpn --genkey secret}, "OpenVPN Static key V1", 256 bytes) as used by tls-auth
 * and tls-crypt. It holds two key slots of 128 bytes each: 64 bytes of cipher key then 64 bytes of HMAC key.
 *
 * <p>With a key direction, a server ({@code 0}) sends with slot 0 and receives with slot 1 and a client ({@code 1})
 * the reverse; without one (tls-auth only) both directions use slot 0.
 */
public final class StaticKey {
    public static final int LENGTH = 256;
    private static final String BEGIN = "-----BEGIN OpenVPN Static key V1-----";
    private static final String END = "-----END OpenVPN Static key V1-----";

    private final byte[] key;

    private StaticKey(byte[] key) {
        this.key = key;
    }

    /** Wraps 256 key bytes (copied). */
    public static StaticKey of(byte[] key) {
        if (key.length != LENGTH) {
            throw new IllegalArgumentException("static key must be " + LENGTH + " bytes, got " + key.length);
        }
        return new StaticKey(key.clone());
    }

    /** Parses the text of an OpenVPN static key file (comment lines and whitespace allowed). */
    public static StaticKey parse(String text) {
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        if (b < 0 || e < b) {
            throw new IllegalArgumentException("no '" + BEGIN + "' block");
        }
        String hex = text.substring(b + BEGIN.length(), e).replaceAll("\\s+", "");
        if (hex.length() != 2 * LENGTH) {
            throw new IllegalArgumentException("static key must be " + LENGTH + " bytes, got " + hex.length() / 2);
        }
        try {
            return new StaticKey(HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("static key is not hex: " + ex.getMessage(), ex);
        }
    }

    /** Formats this key as OpenVPN writes it. */
    public String format() {
        StringBuilder sb = new StringBuilder("#\n# 2048 bit OpenVPN static key\n#\n").append(BEGIN).append('\n');
        String hex = HexFormat.of().formatHex(key);
        for (int i = 0; i < hex.length(); i += 32) {
            sb.append(hex, i, i + 32).append('\n');
        }
        return sb.append(END).append('\n').toString();
    }

    /** A copy of all 256 key bytes. */
    public byte[] bytes() {
        return key.clone();
    }

    /** The first {@code len} bytes of slot {@code slot}'s cipher key. */
    public byte[] cipherKey(int slot, int len) {
        return Arrays.copyOfRange(key, slot * 128, slot * 128 + len);
    }

    /** The first {@code len} bytes of slot {@code slot}'s HMAC key. */
    public byte[] hmacKey(int slot, int len) {
        return Arrays.copyOfRange(key, slot * 128 + 64, slot * 128 + 64 + len);
    }
}

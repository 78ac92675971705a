package dev.pktkit.wireguard.noise;

import dev.pktkit.wireguard.crypto.Blake2s;
import dev.pktkit.wireguard.crypto.HandshakeAead;
import dev.pktkit.wireguard.wire.CookieReply;
import dev.pktkit.wireguard.wire.MessageType;

import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The responder half of WireGuard's cookie mechanism (paper §5.4.7): checks mac1 of every handshake message
 * (keyed by our public key, so only senders that know it pass), checks mac2 (keyed by a cookie bound to the
 * sender's address) when under load, and builds cookie replies. The secret behind cookies changes every
 * {@code secretLifetimeNanos} (2 minutes by default).
 *
 * <p>Not thread-safe: the endpoint's loop owns it.
 */
public final class CookieChecker {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] mac1Key;
    private final byte[] cookieKey;
    private final long secretLifetimeNanos;
    private final byte[] secret = new byte[32];
    private long secretSetNanos;
    private boolean hasSecret;

    public CookieChecker(StaticIdentity local, long secretLifetimeNanos) {
        this.mac1Key = local.mac1Key;
        this.cookieKey = local.cookieKey;
        this.secretLifetimeNanos = secretLifetimeNanos;
    }

    /** Whether mac1 of handshake message {@code msg} is right. */
    public boolean checkMac1(byte[] msg) {
        int macOff = msg.length - 32;
        byte[] mac = Blake2s.mac(mac1Key, msg, 0, macOff);
        return MessageDigest.isEqual(mac, java.util.Arrays.copyOfRange(msg, macOff, macOff + 16));
    }

    /** Whether mac2 of {@code msg} is right for a sender at {@code source} (address bytes then port). */
    public boolean checkMac2(byte[] msg, byte[] source, long nowNanos) {
        byte[] cookie = cookie(source, nowNanos);
        int macOff = msg.length - 16;
        byte[] mac = Blake2s.mac(cookie, msg, 0, macOff);
        return MessageDigest.isEqual(mac, java.util.Arrays.copyOfRange(msg, macOff, macOff + 16));
    }

    /** A cookie reply to handshake message {@code msg} (whose sender index is {@code receiver}) from {@code source}. */
    public byte[] createReply(byte[] msg, int receiver, byte[] source, long nowNanos) {
        byte[] cookie = cookie(source, nowNanos);
        byte[] nonce = new byte[HandshakeAead.XNONCE_LEN];
        RANDOM.nextBytes(nonce);
        int macOff = msg.length - 32;
        byte[] mac1 = java.util.Arrays.copyOfRange(msg, macOff, macOff + 16);
        byte[] sealed = HandshakeAead.xseal(cookieKey, nonce, cookie, mac1);
        byte[] out = new byte[MessageType.COOKIE_REPLY_LEN];
        out[0] = MessageType.COOKIE_REPLY;
        Handshake.putIntLE(out, CookieReply.RECEIVER, receiver);
        System.arraycopy(nonce, 0, out, CookieReply.NONCE, nonce.length);
        System.arraycopy(sealed, 0, out, CookieReply.COOKIE, sealed.length);
        return out;
    }

    private byte[] cookie(byte[] source, long nowNanos) {
        if (!hasSecret || nowNanos - secretSetNanos >= secretLifetimeNanos) {
            RANDOM.nextBytes(secret);
            secretSetNanos = nowNanos;
            hasSecret = true;
        }
        return Blake2s.mac(secret, source, 0, source.length);
    }
}

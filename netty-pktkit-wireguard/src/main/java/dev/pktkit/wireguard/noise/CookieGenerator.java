package dev.pktkit.wireguard.noise;

import dev.pktkit.wireguard.crypto.Blake2s;
import dev.pktkit.wireguard.crypto.HandshakeAead;
import dev.pktkit.wireguard.wire.CookieReply;
import dev.pktkit.wireguard.wire.MessageType;

import java.util.Arrays;

/**
 * The initiator half of the cookie mechanism, one per peer: adds mac1 (keyed by the peer's public key) and,
 * while a cookie from the peer is fresh, mac2 to every handshake message we send; takes the peer's cookie
 * replies. Not thread-safe.
 */
public final class CookieGenerator {
    private final byte[] mac1Key;
    private final byte[] cookieKey;
    private final long cookieLifetimeNanos;
    private byte[] lastMac1;
    private byte[] cookie;
    private long cookieSetNanos;

    /**
     * @param remoteStatic        the peer's public key
     * @param cookieLifetimeNanos how long a received cookie is used (the peer's secret lifetime less a margin)
     */
    public CookieGenerator(byte[] remoteStatic, long cookieLifetimeNanos) {
        this.mac1Key = StaticIdentity.mac1KeyOf(remoteStatic);
        this.cookieKey = StaticIdentity.cookieKeyOf(remoteStatic);
        this.cookieLifetimeNanos = cookieLifetimeNanos;
    }

    /** Writes mac1 and mac2 into the last 32 bytes of handshake message {@code msg}. */
    public void addMacs(byte[] msg, long nowNanos) {
        int mac1Off = msg.length - 32;
        Blake2s.mac(mac1Key, msg, 0, mac1Off, msg, mac1Off);
        lastMac1 = Arrays.copyOfRange(msg, mac1Off, mac1Off + 16);
        if (cookie != null && nowNanos - cookieSetNanos < cookieLifetimeNanos) {
            Blake2s.mac(cookie, msg, 0, msg.length - 16, msg, msg.length - 16);
        } else {
            Arrays.fill(msg, msg.length - 16, msg.length, (byte) 0);
        }
    }

    /** Whether a fresh cookie is held (so the next handshake message carries a valid mac2). */
    public boolean hasCookie(long nowNanos) {
        return cookie != null && nowNanos - cookieSetNanos < cookieLifetimeNanos;
    }

    /**
     * Takes cookie reply {@code msg} (64 bytes) answering our last handshake message.
     *
     * @return false if no message is outstanding or the reply does not authenticate
     */
    public boolean consumeReply(byte[] msg, long nowNanos) {
        if (lastMac1 == null || msg.length != MessageType.COOKIE_REPLY_LEN) {
            return false;
        }
        byte[] nonce = Arrays.copyOfRange(msg, CookieReply.NONCE, CookieReply.NONCE + HandshakeAead.XNONCE_LEN);
        byte[] c = HandshakeAead.xopen(cookieKey, nonce, msg, CookieReply.COOKIE, CookieReply.COOKIE_LEN, lastMac1);
        if (c == null) {
            return false;
        }
        cookie = c;
        cookieSetNanos = nowNanos;
        return true;
    }
}

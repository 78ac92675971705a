/**
 * The primitives WireGuard names, from well-kept libraries: BLAKE2s, HMAC-BLAKE2s and the Noise HKDF and
 * X25519 from Bouncy Castle, XChaCha20-Poly1305 (cookies) and ChaCha20-Poly1305 for handshake fields from Bouncy
 * Castle, ChaCha20-Poly1305 for transport data from the JDK ({@link dev.pktkit.wireguard.crypto.TransportCipher}),
 * and TAI64N timestamps. Nothing here implements a cipher or hash itself.
 */
package dev.pktkit.wireguard.crypto;

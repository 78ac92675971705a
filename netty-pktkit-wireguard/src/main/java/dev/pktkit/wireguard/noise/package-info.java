/**
 * WireGuard's protocol state without any I/O: the Noise_IKpsk2 handshake ({@link
 * dev.pktkit.wireguard.noise.Handshake}), transport keypairs ({@link dev.pktkit.wireguard.noise.Keypair}) and
 * their rotation ({@link dev.pktkit.wireguard.noise.Keypairs}), the RFC 6479 replay filter ({@link
 * dev.pktkit.wireguard.noise.ReplayWindow}) and the cookie mechanism ({@link
 * dev.pktkit.wireguard.noise.CookieChecker}, {@link dev.pktkit.wireguard.noise.CookieGenerator}). Messages are
 * {@code byte[]} of the exact wire length; the endpoint copies handshake datagrams into them.
 */
package dev.pktkit.wireguard.noise;

/**
 * A WireGuard endpoint as Netty handlers: Noise IK handshake, cookies, transport codec, timers, cryptokey routing.
 *
 * <p>This module is being built; its README says what works.
 */
package dev.pktkit.wireguard;

/**
 * A WireGuard endpoint as Netty handlers: {@link dev.pktkit.wireguard.WireGuardEndpoint} on a
 * {@code DatagramChannel}, each peer a child {@link dev.pktkit.wireguard.WireGuardPeerChannel} (an L3 port),
 * wg(8)/wg-quick configuration ({@link dev.pktkit.wireguard.WireGuardConfig}), keys, timers, status and drop
 * counters. The protocol state lives in {@code noise}, the message views in {@code wire}, the primitives in
 * {@code crypto}. The module README lists what is not done yet.
 */
package dev.pktkit.wireguard;

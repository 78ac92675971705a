/**
 * An OpenVPN 2.6 server as Netty handlers: {@link dev.pktkit.openvpn.OpenVpnServer} on a UDP channel (and TCP
 * through its {@code tcpInitializer()}), the control channel with reliability layer and TLS, key method 2, NCP,
 * push, asynchronous authentication, and each connected client as an {@link dev.pktkit.openvpn.OpenVpnClientChannel}
 * (TUN mode). TAP mode, tls-crypt(-v2), renegotiation and the client role are not built yet; the README lists what
 * works and what does not.
 */
package dev.pktkit.openvpn;

/**
 * OpenVPN 2.6 as Netty handlers: {@link dev.pktkit.openvpn.OpenVpnServer} on a UDP channel (and TCP through its
 * {@code tcpInitializer()}), each connected client an {@link dev.pktkit.openvpn.OpenVpnClientChannel} (TUN or TAP
 * mode); {@link dev.pktkit.openvpn.OpenVpnClient}, the client role of the same protocol code, whose tunnel is an
 * {@link dev.pktkit.openvpn.OpenVpnTunnelChannel}; {@link dev.pktkit.openvpn.OpenVpnServerConfig} for OpenVPN-style
 * server files. The control channel (reliability layer, TLS, tls-auth / tls-crypt / tls-crypt-v2), key method 2,
 * NCP, push, asynchronous authentication and the data ciphers are shared by both roles. The multi-core data channel
 * is not built; the README lists what works and what does not.
 */
package dev.pktkit.openvpn;

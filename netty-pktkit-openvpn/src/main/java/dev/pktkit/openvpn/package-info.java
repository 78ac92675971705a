/**
 * An OpenVPN 2.6 server (and client) as Netty handlers: control channel with reliability layer and TLS, key method 2, NCP, data channel ciphers, UDP and TCP, TUN and TAP mode.
 *
 * <p>This module is being built; its README says what works.
 */
package dev.pktkit.openvpn;

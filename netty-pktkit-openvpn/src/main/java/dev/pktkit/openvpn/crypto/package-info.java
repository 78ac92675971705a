/**
 * OpenVPN cryptography: static keys and key directions, control-channel protection ({@code tls-auth}), the
 * packet-ID replay window. Uses the JDK's providers ({@code Mac}, {@code Cipher}).
 */
package dev.pktkit.openvpn.crypto;

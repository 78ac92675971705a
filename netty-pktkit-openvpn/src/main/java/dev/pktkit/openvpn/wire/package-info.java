/**
 * OpenVPN's wire format: opcodes, control packets (session IDs, ack arrays, message IDs) and data packet headers,
 * as zero-copy accessors over {@code ByteBuf}s plus parsed "repr" records for tests and the handshake.
 *
 * <p>Control-channel protection (tls-auth, tls-crypt) lives in {@code dev.pktkit.openvpn.crypto}; the accessors
 * here read the plain form that remains once it is removed.
 */
package dev.pktkit.openvpn.wire;

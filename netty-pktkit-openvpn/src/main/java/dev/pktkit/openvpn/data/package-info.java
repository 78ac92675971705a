/** The data channel: key derivation (TLS exporter or OpenVPN's PRF) and the AEAD packet format. */
package dev.pktkit.openvpn.data;

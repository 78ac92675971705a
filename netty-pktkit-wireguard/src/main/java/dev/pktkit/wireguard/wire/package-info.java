/**
 * WireGuard's four message kinds as zero-copy views over a {@code ByteBuf} (static accessors at an absolute
 * offset, never allocating or moving indices) plus {@link dev.pktkit.wireguard.wire.MessageDecoder#classify},
 * which checks type, reserved bytes and exact or minimum length before any crypto runs. Integers on the wire are
 * little-endian.
 */
package dev.pktkit.wireguard.wire;

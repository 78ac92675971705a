package dev.pktkit.nat;

import dev.pktkit.codec.wire.Ip4;

/**
 * One remote peer (an IPv4 prefix and a port, 0 for any) allowed to open inbound sessions on a mapping that has
 * remote filters ({@link NatEngine#setRemoteFilters}): PCP's FILTER option (RFC 6887 §13.3) as the engine keeps it.
 *
 * @param address      the remote address; only its first {@code prefixLength} bits count
 * @param prefixLength 0 (any address) to 32
 * @param port         the remote port, or 0 for any
 */
public record RemoteFilter(int address, int prefixLength, int port) {
    public RemoteFilter {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " not in 0..32");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " not in 0..65535");
        }
        address &= mask(prefixLength);
    }

    /** The network mask of a prefix length (0 for /0). */
    static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    /** Whether a packet from {@code remoteAddress:remotePort} is one this filter allows. */
    public boolean matches(int remoteAddress, int remotePort) {
        return (remoteAddress & mask(prefixLength)) == address && (port == 0 || port == remotePort);
    }

    @Override
    public String toString() {
        return Ip4.format(address) + "/" + prefixLength + ":" + (port == 0 ? "*" : String.valueOf(port));
    }
}

package dev.pktkit.nat;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;

/**
 * A snapshot of one mapping (binding) of an inside endpoint to an outside endpoint, as reported in events and
 * {@link NatEngine#mappings()}. For ICMP the "ports" are echo identifiers.
 *
 * @param namespace    the inside namespace id
 * @param protocol     {@link IpProtocol#TCP}, {@link IpProtocol#UDP} or {@link IpProtocol#ICMP}
 * @param insideAddress  inside IPv4 address
 * @param insidePort   inside port (or ICMP identifier)
 * @param outsideAddress outside IPv4 address
 * @param outsidePort  outside port (or ICMP identifier)
 * @param permanent    a static mapping or port forward (never expires)
 */
public record NatMapping(int namespace, int protocol, int insideAddress, int insidePort, int outsideAddress,
                         int outsidePort, boolean permanent) {
    @Override
    public String toString() {
        return IpProtocol.name(protocol) + " ns" + namespace + " " + Ip4.format(insideAddress) + ":" + insidePort
                + " <-> " + Ip4.format(outsideAddress) + ":" + outsidePort + (permanent ? " (static)" : "");
    }
}

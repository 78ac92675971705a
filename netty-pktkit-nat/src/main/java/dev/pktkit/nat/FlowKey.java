package dev.pktkit.nat;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;

/**
 * One session as the inside sees it: namespace, protocol, inside endpoint and remote endpoint. ALGs name their
 * control flow with it when they {@link NatEngine#expect announce} a related flow.
 */
public record FlowKey(int namespace, int protocol, int insideAddress, int insidePort, int remoteAddress,
                      int remotePort) {
    @Override
    public String toString() {
        return IpProtocol.name(protocol) + " ns" + namespace + " " + Ip4.format(insideAddress) + ":" + insidePort
                + " <-> " + Ip4.format(remoteAddress) + ":" + remotePort;
    }
}

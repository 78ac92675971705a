package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.HelperPacket;

/**
 * TFTP (RFC 1350) through the NAT: an inside client's read or write request to a configured port (69) expects
 * the server's answer from a new port (its transfer identifier) to the client's outside endpoint, which
 * address-and-port-dependent filtering would otherwise refuse. Nothing is rewritten. One pending expectation
 * per request flow (a retransmitted request does not add another).
 */
public final class TftpAlg extends Alg {
    TftpAlg(AlgConfig config) {
        super(config);
    }

    @Override
    public String name() {
        return "tftp";
    }

    @Override
    boolean claim(int protocol, int insidePort, int remotePort, boolean fromOutside) {
        return protocol == IpProtocol.UDP && !fromOutside && AlgConfig.contains(config.tftpPorts, remotePort);
    }

    @Override
    public boolean packet(HelperPacket p, int slot) {
        counters.increment(AlgEvent.PACKETS);
        if (!p.isOutbound()) {
            return true;
        }
        if (p.payloadLength() < 4) {
            counters.increment(AlgEvent.MALFORMED);
            return true;
        }
        int opcode = p.buffer().getUnsignedShort(p.payloadOffset());
        if (opcode != 1 && opcode != 2) { // RRQ, WRQ
            counters.increment(AlgEvent.MALFORMED);
            return true;
        }
        counters.increment(AlgEvent.MESSAGES);
        expect(p, slot, IpProtocol.UDP, p.insideAddress(), p.insidePort(), p.remoteAddress(), 0, 0);
        return true;
    }
}

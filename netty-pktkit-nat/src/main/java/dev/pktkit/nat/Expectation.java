package dev.pktkit.nat;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import io.netty.util.internal.ObjectUtil;

import java.time.Duration;

/**
 * A flow that a control flow announces (an FTP data connection, a TFTP reply from a new port, RTP after SIP):
 * the NAT reserves an outside endpoint for the inside endpoint and admits the first inbound packet from the
 * expected remote to it, whatever the filtering behaviour, then forgets the expectation (one shot). See
 * {@link NatEngine#expect}.
 *
 * @param master          the control flow; bounds are counted per master
 * @param protocol        {@link IpProtocol#TCP} or {@link IpProtocol#UDP}
 * @param insideAddress   where the expected flow goes on the inside
 * @param insidePort      its inside port
 * @param remoteAddress   the remote that will open it, or 0 for any
 * @param remotePort      the remote's port, or 0 for any
 * @param outsidePort     the outside port to reserve, or 0 to let the NAT choose (the existing mapping of the
 *                        inside endpoint if there is one, else a new one with port preservation)
 * @param timeout         how long the expectation waits for its first packet
 */
public record Expectation(FlowKey master, int protocol, int insideAddress, int insidePort, int remoteAddress,
                          int remotePort, int outsidePort, Duration timeout) {
    public Expectation {
        ObjectUtil.checkNotNull(master, "master");
        ObjectUtil.checkNotNull(timeout, "timeout");
        if (protocol != IpProtocol.TCP && protocol != IpProtocol.UDP) {
            throw new IllegalArgumentException("expectations are for TCP or UDP, not " + IpProtocol.name(protocol));
        }
        if (insidePort < 1 || insidePort > 65535 || remotePort < 0 || remotePort > 65535 || outsidePort < 0
                || outsidePort > 65535) {
            throw new IllegalArgumentException("port out of range");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
    }

    /** Inside namespace: the master's. */
    public int namespace() {
        return master.namespace();
    }

    @Override
    public String toString() {
        return "Expectation{" + IpProtocol.name(protocol) + " " + (remoteAddress == 0 ? "*" : Ip4.format(remoteAddress))
                + ":" + (remotePort == 0 ? "*" : remotePort) + " -> " + Ip4.format(insideAddress) + ":" + insidePort
                + ", master " + master + ", timeout " + timeout + '}';
    }
}

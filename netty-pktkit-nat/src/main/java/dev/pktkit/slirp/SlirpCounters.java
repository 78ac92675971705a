package dev.pktkit.slirp;

import java.util.concurrent.atomic.LongAdder;

/** What one {@link Slirp} did and refused; safe to read from any thread. */
public final class SlirpCounters {
    final LongAdder tcpConnects = new LongAdder();
    final LongAdder tcpEstablished = new LongAdder();
    final LongAdder tcpRefusedByHost = new LongAdder();
    final LongAdder tcpRefusedByPolicy = new LongAdder();
    final LongAdder tcpRefusedByLimit = new LongAdder();
    final LongAdder tcpResetsRelayed = new LongAdder();
    final LongAdder tcpIdleClosed = new LongAdder();
    final LongAdder udpFlowsOpened = new LongAdder();
    final LongAdder udpFlowsExpired = new LongAdder();
    final LongAdder udpDroppedByPolicy = new LongAdder();
    final LongAdder udpDroppedByLimit = new LongAdder();
    final LongAdder udpDatagramsOut = new LongAdder();
    final LongAdder udpDatagramsIn = new LongAdder();
    final LongAdder icmpEchoForwarded = new LongAdder();
    final LongAdder icmpEchoReplies = new LongAdder();
    final LongAdder icmpProhibited = new LongAdder();
    final LongAdder forwardConnections = new LongAdder();
    final LongAdder forwardRefusedByGuest = new LongAdder();
    final LongAdder forwardRefusedByLimit = new LongAdder();
    final LongAdder forwardUdpFlows = new LongAdder();
    final LongAdder dnsQueries = new LongAdder();
    final LongAdder dnsAnswers = new LongAdder();
    final LongAdder dnsMalformed = new LongAdder();
    final LongAdder dnsMismatched = new LongAdder();
    final LongAdder dnsDropped = new LongAdder();
    final LongAdder dnsRetries = new LongAdder();
    final LongAdder dnsTimeouts = new LongAdder();
    final LongAdder icmpDatagramSockets = new LongAdder();
    final LongAdder icmpRawSockets = new LongAdder();
    final LongAdder icmpDroppedByLimit = new LongAdder();
    final LongAdder icmpSendFailed = new LongAdder();
    final LongAdder icmpOpenFailures = new LongAdder();
    /** Why the last ICMP socket did not open; null while none failed. */
    volatile String icmpOpenFailure;

    void icmpOpenFailed(String reason) {
        icmpOpenFailure = reason;
        icmpOpenFailures.increment();
    }

    /** Guest SYNs that started a host connect. */
    public long tcpConnects() {
        return tcpConnects.sum();
    }

    /** Host connects that succeeded (the guest then got its SYN-ACK). */
    public long tcpEstablished() {
        return tcpEstablished.sum();
    }

    /** Host connects that failed (refused, unreachable, timed out): the guest got the configured refusal. */
    public long tcpRefusedByHost() {
        return tcpRefusedByHost.sum();
    }

    /** Guest SYNs to a destination the egress policy (or a disabled loopback mapping) forbids. */
    public long tcpRefusedByPolicy() {
        return tcpRefusedByPolicy.sum();
    }

    /** Guest SYNs refused because a connection bound (per namespace or total) or the pending-connect bound was reached. */
    public long tcpRefusedByLimit() {
        return tcpRefusedByLimit.sum();
    }

    /** Resets passed from one side to the other. */
    public long tcpResetsRelayed() {
        return tcpResetsRelayed.sum();
    }

    /** Relayed TCP connections reset both ways after the TCP idle timeout. */
    public long tcpIdleClosed() {
        return tcpIdleClosed.sum();
    }

    /** UDP flows (guest address and port, destination) that got a host socket. */
    public long udpFlowsOpened() {
        return udpFlowsOpened.sum();
    }

    /** UDP flows closed after their idle timeout. */
    public long udpFlowsExpired() {
        return udpFlowsExpired.sum();
    }

    /** Guest datagrams dropped by the egress policy. */
    public long udpDroppedByPolicy() {
        return udpDroppedByPolicy.sum();
    }

    /** Guest datagrams dropped because a flow bound (per namespace, per forward or total) or a flow's pending queue was full. */
    public long udpDroppedByLimit() {
        return udpDroppedByLimit.sum();
    }

    /** Datagrams sent from host sockets on behalf of guests. */
    public long udpDatagramsOut() {
        return udpDatagramsOut.sum();
    }

    /** Datagrams received on host sockets and passed to guests. */
    public long udpDatagramsIn() {
        return udpDatagramsIn.sum();
    }

    /** ICMP echo requests sent out of a host ICMP socket. */
    public long icmpEchoForwarded() {
        return icmpEchoForwarded.sum();
    }

    /** Echo replies received on a host ICMP socket and passed to guests. */
    public long icmpEchoReplies() {
        return icmpEchoReplies.sum();
    }

    /** Echo requests answered with ICMP administratively prohibited (no ICMP socket could be opened, or policy). */
    public long icmpProhibited() {
        return icmpProhibited.sum();
    }

    /** Host connections through a TCP port forward that reached the guest. */
    public long forwardConnections() {
        return forwardConnections.sum();
    }

    /** Host connections through a TCP port forward that the guest refused (or did not answer): reset. */
    public long forwardRefusedByGuest() {
        return forwardRefusedByGuest.sum();
    }

    /** Host connections through a TCP port forward reset because the namespace's connection bound was reached. */
    public long forwardRefusedByLimit() {
        return forwardRefusedByLimit.sum();
    }

    /** Remote addresses that got a UDP flow through a UDP port forward. */
    public long forwardUdpFlows() {
        return forwardUdpFlows.sum();
    }

    /** Guest DNS queries (UDP) sent upstream. */
    public long dnsQueries() {
        return dnsQueries.sum();
    }

    /** Upstream answers passed to guests. */
    public long dnsAnswers() {
        return dnsAnswers.sum();
    }

    /** Guest queries or upstream answers that did not parse (or had other than one question): dropped. */
    public long dnsMalformed() {
        return dnsMalformed.sum();
    }

    /** Upstream answers with an unknown ID, from another address, or for another question: dropped. */
    public long dnsMismatched() {
        return dnsMismatched.sum();
    }

    /** Guest queries dropped because {@code maxDnsQueries} wait already. */
    public long dnsDropped() {
        return dnsDropped.sum();
    }

    /** Queries resent to the next upstream after the DNS timeout. */
    public long dnsRetries() {
        return dnsRetries.sum();
    }

    /** Queries no upstream answered: dropped (the guest's resolver retries). */
    public long dnsTimeouts() {
        return dnsTimeouts.sum();
    }

    /** ICMP datagram sockets opened (one per namespace and family at most). */
    public long icmpDatagramSockets() {
        return icmpDatagramSockets.sum();
    }

    /** ICMP raw sockets opened because a datagram socket was refused ({@code ping_group_range}). */
    public long icmpRawSockets() {
        return icmpRawSockets.sum();
    }

    /** Echo requests dropped because the pending-echo table or the queue of a socket being opened was full. */
    public long icmpDroppedByLimit() {
        return icmpDroppedByLimit.sum();
    }

    /** Echo requests the host socket refused to send (full socket buffer, unreachable). */
    public long icmpSendFailed() {
        return icmpSendFailed.sum();
    }

    /**
     * ICMP sockets that did not open (per namespace and family, once each): from then on that family's echo
     * requests are answered with administratively prohibited ({@link #icmpProhibited()}).
     */
    public long icmpOpenFailures() {
        return icmpOpenFailures.sum();
    }

    /**
     * Why the last ICMP socket did not open — {@code netty-pktkit-linux} missing or not usable (native access),
     * the datagram socket refused ({@code EACCES}: {@code ping_group_range}) and the raw one too ({@code EPERM}:
     * no {@code CAP_NET_RAW}), or the namespace not entered — or null when none failed.
     */
    public String icmpOpenFailure() {
        return icmpOpenFailure;
    }

    @Override
    public String toString() {
        return "SlirpCounters(tcp connects=" + tcpConnects() + " established=" + tcpEstablished()
                + " refused host/policy/limit=" + tcpRefusedByHost() + "/" + tcpRefusedByPolicy() + "/"
                + tcpRefusedByLimit() + " resets=" + tcpResetsRelayed() + " idle=" + tcpIdleClosed() + ", udp flows=" + udpFlowsOpened()
                + " expired=" + udpFlowsExpired() + " out/in=" + udpDatagramsOut() + "/" + udpDatagramsIn()
                + ", dns queries=" + dnsQueries() + " answers=" + dnsAnswers() + " malformed=" + dnsMalformed()
                + " timeouts=" + dnsTimeouts() + ", icmp echo=" + icmpEchoForwarded() + " replies=" + icmpEchoReplies() + " prohibited="
                + icmpProhibited() + " sockets dgram/raw=" + icmpDatagramSockets() + "/" + icmpRawSockets()
                + " open failures=" + icmpOpenFailures() + (icmpOpenFailure == null ? "" : " (" + icmpOpenFailure + ")")
                + ")";
    }
}

package dev.pktkit.openvpn.reliable;

import java.time.Duration;

/**
 * Bounds and timers of the control channel's reliability layer. The defaults are OpenVPN 2.6's: a send window of
 * 6 messages ({@code TLS_RELIABLE_N_SEND_BUFFERS}), 12 receive slots ({@code TLS_RELIABLE_N_REC_BUFFERS}), at most
 * 8 pending acks ({@code RELIABLE_ACK_SIZE}) of which 4 ride on each packet ({@code CONTROL_SEND_ACK_MAX}),
 * a first retransmission after {@code tls-timeout} 2 s doubling on every retry, a fast retransmission after 3
 * acks of later messages, and the whole handshake bounded by {@code hand-window} 60 s.
 */
public record ReliableConfig(int sendWindow, int receiveSlots, int pendingAcks, int piggybackAcks,
                             Duration tlsTimeout, Duration handWindow, int fastRetransmitAcks) {

    public static final ReliableConfig DEFAULT =
            new ReliableConfig(6, 12, 8, 4, Duration.ofSeconds(2), Duration.ofSeconds(60), 3);

    public ReliableConfig {
        if (sendWindow < 1 || sendWindow > 64) {
            throw new IllegalArgumentException("sendWindow " + sendWindow + " not in 1..64");
        }
        if (receiveSlots < 1 || receiveSlots > 64) {
            throw new IllegalArgumentException("receiveSlots " + receiveSlots + " not in 1..64");
        }
        if (pendingAcks < 1 || pendingAcks > 64) {
            throw new IllegalArgumentException("pendingAcks " + pendingAcks + " not in 1..64");
        }
        if (piggybackAcks < 1 || piggybackAcks > 8) {
            throw new IllegalArgumentException("piggybackAcks " + piggybackAcks + " not in 1..8 (wire limit)");
        }
        if (tlsTimeout.isNegative() || tlsTimeout.isZero() || handWindow.compareTo(tlsTimeout) < 0) {
            throw new IllegalArgumentException("need 0 < tlsTimeout <= handWindow");
        }
        if (fastRetransmitAcks < 1) {
            throw new IllegalArgumentException("fastRetransmitAcks must be positive");
        }
    }

    public ReliableConfig withTlsTimeout(Duration d) {
        return new ReliableConfig(sendWindow, receiveSlots, pendingAcks, piggybackAcks, d, handWindow,
                fastRetransmitAcks);
    }

    public ReliableConfig withHandWindow(Duration d) {
        return new ReliableConfig(sendWindow, receiveSlots, pendingAcks, piggybackAcks, tlsTimeout, d,
                fastRetransmitAcks);
    }
}

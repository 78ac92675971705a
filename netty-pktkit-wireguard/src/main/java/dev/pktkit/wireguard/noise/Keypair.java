package dev.pktkit.wireguard.noise;

import dev.pktkit.wireguard.crypto.TransportCipher;

/**
 * A transport session derived from one handshake: the sending and receiving ciphers, the index pair that
 * names it on the wire, the next sending counter and the replay filter of received counters.
 *
 * <p>Owned by one peer on one event loop: not thread-safe.
 */
public final class Keypair {
    private final TransportCipher send;
    private final TransportCipher receive;
    private final boolean initiator;
    private final int localIndex;
    private final int remoteIndex;
    private final long createdNanos;
    private final ReplayWindow replay = new ReplayWindow();
    private long sendCounter;

    Keypair(byte[] sendKey, byte[] receiveKey, boolean initiator, int localIndex, int remoteIndex, long createdNanos) {
        this.send = new TransportCipher(sendKey, true);
        this.receive = new TransportCipher(receiveKey, false);
        this.initiator = initiator;
        this.localIndex = localIndex;
        this.remoteIndex = remoteIndex;
        this.createdNanos = createdNanos;
    }

    /** Whether this side initiated the handshake (only the initiator rekeys on REKEY_AFTER_TIME). */
    public boolean isInitiator() {
        return initiator;
    }

    /** Our index: the receiver index of packets sealed for us with this keypair. */
    public int localIndex() {
        return localIndex;
    }

    /** The peer's index: what we put in the receiver field. */
    public int remoteIndex() {
        return remoteIndex;
    }

    /** Monotonic time the keypair was derived. */
    public long createdNanos() {
        return createdNanos;
    }

    public TransportCipher sendCipher() {
        return send;
    }

    public TransportCipher receiveCipher() {
        return receive;
    }

    public ReplayWindow replay() {
        return replay;
    }

    /** The counter the next sealed packet gets, then advances it. */
    public long nextSendCounter() {
        return sendCounter++;
    }

    /** Counters handed out so far. */
    public long sendCounter() {
        return sendCounter;
    }

    /** Zeroes both keys; the keypair refuses to seal or open afterwards. */
    public void destroy() {
        send.destroy();
        receive.destroy();
    }
}

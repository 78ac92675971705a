package dev.pktkit.vtcp.engine;

/**
 * The application side of a listening endpoint ({@link TcpEngine#listen}). Called on the engine's thread.
 *
 * <p>Flow of a passive open: a SYN arrives → {@link #onSyn} decides; for {@link SynVerdict#ACCEPT} the engine
 * answers with a SYN-ACK, and when the handshake completes (RFC 9293 §3.10.7.4, SYN-RECEIVED → ESTABLISHED)
 * it calls {@link #onAccepted}, whose returned handler receives every later event of the connection, starting
 * with {@link TcpConnectionHandler#onEstablished} and any data carried by the handshake-completing ACK.
 */
public interface TcpListener {
    /**
     * An acceptable SYN arrived for this listener. {@code syn} describes the flow and is valid only during the
     * call. The default accepts.
     */
    default SynVerdict onSyn(TcpFlow syn) {
        return SynVerdict.ACCEPT;
    }

    /**
     * {@link #onSyn} returned {@link SynVerdict#DEFER}: {@code pending} is the connection in
     * {@link TcpState#SYN_RECEIVED} (no SYN-ACK sent yet). Call {@link TcpConnection#acceptDeferred()} or
     * {@link TcpConnection#refuseDeferred} on it now or later. If the peer gives up first (RST) or the listener
     * closes, the entry goes away; {@link TcpConnection#state()} then says {@link TcpState#CLOSED}.
     */
    default void onDeferred(TcpConnection pending) {
        pending.refuseDeferred(SynVerdict.REJECT_RST);
    }

    /**
     * The three-way handshake completed. Return the handler for the connection's events; returning {@code null}
     * resets the connection (for example because the host's accept queue is full).
     */
    TcpConnectionHandler onAccepted(TcpConnection connection);
}

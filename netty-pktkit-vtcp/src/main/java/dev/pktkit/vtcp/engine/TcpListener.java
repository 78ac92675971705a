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
     * {@link TcpConnection#refuseDeferred} on it now or later. If the peer gives up first (RST) or the entry
     * expires ({@link TcpEngineConfig#deferredTimeoutNanos()}), the entry goes away and
     * {@link #onDeferredAborted} is called; when the listener closes, pending entries are reset without a call.
     * {@link TcpConnection#state()} then says {@link TcpState#CLOSED}.
     */
    default void onDeferred(TcpConnection pending) {
        pending.refuseDeferred(SynVerdict.REJECT_RST);
    }

    /**
     * A connection handed to {@link #onDeferred} died before the application accepted or refused it: the peer
     * reset it ({@code cause} a {@link java.net.ConnectException}) or it waited longer than
     * {@link TcpEngineConfig#deferredTimeoutNanos()} ({@code cause} a {@link java.io.IOException} saying so).
     * {@code pending} is already {@link TcpState#CLOSED}; calling {@code acceptDeferred()} or
     * {@code refuseDeferred()} on it does nothing. Called at most once per pending connection, never after the
     * application's own accept or refuse, nor when the listener itself is closed. Hosts that keep an object per
     * pending connection (an unaccepted child channel) should drop it here. The default does nothing.
     */
    default void onDeferredAborted(TcpConnection pending, Throwable cause) {
    }

    /**
     * The three-way handshake completed. Return the handler for the connection's events; returning {@code null}
     * resets the connection (for example because the host's accept queue is full).
     */
    TcpConnectionHandler onAccepted(TcpConnection connection);
}

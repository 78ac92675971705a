package dev.pktkit.vtcp.engine;

import io.netty.buffer.ByteBuf;

/**
 * A connection's events, delivered on the engine's thread. Every method has a default so that a handler
 * implements what it needs; the default {@link #onData} releases the data.
 */
public interface TcpConnectionHandler {
    /** The connection reached ESTABLISHED (active open: SYN-ACK received; passive: handshake ACK received). */
    default void onEstablished(TcpConnection connection) {
    }

    /**
     * In-order data arrived. Ownership of {@code data} passes to the handler. The bytes occupy the receive
     * window until the application reports them with {@link TcpConnection#consumed(int)}, unless
     * {@link TcpSocketOptions#autoConsume()} is on (then the window reopens as soon as this returns).
     */
    default void onData(TcpConnection connection, ByteBuf data) {
        data.release();
    }

    /**
     * The peer sent FIN (RFC 9293 §3.10.7.4 eighth step): no more data will arrive. Writing is still possible
     * (half-close) until {@link TcpConnection#shutdownOutput()} or {@link TcpConnection#close()}.
     */
    default void onPeerFin(TcpConnection connection) {
    }

    /**
     * {@link TcpConnection#isWritable()} changed: the bytes in the send buffer (unsent plus unacknowledged) rose
     * above {@link TcpSocketOptions#sendBufferHighWaterMark()} or fell below the low water mark.
     */
    default void onWritabilityChanged(TcpConnection connection, boolean writable) {
    }

    /**
     * The connection is gone (CLOSED or TIME-WAIT; called exactly once). {@code cause} is {@code null} after an
     * orderly close of both directions, else:
     * <ul>
     *   <li>{@link java.net.ConnectException} "Connection refused" — a RST answered our SYN (or an ICMP hard
     *       error arrived in SYN-SENT: then {@link java.net.NoRouteToHostException} or
     *       {@link java.net.PortUnreachableException}-style messages in a {@code ConnectException});</li>
     *   <li>{@link io.netty.channel.ConnectTimeoutException} — the SYN was retransmitted
     *       {@link TcpSocketOptions#synRetries()} times without answer;</li>
     *   <li>{@link java.io.IOException} "Connection reset by peer" — a RST in a synchronized state;</li>
     *   <li>{@link java.io.IOException} "Connection timed out" — data retransmissions or keepalive probes
     *       exhausted (with the last soft ICMP error as message where one arrived, RFC 1122 §4.2.3.9);</li>
     *   <li>{@link java.io.IOException} "Connection aborted" — {@link TcpConnection#abort()} or the engine
     *       closed.</li>
     * </ul>
     * Data not yet acknowledged is released by the engine.
     */
    default void onClosed(TcpConnection connection, Throwable cause) {
    }
}

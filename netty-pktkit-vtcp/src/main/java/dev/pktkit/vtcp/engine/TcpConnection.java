package dev.pktkit.vtcp.engine;

import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;

/**
 * One TCP connection (RFC 9293 transmission control block and state machine). Created by
 * {@link TcpEngine#connect} or by a listener; all methods run on the engine's thread.
 */
public final class TcpConnection implements TcpFlow {
    TcpConnection() {
    }

    /** The RFC 9293 state. */
    public TcpState state() {
        throw new UnsupportedOperationException();
    }

    /**
     * Queues {@code data} in the send buffer (ownership passes; the buffer is held, not copied, and retransmitted
     * as slices). The bytes go out on {@link #flush()} as the windows allow. The send buffer bound is enforced
     * through {@link #isWritable()}, as Netty's outbound buffer does: a write while not writable is still
     * accepted. A write promise may complete when this returns {@code true}.
     *
     * @return {@code false} (and {@code data} released) if the output is shut down or the connection closed
     */
    public boolean write(ByteBuf data) {
        throw new UnsupportedOperationException();
    }

    /** Sends what the windows, Nagle (unless NODELAY) and the congestion window allow. */
    public void flush() {
        throw new UnsupportedOperationException();
    }

    /**
     * The application consumed {@code bytes} of delivered data: the receive window opens by that much (a window
     * update is sent when it grew by at least 2 MSS or half the buffer, RFC 9293 §3.8.6.2.2 / RFC 1122
     * §4.2.3.3). Not needed with {@link TcpSocketOptions#autoConsume()}.
     */
    public void consumed(int bytes) {
        throw new UnsupportedOperationException();
    }

    /** Sends FIN after the queued data (half-close, RFC 9293 §3.10.4); reading continues. Idempotent. */
    public void shutdownOutput() {
        throw new UnsupportedOperationException();
    }

    /**
     * Closes both directions: FIN after the queued data; data arriving afterwards is answered with RST (RFC 9293
     * §3.6 / RFC 1122 §4.2.2.13). With {@link TcpSocketOptions#lingerSeconds()} 0 this is {@link #abort()}.
     * For a deferred connection, refuses it with RST.
     */
    public void close() {
        throw new UnsupportedOperationException();
    }

    /** Sends RST and drops the connection at once (SO_LINGER 0, RFC 9293 §3.10.5). */
    public void abort() {
        throw new UnsupportedOperationException();
    }

    /** For a connection deferred by {@link SynVerdict#DEFER}: sends the SYN-ACK now. */
    public void acceptDeferred() {
        throw new UnsupportedOperationException();
    }

    /**
     * For a deferred connection: refuses it ({@link SynVerdict#REJECT_RST}, {@link SynVerdict#REJECT_ICMP} or
     * {@link SynVerdict#DROP}) and forgets it.
     */
    public void refuseDeferred(SynVerdict how) {
        throw new UnsupportedOperationException();
    }

    /** Whether the bytes in the send buffer are below the high water mark (with hysteresis, see the options). */
    public boolean isWritable() {
        throw new UnsupportedOperationException();
    }

    /** Bytes in the send buffer: queued but unsent plus sent but unacknowledged. */
    public int sendBufferBytes() {
        throw new UnsupportedOperationException();
    }

    /** {@link TcpSocketOptions#sendBufferHighWaterMark()} minus {@link #sendBufferBytes()} (may be negative). */
    public int sendBufferFree() {
        throw new UnsupportedOperationException();
    }

    /** Whether our FIN was queued (shutdownOutput or close). */
    public boolean isOutputShutdown() {
        throw new UnsupportedOperationException();
    }

    /** Whether the peer's FIN arrived. */
    public boolean isInputShutdown() {
        throw new UnsupportedOperationException();
    }

    /** Whether the connection is deferred, waiting for {@link #acceptDeferred()}. */
    public boolean isDeferred() {
        throw new UnsupportedOperationException();
    }

    public void setNoDelay(boolean on) {
        throw new UnsupportedOperationException();
    }

    /** Turns keepalive on or off with the current idle/interval/count. */
    public void setKeepAlive(boolean on) {
        throw new UnsupportedOperationException();
    }

    /** Sets SO_LINGER for a later {@link #close()} (0 = abort). */
    public void setLinger(int seconds) {
        throw new UnsupportedOperationException();
    }

    /** A copy of the connection's options as they are now. */
    public TcpSocketOptions options() {
        throw new UnsupportedOperationException();
    }

    /** Counters and control variables now. */
    public TcpConnectionStats stats() {
        throw new UnsupportedOperationException();
    }

    /** The handler receiving this connection's events ({@code null} before {@link TcpListener#onAccepted}). */
    public TcpConnectionHandler handler() {
        throw new UnsupportedOperationException();
    }

    /** The local address and port (allocates; control path). */
    public InetSocketAddress localAddress() {
        throw new UnsupportedOperationException();
    }

    /** The remote address and port (allocates; control path). */
    public InetSocketAddress remoteAddress() {
        throw new UnsupportedOperationException();
    }

    /** A slot for the host's own object (its channel), untouched by the engine. */
    public Object attachment() {
        throw new UnsupportedOperationException();
    }

    public void attachment(Object attachment) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean isIpv6() {
        throw new UnsupportedOperationException();
    }

    @Override
    public int localV4() {
        throw new UnsupportedOperationException();
    }

    @Override
    public int remoteV4() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long localHi() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long localLo() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long remoteHi() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long remoteLo() {
        throw new UnsupportedOperationException();
    }

    @Override
    public int localPort() {
        throw new UnsupportedOperationException();
    }

    @Override
    public int remotePort() {
        throw new UnsupportedOperationException();
    }
}

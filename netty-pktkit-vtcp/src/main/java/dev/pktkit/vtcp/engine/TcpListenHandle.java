package dev.pktkit.vtcp.engine;

/** A listening endpoint created by {@link TcpEngine#listen}; {@link #close()} stops listening. */
public interface TcpListenHandle extends AutoCloseable {
    /**
     * Stops accepting: later SYNs get RST (unless another listener matches), half-open and deferred entries of
     * this listener are reset. Established connections are not affected. Idempotent.
     */
    @Override
    void close();

    /** SYN-RECEIVED entries (incl. deferred) of this listener. */
    int halfOpen();

    int backlog();

    boolean isOpen();
}

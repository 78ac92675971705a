package dev.pktkit.vtcp.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * One host's TCP: demultiplexes inbound segments to connections, listeners and TIME-WAIT entries, answers what
 * matches nothing with RST (RFC 9293 §3.10.7.1), runs every connection's timers from one deadline heap, and
 * sends through a {@link SegmentSink}. Single-threaded (see the package documentation).
 */
public final class TcpEngine {
    /** Listen on any port ({@link #listen}). */
    public static final int ANY_PORT = -1;

    /**
     * Creates an engine.
     *
     * @param config    bounds and engine-wide settings (copied)
     * @param clock     time source in nanoseconds
     * @param scheduler how the engine asks for {@link #onTimer()} calls
     * @param sink      where outbound segments go
     * @param alloc     allocator for header buffers and copied payloads (the host's channel allocator)
     */
    public TcpEngine(TcpEngineConfig config, TcpClock clock, TcpScheduler scheduler, SegmentSink sink,
                     ByteBufAllocator alloc) {
        throw new UnsupportedOperationException("API published first; implementation follows");
    }

    /**
     * Processes one inbound IPv4 TCP segment. Never throws for wire input: a bad segment is released and counted
     * ({@link #drops(DropReason)}).
     *
     * @param segment          the TCP segment from {@code readerIndex()} (header first) to {@code writerIndex()}
     *                         (end of payload, without IP padding); ownership passes to the engine
     * @param src              the IP source address (the remote end)
     * @param dst              the IP destination address (the local end; may be any address for any-address
     *                         listeners)
     * @param ecn              the IP header's ECN bits (0..3)
     * @param checksumVerified {@code true} when the host (or offload) already verified the TCP checksum
     */
    public void input4(ByteBuf segment, int src, int dst, int ecn, boolean checksumVerified) {
        throw new UnsupportedOperationException();
    }

    /** {@link #input4} for IPv6: addresses as high and low 64 bits. */
    public void input6(ByteBuf segment, long srcHi, long srcLo, long dstHi, long dstLo, int ecn,
                       boolean checksumVerified) {
        throw new UnsupportedOperationException();
    }

    /**
     * An ICMPv4 error quoting one of our segments (RFC 5927 checks: the quoted flow must exist and the quoted
     * sequence number must be in SND.UNA..SND.NXT; otherwise it is counted as {@link DropReason#ICMP_UNMATCHED}).
     * {@link IcmpError#PACKET_TOO_BIG} lowers the path MTU to {@code mtu} (RFC 1191 §6.4 / RFC 8201 §4; never
     * below 576 for IPv4 — an MTU of 0 or below 68 falls back to 576 — or 1280 for IPv6) and retransmits with
     * the smaller MSS; hard errors abort a
     * connection in SYN-SENT/SYN-RECEIVED; soft errors are remembered as the cause if the connection later times
     * out (RFC 1122 §4.2.3.9).
     *
     * @param quotedSrc the quoted IP header's source (our local address)
     * @param quotedDst the quoted IP header's destination (the remote address)
     * @param quotedTcp the quoted bytes after the IP header from {@code readerIndex()}: at least 8 (ports and
     *                  sequence number); not released by the engine (the host keeps ownership)
     * @param mtu       for {@link IcmpError#PACKET_TOO_BIG}, the next-hop MTU from the ICMP message (0 if absent)
     */
    public void icmpError4(int quotedSrc, int quotedDst, ByteBuf quotedTcp, IcmpError error, int mtu) {
        throw new UnsupportedOperationException();
    }

    /** {@link #icmpError4} for ICMPv6 (minimum MTU 1280, RFC 8201). */
    public void icmpError6(long quotedSrcHi, long quotedSrcLo, long quotedDstHi, long quotedDstLo, ByteBuf quotedTcp,
                           IcmpError error, int mtu) {
        throw new UnsupportedOperationException();
    }

    /** Runs due timers; the host calls it when a {@link TcpScheduler#wakeAt} deadline is reached. */
    public void onTimer() {
        throw new UnsupportedOperationException();
    }

    /**
     * Active open (RFC 9293 §3.10.1): sends a SYN now and returns the connection in SYN-SENT. Events go to
     * {@code handler}: {@link TcpConnectionHandler#onEstablished} or {@link TcpConnectionHandler#onClosed} with a
     * {@link java.net.ConnectException} or {@link io.netty.channel.ConnectTimeoutException}.
     *
     * @param local   local address and port (port 1..65535: the host picks ephemeral ports, see
     *                {@link #isInUse}); IPv4 and IPv6 must match {@code remote}
     * @param remote  remote address and port
     * @param options per-connection options (copied); {@code null} for defaults
     * @throws IllegalStateException    if the 4-tuple is in use or the connection table is full
     * @throws IllegalArgumentException for mismatched families, port 0, unresolved addresses
     */
    public TcpConnection connect(InetSocketAddress local, InetSocketAddress remote, TcpSocketOptions options,
                                 TcpConnectionHandler handler) {
        throw new UnsupportedOperationException();
    }

    /**
     * Passive open: listens on {@code address} ({@code null} for any address, including addresses that are not
     * the host's: any-address listening for gateways) and {@code port} ({@link #ANY_PORT} for any). A SYN picks
     * the most specific listener: exact address and port, then any address with the port, then the address with
     * any port, then any/any. Options (copied) apply to the accepted connections.
     *
     * @param backlog SYN-RECEIVED (incl. deferred) entries of this listener before SYN cookies start (or SYNs are
     *                dropped, see {@link TcpEngineConfig#synCookies()}); at least 1
     * @throws IllegalStateException if the same address and port are already listened on
     */
    public TcpListenHandle listen(InetAddress address, int port, int backlog, TcpSocketOptions options,
                                  TcpListener listener) {
        throw new UnsupportedOperationException();
    }

    /** Whether a connection or TIME-WAIT entry uses this 4-tuple (for the host's ephemeral port choice). */
    public boolean isInUse(InetSocketAddress local, InetSocketAddress remote) {
        throw new UnsupportedOperationException();
    }

    /** Segments dropped for {@code reason} since the engine started. */
    public long drops(DropReason reason) {
        throw new UnsupportedOperationException();
    }

    /** All drop counters, indexed by {@link DropReason#ordinal()} (a copy). */
    public long[] dropCounts() {
        throw new UnsupportedOperationException();
    }

    /** Connections (not TIME-WAIT, not listeners), half-open ones included. */
    public int connectionCount() {
        throw new UnsupportedOperationException();
    }

    /** SYN-RECEIVED entries, deferred ones included. */
    public int halfOpenCount() {
        throw new UnsupportedOperationException();
    }

    /** TIME-WAIT entries. */
    public int timeWaitCount() {
        throw new UnsupportedOperationException();
    }

    /** SYN-ACKs sent with a SYN cookie. */
    public long synCookiesSent() {
        throw new UnsupportedOperationException();
    }

    /** Connections established from a valid SYN cookie. */
    public long synCookiesAccepted() {
        throw new UnsupportedOperationException();
    }

    /** The clock this engine runs on. */
    public TcpClock clock() {
        throw new UnsupportedOperationException();
    }

    /**
     * Aborts every connection (RST; {@link TcpConnectionHandler#onClosed} with "Connection aborted"), closes every
     * listener and forgets TIME-WAIT entries, releasing all buffers. The engine is unusable afterwards.
     */
    public void close() {
        throw new UnsupportedOperationException();
    }
}

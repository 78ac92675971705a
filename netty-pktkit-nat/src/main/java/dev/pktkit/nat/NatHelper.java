package dev.pktkit.nat;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;

/**
 * A connection-tracking helper (an application-level gateway, ALG) hooked into {@link NatEngine}: it claims new
 * sessions it understands (an FTP control connection, a TFTP request) and then sees every packet of those
 * sessions that carries payload, before the NAT rewrites the headers. It may rewrite the payload (its length may
 * change: the engine then fixes the IP and transport lengths and checksums, and for TCP keeps a per-direction
 * sequence/acknowledgement offset for the rest of the connection, SACK blocks included) and announce related
 * flows with {@link NatEngine#expect}. The ALGs of {@code dev.pktkit.nat.alg} implement it.
 *
 * <p>All methods run on the NAT's event loop. Sessions of other flows never reach a helper: the cost for them is
 * one array read per packet.
 */
public interface NatHelper {
    /**
     * Whether a new session is a control flow of this helper. Called once per new IPv4 TCP/UDP session while
     * helpers are installed; the first helper that claims it gets it.
     *
     * @param protocol    TCP or UDP
     * @param insidePort  the inside endpoint's port
     * @param remotePort  the remote endpoint's port
     * @param fromOutside the session was opened from the outside (a port forward, a filtering decision or an
     *                    expectation), not by the inside host
     */
    boolean claims(int protocol, int insidePort, int remotePort, boolean fromOutside);

    /**
     * The same question with the session's addresses, for helpers whose control flows are announced by another
     * flow (H.323's H.245 connection on a port named in call signalling). By default the port-only form.
     *
     * @param namespace     the inside namespace
     * @param insideAddress the inside host
     * @param remoteAddress the remote host
     */
    default boolean claims(int namespace, int protocol, int insideAddress, int insidePort, int remoteAddress,
                           int remotePort, boolean fromOutside) {
        return claims(protocol, insidePort, remotePort, fromOutside);
    }

    /**
     * A packet with payload of a claimed session, not yet translated (the inside host's addresses on outbound
     * packets, the outside endpoint on inbound ones). The view is reused: do not keep it.
     *
     * @param slot the helped session's slot, {@code 0 ..} {@link NatEngine#maxHelpedSessions()}{@code -1}, for
     *             per-control-flow state the helper keeps
     * @return false to drop the packet (the helper counts why)
     */
    boolean packet(HelperPacket packet, int slot);

    /**
     * A cheap test the engine makes before {@link #packet}: false when this payload cannot need the helper (an FTP
     * segment without a line that could be PORT/EPRT/227/229), so the engine skips building the
     * {@link HelperPacket} and the call (the helper's fast path). Called on the NAT's loop for every packet with
     * payload of a claimed session; it must not change the buffer. By default true.
     *
     * @param buf           the packet, not yet translated
     * @param payloadOffset absolute index of the first payload byte
     * @param payloadLength payload bytes (at least 1)
     * @param outbound      from the inside to the outside
     */
    default boolean wants(ByteBuf buf, int payloadOffset, int payloadLength, boolean outbound) {
        return true;
    }

    /**
     * {@link #wants(ByteBuf, int, int, boolean)} from the engine's fast path, which reads a direct buffer through
     * one NIO view of it ({@link ByteBuf#internalNioBuffer}; without {@code Unsafe} each {@code ByteBuf} read costs
     * its own index, reference-count and view checks, a view read only its bounds check). Same contract; read
     * {@code view} with absolute gets only and change neither it nor the buffer. By default the
     * {@code ByteBuf} form.
     *
     * @param buf           the packet, not yet translated
     * @param view          the NIO view the engine reads {@code buf} through (its own byte order)
     * @param viewAt        index in {@code view} of the first payload byte (the same byte as
     *                      {@code payloadOffset} in {@code buf})
     * @param payloadOffset absolute index in {@code buf} of the first payload byte
     * @param payloadLength payload bytes (at least 1)
     * @param outbound      from the inside to the outside
     */
    default boolean wants(ByteBuf buf, ByteBuffer view, int viewAt, int payloadOffset, int payloadLength,
                          boolean outbound) {
        return wants(buf, payloadOffset, payloadLength, outbound);
    }

    /** The helped session in {@code slot} ended; its state may go. */
    default void sessionRemoved(int slot) {
    }
}

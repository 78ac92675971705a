package dev.pktkit.vtcp.engine;

import io.netty.buffer.ByteBuf;

/**
 * Where the engine's outbound segments go; the host implements it (wrapping each segment in an IP header and
 * writing it to its L3 port).
 *
 * <h2>Segment layout: header buffer plus payload slice</h2>
 * A segment arrives as two buffers so that retransmission never copies user data:
 * <ul>
 *   <li>{@code header}: the TCP header (with options) from {@code readerIndex()} to {@code writerIndex()}, with at
 *       least {@link TcpEngineConfig#headroom()} bytes of space before {@code readerIndex()} in which the host
 *       may write its IP (and link) header by moving {@code readerIndex} back; it is allocated by the engine's
 *       allocator and owned by the engine — not shared with anything else.</li>
 *   <li>{@code payload}: {@code null} for a segment without data, else the data as a retained slice of the
 *       application's buffers held in the send queue (or, when a segment spans several small writes, a buffer
 *       the engine filled by copying). Its bytes must not be modified: they may be sent again. With
 *       {@link TcpEngineConfig#copyPayload()} the engine copies the payload into {@code header} instead and
 *       always passes {@code null}.</li>
 * </ul>
 * The host builds one message from them (a {@code CompositeByteBuf}, or one copy into its packet buffer).
 *
 * <p>Ownership of both buffers passes to the sink, which must release them. The checksum field is filled over
 * the pseudo-header, header and payload unless {@link TcpEngineConfig#computeChecksums()} is off (checksum
 * offload: then it holds the pseudo-header sum, folded but not complemented, as Linux's {@code CHECKSUM_PARTIAL}
 * expects). The {@code flow} may be a scratch object valid only during this call.
 *
 * <p>The sink must not call back into the same engine from inside {@link #send} (for example by delivering a
 * segment to itself synchronously for a loopback connection): the engine is in the middle of processing. Defer
 * such a delivery (for example with {@code eventLoop.execute}).
 */
public interface SegmentSink {
    /**
     * Sends one segment.
     *
     * @param flow    the flow's addresses and ports ("local" is the IP source)
     * @param header  the TCP header, owned by the sink from now on
     * @param payload the data, or {@code null}; owned by the sink from now on
     * @param ecn     the IP ECN codepoint to send with (0 not-ECT, 2 ECT(0)); RFC 3168 §6.1.5 forbids ECT on
     *                retransmissions, pure ACKs and SYNs, and the engine follows it
     */
    void send(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn);

    /**
     * Sends a large segment for the device to cut into {@code segmentSize}-byte pieces (segmentation offload);
     * called instead of {@link #send} only when {@link TcpEngineConfig#largeSegmentBytes()} is above 0, for
     * segments whose payload is longer than {@code segmentSize}. The checksum field holds the pseudo-header sum
     * (over the whole segment's length, folded, not complemented: Linux's {@code CHECKSUM_PARTIAL}), whatever
     * {@link TcpEngineConfig#computeChecksums()} says; every piece gets the header's flags except that FIN and PSH
     * belong on the last piece only and CWR on the first only, as a NIC's TSO does. The default refuses: a sink
     * that cannot pass such segments on must leave the option off.
     */
    default void sendLarge(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn, int segmentSize) {
        header.release();
        if (payload != null) {
            payload.release();
        }
        throw new UnsupportedOperationException("this sink takes no large segments (largeSegmentBytes must be 0)");
    }

    /**
     * The application refused a deferred connection with {@link SynVerdict#REJECT_ICMP}: the host should answer
     * the SYN with an ICMP destination unreachable (port unreachable, or administratively prohibited, as it
     * chooses). {@code quotedTcpHeader} is a copy of the SYN's TCP header (with options) for the ICMP quote;
     * ownership passes to the sink. The default releases it and sends nothing.
     */
    default void sendUnreachable(TcpFlow flow, ByteBuf quotedTcpHeader) {
        quotedTcpHeader.release();
    }
}

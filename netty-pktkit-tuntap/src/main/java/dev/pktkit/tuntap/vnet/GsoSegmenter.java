package dev.pktkit.tuntap.vnet;

import dev.pktkit.codec.offload.Offloads;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Segmentation and checksum completion in Java: what a NIC does with a large TCP segment (TSO) and with a
 * partial checksum, for packets that arrive with a virtio-net header.
 *
 * <p>{@link #segment} cuts a large IPv4 or IPv6 TCP segment into segments of at most {@code gsoSize} payload
 * bytes, as Linux's {@code tcp_gso_segment} does: headers copied, IPv4 identification incremented per segment,
 * lengths and sequence numbers adjusted, FIN and PSH only on the last segment, CWR only on the first, every IP
 * and TCP checksum complete. {@link #completeChecksum} finishes a {@code NEEDS_CSUM} checksum in place.
 *
 * <p>Packets are TUN packets (an IP header at the reader index) or, with {@code ethernet}, TAP frames (an
 * Ethernet header, optionally one 802.1Q tag). Methods allocate only the segments; none throws for bad input.
 */
public final class GsoSegmenter {
    /** Result: the packet is inconsistent with its header (lengths, offsets, protocol); it was released. */
    public static final int MALFORMED = -1;
    /** Result: a GSO type this class does not segment (UDP fragmentation or UDP segmentation); released. */
    public static final int UNSUPPORTED = -2;

    private GsoSegmenter() {
    }

    /** Receives the segments of {@link #segment}; each call hands over one segment the consumer then owns. */
    @FunctionalInterface
    public interface SegmentConsumer {
        void accept(ByteBuf segment);
    }

    /**
     * Absolute offset of the IP header of the packet at {@code start}: {@code start} itself for TUN packets;
     * for frames, after the Ethernet header and at most one 802.1Q tag. -1 if a frame carries neither IPv4 nor
     * IPv6 or is too short. (Moved to {@link Offloads#ipOffset}.)
     */
    public static int ipOffset(ByteBuf pkt, int start, boolean ethernet) {
        return Offloads.ipOffset(pkt, start, ethernet);
    }

    /**
     * Cuts the large TCP segment in {@code pkt}'s readable bytes into segments of at most {@code gsoSize} payload
     * bytes, each a new buffer from {@code alloc} with complete checksums, handed to {@code out} in order.
     * A segment whose payload already fits is passed on as it is, with its checksum completed.
     *
     * <p>Takes ownership of {@code pkt}: it is released (or, when it fits, passed on) in every case.
     *
     * @param gsoType {@link VirtioNetHeader#GSO_TCPV4} or {@link VirtioNetHeader#GSO_TCPV6}, optionally with
     *                {@link VirtioNetHeader#GSO_ECN}
     * @return the number of segments handed to {@code out} (at least 1), or {@link #MALFORMED} /
     *         {@link #UNSUPPORTED} (nothing handed on)
     */
    public static int segment(ByteBuf pkt, boolean ethernet, int gsoType, int gsoSize, ByteBufAllocator alloc,
                              SegmentConsumer out) {
        int base = VirtioNetHeader.baseGsoType(gsoType);
        if (base != VirtioNetHeader.GSO_TCPV4 && base != VirtioNetHeader.GSO_TCPV6) {
            pkt.release();
            return UNSUPPORTED;
        }
        int start = pkt.readerIndex();
        int end = pkt.writerIndex();
        int l3 = ipOffset(pkt, start, ethernet);
        int l4 = l3 < 0 ? -1 : Offloads.tcpOffset(pkt, l3, end, base == VirtioNetHeader.GSO_TCPV4);
        if (l4 < 0 || gsoSize <= 0) {
            pkt.release();
            return MALFORMED;
        }
        int thl = (pkt.getUnsignedByte(l4 + 12) >>> 4) << 2;
        if (thl < Tcp.MIN_HEADER_LENGTH || l4 + thl > end) {
            pkt.release();
            return MALFORMED;
        }
        boolean v4 = base == VirtioNetHeader.GSO_TCPV4;
        int headers = l4 + thl - start;       // bytes copied in front of every segment
        int payload = end - (l4 + thl);
        if (payload <= gsoSize) {
            Offloads.fillTcpChecksum(pkt, l3, l4, end, v4);
            out.accept(pkt);
            return 1;
        }
        long seq0 = pkt.getUnsignedInt(l4 + 4);
        int flags0 = pkt.getUnsignedByte(l4 + 13);
        int id0 = v4 ? pkt.getUnsignedShort(l3 + 4) : 0;
        int l3Relative = l3 - start;
        int l4Relative = l4 - start;
        int count = 0;
        try {
            for (int done = 0; done < payload; done += gsoSize) {
                int chunk = Math.min(gsoSize, payload - done);
                boolean last = done + chunk == payload;
                ByteBuf seg = alloc.directBuffer(headers + chunk);
                try {
                    seg.writeBytes(pkt, start, headers);
                    seg.writeBytes(pkt, l4 + thl + done, chunk);
                    int s = seg.readerIndex();
                    int sl3 = s + l3Relative;
                    int sl4 = s + l4Relative;
                    if (v4) {
                        seg.setShort(sl3 + 2, l4Relative - l3Relative + thl + chunk);
                        seg.setShort(sl3 + 4, id0 + count);
                        Ipv4.fillChecksum(seg, sl3);
                    } else {
                        seg.setShort(sl3 + 4, l4Relative - l3Relative - Ipv6.HEADER_LENGTH + thl + chunk);
                    }
                    seg.setInt(sl4 + 4, (int) (seq0 + done));
                    int flags = flags0;
                    if (!last) {
                        flags &= ~(Tcp.FIN | Tcp.PSH);
                    }
                    if (count > 0) {
                        flags &= ~Tcp.CWR;
                    }
                    seg.setByte(sl4 + 13, flags);
                    Offloads.fillTcpChecksum(seg, sl3, sl4, seg.writerIndex(), v4);
                } catch (RuntimeException e) {
                    seg.release();
                    throw e;
                }
                count++;
                out.accept(seg);
            }
        } finally {
            pkt.release();
        }
        return count;
    }

    /**
     * Makes a large TCP segment a valid (if oversized) IP packet in place: {@link Offloads#checksumLarge}.
     *
     * @return whether {@code pkt} is an IPv4 or IPv6 TCP packet matching {@code gsoType} (if not, nothing changed)
     */
    public static boolean checksumLarge(ByteBuf pkt, boolean ethernet, int gsoType) {
        return Offloads.checksumLarge(pkt, ethernet, gsoType);
    }

    /**
     * Completes a {@code NEEDS_CSUM} checksum in place: {@link Offloads#completeChecksum}.
     *
     * @return whether the offsets fit the packet (if not, nothing was changed)
     */
    public static boolean completeChecksum(ByteBuf pkt, int checksumStart, int checksumOffset) {
        return Offloads.completeChecksum(pkt, checksumStart, checksumOffset);
    }
}

package dev.pktkit.tuntap.vnet;

import dev.pktkit.codec.wire.Checksums;
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

    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final int ETHERTYPE_VLAN = 0x8100;
    private static final int TCP_CHECKSUM_OFFSET = 16;
    private static final int UDP_CHECKSUM_OFFSET = 6;

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
     * IPv6 or is too short.
     */
    public static int ipOffset(ByteBuf pkt, int start, boolean ethernet) {
        if (!ethernet) {
            return start;
        }
        int end = pkt.writerIndex();
        if (start + Ethernet.HEADER_LENGTH > end) {
            return -1;
        }
        int type = pkt.getUnsignedShort(start + 12);
        int off = start + Ethernet.HEADER_LENGTH;
        if (type == ETHERTYPE_VLAN) {
            if (off + 4 > end) {
                return -1;
            }
            type = pkt.getUnsignedShort(start + 16);
            off += 4;
        }
        return type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6 ? off : -1;
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
        int l4 = l3 < 0 ? -1 : tcpOffset(pkt, l3, end, base == VirtioNetHeader.GSO_TCPV4);
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
            fillTcpChecksum(pkt, l3, l4, end, v4);
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
                    fillTcpChecksum(seg, sl3, sl4, seg.writerIndex(), v4);
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
     * Makes a large TCP segment a valid (if oversized) IP packet in place: computes its TCP checksum over the whole
     * segment, as a receiver that accepts large segments (Linux after GRO) checks it. The IP header checksum is
     * left as is (the sender fills it for the large packet). The caller must own {@code pkt}'s memory
     * exclusively.
     *
     * @return whether {@code pkt} is an IPv4 or IPv6 TCP packet matching {@code gsoType} (if not, nothing changed)
     */
    public static boolean checksumLarge(ByteBuf pkt, boolean ethernet, int gsoType) {
        int base = VirtioNetHeader.baseGsoType(gsoType);
        if (base != VirtioNetHeader.GSO_TCPV4 && base != VirtioNetHeader.GSO_TCPV6) {
            return false;
        }
        int end = pkt.writerIndex();
        int l3 = ipOffset(pkt, pkt.readerIndex(), ethernet);
        int l4 = l3 < 0 ? -1 : tcpOffset(pkt, l3, end, base == VirtioNetHeader.GSO_TCPV4);
        if (l4 < 0) {
            return false;
        }
        int thl = (pkt.getUnsignedByte(l4 + 12) >>> 4) << 2;
        if (thl < Tcp.MIN_HEADER_LENGTH || l4 + thl > end) {
            return false;
        }
        fillTcpChecksum(pkt, l3, l4, end, base == VirtioNetHeader.GSO_TCPV4);
        return true;
    }

    /**
     * Completes a {@code NEEDS_CSUM} checksum in place: the 16-bit field at {@code checksumStart +
     * checksumOffset} (relative to the reader index) holds the pseudo-header sum; the data from
     * {@code checksumStart} to the end is summed into it. A UDP checksum that comes out 0 is sent as 0xFFFF.
     *
     * @return whether the offsets fit the packet (if not, nothing was changed)
     */
    public static boolean completeChecksum(ByteBuf pkt, int checksumStart, int checksumOffset) {
        int start = pkt.readerIndex();
        int len = pkt.readableBytes();
        if (checksumStart < 0 || checksumOffset < 0 || checksumStart + checksumOffset + 2 > len) {
            return false;
        }
        int from = start + checksumStart;
        int field = from + checksumOffset;
        long sum = Checksums.partial(pkt, from, start + len - from, 0);
        int ck = Checksums.finish(sum);
        if (ck == 0 && checksumOffset == UDP_CHECKSUM_OFFSET) {
            ck = 0xFFFF;
        }
        pkt.setShort(field, ck);
        return true;
    }

    /**
     * Absolute offset of the TCP header of the IP packet at {@code l3}, checking that the packet is the IP version
     * {@code v4} says, carries TCP, and is no longer than the buffer; -1 otherwise.
     */
    private static int tcpOffset(ByteBuf pkt, int l3, int end, boolean v4) {
        if (v4) {
            if (l3 + Ipv4.MIN_HEADER_LENGTH > end || pkt.getUnsignedByte(l3) >>> 4 != 4
                    || pkt.getUnsignedByte(l3 + 9) != IpProtocol.TCP) {
                return -1;
            }
            int ihl = (pkt.getUnsignedByte(l3) & 0x0F) << 2;
            int total = pkt.getUnsignedShort(l3 + 2);
            // a GSO packet's total length is its whole length; Ethernet padding cannot follow a large segment
            if (ihl < Ipv4.MIN_HEADER_LENGTH || l3 + total != end || l3 + ihl + Tcp.MIN_HEADER_LENGTH > end) {
                return -1;
            }
            return l3 + ihl;
        }
        if (l3 + Ipv6.HEADER_LENGTH > end || pkt.getUnsignedByte(l3) >>> 4 != 6
                || l3 + Ipv6.HEADER_LENGTH + pkt.getUnsignedShort(l3 + 4) != end) {
            return -1;
        }
        int l4 = Ipv6.upperLayerOffset(pkt, l3);
        if (l4 < 0 || Ipv6.upperLayerProtocol(pkt, l3) != IpProtocol.TCP || l4 + Tcp.MIN_HEADER_LENGTH > end) {
            return -1;
        }
        return l4;
    }

    /** Recomputes the TCP checksum of the segment {@code [l4, end)} from scratch. */
    private static void fillTcpChecksum(ByteBuf pkt, int l3, int l4, int end, boolean v4) {
        int len = end - l4;
        long pseudo = v4
                ? Checksums.pseudoHeaderV4(pkt.getInt(l3 + 12), pkt.getInt(l3 + 16), IpProtocol.TCP, len)
                : Checksums.pseudoHeaderV6(pkt.getLong(l3 + 8), pkt.getLong(l3 + 16), pkt.getLong(l3 + 24),
                        pkt.getLong(l3 + 32), IpProtocol.TCP, len);
        pkt.setShort(l4 + TCP_CHECKSUM_OFFSET, 0);
        pkt.setShort(l4 + TCP_CHECKSUM_OFFSET, Checksums.finish(Checksums.partial(pkt, l4, len, pseudo)));
    }
}

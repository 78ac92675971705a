package dev.pktkit.codec.offload;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Completing offload state in Java, for receivers that want plain, valid packets: a partial checksum summed
 * ({@link #completeChecksum}), a large TCP segment given its checksum over the whole segment
 * ({@link #checksumLarge}: a valid, if oversized, IP packet, as Linux's stack sees segments after GRO), or both
 * for an {@link OffloadPacket} ({@link #complete}). Packets are IP packets at the reader index or, with
 * {@code ethernet}, frames (an Ethernet header, optionally one 802.1Q tag). Nothing throws for bad input.
 */
public final class Offloads {
    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final int ETHERTYPE_VLAN = 0x8100;
    private static final int TCP_CHECKSUM_OFFSET = 16;
    private static final int UDP_CHECKSUM_OFFSET = 6;

    private Offloads() {
    }

    /**
     * The content of {@code p} as a plain packet with its offload state completed in place (copied first when the
     * memory is shared), or null when the state does not fit the packet or is a UDP segmentation this project never
     * asks for (then everything was released). Consumes {@code p}.
     */
    public static ByteBuf complete(OffloadPacket p, ByteBufAllocator alloc, boolean ethernet) {
        ByteBuf pkt = dev.pktkit.codec.buffer.Buffers.exclusive(p.content(), alloc);
        boolean ok;
        if (p.isGso()) {
            ok = checksumLarge(pkt, ethernet, p.gsoType());
        } else {
            ok = !p.needsChecksum() || completeChecksum(pkt, p.checksumStart(), p.checksumOffset());
        }
        if (!ok) {
            pkt.release();
            return null;
        }
        return pkt;
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
     * Makes a large TCP segment a valid (if oversized) IP packet in place: computes its TCP checksum over the whole
     * segment, as a receiver that accepts large segments (Linux after GRO) checks it. The IP header checksum is
     * left as is (the sender fills it for the large packet). The caller must own {@code pkt}'s memory
     * exclusively.
     *
     * @return whether {@code pkt} is an IPv4 or IPv6 TCP packet matching {@code gsoType} (if not, nothing changed)
     */
    public static boolean checksumLarge(ByteBuf pkt, boolean ethernet, int gsoType) {
        int base = OffloadPacket.baseGsoType(gsoType);
        if (base != OffloadPacket.GSO_TCPV4 && base != OffloadPacket.GSO_TCPV6) {
            return false;
        }
        int end = pkt.writerIndex();
        int l3 = ipOffset(pkt, pkt.readerIndex(), ethernet);
        int l4 = l3 < 0 ? -1 : tcpOffset(pkt, l3, end, base == OffloadPacket.GSO_TCPV4);
        if (l4 < 0) {
            return false;
        }
        int thl = (pkt.getUnsignedByte(l4 + 12) >>> 4) << 2;
        if (thl < Tcp.MIN_HEADER_LENGTH || l4 + thl > end) {
            return false;
        }
        fillTcpChecksum(pkt, l3, l4, end, base == OffloadPacket.GSO_TCPV4);
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
    public static int tcpOffset(ByteBuf pkt, int l3, int end, boolean v4) {
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
    public static void fillTcpChecksum(ByteBuf pkt, int l3, int l4, int end, boolean v4) {
        int len = end - l4;
        long pseudo = v4
                ? Checksums.pseudoHeaderV4(pkt.getInt(l3 + 12), pkt.getInt(l3 + 16), IpProtocol.TCP, len)
                : Checksums.pseudoHeaderV6(pkt.getLong(l3 + 8), pkt.getLong(l3 + 16), pkt.getLong(l3 + 24),
                        pkt.getLong(l3 + 32), IpProtocol.TCP, len);
        pkt.setShort(l4 + TCP_CHECKSUM_OFFSET, 0);
        pkt.setShort(l4 + TCP_CHECKSUM_OFFSET, Checksums.finish(Checksums.partial(pkt, l4, len, pseudo)));
    }
}

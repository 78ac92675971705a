package dev.pktkit.openvpn;

import dev.pktkit.codec.wire.Checksums;
import io.netty.buffer.ByteBuf;

/**
 * OpenVPN's {@code mssfix max mtu} (2.6's default, {@code 1492 mtu}): the MSS option of a TCP SYN crossing the
 * tunnel, either way, is lowered so that a full-sized segment of that connection, once encapsulated (inner IP and
 * TCP headers, the data channel's overhead, the outer UDP or TCP header and IP header), fits in {@code max} bytes
 * of outer IP packet. Without it a 1500-byte tunnel MTU makes every full segment an outer packet above 1500 bytes,
 * which the kernel sends as two IP fragments and the peer reassembles.
 *
 * <p>Only IPv4 packets that are not fragments and IPv6 packets whose next header is TCP (no extension headers,
 * as OpenVPN) are looked at; in TAP mode the IP packet after an untagged Ethernet header. The rewrite is in place
 * with an RFC 1624 update of the TCP checksum. Stateless and allocation-free; the per-packet check reads three
 * bytes.
 */
final class MssFix {
    /** OpenVPN 2.6's default {@code mssfix}: 1492 bytes of outer packet, IP and UDP header included. */
    static final int DEFAULT = 1492;

    private static final int IPV4_AND_TCP = 40;
    private static final int ETHERNET = 14;

    private MssFix() {
    }

    /**
     * The largest MSS for TCP over IPv4 inside the tunnel ({@code - 20} for IPv6 inside), or 0 when off.
     *
     * @param mssfix       the outer packet size limit ({@code mssfix N mtu}), 0 for off
     * @param dataOverhead the data channel's largest per-packet overhead ({@code DataChannel.overhead()})
     * @param compression  the framing (one byte more for {@code compress stub} and {@code comp-lzo no})
     * @param tcp          whether the outer transport is TCP (its header and the 2-byte length) or UDP
     * @param ipv6Outer    whether the outer IP header is IPv6
     * @param tap          whether the tunnel carries Ethernet frames (TAP mode: their 14-byte header is sealed too)
     */
    static int maxMss(int mssfix, int dataOverhead, Compression compression, boolean tcp, boolean ipv6Outer,
                      boolean tap) {
        if (mssfix <= 0) {
            return 0;
        }
        int outer = (ipv6Outer ? 40 : 20) + (tcp ? 20 + 2 : 8);
        int framing = compression == Compression.STUB || compression == Compression.LZO_NO ? 1 : 0;
        return Math.max(0, mssfix - outer - dataOverhead - framing - (tap ? ETHERNET : 0) - IPV4_AND_TCP);
    }

    /**
     * Lowers the MSS option of a TCP SYN in {@code b}'s readable bytes to {@code maxMssV4} (IPv4 inside) or
     * {@code maxMssV4 - 20} (IPv6 inside), in place; any other packet is left alone.
     *
     * @param tap whether {@code b} is an Ethernet frame (TAP mode) rather than an IP packet
     * @return whether the packet changed
     */
    static boolean apply(ByteBuf b, boolean tap, int maxMssV4) {
        int at = mssAt(b, tap, maxMssV4);
        if (at < 0) {
            return false;
        }
        return rewrite(b, tap, at, maxMssV4);
    }

    /**
     * A packet on its way into the tunnel, clamped: {@code packet} itself when it needs no change, else a clamped
     * copy (a SYN, rare; the hub's buffer may be shared) with {@code packet} released.
     */
    static ByteBuf clampOutgoing(ByteBuf packet, boolean tap, int maxMssV4) {
        if (!needed(packet, tap, maxMssV4)) {
            return packet;
        }
        ByteBuf own = packet.copy();
        packet.release();
        apply(own, tap, maxMssV4);
        return own;
    }

    /** Whether {@link #apply} would change {@code b} (read only: the caller copies a shared packet first). */
    static boolean needed(ByteBuf b, boolean tap, int maxMssV4) {
        return mssAt(b, tap, maxMssV4) >= 0;
    }

    /**
     * The index of the MSS value of a TCP SYN in {@code b} that is above the limit, or -1: the per-packet check,
     * three byte reads for a packet that is not a SYN.
     */
    private static int mssAt(ByteBuf b, boolean tap, int maxMssV4) {
        if (maxMssV4 <= 0) {
            return -1;
        }
        int r = b.readerIndex();
        int end = b.writerIndex();
        if (tap) {
            if (end - r < ETHERNET + 40) {
                return -1;
            }
            int type = b.getUnsignedShort(r + 12);
            if (type != 0x0800 && type != 0x86DD) {
                return -1;
            }
            r += ETHERNET;
            if ((b.getUnsignedByte(r) >>> 4) != (type == 0x0800 ? 4 : 6)) {
                return -1; // the EtherType and the IP version disagree: not ours to touch
            }
        }
        if (end - r < 40) {
            return -1;
        }
        int first = b.getUnsignedByte(r);
        int tcp;
        int max;
        if (first >>> 4 == 4) {
            int ihl = (first & 0x0F) * 4;
            int total = b.getUnsignedShort(r + 2);
            if (b.getUnsignedByte(r + 9) != 6 || ihl < 20 || (b.getUnsignedShort(r + 6) & 0x1FFF) != 0
                    || total > end - r || total < ihl + 20) {
                return -1;
            }
            end = r + total; // Ethernet padding behind the packet is not the TCP header's
            tcp = r + ihl;
            max = maxMssV4;
        } else if (first >>> 4 == 6) {
            int total = 40 + b.getUnsignedShort(r + 4);
            if (b.getUnsignedByte(r + 6) != 6 || total > end - r || total < 60) {
                return -1;
            }
            end = r + total;
            tcp = r + 40;
            max = maxMssV4 - 20;
        } else {
            return -1;
        }
        if (tcp + 20 > end || (b.getUnsignedByte(tcp + 13) & 0x02) == 0 || max <= 0) {
            return -1;
        }
        int optionsEnd = Math.min(end, tcp + (b.getUnsignedByte(tcp + 12) >>> 4) * 4);
        int i = tcp + 20;
        while (i < optionsEnd) {
            int kind = b.getUnsignedByte(i);
            if (kind == 0) {
                return -1;
            }
            if (kind == 1) {
                i++;
                continue;
            }
            if (i + 1 >= optionsEnd) {
                return -1;
            }
            int len = b.getUnsignedByte(i + 1);
            if (len < 2 || i + len > optionsEnd) {
                return -1;
            }
            if (kind == 2 && len == 4) {
                return b.getUnsignedShort(i + 2) > max ? i + 2 : -1;
            }
            i += len;
        }
        return -1;
    }

    /** Writes the limit at {@code at} (an MSS value found by {@link #mssAt}) and updates the TCP checksum. */
    private static boolean rewrite(ByteBuf b, boolean tap, int at, int maxMssV4) {
        // the TCP header again, as mssAt found it (the packet has not changed since)
        int ip = b.readerIndex() + (tap ? ETHERNET : 0);
        int first = b.getUnsignedByte(ip);
        boolean v6 = first >>> 4 == 6;
        int tcp = v6 ? ip + 40 : ip + (first & 0x0F) * 4;
        int max = v6 ? maxMssV4 - 20 : maxMssV4;
        int mss = b.getUnsignedShort(at);
        int ck = b.getUnsignedShort(tcp + 16);
        // a 16-bit value at an odd offset from the TCP header adds to the checksum byte-swapped
        int updated = ((at - tcp) & 1) != 0
                ? Checksums.incrementalUpdate16(ck, swap(mss), swap(max))
                : Checksums.incrementalUpdate16(ck, mss, max);
        b.setShort(at, max);
        b.setShort(tcp + 16, updated);
        return true;
    }

    private static int swap(int v) {
        return ((v & 0xFF) << 8) | (v >>> 8);
    }
}

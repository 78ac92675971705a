package dev.pktkit.nat.defrag;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Reassembles IPv4 (and, when configured, IPv6) fragments in front of a translator that needs whole datagrams.
 *
 * <ul>
 *   <li><b>Fast path</b>: a packet that is not a fragment is returned as it is after one header read (IPv4: the
 *   flags/offset word; IPv6: the first next-header octet).</li>
 *   <li><b>Overlaps</b>: a fragment that overlaps one already held discards the whole datagram (RFC 5722 for
 *   IPv6; Linux does the same for IPv4 since 4.19); an exact duplicate is dropped and the datagram kept, as
 *   Linux does.</li>
 *   <li><b>Tiny fragments</b> (RFC 1858, RFC 3128, RFC 7112): a first fragment that does not hold the whole
 *   TCP (20), UDP (8) or ICMP (8) header, and a TCP fragment at offset 8, are dropped.</li>
 *   <li><b>Bounds</b> ({@link DefragConfig}): datagrams in reassembly, fragments per datagram, total memory
 *   (buffer capacity) of held fragments; 65535 bytes per datagram; a timeout from the first fragment. When a
 *   bound is hit the new fragment is dropped and counted; held ones stay until complete or timed out.</li>
 * </ul>
 *
 * <p>Single-threaded (the NAT's loop); the reassembly path allocates (one state object per datagram, one
 * buffer for the result); the fast path allocates nothing. {@link #offer} consumes its argument.
 */
public final class Defragmenter {
    private final DefragConfig config;
    private final boolean ipv6;
    private final DefragCounters counters = new DefragCounters();
    private final Datagram[] table;
    private int datagrams;
    private long bytes;
    private int now;

    public Defragmenter(DefragConfig config) {
        this.config = config;
        this.ipv6 = config.ipv6;
        this.table = new Datagram[config.maxDatagrams];
    }

    public DefragCounters counters() {
        return counters;
    }

    /** Datagrams being reassembled. */
    public int pending() {
        return datagrams;
    }

    /** Buffer capacity held by incomplete datagrams. */
    public long heldBytes() {
        return bytes;
    }

    /**
     * Takes one packet: returns it unchanged when it is not a fragment, the reassembled datagram (a new buffer
     * from {@code alloc}) when it completes one, or null when it was held or dropped (released and counted).
     */
    public ByteBuf offer(ByteBuf buf, ByteBufAllocator alloc) {
        // The not-a-fragment test first, on one read of the first 8 bytes: IPv4's flags/offset word (bytes 6-7),
        // IPv6's next header (byte 6). Anything else goes to offerSlow, out of line.
        int off = buf.readerIndex();
        if (buf.writerIndex() - off >= 20) {
            long w = buf.getLong(off);
            int version = (int) (w >>> 60);
            if (version == 4 ? (w & 0x3FFF) == 0 : version != 6 || !ipv6 || !mayBeV6Fragment((int) (w >>> 8) & 0xFF)) {
                return buf;
            }
        }
        return offerSlow(buf, off, alloc);
    }

    /** Whether an IPv6 packet with this first next header may carry a Fragment header. */
    private static boolean mayBeV6Fragment(int nh) {
        return nh == IpProtocol.IPV6_FRAG || nh == IpProtocol.HOPOPT || nh == IpProtocol.IPV6_OPTS
                || nh == IpProtocol.IPV6_ROUTE;
    }

    private ByteBuf offerSlow(ByteBuf buf, int off, ByteBufAllocator alloc) {
        if (buf.readableBytes() < 20) {
            return buf; // the translator counts it
        }
        long w = buf.getLong(off);
        if ((w >>> 60) == 4) {
            return ipv4(buf, off, alloc);
        }
        if (buf.readableBytes() >= 40) {
            return ipv6(buf, off, (int) (w >>> 8) & 0xFF, alloc);
        }
        return buf;
    }

    private static int minTransport(int proto) {
        return switch (proto) {
            case IpProtocol.TCP -> 20;
            case IpProtocol.UDP, IpProtocol.ICMP, IpProtocol.ICMPV6 -> 8;
            default -> 1;
        };
    }

    private ByteBuf ipv4(ByteBuf buf, int off, ByteBufAllocator alloc) {
        int hl = Ipv4.check(buf, off, true);
        if (hl < 0) {
            return drop(buf, DefragDropReason.MALFORMED);
        }
        int total = buf.getUnsignedShort(off + 2);
        int len = total - hl;
        int ff = buf.getUnsignedShort(off + 6);
        boolean mf = (ff & Ipv4.FLAG_MF) != 0;
        int start = (ff & Ipv4.FRAGMENT_OFFSET_MASK) << 3;
        int proto = buf.getUnsignedByte(off + 9);
        if (len <= 0 || (mf && (len & 7) != 0) || start + len + hl > 65535) {
            return drop(buf, DefragDropReason.MALFORMED);
        }
        if ((proto == IpProtocol.TCP && start == 8) || (start == 0 && len < minTransport(proto))) {
            return drop(buf, DefragDropReason.TINY_FRAGMENT);
        }
        int src = buf.getInt(off + 12);
        int dst = buf.getInt(off + 16);
        Datagram d = datagram(false, buf.getUnsignedShort(off + 4), src, dst, proto, 0, 0, 0, 0);
        if (d == null) {
            return drop(buf, DefragDropReason.TOO_MANY_DATAGRAMS);
        }
        return add(d, buf, off + hl, start, len, mf, hl, alloc);
    }

    private ByteBuf ipv6(ByteBuf buf, int off, int nh, ByteBufAllocator alloc) {
        int plen = buf.getUnsignedShort(off + 4);
        int end = off + 40 + plen;
        if (plen == 0 || end > buf.writerIndex()) {
            return drop(buf, DefragDropReason.MALFORMED);
        }
        int nhField = off + 6;
        int p = off + 40;
        int hops = 0;
        while (nh != IpProtocol.IPV6_FRAG) {
            if (nh != IpProtocol.HOPOPT && nh != IpProtocol.IPV6_OPTS && nh != IpProtocol.IPV6_ROUTE) {
                return buf; // no fragment header: not a fragment
            }
            if (p + 8 > end || ++hops > 8) {
                return drop(buf, DefragDropReason.MALFORMED);
            }
            nhField = p;
            nh = buf.getUnsignedByte(p);
            p += (buf.getUnsignedByte(p + 1) + 1) << 3;
        }
        if (p + 8 > end) {
            return drop(buf, DefragDropReason.MALFORMED);
        }
        int fragNext = buf.getUnsignedByte(p);
        int fo = buf.getUnsignedShort(p + 2);
        int start = fo & 0xFFF8;
        boolean mf = (fo & 1) != 0;
        long id = buf.getUnsignedInt(p + 4);
        int payload = p + 8;
        int len = end - payload;
        int unfragmentable = p - off;
        if (!mf && start == 0) {
            // an atomic fragment (RFC 8021): strip the header, nothing to reassemble
            return atomic(buf, off, nhField, p, fragNext, end, alloc);
        }
        if (len <= 0 || (mf && (len & 7) != 0) || start + len > 65535) {
            return drop(buf, DefragDropReason.MALFORMED);
        }
        if (start == 0 && (IpProtocol.isIpv6ExtensionHeader(fragNext) || len < minTransport(fragNext))) {
            return drop(buf, DefragDropReason.TINY_FRAGMENT); // RFC 7112: the whole header chain in the first
        }
        long sHi = buf.getLong(off + 8);
        long sLo = buf.getLong(off + 16);
        long dHi = buf.getLong(off + 24);
        long dLo = buf.getLong(off + 32);
        Datagram d = datagram(true, id, 0, 0, 0, sHi, sLo, dHi, dLo);
        if (d == null) {
            return drop(buf, DefragDropReason.TOO_MANY_DATAGRAMS);
        }
        if (start == 0) {
            d.nhFieldRel = nhField - off;
            d.fragNext = fragNext;
        }
        return add(d, buf, payload, start, len, mf, unfragmentable, alloc);
    }

    /**
     * The datagram in reassembly with this key (IPv4: identification, addresses, protocol, RFC 791; IPv6:
     * identification and addresses, RFC 8200 §4.5), else a new one in a free slot; null when the table is full.
     */
    private Datagram datagram(boolean v6, long id, int src, int dst, int proto, long sHi, long sLo, long dHi,
                              long dLo) {
        int free = -1;
        for (int i = 0; i < table.length; i++) {
            Datagram t = table[i];
            if (t == null) {
                if (free < 0) {
                    free = i;
                }
            } else if (t.v6 == v6 && t.id == id && (v6
                    ? t.srcLo == sLo && t.dstLo == dLo && t.srcHi == sHi && t.dstHi == dHi
                    : t.src == src && t.dst == dst && t.proto == proto)) {
                return t;
            }
        }
        if (free < 0) {
            return null;
        }
        Datagram d = new Datagram(config.maxFragmentsPerDatagram);
        d.v6 = v6;
        d.id = id;
        d.src = src;
        d.dst = dst;
        d.proto = proto;
        d.srcHi = sHi;
        d.srcLo = sLo;
        d.dstHi = dHi;
        d.dstLo = dLo;
        d.slot = free;
        d.expiry = now + config.timeoutSeconds;
        table[free] = d;
        datagrams++;
        return d;
    }

    private ByteBuf atomic(ByteBuf buf, int off, int nhField, int frag, int fragNext, int end, ByteBufAllocator a) {
        ByteBuf out = a.buffer(end - off - 8);
        out.writeBytes(buf, off, frag - off);
        out.writeBytes(buf, frag + 8, end - frag - 8);
        out.setByte(nhField - off, fragNext);
        out.setShort(4, end - off - 8 - 40);
        buf.release();
        return out;
    }

    private ByteBuf add(Datagram d, ByteBuf buf, int payload, int start, int len, boolean mf, int headerLen,
                        ByteBufAllocator alloc) {
        int end = start + len;
        for (int i = 0; i < d.count; i++) {
            if (start < d.end[i] && d.start[i] < end) {
                if (start == d.start[i] && end == d.end[i]) {
                    return drop(buf, DefragDropReason.DUPLICATE);
                }
                int n = d.count + 1;
                discard(d);
                buf.release();
                counters.drop(DefragDropReason.OVERLAP, n);
                return null;
            }
        }
        if ((!mf && (d.total >= 0 && d.total != end || d.maxEnd > end)) || (mf && d.total >= 0 && end > d.total)) {
            int n = d.count + 1;
            discard(d);
            buf.release();
            counters.drop(DefragDropReason.MALFORMED, n);
            return null;
        }
        if (d.count == d.buf.length) {
            int n = d.count + 1;
            discard(d);
            buf.release();
            counters.drop(DefragDropReason.DATAGRAM_TOO_LARGE, n);
            return null;
        }
        if (start == 0 && headerLen + d.totalPayloadBound() > 65535 + (d.v6 ? 40 : 0)) {
            int n = d.count + 1;
            discard(d);
            buf.release();
            counters.drop(DefragDropReason.DATAGRAM_TOO_LARGE, n);
            return null;
        }
        if (bytes + buf.capacity() > config.maxBytes) {
            if (d.count == 0) {
                discard(d);
            }
            return drop(buf, DefragDropReason.MEMORY_FULL);
        }
        int i = d.count++;
        d.buf[i] = buf;
        d.payload[i] = payload;
        d.start[i] = start;
        d.end[i] = end;
        d.received += len;
        d.bytes += buf.capacity();
        bytes += buf.capacity();
        if (end > d.maxEnd) {
            d.maxEnd = end;
        }
        if (!mf) {
            d.total = end;
        }
        if (start == 0) {
            d.first = i;
            d.headerLen = headerLen;
        }
        counters.countFragment();
        if (d.total >= 0 && d.received == d.total && d.first >= 0) {
            return complete(d, alloc);
        }
        return null;
    }

    private ByteBuf complete(Datagram d, ByteBufAllocator alloc) {
        ByteBuf first = d.buf[d.first];
        int off = first.readerIndex();
        int hl = d.headerLen;
        ByteBuf out = alloc.buffer(hl + d.total);
        out.writeBytes(first, off, hl);
        int base = out.writerIndex();
        out.writerIndex(base + d.total);
        for (int i = 0; i < d.count; i++) {
            out.setBytes(base + d.start[i], d.buf[i], d.payload[i], d.end[i] - d.start[i]);
        }
        int o = out.readerIndex();
        if (d.v6) {
            out.setByte(o + d.nhFieldRel, d.fragNext);
            out.setShort(o + 4, hl - 40 + d.total);
        } else {
            out.setShort(o + 2, hl + d.total);
            out.setShort(o + 6, out.getUnsignedShort(o + 6) & Ipv4.FLAG_DF);
            Ipv4.fillChecksum(out, o);
        }
        discard(d);
        counters.countReassembled();
        return out;
    }

    private void discard(Datagram d) {
        for (int i = 0; i < d.count; i++) {
            d.buf[i].release();
            d.buf[i] = null;
        }
        bytes -= d.bytes;
        table[d.slot] = null;
        datagrams--;
        d.count = 0;
    }

    private ByteBuf drop(ByteBuf buf, DefragDropReason reason) {
        buf.release();
        counters.drop(reason, 1);
        return null;
    }

    /** Sets the clock (seconds, any origin) and releases datagrams whose timeout passed. */
    public void expire(int nowSeconds) {
        now = nowSeconds;
        if (datagrams == 0) {
            return;
        }
        for (Datagram d : table) {
            if (d != null && d.expiry - nowSeconds <= 0) {
                int n = d.count;
                discard(d);
                counters.drop(DefragDropReason.TIMEOUT, n);
            }
        }
    }

    /** Releases everything held. */
    public void clear() {
        for (Datagram d : table) {
            if (d != null) {
                discard(d);
            }
        }
    }

    private static final class Datagram {
        boolean v6;
        int src;
        int dst;
        int proto;
        long id;
        long srcHi;
        long srcLo;
        long dstHi;
        long dstLo;
        int slot;
        int expiry;
        final ByteBuf[] buf;
        final int[] payload;
        final int[] start;
        final int[] end;
        int count;
        int received;
        int total = -1;
        int maxEnd;
        int first = -1;
        int headerLen;
        int nhFieldRel;
        int fragNext;
        long bytes;

        Datagram(int maxFragments) {
            buf = new ByteBuf[maxFragments];
            payload = new int[maxFragments];
            start = new int[maxFragments];
            end = new int[maxFragments];
        }

        int totalPayloadBound() {
            return total >= 0 ? total : maxEnd;
        }
    }
}

package dev.pktkit.nat.defrag;

import dev.pktkit.codec.wire.Ipv4;
import io.netty.buffer.ByteBuf;

/**
 * Cuts an IPv4 packet into fragments that fit an egress MTU (RFC 791): payload pieces of a multiple of 8 bytes,
 * options with the copy flag repeated in every fragment, MF on all but the last (and on the last when the input
 * was itself a non-last fragment). Stateless and {@code @Sharable}-safe; allocates the fragments from the input's
 * allocator.
 */
public final class Fragmenter {
    /** Receives each fragment (and owns it). */
    @FunctionalInterface
    public interface Sink {
        void accept(ByteBuf fragment);
    }

    /**
     * Writes {@code packet} as fragments of at most {@code mtu} bytes to {@code sink} and releases it; a packet
     * that fits, or that is not a valid IPv4 packet, goes to the sink whole. DF is not looked at: refuse DF
     * packets before calling this.
     */
    public void fragment(ByteBuf packet, int mtu, Sink sink) {
        int off = packet.readerIndex();
        int hl = Ipv4.check(packet, off, false);
        if (hl < 0 || Ipv4.totalLength(packet, off) <= mtu) {
            sink.accept(packet);
            return;
        }
        int total = Ipv4.totalLength(packet, off);
        int ff = packet.getUnsignedShort(off + 6);
        boolean origMf = (ff & Ipv4.FLAG_MF) != 0;
        int origOffset = (ff & Ipv4.FRAGMENT_OFFSET_MASK) << 3;
        int copiedLen = copiedOptionsLength(packet, off, hl);
        int laterHl = 20 + ((copiedLen + 3) & ~3);
        if (mtu - laterHl < 8 || mtu - hl < 8) {
            sink.accept(packet); // cannot happen with MTU >= 576 (NatConfig's lower bound)
            return;
        }
        int payload = off + hl;
        int len = total - hl;
        int pos = 0;
        while (pos < len) {
            boolean firstFrag = pos == 0;
            int fhl = firstFrag ? hl : laterHl;
            int n = Math.min(len - pos, (mtu - fhl) & ~7);
            boolean last = pos + n >= len;
            ByteBuf f = packet.alloc().buffer(fhl + n);
            f.writeBytes(packet, off, 20);
            if (firstFrag) {
                f.writeBytes(packet, off + 20, hl - 20);
            } else {
                writeCopiedOptions(packet, off, hl, f);
                while (f.writerIndex() - f.readerIndex() < fhl) {
                    f.writeByte(0);
                }
                f.setByte(f.readerIndex(), 0x40 | (fhl >>> 2));
            }
            f.writeBytes(packet, payload + pos, n);
            int o = f.readerIndex();
            f.setShort(o + 2, fhl + n);
            int fo = (origOffset + pos) >>> 3;
            f.setShort(o + 6, (last && !origMf ? 0 : Ipv4.FLAG_MF) | fo);
            Ipv4.fillChecksum(f, o);
            sink.accept(f);
            pos += n;
        }
        packet.release();
    }

    private static int copiedOptionsLength(ByteBuf p, int off, int hl) {
        return copiedOptions(p, off, hl, null);
    }

    private static void writeCopiedOptions(ByteBuf p, int off, int hl, ByteBuf out) {
        copiedOptions(p, off, hl, out);
    }

    /**
     * Walks the options of the header at {@code off}: the length of those with the copy flag (RFC 791: repeated
     * in every fragment), each also written to {@code out} unless it is null.
     */
    private static int copiedOptions(ByteBuf p, int off, int hl, ByteBuf out) {
        int n = 0;
        int i = off + 20;
        int end = off + hl;
        while (i < end) {
            int t = p.getUnsignedByte(i);
            if (t == Ipv4.OPT_EOL) {
                break;
            }
            if (t == Ipv4.OPT_NOP) {
                i++;
                continue;
            }
            int l = p.getUnsignedByte(i + 1);
            if ((t & 0x80) != 0) {
                n += l;
                if (out != null) {
                    out.writeBytes(p, i, l);
                }
            }
            i += l;
        }
        return n;
    }

    /**
     * Writes an IPv6 packet without extension headers as fragments of at most {@code mtu} bytes (RFC 8200 §4.5;
     * a translator's duty for IPv4 packets without DF, RFC 7915 §4) and releases it; a packet that fits, or that
     * has extension headers, goes to the sink whole.
     */
    public void fragment6(ByteBuf packet, int mtu, long identification, Sink sink) {
        int off = packet.readerIndex();
        int plen = packet.readableBytes() - 40;
        int nh = packet.getUnsignedByte(off + 6);
        if (packet.readableBytes() <= mtu || plen <= 0 || dev.pktkit.codec.wire.IpProtocol.isIpv6ExtensionHeader(nh)
                || nh == dev.pktkit.codec.wire.IpProtocol.IPV6_FRAG) {
            sink.accept(packet);
            return;
        }
        int chunk = (mtu - 48) & ~7;
        int pos = 0;
        while (pos < plen) {
            int n = Math.min(chunk, plen - pos);
            boolean more = pos + n < plen;
            ByteBuf f = packet.alloc().buffer(48 + n);
            f.writeBytes(packet, off, 40);
            int o = f.readerIndex();
            f.setShort(o + 4, 8 + n);
            f.setByte(o + 6, dev.pktkit.codec.wire.IpProtocol.IPV6_FRAG);
            f.writeByte(nh);
            f.writeByte(0);
            f.writeShort(pos | (more ? 1 : 0));
            f.writeInt((int) identification);
            f.writeBytes(packet, off + 40 + pos, n);
            sink.accept(f);
            pos += n;
        }
        packet.release();
    }
}

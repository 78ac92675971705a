package dev.pktkit.slirp;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.offload.Offloads;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Carries the slirp namespace's large TCP segments ({@link OffloadPacket}s from vtcp, IP packets up to 64 KB with
 * a partial checksum) across a {@link SlirpGateway} tenant's gateway {@code L2Adapter}, which frames only plain
 * packets: a tenant whose port takes {@code OffloadPacket}s (a TAP with tuntap's {@code VirtioNetCodec.forwarding()})
 * then gets its download as large frames, segmented and checksummed by the kernel, instead of one MTU-sized frame,
 * one checksum and one {@code write} per segment.
 *
 * <p>Two handlers around the adapter: {@link #learner()} first in the pipeline (after the adapter on the way out)
 * notes the destination MAC of each plain IPv4/IPv6 frame the adapter sends, by destination address, in a
 * direct-mapped table of {@value #SLOTS} entries (bounded; a collision overwrites); {@link #framer()} after the
 * adapter (before it on the way out) gives a large segment an Ethernet header with the MAC noted for its
 * destination and writes it past the adapter with its offload state. A connection's first segments (the
 * handshake) are plain and pass the adapter, which resolves the neighbour, so the MAC is known when data flows.
 * Where it is not (a table collision), or when the segment also has ports that want plain frames
 * ({@link #plainPortsPresent}), the framer cuts the segment in Java into MTU-sized packets with complete checksums and
 * sends those through the adapter. A MAC that changes for an address is noted from the next plain frame to it.
 *
 * <p>Runs on the tenant's loop only; not sharable.
 */
final class LargeFrames {
    /** Entries of the destination → MAC table. */
    static final int SLOTS = 64;

    private final long[] keyHi = new long[SLOTS];
    private final long[] keyLo = new long[SLOTS];
    private final long[] macs = new long[SLOTS];
    private final long gatewayMac;
    private final Learner learner = new Learner();
    private final Framer framer = new Framer();
    private ChannelHandlerContext learnerCtx;
    /** Set once a port that wants plain frames joined the segment (sticky). */
    volatile boolean plainPortsPresent;
    /** Large segments framed whole / cut in Java. */
    long framed;
    long cut;

    LargeFrames(long gatewayMac) {
        this.gatewayMac = gatewayMac;
        java.util.Arrays.fill(macs, -1);
    }

    /** The handler to put first in the pipeline. */
    ChannelOutboundHandlerAdapter learner() {
        return learner;
    }

    /** The handler to put right after the adapter. */
    ChannelOutboundHandlerAdapter framer() {
        return framer;
    }

    private static int slot(long hi, long lo) {
        long h = (hi ^ lo) * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 58); // 6 bits: SLOTS
    }

    /** The MAC noted for the destination, or -1. */
    long macFor(long hi, long lo) {
        int s = slot(hi, lo);
        return keyHi[s] == hi && keyLo[s] == lo ? macs[s] : -1;
    }

    private void note(long hi, long lo, long mac) {
        int s = slot(hi, lo);
        keyHi[s] = hi;
        keyLo[s] = lo;
        macs[s] = mac;
    }

    /** IPv4 keys: the address with a marker bit above it (no IPv6 key has a zero high half and that bit). */
    private static long v4Key(int address) {
        return (address & 0xFFFF_FFFFL) | (1L << 32);
    }

    private final class Learner extends ChannelOutboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            learnerCtx = ctx;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf f && f.readableBytes() >= Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH) {
                int o = f.readerIndex();
                if ((f.getByte(o) & 1) == 0) { // unicast destination
                    long mac = ((f.getShort(o) & 0xFFFFL) << 32) | (f.getInt(o + 2) & 0xFFFF_FFFFL);
                    int type = f.getUnsignedShort(o + 12);
                    if (type == Ethernet.IPV4) {
                        note(0, v4Key(f.getInt(o + Ethernet.HEADER_LENGTH + 16)), mac);
                    } else if (type == Ethernet.IPV6 && f.readableBytes() >= Ethernet.HEADER_LENGTH + Ipv6.HEADER_LENGTH) {
                        int d = o + Ethernet.HEADER_LENGTH + 24;
                        note(f.getLong(d), f.getLong(d + 8), mac);
                    }
                }
            }
            ctx.write(msg, promise);
        }
    }

    private final class Framer extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (!(msg instanceof OffloadPacket p)) {
                ctx.write(msg, promise);
                return;
            }
            ByteBuf pkt = p.content();
            int o = pkt.readerIndex();
            int version = pkt.readableBytes() >= Ipv4.MIN_HEADER_LENGTH ? pkt.getUnsignedByte(o) >>> 4 : 0;
            long mac = -1;
            int type = 0;
            if (version == 4) {
                mac = macFor(0, v4Key(pkt.getInt(o + 16)));
                type = Ethernet.IPV4;
            } else if (version == 6 && pkt.readableBytes() >= Ipv6.HEADER_LENGTH) {
                mac = macFor(pkt.getLong(o + 24), pkt.getLong(o + 32));
                type = Ethernet.IPV6;
            }
            ChannelHandlerContext out = learnerCtx;
            if (mac < 0 || plainPortsPresent || out == null) {
                cut++;
                cut(ctx, p, promise);
                return;
            }
            ByteBuf frame;
            if (o >= Ethernet.HEADER_LENGTH && pkt.refCnt() == 1 && !pkt.isReadOnly()) {
                frame = pkt.retain().readerIndex(o - Ethernet.HEADER_LENGTH);
            } else {
                frame = ctx.alloc().directBuffer(Ethernet.HEADER_LENGTH + pkt.readableBytes());
                frame.writerIndex(Ethernet.HEADER_LENGTH).writeBytes(pkt, o, pkt.readableBytes());
            }
            int f = frame.readerIndex();
            frame.setShort(f, (int) (mac >>> 32));
            frame.setInt(f + 2, (int) mac);
            frame.setShort(f + 6, (int) (gatewayMac >>> 32));
            frame.setInt(f + 8, (int) gatewayMac);
            frame.setShort(f + 12, type);
            OffloadPacket large = p.replace(frame, Ethernet.HEADER_LENGTH);
            p.release();
            framed++;
            out.write(large, promise); // past the adapter, which frames plain packets only
        }
    }

    /**
     * Cuts a large TCP segment (an IP packet) into packets of its {@code gsoSize} payload bytes with complete
     * checksums, each written on from {@code ctx}; a packet that is not a large TCP segment only gets its
     * checksum completed. Consumes {@code p}.
     */
    private static void cut(ChannelHandlerContext ctx, OffloadPacket p, ChannelPromise promise) {
        ByteBuf pkt = p.content();
        int start = pkt.readerIndex();
        int end = pkt.writerIndex();
        int base = OffloadPacket.baseGsoType(p.gsoType());
        boolean v4 = base == OffloadPacket.GSO_TCPV4;
        int l3 = start;
        int l4 = base == OffloadPacket.GSO_TCPV4 || base == OffloadPacket.GSO_TCPV6
                ? Offloads.tcpOffset(pkt, l3, end, v4) : -1;
        int thl = l4 < 0 ? 0 : (pkt.getUnsignedByte(l4 + 12) >>> 4) << 2;
        int mss = p.gsoSize();
        if (l4 < 0 || thl < Tcp.MIN_HEADER_LENGTH || l4 + thl > end || mss <= 0 || end - (l4 + thl) <= mss) {
            ByteBuf plain = Offloads.complete(p, ctx.alloc(), false);
            if (plain == null) {
                promise.trySuccess(); // malformed state from our own engine: nothing to send
                return;
            }
            ctx.write(plain, promise);
            return;
        }
        int headers = l4 + thl - start;
        int payload = end - (l4 + thl);
        long seq = pkt.getUnsignedInt(l4 + 4);
        int flags = pkt.getUnsignedByte(l4 + 13);
        int id = v4 ? pkt.getUnsignedShort(l3 + 4) : 0;
        try {
            for (int done = 0, n = 0; done < payload; done += mss, n++) {
                int len = Math.min(mss, payload - done);
                boolean last = done + len == payload;
                ByteBuf seg = ctx.alloc().directBuffer(64 + headers + len);
                seg.writerIndex(64).readerIndex(64); // headroom for the adapter's Ethernet header
                seg.writeBytes(pkt, start, headers).writeBytes(pkt, l4 + thl + done, len);
                int s3 = seg.readerIndex();
                int s4 = s3 + (l4 - l3);
                if (v4) {
                    seg.setShort(s3 + 2, headers + len);
                    seg.setShort(s3 + 4, id + n);
                    Ipv4.fillChecksum(seg, s3);
                } else {
                    seg.setShort(s3 + 4, headers - Ipv6.HEADER_LENGTH + len);
                }
                seg.setInt(s4 + 4, (int) (seq + done));
                int fl = flags;
                if (!last) {
                    fl &= ~(Tcp.FIN | Tcp.PSH);
                }
                if (n > 0) {
                    fl &= ~Tcp.CWR;
                }
                seg.setByte(s4 + 13, fl);
                Offloads.fillTcpChecksum(seg, s3, s4, seg.writerIndex(), v4);
                ctx.write(seg, last ? promise : ctx.voidPromise());
            }
        } finally {
            p.release();
        }
    }
}

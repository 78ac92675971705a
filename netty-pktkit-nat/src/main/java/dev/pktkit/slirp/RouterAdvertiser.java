package dev.pktkit.slirp;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv6;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's link-layer duties that {@code L2Adapter} leaves to a router, as a frame-level handler in front of
 * the gateway's adapter (on the port's side): it sends IPv6 router advertisements (RFC 4861 §6.2) — at start, in
 * answer to router solicitations (at most one per {@value #MIN_DELAY_BETWEEN_RAS_MILLIS} ms, RFC 4861 §6.2.6), and
 * every {@code intervalMillis} — with the source link-layer address, the MTU, a SLAAC prefix (on-link and
 * autonomous, RFC 4862) and an RDNSS option naming the DNS forwarder (RFC 8106 §5.1); and it answers ARP
 * (RFC 826) and neighbour solicitations (RFC 4861 §7.2.4) for slirp's DNS addresses, which are not the
 * adapter's own, with the adapter's MAC. Everything it reads passes on unchanged, so the adapter still sees the
 * solicitations. Advertisements come from the adapter's link-local address (its EUI-64), which guests then use
 * as their default router.
 *
 * <p>Not {@code @Sharable}: one per gateway.
 */
final class RouterAdvertiser extends ChannelDuplexHandler {
    /** RFC 4861 §10 MIN_DELAY_BETWEEN_RAS: 3 s. */
    static final long MIN_DELAY_BETWEEN_RAS_MILLIS = 3_000;
    private static final long ALL_NODES_MAC = 0x3333_0000_0001L;
    private static final long ALL_NODES_HI = 0xFF02_0000_0000_0000L;
    private static final long ALL_NODES_LO = 1L;

    private final long mac;
    private final long llHi;
    private final long llLo;
    private final long prefixHi;
    private final int mtu;
    private final byte[] dns6;
    private final int dns4;
    private final long intervalMillis;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> periodic;
    private ScheduledFuture<?> delayed;
    private long lastSentNanos;
    private long sent;

    /**
     * @param mac the gateway adapter's MAC
     * @param prefix the /64 prefix guests configure addresses from (its first 8 bytes count)
     * @param dns6 the IPv6 DNS forwarder address (RDNSS) and an address whose solicitations are answered
     * @param dns4 the IPv4 DNS address whose ARP requests are answered
     */
    RouterAdvertiser(long mac, Inet6Address prefix, Inet6Address dns6, InetAddress dns4, int mtu,
            long intervalMillis) {
        this.mac = mac;
        this.llHi = 0xFE80_0000_0000_0000L;
        // EUI-64 (RFC 4291 appendix A): the MAC split by ff:fe, universal/local bit flipped
        this.llLo = ((((mac >>> 24) & 0xFFFFFFL) ^ 0x020000L) << 40) | (0xFFFEL << 24) | (mac & 0xFFFFFFL);
        this.prefixHi = hi(prefix.getAddress());
        this.mtu = mtu;
        this.dns6 = dns6.getAddress();
        byte[] d4 = dns4.getAddress();
        this.dns4 = ((d4[0] & 0xFF) << 24) | ((d4[1] & 0xFF) << 16) | ((d4[2] & 0xFF) << 8) | (d4[3] & 0xFF);
        this.intervalMillis = intervalMillis;
    }

    /** Router advertisements sent so far. Loop only. */
    long advertisementsSent() {
        return sent;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (periodic != null) {
            return;
        }
        periodic = ctx.executor().scheduleAtFixedRate(this::advertise, 0, intervalMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (periodic != null) {
            periodic.cancel(false);
        }
        if (delayed != null) {
            delayed.cancel(false);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf f) {
            inspect(f);
        }
        ctx.fireChannelRead(msg);
    }

    private void inspect(ByteBuf f) {
        int off = f.readerIndex();
        int len = f.readableBytes();
        if (len < Ethernet.HEADER_LENGTH + 28) {
            return;
        }
        int type = f.getUnsignedShort(off + Ethernet.TYPE_OFFSET);
        int ip = off + Ethernet.HEADER_LENGTH;
        if (type == Ethernet.ARP) {
            // request (op 1) for the DNS address: IPv4 over Ethernet only
            if (f.getUnsignedShort(ip) == 1 && f.getUnsignedShort(ip + 2) == 0x0800 && f.getUnsignedByte(ip + 4) == 6
                    && f.getUnsignedByte(ip + 5) == 4 && f.getUnsignedShort(ip + 6) == 1 && f.getInt(ip + 24) == dns4) {
                arpReply(f, ip);
            }
            return;
        }
        if (type != Ethernet.IPV6 || len < Ethernet.HEADER_LENGTH + Ipv6.HEADER_LENGTH + 8
                || f.getUnsignedByte(ip + 6) != IpProtocol.ICMPV6 || f.getUnsignedByte(ip + 7) != 255) {
            return;
        }
        int icmp = ip + Ipv6.HEADER_LENGTH;
        int icmpType = f.getUnsignedByte(icmp);
        if (icmpType == 133) {
            solicited();
        } else if (icmpType == 135 && len >= Ethernet.HEADER_LENGTH + Ipv6.HEADER_LENGTH + 24
                && f.getLong(icmp + 8) == hi(dns6) && f.getLong(icmp + 16) == lo(dns6)) {
            neighborAdvertisement(f, ip);
        }
    }

    private void solicited() {
        long since = ctx.executor().ticker().nanoTime() - lastSentNanos;
        long wait = sent == 0 ? 0 : MIN_DELAY_BETWEEN_RAS_MILLIS - TimeUnit.NANOSECONDS.toMillis(since);
        if (wait <= 0) {
            advertise();
        } else if (delayed == null || delayed.isDone()) {
            delayed = ctx.executor().schedule(this::advertise, wait, TimeUnit.MILLISECONDS);
        }
    }

    private void advertise() {
        if (ctx == null || ctx.isRemoved() || !ctx.channel().isActive()) {
            return;
        }
        lastSentNanos = ctx.executor().ticker().nanoTime();
        int icmpLen = 16 + 8 + 8 + 32 + 24; // header, source link-layer, MTU, prefix information, RDNSS
        ByteBuf out = ctx.alloc().buffer(Ethernet.HEADER_LENGTH + Ipv6.HEADER_LENGTH + icmpLen);
        Ethernet.writeHeader(out, ALL_NODES_MAC, mac, Ethernet.IPV6);
        Ipv6.writeHeader(out, 0, 0, icmpLen, IpProtocol.ICMPV6, 255, llHi, llLo, ALL_NODES_HI, ALL_NODES_LO);
        int p = out.writerIndex();
        out.writeByte(134).writeByte(0).writeShort(0);
        out.writeByte(64).writeByte(0).writeShort(1800); // hop limit, no M/O flags, router lifetime 1800 s
        out.writeInt(0).writeInt(0); // reachable time, retrans timer: unspecified
        out.writeByte(1).writeByte(1).writeShort((int) (mac >>> 32)).writeInt((int) mac); // source link-layer
        out.writeByte(5).writeByte(1).writeShort(0).writeInt(mtu);
        out.writeByte(3).writeByte(4).writeByte(64).writeByte(0xC0); // prefix /64, on-link and autonomous
        out.writeInt(86_400).writeInt(14_400).writeInt(0).writeLong(prefixHi).writeLong(0);
        out.writeByte(25).writeByte(3).writeShort(0).writeInt(1800).writeBytes(dns6); // RDNSS
        checksum(out, p, icmpLen, llHi, llLo, ALL_NODES_HI, ALL_NODES_LO);
        sent++;
        ctx.writeAndFlush(out, ctx.voidPromise());
    }

    private void arpReply(ByteBuf req, int arp) {
        long senderMac = ((long) req.getUnsignedShort(arp + 8) << 32) | req.getUnsignedInt(arp + 10);
        int senderIp = req.getInt(arp + 14);
        ByteBuf out = ctx.alloc().buffer(Ethernet.MIN_FRAME_LENGTH);
        Ethernet.writeHeader(out, senderMac, mac, Ethernet.ARP);
        out.writeShort(1).writeShort(0x0800).writeByte(6).writeByte(4).writeShort(2);
        out.writeShort((int) (mac >>> 32)).writeInt((int) mac).writeInt(dns4);
        out.writeShort((int) (senderMac >>> 32)).writeInt((int) senderMac).writeInt(senderIp);
        out.writeZero(Ethernet.MIN_FRAME_LENGTH - out.readableBytes());
        ctx.writeAndFlush(out, ctx.voidPromise());
    }

    private void neighborAdvertisement(ByteBuf ns, int ip) {
        long dstMac = Ethernet.src(ns, ns.readerIndex());
        long sHi = Ipv6.srcHi(ns, ip);
        long sLo = Ipv6.srcLo(ns, ip);
        boolean dad = sHi == 0 && sLo == 0; // from the unspecified address: answer all-nodes (RFC 4861 §7.2.4)
        long dHi = dad ? ALL_NODES_HI : sHi;
        long dLo = dad ? ALL_NODES_LO : sLo;
        long th = hi(dns6);
        long tl = lo(dns6);
        int icmpLen = 24 + 8;
        ByteBuf out = ctx.alloc().buffer(Ethernet.HEADER_LENGTH + Ipv6.HEADER_LENGTH + icmpLen);
        Ethernet.writeHeader(out, dad ? ALL_NODES_MAC : dstMac, mac, Ethernet.IPV6);
        Ipv6.writeHeader(out, 0, 0, icmpLen, IpProtocol.ICMPV6, 255, th, tl, dHi, dLo);
        int p = out.writerIndex();
        out.writeByte(136).writeByte(0).writeShort(0);
        out.writeInt(dad ? 0xA000_0000 : 0xE000_0000); // router, (solicited,) override
        out.writeLong(th).writeLong(tl);
        out.writeByte(2).writeByte(1).writeShort((int) (mac >>> 32)).writeInt((int) mac); // target link-layer
        checksum(out, p, icmpLen, th, tl, dHi, dLo);
        ctx.writeAndFlush(out, ctx.voidPromise());
    }

    private static void checksum(ByteBuf out, int p, int len, long sh, long sl, long dh, long dl) {
        int c = Checksums.finish(Checksums.partial(out, p, len,
                Checksums.pseudoHeaderV6(sh, sl, dh, dl, IpProtocol.ICMPV6, len)));
        out.setShort(p + 2, c);
    }

    static long hi(byte[] a) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (a[i] & 0xFF);
        }
        return v;
    }

    static long lo(byte[] a) {
        long v = 0;
        for (int i = 8; i < 16; i++) {
            v = (v << 8) | (a[i] & 0xFF);
        }
        return v;
    }
}

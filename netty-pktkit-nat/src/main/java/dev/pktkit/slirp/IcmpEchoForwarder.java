package dev.pktkit.slirp;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.vtcp.host.VirtualHost;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Takes guests' ICMP echo requests off the device pipeline before the virtual host and sends them out of a host
 * ICMP socket; echo replies come back from the host's socket and are sent to the guest from the address it
 * pinged. Each request gets a sequence number of this namespace (the kernel of a datagram socket picks the
 * identifier itself), so the table maps that sequence back to the guest's address, identifier and sequence;
 * entries go with their reply or after the echo timeout, and at most {@code maxPendingEchoes} wait. When no ICMP
 * socket can be opened the guest gets ICMP administratively prohibited and the slirp counts it.
 *
 * <p>Not {@code @Sharable}: one per namespace.
 */
final class IcmpEchoForwarder extends ChannelInboundHandlerAdapter {
    private static final int V4_ECHO_REQUEST = 8;
    private static final int V4_ECHO_REPLY = 0;
    private static final int V6_ECHO_REQUEST = 128;
    private static final int V6_ECHO_REPLY = 129;

    private final SlirpNamespace ns;
    /** Per family: outstanding requests by the sequence number sent. Loop only. */
    private final Map<Integer, Echo> pending4 = new HashMap<>();
    private final Map<Integer, Echo> pending6 = new HashMap<>();
    private int nextSeq4;
    private int nextSeq6;
    private IcmpEchoSockets.Socket socket4;
    private IcmpEchoSockets.Socket socket6;
    private boolean failed4;
    private boolean failed6;
    private ChannelHandlerContext ctx;

    /** A guest's request: who asked, which identifier and sequence, which address it pinged, when. */
    private record Echo(byte[] guest, int id, int seq, byte[] pinged, long sentNanos) {
    }

    IcmpEchoForwarder(SlirpNamespace ns) {
        this.ns = ns;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf pkt && isEchoRequest(pkt)) {
            try {
                forward(pkt);
            } finally {
                pkt.release();
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private static boolean isEchoRequest(ByteBuf pkt) {
        int off = pkt.readerIndex();
        int len = pkt.readableBytes();
        if (len < 1) {
            return false;
        }
        int v = pkt.getUnsignedByte(off) >>> 4;
        if (v == 4) {
            if (Ipv4.check(pkt, off) < 0 || Ipv4.protocol(pkt, off) != IpProtocol.ICMP || Ipv4.isFragment(pkt, off)) {
                return false;
            }
            int p = Ipv4.payloadOffset(pkt, off);
            return Ipv4.payloadLength(pkt, off) >= 8 && pkt.getUnsignedByte(p) == V4_ECHO_REQUEST;
        }
        if (v == 6) {
            if (Ipv6.check(pkt, off) < 0 || Ipv6.upperLayerProtocol(pkt, off) != IpProtocol.ICMPV6
                    || Ipv6.isFragment(pkt, off)) {
                return false;
            }
            int p = Ipv6.upperLayerOffset(pkt, off);
            return p > 0 && Ipv6.upperLayerLength(pkt, off) >= 8 && pkt.getUnsignedByte(p) == V6_ECHO_REQUEST;
        }
        return false;
    }

    private void forward(ByteBuf pkt) {
        int off = pkt.readerIndex();
        boolean v6 = (pkt.getUnsignedByte(off) >>> 4) == 6;
        byte[] src = new byte[v6 ? 16 : 4];
        byte[] dst = new byte[v6 ? 16 : 4];
        int p;
        int len;
        if (v6) {
            pkt.getBytes(off + 8, src);
            pkt.getBytes(off + 24, dst);
            p = Ipv6.upperLayerOffset(pkt, off);
            len = Ipv6.upperLayerLength(pkt, off);
        } else {
            pkt.getBytes(off + 12, src);
            pkt.getBytes(off + 16, dst);
            p = Ipv4.payloadOffset(pkt, off);
            len = Ipv4.payloadLength(pkt, off);
        }
        InetAddress to = realDestination(dst);
        IcmpEchoSockets.Socket s = to == null ? null : socket(v6);
        Map<Integer, Echo> table = v6 ? pending6 : pending4;
        expire(table);
        if (s == null || table.size() >= ns.slirp.maxPendingEchoes) {
            prohibited(pkt, v6);
            return;
        }
        int seq = v6 ? (nextSeq6++ & 0xFFFF) : (nextSeq4++ & 0xFFFF);
        byte[] msg = new byte[len];
        pkt.getBytes(p, msg);
        int id = ((msg[4] & 0xFF) << 8) | (msg[5] & 0xFF);
        int guestSeq = ((msg[6] & 0xFF) << 8) | (msg[7] & 0xFF);
        msg[6] = (byte) (seq >>> 8);
        msg[7] = (byte) seq;
        msg[2] = 0;
        msg[3] = 0;
        if (!v6) {
            // the kernel computes ICMPv6 checksums of datagram sockets; ICMPv4's is ours
            int c = Checksums.internet(io.netty.buffer.Unpooled.wrappedBuffer(msg), 0, len);
            msg[2] = (byte) (c >>> 8);
            msg[3] = (byte) c;
        }
        table.put(seq, new Echo(src, id, guestSeq, dst, System.nanoTime()));
        try {
            s.send(msg, len, to);
            ns.slirp.counters.icmpEchoForwarded.increment();
        } catch (IOException e) {
            table.remove(seq);
        }
    }

    /** The pinged address as the host sees it: the gateway is the loopback when mapped; null when not allowed. */
    private InetAddress realDestination(byte[] dst) {
        InetAddress a;
        try {
            a = InetAddress.getByAddress(dst);
        } catch (UnknownHostException e) {
            return null;
        }
        java.net.InetSocketAddress t = ns.target(new java.net.InetSocketAddress(a, 7));
        if (a.equals(ns.slirp.dnsV4) || a.equals(ns.slirp.dnsV6)) {
            return null;
        }
        return t == null ? null : t.getAddress();
    }

    private IcmpEchoSockets.Socket socket(boolean v6) {
        if (v6 ? socket6 != null : socket4 != null) {
            return v6 ? socket6 : socket4;
        }
        if (v6 ? failed6 : failed4) {
            return null;
        }
        try {
            IcmpEchoSockets.Socket s = ns.slirp.icmp.open(v6, (m, l, from) -> onReply(v6, m, l));
            if (v6) {
                socket6 = s;
            } else {
                socket4 = s;
            }
            return s;
        } catch (IOException | RuntimeException e) {
            if (v6) {
                failed6 = true;
            } else {
                failed4 = true;
            }
            return null;
        }
    }

    /** On a socket's reader thread: hand the reply to the namespace's loop. */
    private void onReply(boolean v6, byte[] m, int l) {
        if (l < 8 || (m[0] & 0xFF) != (v6 ? V6_ECHO_REPLY : V4_ECHO_REPLY)) {
            return;
        }
        byte[] copy = java.util.Arrays.copyOf(m, l);
        ns.loop.execute(() -> deliver(v6, copy));
    }

    private void deliver(boolean v6, byte[] m) {
        int seq = ((m[6] & 0xFF) << 8) | (m[7] & 0xFF);
        Echo e = (v6 ? pending6 : pending4).remove(seq);
        if (e == null || ctx == null || ctx.isRemoved()) {
            return;
        }
        m[4] = (byte) (e.id() >>> 8);
        m[5] = (byte) e.id();
        m[6] = (byte) (e.seq() >>> 8);
        m[7] = (byte) e.seq();
        m[2] = 0;
        m[3] = 0;
        ByteBuf out = ctx.alloc().buffer(VirtualHost.HEADROOM + 40 + m.length);
        out.writerIndex(VirtualHost.HEADROOM).readerIndex(VirtualHost.HEADROOM);
        if (v6) {
            long sh = hi(e.pinged()), sl = lo(e.pinged()), dh = hi(e.guest()), dl = lo(e.guest());
            Ipv6.writeHeader(out, 0, 0, m.length, IpProtocol.ICMPV6, 64, sh, sl, dh, dl);
            int p = out.writerIndex();
            out.writeBytes(m);
            int c = Checksums.finish(Checksums.partial(out, p, m.length,
                    Checksums.pseudoHeaderV6(sh, sl, dh, dl, IpProtocol.ICMPV6, m.length)));
            out.setShort(p + 2, c);
        } else {
            Ipv4.writeHeader(out, v4(e.pinged()), v4(e.guest()), IpProtocol.ICMP, 64, m.length, 0, false);
            int p = out.writerIndex();
            out.writeBytes(m);
            out.setShort(p + 2, Checksums.internet(out, p, m.length));
        }
        ns.slirp.counters.icmpEchoReplies.increment();
        ctx.writeAndFlush(out, ctx.voidPromise());
    }

    /** ICMP destination unreachable, administratively prohibited (v4 code 13, v6 code 1), from the gateway. */
    private void prohibited(ByteBuf pkt, boolean v6) {
        ns.slirp.counters.icmpProhibited.increment();
        int off = pkt.readerIndex();
        ByteBuf out = ctx.alloc().buffer(VirtualHost.HEADROOM + 1280);
        out.writerIndex(VirtualHost.HEADROOM).readerIndex(VirtualHost.HEADROOM);
        if (v6) {
            int quote = Math.min(pkt.readableBytes(), 1280 - 48);
            byte[] gw = ns.slirp.gatewayV6.getAddress();
            long sh = hi(gw), sl = lo(gw), dh = Ipv6.srcHi(pkt, off), dl = Ipv6.srcLo(pkt, off);
            int icmpLen = 8 + quote;
            Ipv6.writeHeader(out, 0, 0, icmpLen, IpProtocol.ICMPV6, 64, sh, sl, dh, dl);
            int p = out.writerIndex();
            out.writeByte(1).writeByte(1).writeShort(0).writeInt(0).writeBytes(pkt, off, quote);
            int c = Checksums.finish(Checksums.partial(out, p, icmpLen,
                    Checksums.pseudoHeaderV6(sh, sl, dh, dl, IpProtocol.ICMPV6, icmpLen)));
            out.setShort(p + 2, c);
        } else {
            int quote = Math.min(pkt.readableBytes(), Ipv4.headerLength(pkt, off) + 8);
            int icmpLen = 8 + quote;
            Ipv4.writeHeader(out, v4(ns.slirp.gatewayV4.getAddress()), Ipv4.src(pkt, off), IpProtocol.ICMP, 64,
                    icmpLen, 0, false);
            int p = out.writerIndex();
            out.writeByte(3).writeByte(13).writeShort(0).writeInt(0).writeBytes(pkt, off, quote);
            out.setShort(p + 2, Checksums.internet(out, p, icmpLen));
        }
        ctx.writeAndFlush(out, ctx.voidPromise());
    }

    private void expire(Map<Integer, Echo> table) {
        if (table.isEmpty()) {
            return;
        }
        long limit = System.nanoTime() - ns.slirp.echoTimeoutMillis * 1_000_000L;
        for (Iterator<Echo> it = table.values().iterator(); it.hasNext(); ) {
            if (it.next().sentNanos() - limit < 0) {
                it.remove();
            }
        }
    }

    void closeSockets() {
        for (IcmpEchoSockets.Socket s : new IcmpEchoSockets.Socket[] {socket4, socket6}) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing: nothing left to do with it
                }
            }
        }
        socket4 = null;
        socket6 = null;
    }

    private static int v4(byte[] a) {
        return ((a[0] & 0xFF) << 24) | ((a[1] & 0xFF) << 16) | ((a[2] & 0xFF) << 8) | (a[3] & 0xFF);
    }

    private static long hi(byte[] a) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (a[i] & 0xFF);
        }
        return v;
    }

    private static long lo(byte[] a) {
        long v = 0;
        for (int i = 8; i < 16; i++) {
            v = (v << 8) | (a[i] & 0xFF);
        }
        return v;
    }

    static boolean isV6(InetAddress a) {
        return a instanceof Inet6Address && !(a instanceof Inet4Address);
    }
}

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
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Takes guests' ICMP echo requests (RFC 792, RFC 4443 §4.1) off the device pipeline before the virtual host and
 * sends them out of a host ICMP socket; echo replies come back from the host's socket and are sent to the guest
 * from the address it pinged. Each request gets a sequence number of this namespace (the kernel of a datagram
 * socket picks the identifier itself; on a raw socket, which sees every reply of its namespace, requests carry a
 * random identifier of the socket's and replies are matched by it), so the table maps that sequence back to the
 * guest's address, identifier and sequence; entries go with their reply or after the echo timeout, and at most
 * {@code maxPendingEchoes} wait. A family's socket is opened on first use on a thread of its own (opening in
 * another namespace blocks), the requests meanwhile queued (at most {@code maxPendingDatagrams}). When no ICMP
 * socket can be opened, or policy forbids the destination, the guest gets ICMP destination unreachable,
 * administratively prohibited (RFC 1812 §5.2.7.1 code 13, RFC 4443 §3.1 code 1), and the slirp counts it (and
 * keeps why the open failed); a failed open is tried again by a request 1 s later, the wait doubling up to 60 s.
 *
 * <p>Not {@code @Sharable}: one per namespace.
 */
final class IcmpEchoForwarder extends ChannelInboundHandlerAdapter {
    private static final int V4_ECHO_REQUEST = 8;
    private static final int V4_ECHO_REPLY = 0;
    private static final int V6_ECHO_REQUEST = 128;
    private static final int V6_ECHO_REPLY = 129;
    /** A failed open is tried again by an echo request 1 s later, then after 2 s, 4 s ... at most 60 s. */
    static final long FIRST_RETRY_NANOS = 1_000_000_000L;
    static final long MAX_RETRY_NANOS = 60_000_000_000L;

    private final SlirpNamespace ns;
    private final Family v4Family = new Family(false);
    private final Family v6Family = new Family(true);
    private boolean closed;
    private ChannelHandlerContext ctx;

    private enum State { CLOSED, OPENING, OPEN, FAILED }

    /** One address family's socket, the requests waiting for it to open, and those awaiting replies. Loop only. */
    private static final class Family {
        final boolean v6;
        State state = State.CLOSED;
        IcmpEchoSockets.Socket socket;
        /** The identifier our requests carry on a raw socket; -1 when the kernel picks it (datagram socket). */
        volatile int identifier = -1;
        final ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
        /** Outstanding requests by the sequence number sent. */
        final Map<Integer, Echo> pending = new HashMap<>();
        int nextSeq;
        /** After a failed open: when the next echo request may try again, and the wait after that. */
        long retryAtNanos;
        long retryDelayNanos = FIRST_RETRY_NANOS;

        Family(boolean v6) {
            this.v6 = v6;
        }
    }

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
        byte[] dst = new byte[v6 ? 16 : 4];
        pkt.getBytes(off + (v6 ? 24 : 16), dst);
        InetAddress to = realDestination(dst);
        if (to == null) {
            prohibited(pkt, v6);
            return;
        }
        Family f = v6 ? v6Family : v4Family;
        switch (f.state) {
            case CLOSED -> open(f);
            case OPENING -> { }
            case FAILED -> {
                if (System.nanoTime() - f.retryAtNanos < 0) {
                    prohibited(pkt, v6);
                    return;
                }
                open(f); // a failure may pass (descriptors, a namespace being set up): try again, rarely
            }
            case OPEN -> {
                send(f, pkt, to);
                return;
            }
        }
        if (f.waiting.size() >= ns.slirp.maxPendingDatagrams) {
            ns.slirp.counters.icmpDroppedByLimit.increment();
            return;
        }
        f.waiting.add(pkt.retain());
    }

    /** Opens the family's socket on a thread of its own (entering a namespace blocks), then drains its queue. */
    private void open(Family f) {
        f.state = State.OPENING;
        IcmpEchoSockets sockets = ns.slirp.icmp;
        Thread.ofPlatform().daemon(true).name("slirp-icmp-open").start(() -> {
            IcmpEchoSockets.Socket s;
            try {
                s = sockets.open(f.v6, (m, l, from) -> onReply(f, m, l));
            } catch (Throwable e) { // an Error too (a class that failed to link): the queue must not wait forever
                s = null;
                ns.slirp.counters.icmpOpenFailed("ICMP" + (f.v6 ? "v6" : "") + ": " + LinuxIcmpSockets.describe(e));
            }
            IcmpEchoSockets.Socket opened = s;
            ns.loop.execute(() -> opened(f, opened));
        });
    }

    private void opened(Family f, IcmpEchoSockets.Socket s) {
        if (closed) {
            closeQuietly(s);
            releaseWaiting(f);
            return;
        }
        if (s == null) {
            f.state = State.FAILED;
            f.retryAtNanos = System.nanoTime() + f.retryDelayNanos;
            f.retryDelayNanos = Math.min(MAX_RETRY_NANOS, f.retryDelayNanos * 2);
        } else {
            f.state = State.OPEN;
            f.retryDelayNanos = FIRST_RETRY_NANOS;
            f.socket = s;
            f.identifier = s.rewritesIdentifier() ? -1 : ThreadLocalRandom.current().nextInt(0x10000);
            (s.rewritesIdentifier() ? ns.slirp.counters.icmpDatagramSockets : ns.slirp.counters.icmpRawSockets)
                    .increment();
        }
        for (ByteBuf pkt; (pkt = f.waiting.poll()) != null; ) {
            try {
                if (s == null) {
                    prohibited(pkt, f.v6);
                } else {
                    int off = pkt.readerIndex();
                    byte[] dst = new byte[f.v6 ? 16 : 4];
                    pkt.getBytes(off + (f.v6 ? 24 : 16), dst);
                    InetAddress to = realDestination(dst);
                    if (to != null) {
                        send(f, pkt, to);
                    }
                }
            } finally {
                pkt.release();
            }
        }
    }

    private void send(Family f, ByteBuf pkt, InetAddress to) {
        boolean v6 = f.v6;
        int off = pkt.readerIndex();
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
        expire(f.pending);
        if (f.pending.size() >= ns.slirp.maxPendingEchoes) {
            ns.slirp.counters.icmpDroppedByLimit.increment();
            return;
        }
        int seq = f.nextSeq++ & 0xFFFF;
        byte[] msg = new byte[len];
        pkt.getBytes(p, msg);
        int id = ((msg[4] & 0xFF) << 8) | (msg[5] & 0xFF);
        int guestSeq = ((msg[6] & 0xFF) << 8) | (msg[7] & 0xFF);
        if (f.identifier >= 0) {
            // a raw socket sees every reply of the namespace: ours carry this socket's identifier
            msg[4] = (byte) (f.identifier >>> 8);
            msg[5] = (byte) f.identifier;
        }
        msg[6] = (byte) (seq >>> 8);
        msg[7] = (byte) seq;
        msg[2] = 0;
        msg[3] = 0;
        if (!v6) {
            // the kernel computes ICMPv6 checksums (datagram and raw); ICMPv4's is ours for a raw socket
            int c = Checksums.internet(io.netty.buffer.Unpooled.wrappedBuffer(msg), 0, len);
            msg[2] = (byte) (c >>> 8);
            msg[3] = (byte) c;
        }
        f.pending.put(seq, new Echo(src, id, guestSeq, dst, System.nanoTime()));
        try {
            f.socket.send(msg, len, to);
            ns.slirp.counters.icmpEchoForwarded.increment();
        } catch (IOException e) {
            f.pending.remove(seq);
            ns.slirp.counters.icmpSendFailed.increment();
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

    /** On a socket's reader thread: hand the reply to the namespace's loop. */
    private void onReply(Family f, byte[] m, int l) {
        if (l < 8 || (m[0] & 0xFF) != (f.v6 ? V6_ECHO_REPLY : V4_ECHO_REPLY)) {
            return;
        }
        int ident = f.identifier;
        if (ident >= 0 && (((m[4] & 0xFF) << 8) | (m[5] & 0xFF)) != ident) {
            return; // another process's reply, seen by a raw socket
        }
        byte[] copy = java.util.Arrays.copyOf(m, l);
        ns.loop.execute(() -> deliver(f, copy));
    }

    private void deliver(Family f, byte[] m) {
        boolean v6 = f.v6;
        int seq = ((m[6] & 0xFF) << 8) | (m[7] & 0xFF);
        Echo e = f.pending.remove(seq);
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

    /** Closes the sockets and drops what waits; a socket still opening is closed when it arrives. Loop only. */
    void closeSockets() {
        closed = true;
        for (Family f : new Family[] {v4Family, v6Family}) {
            closeQuietly(f.socket);
            f.socket = null;
            f.pending.clear();
            releaseWaiting(f);
        }
    }

    private static void releaseWaiting(Family f) {
        for (ByteBuf b; (b = f.waiting.poll()) != null; ) {
            b.release();
        }
    }

    private static void closeQuietly(IcmpEchoSockets.Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing: nothing left to do with it
            }
        }
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

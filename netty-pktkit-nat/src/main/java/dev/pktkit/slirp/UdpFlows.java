package dev.pktkit.slirp;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.vtcp.host.UdpDatagram;
import dev.pktkit.vtcp.host.VirtualChannelOption;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The UDP side of a namespace: one any-address {@code VirtualDatagramChannel} takes every guest datagram; each
 * (guest address and port, destination) flow gets a connected host datagram channel, whose datagrams go back to
 * the guest from the destination it talked to. The table lives on the namespace's loop (no locks), is bounded
 * by {@code maxUdpFlows}, and a sweep every quarter of the idle timeout closes flows idle longer than it.
 *
 * <p>Per datagram nothing is allocated: the guest channel reads {@link UdpDatagram}s (addresses as numbers,
 * {@link VirtualChannelOption#UDP_DATAGRAMS}), the flow is found in a {@link UdpFlowTable} keyed by those numbers,
 * and replies go back as pooled {@link UdpDatagram}s. DNS queries to the forwarder's address take the
 * forwarder's own (allocating) path.
 */
final class UdpFlows {
    private final SlirpNamespace ns;
    private final UdpFlowTable<Flow> flows;
    private Channel guestChannel;
    private DnsForwarder dns;
    private ScheduledFuture<?> sweep;
    /** The forwarder's addresses as numbers (family 4: lo; 6: hi, lo). */
    private final long dns4;
    private final long dns6Hi;
    private final long dns6Lo;

    UdpFlows(SlirpNamespace ns) {
        this.ns = ns;
        this.flows = new UdpFlowTable<>(ns.slirp.maxUdpFlows);
        this.dns4 = ns.slirp.dnsV4 instanceof Inet4Address a ? Ip4.of(a) & 0xFFFFFFFFL : -1;
        InetAddress d6 = ns.slirp.dnsV6;
        this.dns6Hi = d6 instanceof Inet6Address a ? Ip6.hi(a) : -1;
        this.dns6Lo = d6 instanceof Inet6Address a ? Ip6.lo(a) : -1;
    }

    private boolean isDns(UdpDatagram d) {
        return d.dstPort() == 53 && (d.family() == 4 ? d.dstLo() == dns4 : d.dstHi() == dns6Hi && d.dstLo() == dns6Lo);
    }

    Future<?> start() {
        ChannelFuture f = new Bootstrap().group(ns.loop).channelFactory(ns.host.datagramChannels())
                .option(VirtualChannelOption.TRANSPARENT, true)
                .option(VirtualChannelOption.UDP_DATAGRAMS, true)
                .handler(new GuestReader()).bind(0);
        guestChannel = f.channel();
        dns = new DnsForwarder(ns, guestChannel);
        Future<?> dnsStarted = dns.start();
        long every = Math.max(10, ns.slirp.udpIdleMillis / 4);
        sweep = ns.loop.scheduleAtFixedRate(this::expire, every, every, TimeUnit.MILLISECONDS);
        io.netty.util.concurrent.Promise<Void> both = ns.loop.newPromise();
        f.addListener(a -> dnsStarted.addListener(b -> {
            if (!a.isSuccess()) {
                both.tryFailure(a.cause());
            } else if (!b.isSuccess()) {
                both.tryFailure(b.cause());
            } else {
                both.trySuccess(null);
            }
        }));
        return both;
    }

    int size() {
        return flows.size();
    }

    void close() {
        if (sweep != null) {
            sweep.cancel(false);
        }
        for (Flow fl : flows.snapshot()) {
            fl.close();
        }
        flows.clear();
        if (dns != null) {
            dns.close();
        }
        if (guestChannel != null) {
            guestChannel.close();
        }
    }

    private void expire() {
        long now = System.nanoTime();
        long idle = TimeUnit.MILLISECONDS.toNanos(ns.slirp.udpIdleMillis);
        for (Flow fl : flows.snapshot()) {
            if (now - fl.lastUsed > idle) {
                flows.remove(fl);
                fl.close();
                ns.slirp.counters.udpFlowsExpired.increment();
            }
        }
    }

    private final class GuestReader extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof UdpDatagram d)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (isDns(d)) {
                InetSocketAddress recipient = d.recipient();
                InetSocketAddress sender = d.sender();
                dns.query(new DatagramPacket(d.takeContent(), recipient, sender));
                return;
            }
            int family = d.family();
            Flow fl = flows.get(family, d.srcHi(), d.srcLo(), d.srcPort(), d.dstHi(), d.dstLo(), d.dstPort());
            if (fl == null) {
                InetSocketAddress to = ns.target(d.recipient());
                if (to == null) {
                    ns.slirp.counters.udpDroppedByPolicy.increment();
                    d.release();
                    return;
                }
                if (flows.size() >= ns.slirp.maxUdpFlows || !ns.slirp.reserveUdpFlow()) {
                    ns.slirp.counters.udpDroppedByLimit.increment();
                    d.release();
                    return;
                }
                fl = new Flow(d, to);
                flows.put(fl);
                ns.slirp.counters.udpFlowsOpened.increment();
            }
            fl.lastUsed = System.nanoTime();
            fl.send(d.takeContent());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // ICMP errors about datagrams slirp sent to guests: nothing to do
        }
    }

    /** One flow: its host channel and the datagrams waiting for it to connect. */
    private final class Flow extends ChannelInboundHandlerAdapter implements UdpFlowTable.Keyed {
        private final int family;
        private final long guestHi;
        private final long guestLo;
        private final int guestPort;
        private final long dstHi;
        private final long dstLo;
        private final int dstPort;
        final Channel hostChannel;
        ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
        volatile long lastUsed = System.nanoTime();
        private boolean givenBack;

        Flow(UdpDatagram first, InetSocketAddress to) {
            this.family = first.family();
            this.guestHi = first.srcHi();
            this.guestLo = first.srcLo();
            this.guestPort = first.srcPort();
            this.dstHi = first.dstHi();
            this.dstLo = first.dstLo();
            this.dstPort = first.dstPort();
            ChannelFuture cf = new Bootstrap().group(ns.hostLoops).channel(ns.slirp.datagramClass)
                    .option(ChannelOption.SO_RCVBUF, 256 << 10)
                    .handler(this).connect(to);
            hostChannel = cf.channel();
            cf.addListener((ChannelFutureListener) f -> ns.loop.execute(() -> {
                ArrayDeque<ByteBuf> w = waiting;
                waiting = null;
                if (w == null) {
                    return;
                }
                if (!f.isSuccess()) {
                    releaseAll(w);
                    flows.remove(this);
                    giveBack();
                    return;
                }
                for (ByteBuf b; (b = w.poll()) != null; ) {
                    write(b);
                }
                hostChannel.flush();
            }));
        }

        @Override
        public int family() {
            return family;
        }

        @Override
        public long guestHi() {
            return guestHi;
        }

        @Override
        public long guestLo() {
            return guestLo;
        }

        @Override
        public int guestPort() {
            return guestPort;
        }

        @Override
        public long dstHi() {
            return dstHi;
        }

        @Override
        public long dstLo() {
            return dstLo;
        }

        @Override
        public int dstPort() {
            return dstPort;
        }

        void send(ByteBuf data) {
            ArrayDeque<ByteBuf> w = waiting;
            if (w != null) {
                if (w.size() >= ns.slirp.maxPendingDatagrams) {
                    ns.slirp.counters.udpDroppedByLimit.increment();
                    data.release();
                } else {
                    w.add(data);
                }
                return;
            }
            write(data);
            hostChannel.flush();
        }

        private void write(ByteBuf data) {
            ns.slirp.counters.udpDatagramsOut.increment();
            hostChannel.write(data, hostChannel.voidPromise());
        }

        void close() {
            ArrayDeque<ByteBuf> w = waiting;
            waiting = null;
            if (w != null) {
                releaseAll(w);
            }
            giveBack();
            hostChannel.close();
        }

        /** Gives its place in the slirp's total flow bound back, once. Loop only. */
        private void giveBack() {
            if (!givenBack) {
                givenBack = true;
                ns.slirp.totalUdpFlows.decrementAndGet();
            }
        }

        private void releaseAll(ArrayDeque<ByteBuf> w) {
            for (ByteBuf b; (b = w.poll()) != null; ) {
                b.release();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf data;
            if (msg instanceof DatagramPacket p) {
                data = p.content();
            } else if (msg instanceof ByteBuf b) {
                data = b;
            } else {
                ReferenceCountUtil.release(msg);
                return;
            }
            Channel g = guestChannel;
            if (g == null || !g.isActive()) {
                data.release();
                return;
            }
            ns.slirp.counters.udpDatagramsIn.increment();
            lastUsed = System.nanoTime(); // a plain store from the host loop; the sweep may see it late
            // from the destination the guest talked to, to the guest: a pooled holder, no address objects
            UdpDatagram reply = family == 4
                    ? UdpDatagram.v4(data, (int) dstLo, dstPort, (int) guestLo, guestPort)
                    : UdpDatagram.v6(data, dstHi, dstLo, dstPort, guestHi, guestLo, guestPort);
            g.write(reply, g.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            Channel g = guestChannel;
            if (g != null) {
                g.flush();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // PortUnreachableException and the like on the connected host socket: the guest's retries decide
        }
    }
}

package dev.pktkit.slirp;

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

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The UDP side of a namespace: one any-address {@code VirtualDatagramChannel} takes every guest datagram; each
 * (guest address and port, destination) flow gets a connected host datagram channel, whose datagrams go back to
 * the guest from the destination it talked to. The table lives on the namespace's loop (no locks), is bounded
 * by {@code maxUdpFlows}, and a sweep every quarter of the idle timeout closes flows idle longer than it.
 */
final class UdpFlows {
    private final SlirpNamespace ns;
    private final Map<Key, Flow> flows = new HashMap<>();
    private Channel guestChannel;
    private DnsForwarder dns;
    private ScheduledFuture<?> sweep;

    record Key(InetSocketAddress guest, InetSocketAddress dst) {
    }

    UdpFlows(SlirpNamespace ns) {
        this.ns = ns;
    }

    Future<?> start() {
        ChannelFuture f = new Bootstrap().group(ns.loop).channelFactory(ns.host.datagramChannels())
                .option(VirtualChannelOption.TRANSPARENT, true)
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
        for (Flow fl : flows.values()) {
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
        for (Iterator<Flow> it = flows.values().iterator(); it.hasNext(); ) {
            Flow fl = it.next();
            if (now - fl.lastUsed > idle) {
                it.remove();
                fl.close();
                ns.slirp.counters.udpFlowsExpired.increment();
            }
        }
    }

    private final class GuestReader extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof DatagramPacket p)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (ns.isDnsAddress(p.recipient())) {
                dns.query(p);
                return;
            }
            Key k = new Key(p.sender(), p.recipient());
            Flow fl = flows.get(k);
            if (fl == null) {
                InetSocketAddress to = ns.target(p.recipient());
                if (to == null) {
                    ns.slirp.counters.udpDroppedByPolicy.increment();
                    p.release();
                    return;
                }
                if (flows.size() >= ns.slirp.maxUdpFlows || !ns.slirp.reserveUdpFlow()) {
                    ns.slirp.counters.udpDroppedByLimit.increment();
                    p.release();
                    return;
                }
                fl = new Flow(k, to);
                flows.put(k, fl);
                ns.slirp.counters.udpFlowsOpened.increment();
            }
            fl.lastUsed = System.nanoTime();
            fl.send(p.content().retain());
            p.release();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // ICMP errors about datagrams slirp sent to guests: nothing to do
        }
    }

    /** One flow: its host channel and the datagrams waiting for it to connect. */
    private final class Flow extends ChannelInboundHandlerAdapter {
        final Key key;
        final Channel hostChannel;
        ArrayDeque<ByteBuf> waiting = new ArrayDeque<>();
        volatile long lastUsed = System.nanoTime();
        private boolean givenBack;

        Flow(Key key, InetSocketAddress to) {
            this.key = key;
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
                    if (flows.get(key) == this) {
                        flows.remove(key);
                    }
                    giveBack();
                    return;
                }
                for (ByteBuf b; (b = w.poll()) != null; ) {
                    write(b);
                }
                hostChannel.flush();
            }));
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
            g.write(new DatagramPacket(data, key.guest(), key.dst()), g.voidPromise());
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

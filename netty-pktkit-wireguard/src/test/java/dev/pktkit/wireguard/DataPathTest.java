package dev.pktkit.wireguard;

import dev.pktkit.wireguard.wire.MessageType;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The data path over real UDP on loopback: UDP GRO / GSO on the epoll transport, and the multi-core path (crypto on
 * worker threads) keeping each peer's order and the replay window exact. Every packet carries a sequence number;
 * the receiver must see each exactly once and in order.
 */
class DataPathTest {
    private static final int BURST = 40;
    private static final int BURSTS = 25;

    private final WireGuardKey keyA = WireGuardKey.generatePrivate();
    private final WireGuardKey keyB = WireGuardKey.generatePrivate();
    private MultiThreadIoEventLoopGroup group;
    private EventExecutorGroup workers;
    private final List<Channel> channels = new ArrayList<>();
    private WireGuardEndpoint a;
    private WireGuardEndpoint b;
    private final Sequence received = new Sequence();
    private final GroProbe probe = new GroProbe();

    @AfterEach
    void close() throws Exception {
        for (Channel c : channels) {
            c.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
        if (workers != null) {
            workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }

    private void start(String transport, UnaryOperator<WireGuardEndpoint.Builder> ca,
                       UnaryOperator<WireGuardEndpoint.Builder> cb, ChannelDuplexHandler atA) throws Exception {
        IoHandlerFactory f;
        Supplier<DatagramChannel> ch;
        if (transport.equals("epoll")) {
            Assumptions.assumeTrue(Epoll.isAvailable(), "epoll unavailable");
            f = EpollIoHandler.newFactory();
            ch = EpollDatagramChannel::new;
        } else {
            f = NioIoHandler.newFactory();
            ch = NioDatagramChannel::new;
        }
        group = new MultiThreadIoEventLoopGroup(2, f);
        b = cb.apply(WireGuardEndpoint.builder().privateKey(keyB)
                .peer(WireGuardPeerConfig.of(keyA.publicKey(), "10.0.0.1/32"))).build();
        Channel udpB = new Bootstrap().group(group).channelFactory(ch::get).handler(b)
                .bind("127.0.0.1", 0).sync().channel();
        channels.add(udpB);
        udpB.pipeline().addFirst(probe);
        b.peer(keyA.publicKey()).pipeline().addLast(received);
        InetSocketAddress bAddr = (InetSocketAddress) udpB.localAddress();
        a = ca.apply(WireGuardEndpoint.builder().privateKey(keyA)
                .peer(WireGuardPeerConfig.of(keyB.publicKey(), "10.0.0.2/32").withEndpoint(bAddr))).build();
        Channel udpA = new Bootstrap().group(group).channelFactory(ch::get).handler(a)
                .bind("127.0.0.1", 0).sync().channel();
        channels.add(udpA);
        if (atA != null) {
            udpA.pipeline().addFirst(atA);
        }
        a.connect(keyB.publicKey()).get(10, TimeUnit.SECONDS);
    }

    /** Sends BURSTS bursts of BURST full-size packets, each burst flushed at once, waiting for each to arrive. */
    private void sendBursts() throws InterruptedException {
        WireGuardPeerChannel peer = a.peer(keyB.publicKey());
        int seq = 0;
        for (int burst = 0; burst < BURSTS; burst++) {
            for (int i = 0; i < BURST; i++) {
                peer.write(packet(seq++));
            }
            peer.flush();
            int expected = seq;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (received.count.get() < expected) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("burst " + burst + ": received " + received.count.get() + " of "
                            + expected + "; drops at B " + b.drops() + ", at A " + a.drops());
                }
                Thread.sleep(2); // polling a condition with a deadline, not synchronising on time
            }
        }
    }

    private static ByteBuf packet(int seq) {
        ByteBuf p = Harness.ipv4("10.0.0.1", "10.0.0.2", 1400 - 20);
        p.setInt(20, seq);
        return p;
    }

    private void assertAllInOrder() {
        assertEquals(BURST * BURSTS, received.count.get());
        assertTrue(received.errors.isEmpty(), received.errors.toString());
    }

    @Test
    void gsoSendsAndGroReceivesOnEpoll() throws Exception {
        start("epoll", x -> x, x -> x, null);
        assertTrue(a.isGsoEnabled(), "epoll offers SegmentedDatagramPacket here");
        assertTrue(b.isGroEnabled(), "epoll offers UDP_GRO");
        sendBursts();
        assertAllInOrder();
        assertTrue(a.gsoDatagrams() >= BURSTS, "each burst left as GSO datagrams: " + a.gsoDatagrams());
        assertTrue(probe.coalesced.get() > BURST * BURSTS / 2,
                "most datagrams arrived as segments of GRO reads: " + probe.coalesced.get());
        assertTrue(b.drops().isEmpty(), b.drops().toString());
    }

    @Test
    void withoutOffloadsEveryDatagramIsItsOwn() throws Exception {
        start("epoll", x -> x.udpOffloads(false), x -> x.udpOffloads(false), null);
        assertFalse(a.isGsoEnabled());
        assertFalse(b.isGroEnabled());
        sendBursts();
        assertAllInOrder();
        assertEquals(0, a.gsoDatagrams());
        assertEquals(0, probe.coalesced.get());
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll"})
    void cryptoWorkersKeepPerPeerOrder(String transport) throws Exception {
        workers = new DefaultEventExecutorGroup(3);
        start(transport, x -> x.cryptoWorkers(workers), x -> x.cryptoWorkers(workers), null);
        sendBursts();
        assertAllInOrder();
        assertTrue(a.offloadedPackets() >= BURST * BURSTS, "A sealed on workers: " + a.offloadedPackets());
        assertTrue(b.offloadedPackets() >= BURST * BURSTS, "B opened on workers: " + b.offloadedPackets());
        assertTrue(b.drops().isEmpty(), b.drops().toString());
        // and back: B's replies go through its own workers
        WireGuardPeerChannel back = b.peer(keyA.publicKey());
        Sequence atA = new Sequence();
        a.peer(keyB.publicKey()).pipeline().addLast(atA);
        for (int i = 0; i < BURST; i++) {
            ByteBuf p = Harness.ipv4("10.0.0.2", "10.0.0.1", 1000);
            p.setInt(20, i);
            back.write(p);
        }
        back.flush();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (atA.count.get() < BURST && System.nanoTime() < end) {
            Thread.sleep(2); // polling a condition with a deadline
        }
        assertEquals(BURST, atA.count.get());
        assertTrue(atA.errors.isEmpty(), atA.errors.toString());
    }

    /**
     * Every transport datagram A sends arrives twice, and every pair of datagrams swapped: both copies are opened
     * (often at once, on different workers), yet the replay window, checked on the loop in arrival order, lets
     * exactly one through.
     */
    @Test
    void cryptoWorkersKeepTheReplayWindowExact() throws Exception {
        workers = new DefaultEventExecutorGroup(3);
        DuplicateAndSwap dup = new DuplicateAndSwap();
        start("nio", x -> x.udpOffloads(false), x -> x.cryptoWorkers(workers), dup);
        received.allowReorder = true;
        sendBursts();
        assertEquals(BURST * BURSTS, received.count.get());
        assertTrue(received.errors.isEmpty(), received.errors.toString());
        assertEquals(BURST * BURSTS, b.drops(WireGuardDropReason.REPLAYED_COUNTER),
                "each duplicate refused once: " + b.drops());
        assertTrue(dup.swapped > 0);
        assertTrue(b.offloadedPackets() >= 2L * BURST * BURSTS);
    }

    /** Records sequence numbers of received packets; with {@code allowReorder}, only uniqueness is checked. */
    @io.netty.channel.ChannelHandler.Sharable
    static final class Sequence extends io.netty.channel.ChannelInboundHandlerAdapter {
        final AtomicInteger count = new AtomicInteger();
        final List<String> errors = new CopyOnWriteArrayList<>();
        final java.util.BitSet seen = new java.util.BitSet();
        volatile boolean allowReorder;
        int next;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf p = (ByteBuf) msg;
            int seq = p.getInt(p.readerIndex() + 20);
            if (seen.get(seq)) {
                errors.add("duplicate " + seq);
            }
            seen.set(seq);
            if (!allowReorder && seq != next) {
                errors.add("expected " + next + " got " + seq);
            }
            next = seq + 1;
            ReferenceCountUtil.release(msg);
            count.incrementAndGet();
        }
    }

    /**
     * Counts datagrams that start where the one before ended in memory: segments of one GRO read, which Netty hands
     * up as slices of one receive buffer (without GRO every read gets a fresh 64 KiB or 2 KiB buffer of its own).
     */
    @io.netty.channel.ChannelHandler.Sharable
    static final class GroProbe extends io.netty.channel.ChannelInboundHandlerAdapter {
        final AtomicInteger coalesced = new AtomicInteger();
        private long nextAddress = -1;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof DatagramPacket d && d.content().hasMemoryAddress()) {
                long address = d.content().memoryAddress() + d.content().readerIndex();
                if (address == nextAddress) {
                    coalesced.incrementAndGet();
                }
                nextAddress = address + d.content().readableBytes();
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            nextAddress = -1;
            ctx.fireChannelReadComplete();
        }
    }

    /** On A's UDP channel: sends every transport datagram twice and swaps each pair of datagrams. */
    static final class DuplicateAndSwap extends ChannelDuplexHandler {
        private DatagramPacket held;
        int swapped;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof DatagramPacket d && d.content().getByte(d.content().readerIndex()) == MessageType.TRANSPORT
                    && d.content().readableBytes() > 32) {
                ctx.write(d.retainedDuplicate(), ctx.voidPromise());
                if (held == null) {
                    held = d;
                    promise.trySuccess();
                    return;
                }
                ctx.write(d, promise);
                ctx.write(held, ctx.voidPromise());
                held = null;
                swapped++;
                return;
            }
            ctx.write(msg, promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (held != null) {
                ctx.write(held, ctx.voidPromise());
                held = null;
            }
            ctx.flush();
        }
    }
}

package dev.pktkit.switching.vxlan;

import dev.pktkit.codec.pipe.PipeChannel;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.L2Port;
import dev.pktkit.switching.L2PortOptions;
import dev.pktkit.testkit.TestLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.Ticker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two tunnels joined over loopback UDP (each with its own hub and stations), and raw datagrams from a plain
 * socket for the bad input. UDP on loopback keeps the order of one socket's datagrams, so a valid frame sent
 * after bad ones tells that the bad ones were handled.
 */
class VxlanTunnelTest {
    private static final long A1 = MacAddress.parse("02:00:00:00:0a:01");
    private static final long A2 = MacAddress.parse("02:00:00:00:0a:02");
    private static final long B1 = MacAddress.parse("02:00:00:00:0b:01");
    private static final long BCAST = MacAddress.BROADCAST;

    private final MultiThreadIoEventLoopGroup group = TestLoops.group(TestLoops.NIO, 2);
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void shutdown() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** A host on a hub: records every frame it gets. */
    static final class Station extends ChannelInboundHandlerAdapter {
        final BlockingQueue<ByteBuf> got = new LinkedBlockingQueue<>();
        volatile Channel channel;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            got.add((ByteBuf) msg);
        }

        void send(ByteBuf frame) {
            channel.writeAndFlush(frame);
        }

        /** The next frame's bytes (released), or fails after 5 s. */
        byte[] next() throws InterruptedException {
            ByteBuf b = got.poll(5, TimeUnit.SECONDS);
            assertNotNull(b, "a frame arrives");
            try {
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                return bytes;
            } finally {
                b.release();
            }
        }

        void assertNothingQueued() {
            ByteBuf b = got.poll();
            if (b != null) {
                b.release();
                throw new AssertionError("unexpected frame");
            }
        }

        void drain() {
            ByteBuf b;
            while ((b = got.poll()) != null) {
                b.release();
            }
        }
    }

    static ByteBuf frame(long dst, long src, int srcIp, int payload) {
        ByteBuf f = PooledByteBufAllocator.DEFAULT.directBuffer();
        writeFrame(f, dst, src, srcIp, payload);
        return f;
    }

    static void writeFrame(ByteBuf f, long dst, long src, int srcIp, int payload) {
        MacAddress.write(f, dst);
        MacAddress.write(f, src);
        f.writeShort(0x0800);
        int ipLen = Math.max(28, payload);
        f.writeByte(0x45).writeByte(0).writeShort(ipLen).writeInt(0).writeByte(64).writeByte(17).writeShort(0);
        f.writeInt(srcIp).writeInt(0x0A000002);
        f.writeShort(1000 + (srcIp & 0xFF)).writeShort(7).writeShort(ipLen - 20).writeShort(0);
        f.writeZero(ipLen - 28);
    }

    static long dstOf(byte[] f) {
        return ByteBuffer.wrap(f).getLong(0) >>> 16;
    }

    static long srcOf(byte[] f) {
        return ByteBuffer.wrap(f).getLong(4) & 0xFFFF_FFFF_FFFFL;
    }

    /** One side: a hub, a tunnel bound on {@code bind}, a station on the hub. */
    final class Side {
        final L2Hub hub;
        final VxlanTunnel tunnel;
        final Channel udp;
        final Station station = new Station();

        Side(VxlanTunnel.Builder b, L2Hub hub, InetSocketAddress bind) throws Exception {
            this.hub = hub;
            this.tunnel = b.build();
            EventLoop loop = group.next();
            udp = new Bootstrap().group(loop).channel(NioDatagramChannel.class).handler(tunnel).bind(bind).sync()
                    .channel();
            cleanup.add(() -> udp.close().sync());
            cleanup.add(() -> hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS));
            tunnel.ready().get(5, TimeUnit.SECONDS);
            hub.attach(loop, station);
            loop.submit(() -> { }).sync(); // the station's cable registered
        }

        int port() {
            return ((InetSocketAddress) udp.localAddress()).getPort();
        }
    }

    private static InetSocketAddress any(String host) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(host), 0);
    }

    /** Two sides on {@code host}, each the other's peer in VNI 42, on ports told apart by remotePort. */
    private Side[] pair(String host, java.util.function.UnaryOperator<VxlanTunnel.Builder> customA,
                        java.util.function.UnaryOperator<VxlanTunnel.Builder> customB) throws Exception {
        // B first on an ephemeral port, then A pointing at it; B learns A's port from A's configuration below.
        java.nio.channels.DatagramChannel probe = java.nio.channels.DatagramChannel.open();
        probe.bind(any(host));
        int portA = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        probe.close();
        L2Hub hubB = L2Hub.builder().name("b").build();
        Side b = new Side(customB.apply(VxlanTunnel.builder().vni(42, hubB).peer(42, host).remotePort(portA)), hubB,
                any(host));
        L2Hub hubA = L2Hub.builder().name("a").build();
        Side a = new Side(customA.apply(VxlanTunnel.builder().vni(42, hubA).peer(42, host).remotePort(b.port())),
                hubA, new InetSocketAddress(InetAddress.getByName(host), portA));
        return new Side[] {a, b};
    }

    @Test
    void floodLearnAndUnicastOverIpv4() throws Exception {
        floodLearnAndUnicast("127.0.0.1");
    }

    @Test
    void floodLearnAndUnicastOverIpv6() throws Exception {
        floodLearnAndUnicast("::1");
    }

    private void floodLearnAndUnicast(String host) throws Exception {
        Side[] s = pair(host, x -> x, x -> x);
        Side a = s[0];
        Side b = s[1];
        // broadcast from A1: flooded to B's VTEP, B learns A1
        a.station.send(frame(BCAST, A1, 0x0A000001, 64));
        byte[] got = b.station.next();
        assertEquals(BCAST, dstOf(got));
        assertEquals(A1, srcOf(got));
        assertEquals(1, a.tunnel.traffic().get(VxlanTraffic.FLOODED));
        String vtep = io.netty.util.NetUtil.toAddressString(InetAddress.getByName(host));
        assertEquals(List.of("42 " + MacAddress.format(A1) + " " + vtep), b.tunnel.fdb());
        // B1 answers A1: B sends it to the learned VTEP, not flooded
        b.station.send(frame(A1, B1, 0x0A000002, 64));
        got = a.station.next();
        assertEquals(A1, dstOf(got));
        assertEquals(B1, srcOf(got));
        assertEquals(0, b.tunnel.traffic().get(VxlanTraffic.FLOODED));
        assertEquals(1, b.tunnel.traffic().get(VxlanTraffic.DATAGRAMS_SENT));
        // now A knows B1 too: a unicast frame goes as one datagram
        a.station.send(frame(B1, A1, 0x0A000001, 1400));
        got = b.station.next();
        assertEquals(14 + 1400, got.length);
        assertEquals(1, a.tunnel.traffic().get(VxlanTraffic.FLOODED));
        assertEquals(2, a.tunnel.traffic().get(VxlanTraffic.DATAGRAMS_SENT));
        assertEquals(1, a.tunnel.traffic().get(VxlanTraffic.LEARNED));
        assertEquals(2, b.tunnel.traffic().get(VxlanTraffic.DECAPSULATED));
        assertEquals(0, a.tunnel.drops().sum() + b.tunnel.drops().sum());
        // the hub saw the VNI port as the station's location
        L2Port vniPort = a.tunnel.port(42);
        assertEquals(vniPort, a.hub.lookup(B1, 1));
    }

    @Test
    void headEndReplicationSendsOneDatagramPerPeer() throws Exception {
        // three raw receivers as remote VTEPs of VNI 7, on 127.0.0.1..3 at one port
        List<java.nio.channels.DatagramChannel> peers = new ArrayList<>();
        int port = 0;
        for (int i = 1; i <= 3; i++) {
            java.nio.channels.DatagramChannel p = java.nio.channels.DatagramChannel.open();
            p.bind(new InetSocketAddress(InetAddress.getByName("127.0.0." + i), port));
            port = ((InetSocketAddress) p.getLocalAddress()).getPort();
            peers.add(p);
            cleanup.add(p);
        }
        L2Hub hub = L2Hub.builder().build();
        Side a = new Side(VxlanTunnel.builder().vni(7, hub).peer(7, "127.0.0.1").peer(7, "127.0.0.2")
                .peer(7, "127.0.0.3").remotePort(port), hub, any("127.0.0.1"));
        a.station.send(frame(BCAST, A1, 0x0A000001, 100));
        for (java.nio.channels.DatagramChannel p : peers) {
            ByteBuffer in = ByteBuffer.allocate(2048);
            p.socket().setSoTimeout(5000);
            p.configureBlocking(true);
            receiveWithin(p, in);
            in.flip();
            assertEquals(8 + 14 + 100, in.remaining());
            assertEquals(0x08, in.get(0), "I flag");
            assertEquals(7, in.getInt(4) >>> 8, "VNI");
            assertEquals(BCAST, in.getLong(8) >>> 16);
        }
        assertEquals(3, a.tunnel.traffic().get(VxlanTraffic.DATAGRAMS_SENT));
        assertEquals(1, a.tunnel.traffic().get(VxlanTraffic.ENCAPSULATED));
    }

    private static void receiveWithin(java.nio.channels.DatagramChannel p, ByteBuffer in) throws Exception {
        // a blocking receive with the socket's timeout: the adaptor's receive honours SO_TIMEOUT
        java.net.DatagramPacket d = new java.net.DatagramPacket(new byte[2048], 2048);
        p.socket().receive(d);
        in.put(d.getData(), 0, d.getLength());
    }

    @Test
    void badInputIsDroppedReleasedAndCounted() throws Exception {
        L2Hub hub = L2Hub.builder().build();
        Side a = new Side(VxlanTunnel.builder().vni(42, hub).peer(42, "127.0.0.1").mtu(1000), hub,
                any("127.0.0.1"));
        InetSocketAddress to = (InetSocketAddress) a.udp.localAddress();
        try (java.nio.channels.DatagramChannel known = java.nio.channels.DatagramChannel.open();
             java.nio.channels.DatagramChannel stranger = java.nio.channels.DatagramChannel.open()) {
            known.bind(any("127.0.0.1"));
            stranger.bind(any("127.0.0.3"));
            ByteBuf ok = PooledByteBufAllocator.DEFAULT.heapBuffer();
            try {
                Vxlan.writeHeader(ok, 42);
                writeFrame(ok, BCAST, A1, 1, 60);
                byte[] good = new byte[ok.readableBytes()];
                ok.getBytes(0, good);

                known.send(ByteBuffer.wrap(new byte[5]), to);                       // too short
                byte[] noFlag = good.clone();
                noFlag[0] = 0;
                known.send(ByteBuffer.wrap(noFlag), to);                             // I flag clear
                byte[] otherVni = good.clone();
                otherVni[6] = 9;
                known.send(ByteBuffer.wrap(otherVni), to);                           // unknown VNI
                stranger.send(ByteBuffer.wrap(good), to);                            // unknown source
                byte[] big = new byte[8 + 14 + 1000 + 4 + 1];
                System.arraycopy(good, 0, big, 0, good.length);
                known.send(ByteBuffer.wrap(big), to);                                // above MTU
                byte[] reserved = good.clone();
                reserved[1] = (byte) 0xFF;                                          // reserved bits: ignored
                reserved[7] = (byte) 0xFF;
                known.send(ByteBuffer.wrap(reserved), to);
                known.send(ByteBuffer.wrap(good), to);
            } finally {
                ok.release();
            }
            a.station.next();
            a.station.next();
            a.station.assertNothingQueued();
        }
        EnumCountersView d = new EnumCountersView(a.tunnel);
        assertEquals(1, d.get(VxlanDropReason.TOO_SHORT));
        assertEquals(1, d.get(VxlanDropReason.BAD_FLAGS));
        assertEquals(1, d.get(VxlanDropReason.UNKNOWN_VNI));
        assertEquals(1, d.get(VxlanDropReason.UNKNOWN_SOURCE));
        assertEquals(1, d.get(VxlanDropReason.BAD_SIZE));
        assertEquals(5, a.tunnel.drops().sum());
        assertEquals(2, a.tunnel.traffic().get(VxlanTraffic.DECAPSULATED));

        // outbound: a frame above the MTU from the hub side is dropped too
        ByteBuf huge = frame(BCAST, A2, 1, 1000 + 5);
        a.station.send(huge);
        a.udp.eventLoop().submit(() -> { }).sync();
        assertEquals(2, a.tunnel.drops().get(VxlanDropReason.BAD_SIZE));
    }

    /** Reads a tunnel's drop counters (a short name for the assertions). */
    record EnumCountersView(VxlanTunnel t) {
        long get(VxlanDropReason r) {
            return t.drops().get(r);
        }
    }

    /** A ticker that reads {@code clock}; the tunnel only reads time, it never sleeps on it. */
    private static Ticker manualTicker(AtomicLong clock) {
        return new Ticker() {
            @Override
            public long initialNanoTime() {
                return 0;
            }

            @Override
            public long nanoTime() {
                return clock.get();
            }

            @Override
            public void sleep(long delay, TimeUnit unit) {
                throw new UnsupportedOperationException("the tunnel never sleeps on its ticker");
            }
        };
    }

    @Test
    void entriesAgeOutAndTheTableIsBounded() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        Ticker ticker = manualTicker(clock);
        Side[] s = pair("127.0.0.1", x -> x,
                x -> x.ticker(ticker).tickInterval(Duration.ZERO).agingTime(Duration.ofSeconds(10)).maxMacEntries(2));
        Side a = s[0];
        Side b = s[1];
        for (long mac : new long[] {A1, A2, MacAddress.parse("02:00:00:00:0a:03")}) {
            a.station.send(frame(BCAST, mac, 1, 64));
            b.station.next();
        }
        assertEquals(2, b.tunnel.macEntries(), "capped at 2");
        assertEquals(2, b.tunnel.traffic().get(VxlanTraffic.LEARNED));
        assertEquals(1, b.tunnel.traffic().get(VxlanTraffic.LEARN_REFUSED));
        clock.addAndGet(Duration.ofSeconds(5).toNanos());
        assertEquals(0, b.tunnel.tick());
        // A1 talks again at t=5s: it stays, A2 goes at t=11s
        a.station.send(frame(BCAST, A1, 1, 64));
        b.station.next();
        clock.addAndGet(Duration.ofSeconds(6).toNanos());
        assertEquals(1, b.tunnel.tick());
        assertEquals(List.of("42 " + MacAddress.format(A1) + " 127.0.0.1"), b.tunnel.fdb());
        clock.addAndGet(Duration.ofSeconds(10).toNanos());
        assertEquals(1, b.tunnel.tick());
        assertEquals(List.of(), b.tunnel.fdb());
        // the configured peer is never aged
        assertEquals(1, b.tunnel.vteps().size());
    }

    @Test
    void vtepsFromAcceptedPrefixesAreLearnedAndAged() throws Exception {
        AtomicLong clock = new AtomicLong(0);
        Ticker ticker = manualTicker(clock);
        L2Hub hub = L2Hub.builder().build();
        try (java.nio.channels.DatagramChannel remote = java.nio.channels.DatagramChannel.open()) {
            remote.bind(any("127.0.0.5"));
            int remotePort = ((InetSocketAddress) remote.getLocalAddress()).getPort();
            Side a = new Side(VxlanTunnel.builder().vni(42, hub).acceptFrom("127.0.0.4/31").remotePort(remotePort)
                    .maxVteps(1).ticker(ticker).tickInterval(Duration.ZERO).agingTime(Duration.ofSeconds(1)), hub,
                    any("127.0.0.1"));
            InetSocketAddress to = (InetSocketAddress) a.udp.localAddress();
            ByteBuf d = PooledByteBufAllocator.DEFAULT.heapBuffer();
            byte[] bytes;
            try {
                Vxlan.writeHeader(d, 42);
                writeFrame(d, A1, B1, 1, 60);
                bytes = new byte[d.readableBytes()];
                d.getBytes(0, bytes);
            } finally {
                d.release();
            }
            remote.send(ByteBuffer.wrap(bytes), to);
            assertEquals(B1, srcOf(a.station.next()));
            assertEquals(1, a.tunnel.traffic().get(VxlanTraffic.VTEPS_LEARNED));
            // the reply to B1 goes to the learned VTEP
            a.station.send(frame(B1, A1, 1, 64));
            remote.socket().setSoTimeout(5000);
            remote.configureBlocking(true);
            ByteBuffer in = ByteBuffer.allocate(2048);
            receiveWithin(remote, in);
            in.flip();
            assertEquals(B1, in.getLong(8) >>> 16);
            // a second VTEP from the prefix is refused: maxVteps is 1
            try (java.nio.channels.DatagramChannel other = java.nio.channels.DatagramChannel.open()) {
                other.bind(any("127.0.0.4"));
                other.send(ByteBuffer.wrap(bytes), to);
                remote.configureBlocking(false);
                remote.send(ByteBuffer.wrap(bytes), to); // ordered after: tells us the first was handled
                a.station.next();
                a.station.assertNothingQueued();
                assertEquals(1, a.tunnel.drops().get(VxlanDropReason.UNKNOWN_SOURCE));
            }
            clock.addAndGet(Duration.ofSeconds(2).toNanos());
            assertEquals(1, a.tunnel.tick());
            assertEquals(List.of(), a.tunnel.vteps(), "the learned VTEP aged out with its entry");
        }
    }

    @Test
    void trunkCarriesVnisAsVlansOfOneHub() throws Exception {
        // A trunks VNI 42 -> VLAN 10 and VNI 43 -> VLAN 20 into one hub; B has one hub per VNI
        java.nio.channels.DatagramChannel probe = java.nio.channels.DatagramChannel.open();
        probe.bind(any("127.0.0.1"));
        int portA = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        probe.close();
        L2Hub b42 = L2Hub.builder().name("b42").build();
        L2Hub b43 = L2Hub.builder().name("b43").build();
        VxlanTunnel.Builder bb = VxlanTunnel.builder().vni(42, b42).vni(43, b43).peer(42, "127.0.0.1")
                .peer(43, "127.0.0.1").remotePort(portA);
        Side b = new Side(bb, b42, any("127.0.0.1"));
        Station b43Station = new Station();
        b43.attach(b.udp.eventLoop(), b43Station);
        cleanup.add(() -> b43.close().awaitUninterruptibly(5, TimeUnit.SECONDS));
        L2Hub hubA = L2Hub.builder().name("a").build();
        Side a = new Side(VxlanTunnel.builder().trunk(hubA, Map.of(42, 10, 43, 20)).peer(42, "127.0.0.1")
                .peer(43, "127.0.0.1").remotePort(b.port()), hubA, new InetSocketAddress("127.0.0.1", portA));
        Station v20 = new Station();
        hubA.attach(a.udp.eventLoop(), v20, L2PortOptions.access(20));
        a.udp.eventLoop().submit(() -> { }).sync();
        b.udp.eventLoop().submit(() -> { }).sync();

        // VLAN 20 on A's hub -> VNI 43 -> B's second hub, untagged
        v20.send(frame(BCAST, A1, 1, 64));
        byte[] got = b43Station.next();
        assertEquals(A1, srcOf(got));
        assertEquals(0x0800, ByteBuffer.wrap(got).getShort(12) & 0xFFFF, "sent untagged");
        b.station.assertNothingQueued();
        // and back: VNI 43 -> VLAN 20 only
        b43Station.send(frame(A1, B1, 2, 64));
        got = v20.next();
        assertEquals(B1, srcOf(got));
        assertEquals(14 + 64, got.length, "untagged on the access port");
        a.station.assertNothingQueued(); // the VLAN 1 station on A's hub
        assertEquals(0, a.tunnel.drops().sum() + b.tunnel.drops().sum());
    }

    @Test
    void sourcePortPoolSpreadsFlowsAndKeepsEachOnOnePort() throws Exception {
        try (java.nio.channels.DatagramChannel remote = java.nio.channels.DatagramChannel.open()) {
            remote.bind(any("127.0.0.1"));
            remote.socket().setSoTimeout(5000);
            int remotePort = ((InetSocketAddress) remote.getLocalAddress()).getPort();
            L2Hub hub = L2Hub.builder().build();
            Side a = new Side(VxlanTunnel.builder().vni(42, hub).peer(42, "127.0.0.1").remotePort(remotePort)
                    .sourcePortPool(4, null), hub, any("127.0.0.1"));
            assertEquals(4, a.tunnel.channels().size());
            Set<Integer> ports = new HashSet<>();
            for (int flow = 0; flow < 32; flow++) {
                int first = -1;
                for (int rep = 0; rep < 2; rep++) {
                    a.station.send(frame(BCAST, A1, 0x0A000000 | flow, 64));
                    java.net.DatagramPacket d = new java.net.DatagramPacket(new byte[2048], 2048);
                    remote.socket().receive(d);
                    if (rep == 0) {
                        first = d.getPort();
                    } else {
                        assertEquals(first, d.getPort(), "one flow, one source port");
                    }
                }
                ports.add(first);
            }
            assertTrue(ports.size() > 1, "flows spread over the pool: " + ports);
        }
    }

    @Test
    void randomDatagramsAndFramesNeverThrowNorLeak() throws Exception {
        // a seeded fuzz of both directions (the module's one Jazzer target is the hubs' ingress): mutated datagrams
        // from configured, accepted and unknown senders into the UDP pipeline, and random frames from the hub
        try (java.nio.channels.DatagramChannel sink = java.nio.channels.DatagramChannel.open()) {
            sink.bind(any("127.0.0.1"));
            int sinkPort = ((InetSocketAddress) sink.getLocalAddress()).getPort();
            L2Hub hub = L2Hub.builder().build();
            L2Hub hub2 = L2Hub.builder().build();
            cleanup.add(() -> hub2.close().awaitUninterruptibly(5, TimeUnit.SECONDS));
            Side a = new Side(VxlanTunnel.builder().vni(42, hub).trunk(hub2, Map.of(43, 10, 44, 20))
                    .peer(42, "127.0.0.1").peer(43, "127.0.0.2").acceptFrom("127.0.0.64/26").maxVteps(3)
                    .maxMacEntries(16).mtu(600).remotePort(sinkPort), hub, any("127.0.0.1"));
            List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
            a.udp.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    errors.add(cause);
                }

                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    errors.add(new AssertionError("reached the tail: " + msg));
                    io.netty.util.ReferenceCountUtil.release(msg);
                }
            });
            java.util.Random r = new java.util.Random(0x7348);
            InetSocketAddress local = (InetSocketAddress) a.udp.localAddress();
            String[] senders = {"127.0.0.1", "127.0.0.2", "127.0.0.65", "127.0.0.66", "127.0.0.70", "127.0.0.71",
                "127.0.0.9"};
            List<ByteBuf> fed = new ArrayList<>();
            int n = 3000;
            a.udp.eventLoop().submit(() -> {
                for (int i = 0; i < n; i++) {
                    ByteBuf d = PooledByteBufAllocator.DEFAULT.directBuffer();
                    Vxlan.writeHeader(d, 41 + r.nextInt(5));
                    writeFrame(d, r.nextBoolean() ? BCAST : A1 + r.nextInt(4), B1 + r.nextInt(40), r.nextInt(),
                            r.nextInt(700));
                    for (int k = r.nextInt(4); k > 0; k--) {
                        d.setByte(r.nextInt(Math.min(d.readableBytes(), 40)), r.nextInt(256));
                    }
                    if (r.nextInt(8) == 0) {
                        d.writerIndex(r.nextInt(d.writerIndex() + 1));
                    }
                    fed.add(d);
                    InetSocketAddress from;
                    try {
                        from = new InetSocketAddress(InetAddress.getByName(senders[r.nextInt(senders.length)]),
                                1 + r.nextInt(65535));
                    } catch (java.net.UnknownHostException e) {
                        throw new IllegalStateException(e);
                    }
                    a.udp.pipeline().fireChannelRead(new io.netty.channel.socket.DatagramPacket(d, local, from));
                    if (r.nextInt(16) == 0) {
                        a.udp.pipeline().fireChannelReadComplete();
                    }
                    if (r.nextInt(4) == 0) {
                        ByteBuf f = PooledByteBufAllocator.DEFAULT.directBuffer();
                        writeFrame(f, r.nextBoolean() ? BCAST : B1 + r.nextInt(40), A1 + r.nextInt(4), r.nextInt(),
                                r.nextInt(700));
                        if (r.nextInt(6) == 0) {
                            f.writerIndex(r.nextInt(f.writerIndex() + 1));
                        }
                        a.station.channel.writeAndFlush(f);
                    }
                }
                a.udp.pipeline().fireChannelReadComplete();
                return null;
            }).get(60, TimeUnit.SECONDS);
            a.udp.eventLoop().submit(() -> { }).sync();
            a.station.drain();
            assertEquals(List.of(), errors);
            for (ByteBuf d : fed) {
                assertEquals(0, d.refCnt(), "every datagram buffer was released");
            }
            long decapsulated = a.tunnel.traffic().get(VxlanTraffic.DECAPSULATED);
            assertTrue(decapsulated > 0 && decapsulated < n, a.tunnel.traffic() + " " + a.tunnel.drops());
            assertTrue(a.tunnel.traffic().get(VxlanTraffic.ENCAPSULATED) > 0, a.tunnel.traffic().toString());
            assertTrue(a.tunnel.macEntries() <= 16);
            assertTrue(a.tunnel.vteps().size() <= 2 + 3);
            assertTrue(a.tunnel.drops().get(VxlanDropReason.UNKNOWN_SOURCE) > 0);
            assertTrue(a.tunnel.drops().get(VxlanDropReason.UNKNOWN_VNI) > 0);
        }
    }

    @Test
    void configurationIsChecked() {
        L2Hub hub = L2Hub.builder().build();
        assertThrows(IllegalStateException.class, () -> VxlanTunnel.builder().build());
        assertThrows(IllegalArgumentException.class, () -> VxlanTunnel.builder().vni(1 << 24, hub));
        assertThrows(IllegalArgumentException.class, () -> VxlanTunnel.builder().vni(1, hub).vni(1, hub));
        assertThrows(IllegalArgumentException.class, () -> VxlanTunnel.builder().peer(1, "host.example"));
        assertThrows(IllegalArgumentException.class, () -> VxlanTunnel.builder().trunk(hub, Map.of(1, 4095)));
        assertThrows(IllegalArgumentException.class, () -> VxlanTunnel.builder().mtu(10));
        assertNull(VxlanTunnel.builder().vni(5, hub).build().port(5), "no port before the channel is active");
        hub.close();
    }
}

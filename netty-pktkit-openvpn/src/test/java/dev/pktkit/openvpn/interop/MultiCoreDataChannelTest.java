package dev.pktkit.openvpn.interop;

import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.openvpn.L3HubClientAttacher;
import dev.pktkit.openvpn.OpenVpnClient;
import dev.pktkit.openvpn.OpenVpnClientChannel;
import dev.pktkit.openvpn.OpenVpnDropReason;
import dev.pktkit.openvpn.OpenVpnServer;
import dev.pktkit.openvpn.OpenVpnTunnelChannel;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The multi-core data channel: two of our clients on one server whose channels sit on a 2-loop group, over UDP
 * on loopback and over TCP. Each client's session is placed on its own loop (its {@link OpenVpnClientChannel}'s
 * {@code eventLoop()}, where its packets are decrypted, encrypted and handed to the hub); both move 2 MiB of
 * ICMP echo payload each way at the same time, SHA-256 checked. Over UDP (one socket on one loop) the datagrams of
 * the client placed on the other loop are handed over and counted ({@link OpenVpnServer#handoffs()}); that
 * client then floats (a relay switches its source port) and the float is taken on its data loop and counted
 * ({@link OpenVpnServer#floats()}), traffic continuing. Over TCP each session sits on its connection's loop and
 * nothing is handed over.
 */
class MultiCoreDataChannelTest {
    static final int PAYLOAD = 1372; // a 1400-byte IP packet
    static final int PACKETS = 1536; // 2 MiB of payload
    static final int WINDOW = 16;
    /** The server renegotiates every 1.5 MB of a client's data: a few times per client in the transfers. */
    static final long RENEG_BYTES = 1_500_000;

    @TempDir
    Path dir;

    /** Records the threads that read each client channel (after decryption), then passes the packet on. */
    @ChannelHandler.Sharable
    static final class ReadThreads extends ChannelInboundHandlerAdapter {
        final ConcurrentHashMap<Channel, Set<Thread>> threads = new ConcurrentHashMap<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            threads.computeIfAbsent(ctx.channel(), c -> ConcurrentHashMap.newKeySet()).add(Thread.currentThread());
            ctx.fireChannelRead(msg);
        }
    }

    /** Our server, the hub with an echo host at 10.8.0.1 behind it, and what the clients need. */
    final class Rig implements AutoCloseable {
        final TestPki pki;
        final StaticKey ta;
        final MultiThreadIoEventLoopGroup serverGroup;
        final MultiThreadIoEventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        final L3Hub hub = L3Hub.builder().name("multi-core").build();
        final ReadThreads reads = new ReadThreads();
        final OpenVpnServer server;
        final PacketPipe host;

        Rig() throws Exception {
            this(RENEG_BYTES, NioIoHandler.newFactory());
        }

        Rig(long renegBytes, io.netty.channel.IoHandlerFactory serverIo) throws Exception {
            serverGroup = new MultiThreadIoEventLoopGroup(2, serverIo);
            pki = TestPki.create(dir);
            ta = StaticKey.parse(Files.readString(pki.staticKey));
            L3HubClientAttacher attacher = new L3HubClientAttacher(hub);
            server = OpenVpnServer.builder()
                    .ssl(SslContextBuilder.forServer(pki.serverCert.toFile(), pki.serverKey.toFile())
                            .sslProvider(SslProvider.JDK).trustManager(pki.ca.toFile())
                            .clientAuth(ClientAuth.REQUIRE).build())
                    .server("10.8.0.0 255.255.255.0").tlsCrypt(ta).dataCiphers("AES-256-GCM")
                    .renegBytes(renegBytes) // new keys made on the home loop during the transfers
                    .clientInitializer(new ChannelInitializer<OpenVpnClientChannel>() {
                        @Override
                        protected void initChannel(OpenVpnClientChannel ch) {
                            ch.pipeline().addLast(reads, attacher);
                        }
                    }).build();
            LocalAddresses own = LocalAddresses.of(InetAddress.getByName("10.8.0.1"));
            host = PacketPipe.open(clientGroup.next(), new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new EchoResponder(own));
                }
            }, clientGroup.next(), null).get(5, TimeUnit.SECONDS);
            hub.attach(host.b(), L3PortOptions.prefixes("10.8.0.1/32"));
        }

        /** A client whose tunnel's reads (echo replies) go to {@code replies}. */
        OpenVpnClient client(LinkedBlockingQueue<byte[]> replies) throws Exception {
            return OpenVpnClient.builder()
                    .ssl(dev.pktkit.openvpn.OpenVpnTls.clientContext(pki.clientCert, pki.clientKey, pki.ca))
                    .tlsCrypt(ta).dataCiphers("AES-256-GCM")
                    .tunnelInitializer(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            byte[] bytes = new byte[b.readableBytes()];
                            b.readBytes(bytes);
                            b.release();
                            replies.add(bytes);
                        }
                    }).build();
        }

        /** The server's client channels, read on its home loop. */
        List<OpenVpnClientChannel> channels(EventLoop home) throws Exception {
            return home.submit(server::clientChannels).get(5, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws Exception {
            host.a().close().sync();
            serverGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
            clientGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void twoUdpClientsOnTwoLoopsHandedOverAndFloat() throws Exception {
        Tools.assumeCommand("openssl", "openssl");
        Tools.assumeCommand("openvpn", "openvpn");
        try (Rig rig = new Rig()) {
            Channel udp = new Bootstrap().group(rig.serverGroup).channel(NioDatagramChannel.class)
                    .handler(rig.server).bind("127.0.0.1", 0).sync().channel();
            InetSocketAddress serverAddress = (InetSocketAddress) udp.localAddress();

            // client A straight to the server, authenticated first: placed on the UDP channel's loop (the tie)
            LinkedBlockingQueue<byte[]> repliesA = new LinkedBlockingQueue<>();
            OpenVpnClient a = rig.client(repliesA);
            new Bootstrap().group(rig.clientGroup).channel(NioDatagramChannel.class).handler(a)
                    .connect(serverAddress).sync();
            OpenVpnTunnelChannel tunnelA = a.tunnel().get(30, TimeUnit.SECONDS);
            // client B through a relay whose upstream port can change; placed on the other loop
            FloatRelay relay = new FloatRelay(new Bootstrap().group(rig.clientGroup).channel(NioDatagramChannel.class),
                    serverAddress);
            LinkedBlockingQueue<byte[]> repliesB = new LinkedBlockingQueue<>();
            OpenVpnClient b = rig.client(repliesB);
            new Bootstrap().group(rig.clientGroup).channel(NioDatagramChannel.class).handler(b)
                    .connect("127.0.0.1", relay.port()).sync();
            OpenVpnTunnelChannel tunnelB = b.tunnel().get(30, TimeUnit.SECONDS);

            List<OpenVpnClientChannel> channels = rig.channels(udp.eventLoop());
            assertEquals(2, channels.size());
            OpenVpnClientChannel chA = byAddress(channels, tunnelA);
            OpenVpnClientChannel chB = byAddress(channels, tunnelB);
            assertSame(udp.eventLoop(), chA.eventLoop(), "the first client on the UDP channel's loop");
            assertNotSame(chA.eventLoop(), chB.eventLoop());
            assertTrue(contains(rig.serverGroup, chB.eventLoop()), "the second client on the group's other loop");
            long handedBefore = rig.server.handoffs();

            bothAtOnce(tunnelA, repliesA, tunnelB, repliesB, 1);
            assertEquals(Set.of(threadOf(chA)), rig.reads.threads.get(chA), "A read on its loop only");
            assertEquals(Set.of(threadOf(chB)), rig.reads.threads.get(chB), "B read on its loop only");
            assertNotEquals(threadOf(chA), threadOf(chB));
            long handed = rig.server.handoffs() - handedBefore;
            assertTrue(handed >= PACKETS, "every datagram of B crossed from the UDP loop to B's loop: " + handed);
            assertTrue(handed < PACKETS + 64, "A's datagrams are not handed over: " + handed);
            assertEquals(0, rig.server.floats());
            // the transfer passed reneg-bytes for both: new keys made on the home loop, published to each data
            // loop, the old key a lame duck there; once both clients have a new key, both move data again
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (a.renegotiations() < 1 || b.renegotiations() < 1) {
                assertTrue(System.nanoTime() < end, "renegotiations: A " + a.renegotiations() + ", B "
                        + b.renegotiations() + ", server " + rig.server.renegotiations());
                Thread.sleep(20); // polling a condition with a deadline
            }
            bothAtOnce(tunnelA, repliesA, tunnelB, repliesB, 3);
            assertTrue(rig.server.renegotiations() >= 2, "server: " + rig.server.renegotiations());

            // B floats: the relay sends from its other port; taken on B's loop, counted, the transfer continues
            assertEquals(relay.upstreamAddress(0), chB.transportAddress());
            assertEquals(java.util.Map.of(), rig.server.drops(), "nothing dropped before the float");
            relay.current = 1;
            transfer(tunnelB, repliesB, toInt(tunnelB.tunnelAddress()), 2);
            assertEquals(1, rig.server.floats(), "one float");
            assertEquals(relay.upstreamAddress(1), chB.transportAddress(), "the server took the new address");
            assertEquals(2, rig.channels(udp.eventLoop()).size(), "same sessions");
            assertSame(chB, byAddress(rig.channels(udp.eventLoop()), tunnelB), "the same session and channel");
            // no data packet lost across the float; a control packet (a renegotiation's) from the new address before
            // a data packet from it authenticated is dropped as from an unknown address, and retransmitted
            for (OpenVpnDropReason r : new OpenVpnDropReason[] {OpenVpnDropReason.DATA_BAD_TAG,
                OpenVpnDropReason.DATA_REPLAY, OpenVpnDropReason.NO_KEYS, OpenVpnDropReason.INBOUND_QUEUE_FULL}) {
                assertEquals(0, rig.server.drops(r), r + ": " + rig.server.drops());
            }

            tunnelA.close().sync();
            tunnelB.close().sync();
            relay.close();
            udp.close().sync();
        }
    }

    @Test
    void twoTcpClientsOnTheirConnectionLoops() throws Exception {
        Tools.assumeCommand("openssl", "openssl");
        Tools.assumeCommand("openvpn", "openvpn");
        try (Rig rig = new Rig()) {
            MultiThreadIoEventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            try {
                Channel tcp = new ServerBootstrap().group(boss, rig.serverGroup).channel(NioServerSocketChannel.class)
                        .childHandler(rig.server.tcpInitializer()).bind("127.0.0.1", 0).sync().channel();
                InetSocketAddress serverAddress = (InetSocketAddress) tcp.localAddress();
                LinkedBlockingQueue<byte[]> repliesA = new LinkedBlockingQueue<>();
                OpenVpnClient a = rig.client(repliesA);
                new Bootstrap().group(rig.clientGroup).channel(NioSocketChannel.class).handler(a.tcpInitializer())
                        .connect(serverAddress).sync();
                OpenVpnTunnelChannel tunnelA = a.tunnel().get(30, TimeUnit.SECONDS);
                LinkedBlockingQueue<byte[]> repliesB = new LinkedBlockingQueue<>();
                OpenVpnClient b = rig.client(repliesB);
                new Bootstrap().group(rig.clientGroup).channel(NioSocketChannel.class).handler(b.tcpInitializer())
                        .connect(serverAddress).sync();
                OpenVpnTunnelChannel tunnelB = b.tunnel().get(30, TimeUnit.SECONDS);

                // the accepted connections got the child group's two loops in turn; each session is on its own
                List<OpenVpnClientChannel> channels = homeChannels(rig);
                assertEquals(2, channels.size());
                OpenVpnClientChannel chA = byAddress(channels, tunnelA);
                OpenVpnClientChannel chB = byAddress(channels, tunnelB);
                assertSame(chA.parent().eventLoop(), chA.eventLoop(), "A on its connection's loop");
                assertSame(chB.parent().eventLoop(), chB.eventLoop(), "B on its connection's loop");
                assertNotSame(chA.eventLoop(), chB.eventLoop());

                bothAtOnce(tunnelA, repliesA, tunnelB, repliesB, 1);
                assertNotEquals(threadOf(chA), threadOf(chB));
                assertEquals(Set.of(threadOf(chA)), rig.reads.threads.get(chA));
                assertEquals(Set.of(threadOf(chB)), rig.reads.threads.get(chB));
                assertEquals(0, rig.server.handoffs(), "data frames are opened on their connection's loop");
                assertEquals(java.util.Map.of(), rig.server.drops(), "nothing dropped");
                tunnelA.close().sync();
                tunnelB.close().sync();
                tcp.close().sync();
            } finally {
                boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
            }
        }
    }

    /**
     * On epoll, one UDP socket per loop with {@code SO_REUSEPORT} ({@link OpenVpnServer#reusePortSocket()}): the
     * kernel picks the socket by the clients' address hash, the sessions still go on different loops, both move
     * data; a data packet of client A that arrives at the other loop's socket is handed over to A's loop (counted)
     * and its replay check runs there (the copy is refused as a replay), while the same copy at A's own loop's
     * socket is refused without a hand-over.
     */
    @Test
    void reusePortSocketsOnePerLoop() throws Exception {
        Tools.assumeCommand("openssl", "openssl");
        Tools.assumeCommand("openvpn", "openvpn");
        org.junit.jupiter.api.Assumptions.assumeTrue(io.netty.channel.epoll.Epoll.isAvailable(), "epoll unavailable");
        try (Rig rig = new Rig(0, io.netty.channel.epoll.EpollIoHandler.newFactory())) {
            Capture capture = new Capture();
            Bootstrap b = new Bootstrap().group(rig.serverGroup)
                    .channel(io.netty.channel.epoll.EpollDatagramChannel.class)
                    .option(io.netty.channel.unix.UnixChannelOption.SO_REUSEPORT, true);
            Channel first = b.clone().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(capture, rig.server);
                }
            }).bind("127.0.0.1", 0).sync().channel();
            InetSocketAddress serverAddress = (InetSocketAddress) first.localAddress();
            Channel second = b.clone().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(capture, rig.server.reusePortSocket());
                }
            }).bind(serverAddress).sync().channel();
            assertNotSame(first.eventLoop(), second.eventLoop());

            LinkedBlockingQueue<byte[]> repliesA = new LinkedBlockingQueue<>();
            OpenVpnClient a = rig.client(repliesA);
            new Bootstrap().group(rig.clientGroup).channel(NioDatagramChannel.class).handler(a)
                    .connect(serverAddress).sync();
            OpenVpnTunnelChannel tunnelA = a.tunnel().get(30, TimeUnit.SECONDS);
            LinkedBlockingQueue<byte[]> repliesB = new LinkedBlockingQueue<>();
            OpenVpnClient bc = rig.client(repliesB);
            new Bootstrap().group(rig.clientGroup).channel(NioDatagramChannel.class).handler(bc)
                    .connect(serverAddress).sync();
            OpenVpnTunnelChannel tunnelB = bc.tunnel().get(30, TimeUnit.SECONDS);
            List<OpenVpnClientChannel> channels = rig.channels(first.eventLoop());
            OpenVpnClientChannel chA = byAddress(channels, tunnelA);
            OpenVpnClientChannel chB = byAddress(channels, tunnelB);
            assertNotSame(chA.eventLoop(), chB.eventLoop());

            bothAtOnce(tunnelA, repliesA, tunnelB, repliesB, 5);
            assertNotEquals(threadOf(chA), threadOf(chB));
            assertEquals(Set.of(threadOf(chA)), rig.reads.threads.get(chA));
            assertEquals(Set.of(threadOf(chB)), rig.reads.threads.get(chB));
            assertEquals(java.util.Map.of(), rig.server.drops(), "nothing dropped");

            // a copy of one of A's data packets (peer-id 0), into each socket's pipeline on its own loop
            byte[] copy = capture.peer0;
            assertNotNull(copy, "a data packet of A was seen");
            Channel other = first.eventLoop() == chA.eventLoop() ? second : first;
            Channel own = other == first ? second : first;
            long handed = rig.server.handoffs();
            inject(other, copy, chA.transportAddress());
            waitFor(() -> rig.server.drops(OpenVpnDropReason.DATA_REPLAY) == 1, "the replay check on A's loop");
            assertEquals(handed + 1, rig.server.handoffs(), "handed over from the other loop's socket");
            inject(own, copy, chA.transportAddress());
            waitFor(() -> rig.server.drops(OpenVpnDropReason.DATA_REPLAY) == 2, "the replay check at A's socket");
            assertEquals(handed + 1, rig.server.handoffs(), "opened where it arrived");

            tunnelA.close().sync();
            tunnelB.close().sync();
            second.close().sync();
            first.close().sync();
        }
    }

    /** Remembers the last P_DATA_V2 datagram for peer-id 0 that a socket received. */
    @ChannelHandler.Sharable
    static final class Capture extends ChannelInboundHandlerAdapter {
        volatile byte[] peer0;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof DatagramPacket dp) {
                ByteBuf c = dp.content();
                int r = c.readerIndex();
                if (c.readableBytes() > 4 && (c.getUnsignedByte(r) >> 3) == 9 && c.getUnsignedMedium(r + 1) == 0) {
                    byte[] b = new byte[c.readableBytes()];
                    c.getBytes(r, b);
                    peer0 = b;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    private static void inject(Channel socket, byte[] datagram, InetSocketAddress from) throws Exception {
        socket.eventLoop().submit(() -> {
            socket.pipeline().fireChannelRead(new DatagramPacket(Unpooled.wrappedBuffer(datagram),
                    (InetSocketAddress) socket.localAddress(), from));
            socket.pipeline().fireChannelReadComplete();
        }).get(5, TimeUnit.SECONDS);
    }

    private static void waitFor(java.util.function.BooleanSupplier cond, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "timed out waiting for " + what);
            Thread.sleep(5); // polling a condition with a deadline
        }
    }

    /** The server's client channels, asked on whichever loop is its home (the first TCP connection's). */
    private static List<OpenVpnClientChannel> homeChannels(Rig rig) throws Exception {
        for (io.netty.util.concurrent.EventExecutor e : rig.serverGroup) {
            List<OpenVpnClientChannel> l = e.submit(rig.server::clientChannels).get(5, TimeUnit.SECONDS);
            if (!l.isEmpty()) {
                return l; // the table is the home loop's; reading it there, or after it was written, sees both
            }
        }
        return List.of();
    }

    private static boolean contains(MultiThreadIoEventLoopGroup g, EventLoop l) {
        for (io.netty.util.concurrent.EventExecutor e : g) {
            if (e == l) {
                return true;
            }
        }
        return false;
    }

    private static void assertNotSame(Object a, Object b) {
        org.junit.jupiter.api.Assertions.assertNotSame(a, b, "the two sessions on different loops");
    }

    private static Thread threadOf(Channel ch) throws Exception {
        return ch.eventLoop().submit(Thread::currentThread).get(5, TimeUnit.SECONDS);
    }

    private static OpenVpnClientChannel byAddress(List<OpenVpnClientChannel> channels, OpenVpnTunnelChannel t) {
        for (OpenVpnClientChannel c : channels) {
            if (c.tunnelAddress().equals(t.tunnelAddress())) {
                return c;
            }
        }
        throw new AssertionError("no client channel for " + t.tunnelAddress());
    }

    /** Both clients' transfers at the same time, from two threads. */
    private static void bothAtOnce(OpenVpnTunnelChannel ta, LinkedBlockingQueue<byte[]> ra, OpenVpnTunnelChannel tb,
                                   LinkedBlockingQueue<byte[]> rb, long seed) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CompletableFuture<Void> fa = CompletableFuture.runAsync(() -> run(() -> transfer(ta, ra,
                    toInt(ta.tunnelAddress()), seed)), pool);
            CompletableFuture<Void> fb = CompletableFuture.runAsync(() -> run(() -> transfer(tb, rb,
                    toInt(tb.tunnelAddress()), seed + 1)), pool);
            fa.get(120, TimeUnit.SECONDS);
            fb.get(120, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    interface Step {
        void run() throws Exception;
    }

    private static void run(Step s) {
        try {
            s.run();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int toInt(InetAddress a) {
        byte[] b = a.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    /**
     * {@link #PACKETS} echo requests of {@link #PAYLOAD} random bytes from {@code src} to 10.8.0.1, at most
     * {@link #WINDOW} outstanding; the SHA-256 of the reply payloads (in sequence order) must equal the sent one.
     */
    static void transfer(OpenVpnTunnelChannel tunnel, LinkedBlockingQueue<byte[]> replies, int src, long seed)
            throws Exception {
        Random r = new Random(seed);
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        byte[][] got = new byte[PACKETS][];
        int received = 0;
        for (int base = 0; base < PACKETS; base += WINDOW) {
            for (int seq = base; seq < base + WINDOW; seq++) {
                byte[] payload = new byte[PAYLOAD];
                r.nextBytes(payload);
                sent.update(payload);
                tunnel.write(echoRequest(src, 0x0a080001, seq, payload));
            }
            tunnel.flush();
            for (int i = 0; i < WINDOW; i++) {
                byte[] reply = replies.poll(20, TimeUnit.SECONDS);
                assertNotNull(reply, "no echo reply after " + received);
                assertEquals(0, reply[20], "ICMP echo reply");
                int seq = (reply[26] & 0xff) << 8 | (reply[27] & 0xff);
                assertTrue(seq >= base && seq < base + WINDOW && got[seq] == null, "reply for " + seq);
                got[seq] = java.util.Arrays.copyOfRange(reply, 28, reply.length);
                received++;
            }
        }
        MessageDigest back = MessageDigest.getInstance("SHA-256");
        for (byte[] g : got) {
            back.update(g);
        }
        assertArrayEquals(sent.digest(), back.digest(), "SHA-256 of the echoed payload");
    }

    static ByteBuf echoRequest(int src, int dst, int seq, byte[] payload) {
        int total = 28 + payload.length;
        ByteBuf b = Unpooled.buffer(total);
        b.writeByte(0x45).writeByte(0).writeShort(total).writeShort(seq).writeShort(0).writeByte(64).writeByte(1)
                .writeShort(0).writeInt(src).writeInt(dst);
        b.setShort(10, Checksums.internet(b, 0, 20));
        b.writeByte(8).writeByte(0).writeShort(0).writeShort(0x4d43).writeShort(seq);
        b.writeBytes(payload);
        b.setShort(22, Checksums.internet(b, 20, total - 20));
        return b;
    }
}

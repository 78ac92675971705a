package dev.pktkit.slirp;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.transport.TransportKind;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.vtcp.host.VirtualHost;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import dev.pktkit.testkit.Tools;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryEncoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseDecoder;
import io.netty.handler.codec.dns.DefaultDnsQuery;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.handler.codec.dns.TcpDnsQueryEncoder;
import io.netty.handler.codec.dns.TcpDnsResponseDecoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A guest (a vtcp {@link VirtualHost} on one end of a {@link PacketPipe}) reaches real sockets on the host's
 * loopback through slirp on the other end: TCP both ways with SHA-256 checks and half-close, refusals by the host,
 * by policy and by the connection bound, UDP over IPv4 and IPv6.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SlirpTest {
    private MultiThreadIoEventLoopGroup group;
    private PacketPipe pipe;
    private Slirp slirp;
    private VirtualHost guest;
    private SlirpNamespace ns;
    private Channel server;
    private Process dnsmasq;

    private void start(Slirp.Builder b) throws Exception {
        group = TestLoops.group(TestLoops.NIO, 2);
        slirp = b.hostTransport(group, TransportKind.NIO).build();
        guest = VirtualHost.builder().address("10.0.2.15").address("fec0::15").build();
        pipe = new PacketPipe();
        pipe.a().pipeline().addLast(guest);
        pipe.register(group.next(), group.next()).sync();
        ns = slirp.attach(pipe.b()).sync().getNow();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (dnsmasq != null) {
            dnsmasq.destroy();
            dnsmasq.waitFor(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close().sync();
        }
        if (ns != null) {
            ns.close();
        }
        if (pipe != null) {
            pipe.close();
        }
        if (slirp != null) {
            slirp.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * A host server on loopback that reads until EOF, then answers with the SHA-256 of what it read followed by
     * {@code reply}, then closes: the guest's half-close must reach it, and its bytes must still reach the guest.
     */
    private int hostServer(String bind, byte[] reply) throws Exception {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInboundHandlerAdapter() {
                    MessageDigest md;

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
                        if (md == null) {
                            md = MessageDigest.getInstance("SHA-256");
                        }
                        ByteBuf b = (ByteBuf) msg;
                        md.update(b.nioBuffer());
                        b.release();
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
                        if (evt instanceof ChannelInputShutdownEvent) {
                            byte[] digest = (md == null ? MessageDigest.getInstance("SHA-256") : md).digest();
                            ctx.write(Unpooled.wrappedBuffer(digest));
                            ctx.writeAndFlush(Unpooled.wrappedBuffer(reply)).addListener(ChannelFutureListener.CLOSE);
                        }
                    }
                }).bind(bind, 0).sync().channel();
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Collects what the guest reads until the connection closes. */
    static final class Collect extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final CompletableFuture<byte[]> done = new CompletableFuture<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            b.release();
            got.write(a, 0, a.length);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.complete(got.toByteArray());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
        }
    }

    private void transfer(String gateway, String hostBind) throws Exception {
        byte[] up = new byte[4 << 20];
        byte[] down = new byte[3 << 20];
        new Random(7).nextBytes(up);
        new Random(8).nextBytes(down);
        int port = hostServer(hostBind, down);
        Collect c = new Collect();
        Channel ch = new Bootstrap().group(group).channelFactory(guest.socketChannels())
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true).handler(c)
                .connect(new InetSocketAddress(gateway, port)).sync().channel();
        ChannelFuture last = null;
        for (int off = 0; off < up.length; off += 65536) {
            last = ch.write(Unpooled.wrappedBuffer(up, off, 65536));
        }
        ch.flush();
        last.sync(); // shutdownOutput fails writes still queued, as on NIO
        ((DuplexChannel) ch).shutdownOutput(); // the host server answers only after this FIN
        byte[] got = c.done.get(30, TimeUnit.SECONDS);
        assertEquals(32 + down.length, got.length);
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(up), Arrays.copyOf(got, 32),
                "the host saw every byte the guest sent");
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(down),
                MessageDigest.getInstance("SHA-256").digest(Arrays.copyOfRange(got, 32, got.length)),
                "the guest got every byte the host sent after its half-close");
    }

    @Test
    void tcpBothWaysWithHalfCloseIpv4() throws Exception {
        start(Slirp.builder().hostLoopback(true));
        transfer("10.0.2.2", "127.0.0.1");
        assertEquals(1, slirp.counters().tcpEstablished());
    }

    @Test
    void tcpBothWaysWithHalfCloseIpv6() throws Exception {
        start(Slirp.builder().hostLoopback(true));
        transfer("fec0::2", "::1");
        assertEquals(1, slirp.counters().tcpEstablished());
    }

    @Test
    void refusedByHostIsRefusedToGuest() throws Exception {
        start(Slirp.builder().hostLoopback(true));
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        ChannelFuture f = new Bootstrap().group(group).channelFactory(guest.socketChannels())
                .handler(new Collect()).connect(new InetSocketAddress("10.0.2.2", closed)).await();
        assertInstanceOf(ConnectException.class, f.cause(), String.valueOf(f.cause()));
        assertEquals(1, slirp.counters().tcpRefusedByHost());
        assertEquals(0, slirp.counters().tcpEstablished());
    }

    @Test
    void gatewayIsNotLoopbackUnlessMapped() throws Exception {
        start(Slirp.builder());
        int port = hostServer("127.0.0.1", new byte[0]);
        ChannelFuture f = new Bootstrap().group(group).channelFactory(guest.socketChannels())
                .handler(new Collect()).connect(new InetSocketAddress("10.0.2.2", port)).await();
        assertInstanceOf(ConnectException.class, f.cause());
        assertEquals(1, slirp.counters().tcpRefusedByPolicy());
        assertEquals(0, slirp.counters().tcpConnects());
    }

    @Test
    void connectionBoundRefusesAndCounts() throws Exception {
        start(Slirp.builder().hostLoopback(true).maxConnections(1));
        int port = hostServer("127.0.0.1", new byte[0]);
        Channel first = new Bootstrap().group(group).channelFactory(guest.socketChannels())
                .handler(new Collect()).connect(new InetSocketAddress("10.0.2.2", port)).sync().channel();
        ChannelFuture second = new Bootstrap().group(group).channelFactory(guest.socketChannels())
                .handler(new Collect()).connect(new InetSocketAddress("10.0.2.2", port)).await();
        assertInstanceOf(ConnectException.class, second.cause());
        assertEquals(1, slirp.counters().tcpRefusedByLimit());
        assertTrue(first.isActive());
        first.close().sync();
    }

    private void udpEcho(String gateway, String hostBind) throws Exception {
        Channel echo = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        ctx.writeAndFlush(new DatagramPacket(p.content().retain(), p.sender()));
                    }
                }).bind(hostBind, 0).sync().channel();
        int port = ((InetSocketAddress) echo.localAddress()).getPort();
        CompletableFuture<DatagramPacket> reply = new CompletableFuture<>();
        Channel g = new Bootstrap().group(group).channelFactory(guest.datagramChannels())
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        reply.complete(p.retain());
                    }
                }).bind(0).sync().channel();
        byte[] payload = new byte[1200];
        new Random(3).nextBytes(payload);
        g.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(payload), new InetSocketAddress(gateway, port)));
        DatagramPacket p = reply.get(10, TimeUnit.SECONDS);
        try {
            byte[] got = new byte[p.content().readableBytes()];
            p.content().readBytes(got);
            assertArrayEquals(payload, got);
            assertEquals(new InetSocketAddress(gateway, port), p.sender(), "the reply comes from where the guest sent");
        } finally {
            p.release();
        }
        g.close().sync();
        echo.close().sync();
        assertEquals(1, slirp.counters().udpFlowsOpened());
    }

    @Test
    void udpEchoIpv4() throws Exception {
        start(Slirp.builder().hostLoopback(true));
        udpEcho("10.0.2.2", "127.0.0.1");
    }

    @Test
    void udpEchoIpv6() throws Exception {
        start(Slirp.builder().hostLoopback(true));
        udpEcho("fec0::2", "::1");
    }

    /** Starts dnsmasq on 127.0.0.1 with a few records of several types; returns its port. */
    private int dnsmasq() throws Exception {
        Tools.assumeCommand("dnsmasq", "dnsmasq-base");
        int port;
        try (java.net.DatagramSocket probe = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Path log = Files.createTempFile("slirp-dnsmasq", ".log");
        dnsmasq = new ProcessBuilder("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces", "--port=" + port,
                "--pid-file=", "--address=/a.pktkit.test/192.0.2.77", "--address=/a.pktkit.test/2001:db8::77",
                "--txt-record=t.pktkit.test,hello pktkit", "--mx-host=pktkit.test,mail.pktkit.test,10",
                "--log-queries", "--log-facility=-").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !Files.readString(log).contains("started")) {
            assertTrue(dnsmasq.isAlive(), Files.readString(log));
            Thread.onSpinWait();
        }
        // the TCP listener is up when dnsmasq says so; poll it once more to be sure
        while (System.nanoTime() < deadline) {
            try (java.net.Socket ignored = new java.net.Socket("127.0.0.1", port)) {
                break;
            } catch (java.io.IOException notYet) {
                Thread.onSpinWait();
            }
        }
        return port;
    }

    /** The guest's UDP resolver socket: Netty's DNS codec over the guest's virtual datagram channel. */
    private Channel guestResolver(Map<Integer, CompletableFuture<DnsResponse>> answers) throws Exception {
        return new Bootstrap().group(group).channelFactory(guest.datagramChannels())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new DatagramDnsQueryEncoder(), new DatagramDnsResponseDecoder(),
                                new SimpleChannelInboundHandler<DatagramDnsResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsResponse r) {
                                        CompletableFuture<DnsResponse> f = answers.get(r.id());
                                        if (f != null) {
                                            f.complete(r.retain());
                                        }
                                    }
                                });
                    }
                }).bind(0).sync().channel();
    }

    private static DnsResponse ask(Channel resolver, Map<Integer, CompletableFuture<DnsResponse>> answers, int id,
            String name, DnsRecordType type) throws Exception {
        CompletableFuture<DnsResponse> f = new CompletableFuture<>();
        answers.put(id, f);
        DatagramDnsQuery q = new DatagramDnsQuery(null, new InetSocketAddress("10.0.2.3", 53), id);
        q.setRecursionDesired(true).addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(name, type));
        resolver.writeAndFlush(q).sync();
        return f.get(10, TimeUnit.SECONDS);
    }

    private static byte[] rdata(DnsResponse r, int i) {
        DnsRawRecord rec = r.recordAt(DnsSection.ANSWER, i);
        byte[] b = new byte[rec.content().readableBytes()];
        rec.content().getBytes(rec.content().readerIndex(), b);
        return b;
    }

    @Test
    void dnsForwardsQueriesOfEveryTypeOverUdpAndTcp() throws Exception {
        int port = dnsmasq();
        start(Slirp.builder().dnsUpstream(new InetSocketAddress("127.0.0.1", port)));
        Map<Integer, CompletableFuture<DnsResponse>> answers = new java.util.concurrent.ConcurrentHashMap<>();
        Channel resolver = guestResolver(answers);
        DnsResponse a = ask(resolver, answers, 101, "a.pktkit.test.", DnsRecordType.A);
        DnsResponse aaaa = ask(resolver, answers, 102, "a.pktkit.test.", DnsRecordType.AAAA);
        DnsResponse txt = ask(resolver, answers, 103, "t.pktkit.test.", DnsRecordType.TXT);
        DnsResponse mx = ask(resolver, answers, 104, "pktkit.test.", DnsRecordType.MX);
        DnsResponse nx = ask(resolver, answers, 105, "nothing.invalid.", DnsRecordType.A);
        try {
            assertArrayEquals(new byte[] {(byte) 192, 0, 2, 77}, rdata(a, 0));
            assertArrayEquals(java.net.InetAddress.getByName("2001:db8::77").getAddress(), rdata(aaaa, 0));
            assertTrue(new String(rdata(txt, 0), java.nio.charset.StandardCharsets.US_ASCII).contains("hello pktkit"));
            assertEquals(DnsRecordType.MX, mx.recordAt(DnsSection.ANSWER, 0).type());
            assertEquals(10, ((rdata(mx, 0)[0] & 0xFF) << 8) | (rdata(mx, 0)[1] & 0xFF), "MX preference");
            assertEquals(0, nx.count(DnsSection.ANSWER));
        } finally {
            for (DnsResponse r : new DnsResponse[] {a, aaaa, txt, mx, nx}) {
                r.release();
            }
        }
        // a datagram to port 53 that is not a DNS query is dropped and counted, and the forwarder goes on
        resolver.pipeline().context(DatagramDnsQueryEncoder.class).writeAndFlush(new DatagramPacket(
                Unpooled.wrappedBuffer(new byte[] {1, 2, 3}), new InetSocketAddress("10.0.2.3", 53))).sync();
        DnsResponse again = ask(resolver, answers, 106, "a.pktkit.test.", DnsRecordType.A);
        again.release();
        assertEquals(1, slirp.counters().dnsMalformed());
        assertEquals(6, slirp.counters().dnsAnswers());
        assertEquals(0, slirp.counters().udpFlowsOpened(), "DNS goes through the forwarder, not a UDP flow");

        // TCP (RFC 7766): relayed to the upstream; Netty's TCP DNS codec on the guest's virtual socket
        CompletableFuture<DnsResponse> tcpAnswer = new CompletableFuture<>();
        Channel tcp = new Bootstrap().group(group).channelFactory(guest.socketChannels())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new TcpDnsQueryEncoder(), new TcpDnsResponseDecoder(),
                                new SimpleChannelInboundHandler<DnsResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, DnsResponse r) {
                                        tcpAnswer.complete(r.retain());
                                    }
                                });
                    }
                }).connect(new InetSocketAddress("10.0.2.3", 53)).sync().channel();
        tcp.writeAndFlush(new DefaultDnsQuery(107).setRecursionDesired(true)
                .addRecord(DnsSection.QUESTION, new DefaultDnsQuestion("pktkit.test.", DnsRecordType.MX))).sync();
        DnsResponse viaTcp = tcpAnswer.get(10, TimeUnit.SECONDS);
        try {
            assertEquals(107, viaTcp.id());
            assertEquals(DnsRecordType.MX, viaTcp.recordAt(DnsSection.ANSWER, 0).type());
        } finally {
            viaTcp.release();
        }
        tcp.close().sync();
        resolver.close().sync();
    }

    @Test
    void dnsFailsOverToTheNextUpstream() throws Exception {
        int port = dnsmasq();
        int silent;
        try (java.net.DatagramSocket probe = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            silent = probe.getLocalPort();
        }
        start(Slirp.builder().dnsUpstreams(List.of(new InetSocketAddress("127.0.0.1", silent),
                new InetSocketAddress("127.0.0.1", port))).dnsTimeout(300, TimeUnit.MILLISECONDS));
        Map<Integer, CompletableFuture<DnsResponse>> answers = new java.util.concurrent.ConcurrentHashMap<>();
        Channel resolver = guestResolver(answers);
        DnsResponse a = ask(resolver, answers, 7, "a.pktkit.test.", DnsRecordType.A);
        try {
            assertArrayEquals(new byte[] {(byte) 192, 0, 2, 77}, rdata(a, 0));
        } finally {
            a.release();
        }
        assertEquals(1, slirp.counters().dnsRetries());
        resolver.close().sync();
    }

    /**
     * A guest TCP server that answers every connection with the SHA-256 of what it read and the peer address it
     * saw, then closes; and a guest UDP echo.
     */
    private void guestServers(String address, CompletableFuture<InetSocketAddress> tcpPeer) throws Exception {
        new ServerBootstrap().group(guest.eventLoop()).channelFactory(guest.serverSocketChannels())
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInboundHandlerAdapter() {
                    MessageDigest md;

                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        tcpPeer.complete((InetSocketAddress) ctx.channel().remoteAddress());
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
                        if (md == null) {
                            md = MessageDigest.getInstance("SHA-256");
                        }
                        ByteBuf b = (ByteBuf) msg;
                        md.update(b.nioBuffer());
                        b.release();
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
                        if (evt instanceof ChannelInputShutdownEvent) {
                            byte[] digest = (md == null ? MessageDigest.getInstance("SHA-256") : md).digest();
                            ctx.writeAndFlush(Unpooled.wrappedBuffer(digest)).addListener(ChannelFutureListener.CLOSE);
                        }
                    }
                }).bind(address, 8000).sync();
        new Bootstrap().group(guest.eventLoop()).channelFactory(guest.datagramChannels())
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        ctx.writeAndFlush(new DatagramPacket(p.content().retain(), p.sender()));
                    }
                }).bind(address, 5300).sync();
    }

    private void forwardsReachGuest(String hostLoopback, String guestAddress, String gateway) throws Exception {
        CompletableFuture<InetSocketAddress> peer = new CompletableFuture<>();
        guestServers(guestAddress, peer);
        java.net.InetAddress lo = java.net.InetAddress.getByName(hostLoopback);
        PortForward tcp = ns.forwardTcp(new InetSocketAddress(lo, 0), new InetSocketAddress(guestAddress, 8000))
                .sync().getNow();
        PortForward udp = ns.forwardUdp(new InetSocketAddress(lo, 0), new InetSocketAddress(guestAddress, 5300))
                .sync().getNow();
        byte[] up = new byte[2 << 20];
        new Random(5).nextBytes(up);
        try (java.net.Socket s = new java.net.Socket(lo, tcp.hostAddress().getPort())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(up);
            s.shutdownOutput();
            byte[] got = s.getInputStream().readAllBytes();
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(up), got, "the guest read every byte");
        }
        assertEquals(java.net.InetAddress.getByName(gateway), peer.get(10, TimeUnit.SECONDS).getAddress(),
                "a loopback client appears to the guest as the gateway");
        try (java.net.DatagramSocket d = new java.net.DatagramSocket()) {
            d.setSoTimeout(10_000);
            byte[] msg = "ping through the forward".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            d.send(new java.net.DatagramPacket(msg, msg.length, udp.hostAddress()));
            java.net.DatagramPacket r = new java.net.DatagramPacket(new byte[100], 100);
            d.receive(r);
            assertArrayEquals(msg, Arrays.copyOf(r.getData(), r.getLength()));
            assertEquals(udp.hostAddress(), r.getSocketAddress(), "the answer comes from the forwarded port");
        }
        assertEquals(2, (int) ns.loop.submit(() -> ns.portForwards().size()).get());
        // removed at run time: the host port is closed again
        int port = tcp.hostAddress().getPort();
        tcp.close();
        udp.close();
        assertEquals(0, (int) ns.loop.submit(() -> ns.portForwards().size()).get());
        assertTrue(closedSoon(lo, port), "the forward's host port no longer accepts connections");
        assertEquals(1, slirp.counters().forwardConnections());
        assertEquals(1, slirp.counters().forwardUdpFlows());
    }

    private static boolean closedSoon(java.net.InetAddress lo, int port) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (java.net.Socket s = new java.net.Socket(lo, port)) {
                Thread.onSpinWait(); // the listener's close is on its way
            } catch (java.io.IOException refused) {
                return true;
            }
        }
        return false;
    }

    @Test
    void portForwardsReachGuestIpv4() throws Exception {
        start(Slirp.builder());
        forwardsReachGuest("127.0.0.1", "10.0.2.15", "10.0.2.2");
    }

    @Test
    void portForwardsReachGuestIpv6() throws Exception {
        start(Slirp.builder());
        forwardsReachGuest("::1", "fec0::15", "fec0::2");
    }

    @Test
    void portForwardToAClosedGuestPortResetsTheClient() throws Exception {
        start(Slirp.builder());
        PortForward tcp = ns.forwardTcp(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("10.0.2.15", 8001))
                .sync().getNow();
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", tcp.hostAddress().getPort())) {
            s.setSoTimeout(10_000);
            int r;
            try {
                r = s.getInputStream().read();
            } catch (java.net.SocketException reset) {
                r = -2;
            }
            assertTrue(r < 0, "no bytes from a refused forward");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (slirp.counters().forwardRefusedByGuest() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, slirp.counters().forwardRefusedByGuest());
        tcp.close();
    }

    @Test
    void idleUdpFlowsExpire() throws Exception {
        start(Slirp.builder().hostLoopback(true).udpIdleTimeout(200, TimeUnit.MILLISECONDS));
        udpEcho("10.0.2.2", "127.0.0.1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (slirp.counters().udpFlowsExpired() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, slirp.counters().udpFlowsExpired());
        assertEquals(0, (int) ns.loop.submit(ns::udpFlows).get());
    }
}

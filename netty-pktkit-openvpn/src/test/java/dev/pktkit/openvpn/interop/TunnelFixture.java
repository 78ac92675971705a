package dev.pktkit.openvpn.interop;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.openvpn.L3HubClientAttacher;
import dev.pktkit.openvpn.OpenVpnServer;
import dev.pktkit.openvpn.L2HubClientAttacher;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.L2PortOptions;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.tuntap.TapChannel;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * Two namespaces: {@code outer} holds the stock {@code openvpn --client} (its own kernel TUN) and our server's UDP
 * socket (created inside it), so the OpenVPN datagrams cross that namespace's loopback only; {@code inner} holds
 * a kernel TUN device ({@link TunChannel}) at the server's tunnel address on an {@link L3Hub} with the clients.
 * Traffic between the namespaces can only flow through both OpenVPN implementations.
 */
final class TunnelFixture implements AutoCloseable {
    static final String SERVER_V4 = "10.8.0.1";

    final Path dir;
    final int loops;
    /** One UDP socket per loop with SO_REUSEPORT ({@link OpenVpnServer#reusePortSocket()}): set before starting. */
    boolean reusePort;
    /** Batched UDP reads on the server's socket (recvmmsg, {@link #batchReads(Bootstrap)}): set before starting. */
    boolean batchUdpReads = Boolean.getBoolean("pktkit.measure.recvmmsg");
    final java.util.List<Channel> extraUdp = new java.util.ArrayList<>();
    final TestPki pki;
    final Netns outer;
    final Netns inner;
    final MultiThreadIoEventLoopGroup group;
    L3Hub hub;
    OpenVpnServer server;
    Channel udp;
    /** The same server's TCP listener (one client table for both). */
    Channel tcp;
    TunChannel tun;
    /** TAP mode: set before {@link #startServer}; the server side is then a kernel TAP on an {@link L2Hub}. */
    boolean tap;
    /** IPv6 in the tunnel: set before {@link #startServer}; the server side TUN gets {@link #SERVER_V6}/64. */
    boolean ipv6;
    static final String SERVER_V6 = "fd00:8::1";
    L2Hub l2hub;
    TapChannel tapDevice;
    Process client;
    Path clientLog;
    /** Exceptions that reached the end of the server's pipeline: there must be none. */
    final java.util.List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();

    static void assumeUsable() {
        Netns.assumeTunUsable();
        Tools.assumeCommand("openvpn", "openvpn");
        Tools.assumeCommand("openssl", "openssl");
        Tools.assumeCommand("socat", "socat");
        Tools.assumeCommand("ping", "iputils-ping");
        Assumptions.assumeTrue(Epoll.isAvailable(), "epoll unavailable");
    }

    TunnelFixture(Path dir) throws Exception {
        this(dir, 1);
    }

    /** With the server's channels (UDP, TCP, the server-side TUN) on a group of {@code loops} loops. */
    TunnelFixture(Path dir, int loops) throws Exception {
        this.loops = loops;
        this.dir = dir;
        pki = TestPki.create(dir);
        outer = Netns.create();
        inner = Netns.create();
        group = new MultiThreadIoEventLoopGroup(loops, EpollIoHandler.newFactory());
    }

    SslContext serverSsl(String... protocols) throws Exception {
        return SslContextBuilder.forServer(pki.serverCert.toFile(), pki.serverKey.toFile())
                .sslProvider(SslProvider.JDK).protocols(protocols.length == 0
                        ? new String[] {"TLSv1.3", "TLSv1.2"} : protocols)
                .trustManager(pki.ca.toFile()).clientAuth(ClientAuth.REQUIRE).build();
    }

    /** Starts our server in {@code outer} on 127.0.0.1 and the TUN at {@link #SERVER_V4}/24 in {@code inner}. */
    void startServer(UnaryOperator<OpenVpnServer.Builder> custom) throws Exception {
        startServer(custom, outer, "127.0.0.1");
    }

    /** As {@link #startServer(UnaryOperator)}, with the server's sockets in {@code socketNs} on {@code bindHost}. */
    void startServer(UnaryOperator<OpenVpnServer.Builder> custom, Netns socketNs, String bindHost) throws Exception {
        hub = L3Hub.builder().name("openvpn-interop").build();
        l2hub = tap ? L2Hub.builder().name("openvpn-tap").build() : null;
        server = custom.apply(OpenVpnServer.builder().ssl(serverSsl()).server("10.8.0.0 255.255.255.0").tap(tap)
                .serverIpv6(ipv6 ? "fd00:8::/64" : null)
                .clientInitializer(tap ? new L2HubClientAttacher(l2hub) : new L3HubClientAttacher(hub))).build();
        NetNamespace outerNs = socketNs.closeWith(NetNamespace.named(socketNs.name()));
        NetNamespace innerNs = inner.closeWith(NetNamespace.named(inner.name()));
        Bootstrap udpBootstrap = new Bootstrap().group(group)
                .channelFactory(() -> {
                    try {
                        return outerNs.call(EpollDatagramChannel::new);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                })
                .handler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(server, new ChannelInboundHandlerAdapter() {
                            @Override
                            public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                                errors.add(cause);
                            }
                        });
                    }
                })
                .option(io.netty.channel.unix.UnixChannelOption.SO_REUSEPORT, reusePort);
        if (batchUdpReads) {
            batchReads(udpBootstrap);
        }
        udp = udpBootstrap.bind(bindHost, 0).sync().channel();
        for (int i = 1; reusePort && i < loops; i++) {
            extraUdp.add(new Bootstrap().group(group).channelFactory(() -> {
                try {
                    return outerNs.call(EpollDatagramChannel::new);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).option(io.netty.channel.unix.UnixChannelOption.SO_REUSEPORT, true).handler(server.reusePortSocket())
                    .bind(udp.localAddress()).sync().channel());
        }
        tcp = new io.netty.bootstrap.ServerBootstrap().group(group)
                .channelFactory(() -> {
                    try {
                        return outerNs.call(io.netty.channel.epoll.EpollServerSocketChannel::new);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                })
                .childHandler(server.tcpInitializer())
                .bind(bindHost, 0).sync().channel();
        String dev = "ovs" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000));
        if (tap) {
            tapDevice = (TapChannel) new Bootstrap().group(group).channelFactory(() -> new TapChannel(innerNs))
                    .handler(new ChannelInboundHandlerAdapter()).bind(TunTapAddress.of(dev)).sync().channel();
            tapDevice.link().mtu(1500).addAddress(SERVER_V4 + "/24").up();
            l2hub.attach(tapDevice, L2PortOptions.defaults());
            return;
        }
        tun = (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(innerNs))
                .handler(new ChannelInboundHandlerAdapter())
                .bind(TunTapAddress.of(dev))
                .sync().channel();
        tun.link().mtu(1500).addAddress(SERVER_V4 + "/24").up();
        if (ipv6) {
            tun.link().addAddress(SERVER_V6 + "/64");
            hub.attach(tun, L3PortOptions.prefixes(SERVER_V4 + "/32", SERVER_V6 + "/128"));
        } else {
            hub.attach(tun, L3PortOptions.prefixes(SERVER_V4 + "/32"));
        }
    }

    /** recvmmsg on an epoll datagram channel: up to 16 datagrams of at most 2 KiB per read system call. */
    static Bootstrap batchReads(Bootstrap b) {
        return b.option(io.netty.channel.epoll.EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, 2048)
                .option(io.netty.channel.ChannelOption.RCVBUF_ALLOCATOR,
                        new io.netty.channel.FixedRecvByteBufAllocator(16 * 2048));
    }

    int port() {
        return ((InetSocketAddress) udp.localAddress()).getPort();
    }

    /** An ordinary client profile for our server over UDP, plus {@code extra} lines. */
    String profile(String extra) {
        return profile("udp", extra);
    }

    /** An ordinary client profile for our server over {@code proto} (udp or tcp), plus {@code extra} lines. */
    String profile(String proto, String extra) {
        InetSocketAddress a = (InetSocketAddress) (proto.equals("tcp") ? tcp : udp).localAddress();
        return profile(proto, a.getAddress().getHostAddress(), a.getPort(), extra);
    }

    /** A client profile for a server at {@code host}:{@code port}. */
    String profile(String proto, String host, int port, String extra) {
        return """
                client
                dev %s
                proto %s
                remote %s %d
                nobind
                ca %s
                cert %s
                key %s
                remote-cert-tls server
                verb 3
                %s
                """.formatted(tap ? "tap" : "tun", proto, host, port, pki.ca, pki.clientCert, pki.clientKey, extra);
    }

    /** Starts the stock client in {@code outer} with {@code profile}. */
    void startClient(String profile) throws IOException {
        Path conf = dir.resolve("client.ovpn");
        Files.writeString(conf, profile);
        clientLog = dir.resolve("client.log");
        client = outer.start(clientLog, "openvpn", "--config", conf.toString());
    }

    String clientLog() throws IOException {
        return clientLog != null && Files.exists(clientLog) ? Files.readString(clientLog) : "";
    }

    /** Waits until the client log contains {@code text}. */
    void awaitClientLog(String text, long seconds) throws Exception {
        waitFor(() -> {
            try {
                return clientLog().contains(text);
            } catch (IOException e) {
                return false;
            }
        }, seconds, "client log line '" + text + "'");
    }

    void waitFor(BooleanSupplier cond, long seconds, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what + "; client log:\n" + clientLog()
                        + "\nserver drops: " + server.drops());
            }
            Thread.sleep(50); // polling a condition with a deadline, not synchronising on time
        }
    }

    int clientCount() {
        try {
            return udp.eventLoop().submit(server::clientCount).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    long sessionsCreated() {
        try {
            return udp.eventLoop().submit(server::sessionsCreated).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    CommandResult inOuter(int seconds, String... cmd) throws IOException, InterruptedException {
        return outer.exec(Duration.ofSeconds(seconds), cmd);
    }

    /** A file of {@code mib} MiB of seeded random bytes and its SHA-256. */
    record Payload(Path file, String sha256) {
    }

    Payload payload(int mib) throws Exception {
        Path f = dir.resolve("payload-" + mib + ".bin");
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Random r = new Random(mib * 7919L);
        byte[] chunk = new byte[1 << 20];
        try (var out = Files.newOutputStream(f)) {
            for (int i = 0; i < mib; i++) {
                r.nextBytes(chunk);
                md.update(chunk);
                out.write(chunk);
            }
        }
        return new Payload(f, HexFormat.of().formatHex(md.digest()));
    }

    /**
     * Sends {@code payload} over TCP from the client's namespace to {@code host}:port in {@code inner} (through
     * the tunnel) and returns the SHA-256 the receiver computed.
     */
    String transferToInner(Payload payload, String host) throws Exception {
        int port = 5000 + ThreadLocalRandom.current().nextInt(1000);
        Path sum = dir.resolve("sum-" + port);
        boolean v6 = host.indexOf(':') >= 0;
        Process receiver = inner.start(sum, "sh", "-c", "socat -u TCP" + (v6 ? "6" : "4") + "-LISTEN:" + port
                + ",reuseaddr STDOUT | sha256sum");
        Path sendLog = dir.resolve("send-" + port + ".log");
        Process sender = outer.start(sendLog, "socat", "-u", "OPEN:" + payload.file(),
                (v6 ? "TCP6:[" + host + "]:" : "TCP4:" + host + ":") + port + ",retry=100,interval=0.1");
        if (!sender.waitFor(120, TimeUnit.SECONDS) || !receiver.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("transfer did not finish; sender log: " + Files.readString(sendLog));
        }
        return Files.readString(sum).split("\\s+")[0];
    }

    @Override
    public void close() throws Exception {
        if (client != null) {
            client.destroy();
            if (!client.waitFor(5, TimeUnit.SECONDS)) {
                client.destroyForcibly();
            }
        }
        if (tcp != null) {
            tcp.close().sync();
        }
        for (Channel c : extraUdp) {
            c.close().sync();
        }
        if (udp != null) {
            udp.close().sync();
        }
        if (tun != null) {
            tun.close().sync();
        }
        if (tapDevice != null) {
            tapDevice.close().sync();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        outer.close();
        inner.close();
        if (!errors.isEmpty()) {
            AssertionError e = new AssertionError("exceptions reached the server pipeline's end: " + errors);
            errors.forEach(e::addSuppressed);
            throw e;
        }
    }
}

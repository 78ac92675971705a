package dev.pktkit.openvpn.interop;

import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.openvpn.L3HubClientAttacher;
import dev.pktkit.openvpn.OpenVpnClient;
import dev.pktkit.openvpn.OpenVpnClientConfig;
import dev.pktkit.openvpn.OpenVpnDropReason;
import dev.pktkit.openvpn.OpenVpnServer;
import dev.pktkit.openvpn.OpenVpnTunnelChannel;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our client against our server inside one JVM over UDP on loopback (no namespaces, no root). The client is built
 * from a written {@code .ovpn} profile with inline {@code <ca>}, {@code <cert>}, {@code <key>} and
 * {@code <tls-crypt>} blocks ({@link OpenVpnClientConfig}), with {@code remote-cert-tls server} and
 * {@code verify-x509-name}; the same profile naming another server name is refused during TLS. The tunnel comes up
 * with the pushed address, an ICMP echo written into the tunnel channel is answered by a host behind the server's
 * hub, and hostile datagrams handed to the client (garbage of every length, stray data packets) are dropped and
 * counted without ending the tunnel.
 */
class OurClientOurServerTest {
    @TempDir
    Path dir;

    @Test
    void tunnelPingAndHostileInput() throws Exception {
        Tools.assumeCommand("openssl", "openssl");
        Tools.assumeCommand("openvpn", "openvpn");
        TestPki pki = TestPki.create(dir);
        StaticKey ta = StaticKey.parse(Files.readString(pki.staticKey));
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            L3Hub hub = L3Hub.builder().name("ours-ours").build();
            OpenVpnServer server = OpenVpnServer.builder()
                    .ssl(SslContextBuilder.forServer(pki.serverCert.toFile(), pki.serverKey.toFile())
                            .sslProvider(SslProvider.JDK).trustManager(pki.ca.toFile())
                            .clientAuth(ClientAuth.REQUIRE).build())
                    .server("10.8.0.0 255.255.255.0").tlsCrypt(ta).dataCiphers("CHACHA20-POLY1305:AES-256-GCM")
                    .push("route 10.9.0.0 255.255.255.0")
                    .clientInitializer(new L3HubClientAttacher(hub)).build();
            LocalAddresses own = LocalAddresses.of(InetAddress.getByName("10.8.0.1"));
            PacketPipe host = PacketPipe.open(group.next(), new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new EchoResponder(own));
                }
            }, group.next(), null).get(5, TimeUnit.SECONDS);
            hub.attach(host.b(), L3PortOptions.prefixes("10.8.0.1/32"));
            Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(server)
                    .bind("127.0.0.1", 0).sync().channel();

            LinkedBlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
            // the client comes from a stock-style .ovpn profile with inline blocks, read by OpenVpnClientConfig
            int port = ((InetSocketAddress) udp.localAddress()).getPort();
            Path profile = dir.resolve("client.ovpn");
            Files.writeString(profile, profile(pki, port, "verify-x509-name server name"));
            OpenVpnClientConfig config = OpenVpnClientConfig.read(profile);
            OpenVpnClientConfig.Remote remote = config.remotes().get(0);
            assertEquals(new OpenVpnClientConfig.Remote("127.0.0.1", port, OpenVpnClientConfig.Proto.UDP, false),
                    remote);
            OpenVpnClient client = config.builder()
                    .tunnelInitializer(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            byte[] bytes = new byte[b.readableBytes()];
                            b.readBytes(bytes);
                            b.release();
                            received.add(bytes);
                        }
                    }).build();
            Channel transport = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(client)
                    .connect(remote.host(), remote.port()).sync().channel();
            OpenVpnTunnelChannel tunnel = client.tunnel().get(30, TimeUnit.SECONDS);
            assertEquals("10.8.0.2", tunnel.tunnelAddress().getHostAddress());
            assertEquals(24, tunnel.pushReply().prefixLength());
            assertTrue(tunnel.pushReply().routes().contains("10.9.0.0 255.255.255.0"), tunnel.pushReply().toString());
            assertEquals("CHACHA20-POLY1305", client.cipher(), "the server's preference wins (NCP)");
            assertEquals(tunnel.parent(), transport);

            tunnel.writeAndFlush(echoRequest(0x0a080002, 0x0a080001, 1)).sync();
            byte[] reply = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(reply, "no echo reply: client drops " + client.drops() + " server drops "
                    + server.drops());
            assertEquals(0, reply[20], "ICMP echo reply");
            assertEquals(0x0a080001, readInt(reply, 12), "from the host behind the server");

            // hostile input at the client: garbage of many lengths, a data packet for another key, as if from the
            // server's address (a connected socket filters other senders already)
            InetSocketAddress from = (InetSocketAddress) udp.localAddress();
            Random r = new Random(15);
            transport.eventLoop().submit(() -> {
                for (int len = 0; len < 300; len++) {
                    byte[] g = new byte[len];
                    r.nextBytes(g);
                    transport.pipeline().fireChannelRead(new DatagramPacket(Unpooled.wrappedBuffer(g),
                            (InetSocketAddress) transport.localAddress(), from));
                }
                byte[] data = new byte[64];
                data[0] = (byte) (9 << 3 | 5); // P_DATA_V2, key id 5
                transport.pipeline().fireChannelRead(new DatagramPacket(Unpooled.wrappedBuffer(data),
                        (InetSocketAddress) transport.localAddress(), from));
                transport.pipeline().fireChannelReadComplete();
            }).get();
            long dropped = transport.eventLoop().submit(() -> client.drops().values().stream()
                    .mapToLong(Long::longValue).sum()).get();
            assertTrue(dropped >= 290, "hostile datagrams counted: " + client.drops());
            assertTrue(transport.eventLoop().submit(() -> client.drops(OpenVpnDropReason.NO_KEYS)).get() >= 1);
            assertTrue(tunnel.isActive(), "the tunnel survives hostile input: " + client.failure());

            tunnel.writeAndFlush(echoRequest(0x0a080002, 0x0a080001, 2)).sync();
            assertNotNull(received.poll(10, TimeUnit.SECONDS), "still answers after the garbage");

            // the same profile naming another server: our check refuses the server's certificate during TLS
            Path wrong = dir.resolve("wrong-name.ovpn");
            Files.writeString(wrong, profile(pki, port, "verify-x509-name vpn.example.com name"));
            OpenVpnClient refused = OpenVpnClientConfig.read(wrong).builder().build();
            Channel refusedTransport = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                    .handler(refused).connect("127.0.0.1", port).sync().channel();
            assertTrue(refused.tunnel().await(30, TimeUnit.SECONDS));
            assertTrue(!refused.tunnel().isSuccess() && refused.failure().startsWith("TLS failed"),
                    "refused: " + refused.failure());
            assertTrue(refused.failure().contains("verify-x509-name"), refused.failure());
            refusedTransport.closeFuture().await(5, TimeUnit.SECONDS);

            tunnel.close().sync();
            transport.closeFuture().await(5, TimeUnit.SECONDS);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (udp.eventLoop().submit(server::clientCount).get() != 0) {
                assertTrue(System.nanoTime() < end, "the server did not see our explicit-exit-notify");
                Thread.sleep(20); // polling a condition with a deadline
            }
            udp.close().sync();
            host.a().close().sync();
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }

    /**
     * {@code remote} failover ({@link OpenVpnClientConfig#connect}): a profile lists four remotes, and only the last
     * has a server. The first is the port of one of our servers that was started and closed (the UDP socket gets
     * ICMP port unreachable), the second a TCP port nobody listens on (connection refused), the third a UDP socket
     * that reads nothing (no answer within {@code server-poll-timeout 2}); the fourth, our server, gives the tunnel.
     */
    @Test
    void failoverToTheNextRemote() throws Exception {
        Tools.assumeCommand("openssl", "openssl");
        Tools.assumeCommand("openvpn", "openvpn");
        TestPki pki = TestPki.create(dir);
        StaticKey ta = StaticKey.parse(Files.readString(pki.staticKey));
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try (java.net.DatagramSocket blackHole = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            L3Hub hub = L3Hub.builder().name("failover").build();
            OpenVpnServer.Builder sb = OpenVpnServer.builder()
                    .ssl(SslContextBuilder.forServer(pki.serverCert.toFile(), pki.serverKey.toFile())
                            .sslProvider(SslProvider.JDK).trustManager(pki.ca.toFile())
                            .clientAuth(ClientAuth.REQUIRE).build())
                    .server("10.8.0.0 255.255.255.0").tlsCrypt(ta)
                    .clientInitializer(new L3HubClientAttacher(hub));
            Channel closed = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(sb.build())
                    .bind("127.0.0.1", 0).sync().channel();
            int closedPort = ((InetSocketAddress) closed.localAddress()).getPort();
            closed.close().sync();
            int refusingPort;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                refusingPort = s.getLocalPort();
            }
            OpenVpnServer server = sb.build();
            Channel udp = new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(server)
                    .bind("127.0.0.1", 0).sync().channel();
            int port = ((InetSocketAddress) udp.localAddress()).getPort();

            String remotes = "remote 127.0.0.1 " + refusingPort + " tcp-client\n"
                    + "remote 127.0.0.1 " + blackHole.getLocalPort() + " udp\n"
                    + "remote 127.0.0.1 " + port + "\nserver-poll-timeout 2";
            Path profile = dir.resolve("failover.ovpn");
            Files.writeString(profile, profile(pki, closedPort, remotes));
            OpenVpnClientConfig config = OpenVpnClientConfig.read(profile);
            assertEquals(4, config.remotes().size());
            OpenVpnClientConfig.Connection c = config.connect(group, null).get(60, TimeUnit.SECONDS);
            assertEquals(config.remotes().get(3), c.remote(), "the fourth remote: " + c.failed());
            assertEquals(3, c.failed().size(), c.failed().toString());
            assertTrue(c.failed().get(0).startsWith("127.0.0.1 " + closedPort + " udp: ")
                    && c.failed().get(0).contains("unreachable"), c.failed().get(0));
            assertTrue(c.failed().get(1).startsWith("127.0.0.1 " + refusingPort + " tcp: connect failed"),
                    c.failed().get(1));
            assertTrue(c.failed().get(2).endsWith("no tunnel within server-poll-timeout 2 s"), c.failed().get(2));
            OpenVpnTunnelChannel tunnel = c.client().tunnel().getNow();
            assertEquals("10.8.0.2", tunnel.tunnelAddress().getHostAddress());
            assertEquals(port, c.client().remoteAddress().getPort());

            // a profile whose every remote fails: one pass, every reason in the failure
            Path none = dir.resolve("none.ovpn");
            Files.writeString(none, profile(pki, closedPort, "server-poll-timeout 2"));
            Throwable failure = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> OpenVpnClientConfig.read(none).connect(group, null).get(60, TimeUnit.SECONDS)).getCause();
            assertTrue(failure instanceof dev.pktkit.openvpn.OpenVpnException
                    && failure.getMessage().startsWith("no remote answered: 127.0.0.1 " + closedPort + " udp: "),
                    String.valueOf(failure));

            tunnel.close().sync();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (udp.eventLoop().submit(server::clientCount).get() != 0) {
                assertTrue(System.nanoTime() < end, "the server did not see our explicit-exit-notify");
                Thread.sleep(20); // polling a condition with a deadline
            }
            udp.close().sync();
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
    }

    /** A client profile as openvpn 2.6 users write them, every key and certificate inline. */
    static String profile(TestPki pki, int port, String extra) throws java.io.IOException {
        return "client\ndev tun\nproto udp\nremote 127.0.0.1 " + port + "\nnobind\nresolv-retry infinite\n"
                + "persist-key\npersist-tun\nremote-cert-tls server\n" + extra + "\n"
                + "data-ciphers AES-256-GCM:CHACHA20-POLY1305\nverb 3\n"
                + "<ca>\n" + Files.readString(pki.ca) + "</ca>\n"
                + "<cert>\n" + Files.readString(pki.clientCert) + "</cert>\n"
                + "<key>\n" + Files.readString(pki.clientKey) + "</key>\n"
                + "<tls-crypt>\n" + Files.readString(pki.staticKey) + "</tls-crypt>\n";
    }

    private static int readInt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    /** An IPv4 ICMP echo request with 32 bytes of payload. */
    private static ByteBuf echoRequest(int src, int dst, int seq) {
        ByteBuf b = Unpooled.buffer(60);
        b.writeByte(0x45).writeByte(0).writeShort(60).writeShort(seq).writeShort(0).writeByte(64).writeByte(1)
                .writeShort(0).writeInt(src).writeInt(dst);
        b.setShort(10, Checksums.internet(b, 0, 20));
        b.writeByte(8).writeByte(0).writeShort(0).writeShort(0x1234).writeShort(seq);
        for (int i = 0; i < 32; i++) {
            b.writeByte(i);
        }
        b.setShort(22, Checksums.internet(b, 20, 40));
        return b;
    }
}

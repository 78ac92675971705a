package dev.pktkit.openvpn.interop;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.openvpn.OpenVpnClient;
import dev.pktkit.openvpn.OpenVpnClientConfig;
import dev.pktkit.openvpn.OpenVpnDropReason;
import dev.pktkit.openvpn.OpenVpnPushReply;
import dev.pktkit.openvpn.OpenVpnTunnelChannel;
import dev.pktkit.openvpn.data.KeyDerivation;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our {@link OpenVpnClient} dials a stock {@code openvpn --server} (Debian's 2.6, its own kernel TUN at 10.8.0.1
 * in namespace {@code srv}, where our client's socket is made too, so the OpenVPN packets cross that namespace's
 * loopback only). The client's tunnel channel and a kernel TUN in namespace {@code inner}, configured with the
 * address the server pushed, are ports of an {@link L3Hub}; traffic between the namespaces can only flow through
 * both OpenVPN implementations: ping from {@code inner} to the server's 10.8.0.1, and 16 MiB over TCP, SHA-256
 * checked. Closing the tunnel sends explicit-exit-notify, which the server logs. Our client is built from a written
 * {@code .ovpn} profile ({@link OpenVpnClientConfig}: inline {@code <ca>}, {@code <cert>}, {@code <key>},
 * {@code <tls-crypt>} or {@code key-direction 1} with {@code <tls-auth>}, {@code remote-cert-tls server},
 * {@code verify-x509-name}).
 */
class StockServerTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    @ParameterizedTest(name = "{0}, {1}, {2}, renegotiation: {3}")
    @CsvSource({
        "udp, tls-crypt, AES-256-GCM, none",
        "tcp, tls-crypt, CHACHA20-POLY1305, server",
        "udp, tls-auth, AES-128-GCM, client",
    })
    void ourClientConnectsToStockServer(String proto, String protection, String cipher, String reneg)
            throws Exception {
        TestPki pki = TestPki.create(dir);
        try (Netns srv = Netns.create(); Netns inner = Netns.create()) {
            MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            try {
                int port = 20000 + ThreadLocalRandom.current().nextInt(20000);
                Path serverLog = dir.resolve("server.log");
                Files.writeString(dir.resolve("server.conf"), """
                        dev tun
                        topology subnet
                        server 10.8.0.0 255.255.255.0
                        proto %s
                        local 127.0.0.1
                        port %d
                        ca %s
                        cert %s
                        key %s
                        dh none
                        %s
                        data-ciphers %s
                        keepalive 10 60
                        push "route 10.9.0.0 255.255.255.0"
                        push "dhcp-option DNS 10.8.0.53"
                        verb 4
                        %s
                        """.formatted(proto.equals("tcp") ? "tcp-server" : "udp", port, pki.ca, pki.serverCert,
                        pki.serverKey, protection.equals("tls-auth") ? "tls-auth " + pki.staticKey + " 0"
                                : "tls-crypt " + pki.staticKey, cipher,
                        reneg.equals("server") ? "reneg-sec 3" : ""));
                srv.start(serverLog, "openvpn", "--config", dir.resolve("server.conf").toString());
                awaitLog(serverLog, "Initialization Sequence Completed", 30);

                L3Hub hub = L3Hub.builder().name("openvpn-client-interop").build();
                // our client from a stock-style profile, keys and certificates inline (OpenVpnClientConfig)
                Path profile = dir.resolve("client.ovpn");
                Files.writeString(profile, "client\ndev tun\nproto " + (proto.equals("tcp") ? "tcp-client" : "udp")
                        + "\nremote 127.0.0.1 " + port + "\nnobind\npersist-key\npersist-tun\n"
                        + "remote-cert-tls server\nverify-x509-name server name\n"
                        + "data-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305\nverb 3\n"
                        + "<ca>\n" + Files.readString(pki.ca) + "</ca>\n"
                        + "<cert>\n" + Files.readString(pki.clientCert) + "</cert>\n"
                        + "<key>\n" + Files.readString(pki.clientKey) + "</key>\n"
                        + (protection.equals("tls-auth")
                                ? "key-direction 1\n<tls-auth>\n" + Files.readString(pki.staticKey) + "</tls-auth>\n"
                                : "<tls-crypt>\n" + Files.readString(pki.staticKey) + "</tls-crypt>\n"));
                OpenVpnClientConfig config = OpenVpnClientConfig.read(profile);
                OpenVpnClientConfig.Remote remote = config.remotes().get(0);
                assertEquals(proto.equals("tcp") ? OpenVpnClientConfig.Proto.TCP : OpenVpnClientConfig.Proto.UDP,
                        remote.proto());
                OpenVpnClient.Builder b = config.builder()
                        .tunnelInitializer(new ChannelInitializer<OpenVpnTunnelChannel>() {
                            @Override
                            protected void initChannel(OpenVpnTunnelChannel ch) {
                                OpenVpnPushReply r = ch.pushReply();
                                hub.attach(ch, L3PortOptions.prefixes(network(r) + "/" + r.prefixLength()));
                            }
                        });
                if (reneg.equals("client")) {
                    b.renegSeconds(3);
                }
                OpenVpnClient client = b.build();
                NetNamespace srvNs = srv.closeWith(NetNamespace.named(srv.name()));
                NetNamespace innerNs = inner.closeWith(NetNamespace.named(inner.name()));
                Bootstrap bs = new Bootstrap().group(group);
                if (remote.proto() == OpenVpnClientConfig.Proto.TCP) {
                    bs.channelFactory(() -> call(srvNs, EpollSocketChannel::new)).handler(client.tcpInitializer());
                } else {
                    bs.channelFactory(() -> call(srvNs, EpollDatagramChannel::new)).handler(client);
                }
                Channel transport = bs.connect(remote.host(), remote.port()).sync().channel();
                OpenVpnTunnelChannel tunnel;
                try {
                    tunnel = client.tunnel().get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AssertionError("no tunnel: " + client.failure() + " drops " + client.drops()
                            + "\nserver log:\n" + Files.readString(serverLog), e);
                }
                OpenVpnPushReply pushed = tunnel.pushReply();
                assertEquals("10.8.0.2", pushed.address().getHostAddress(), pushed.toString());
                assertEquals(24, pushed.prefixLength());
                assertTrue(pushed.routes().contains("10.9.0.0 255.255.255.0"), pushed.toString());
                assertTrue(pushed.dhcpOptions().contains("DNS 10.8.0.53"), pushed.toString());
                assertEquals(cipher, client.cipher());
                assertTrue(pushed.peerId() >= 0, "openvpn 2.6 pushes a peer-id: " + pushed);
                assertEquals(KeyDerivation.exporterAvailable(), client.keysFromExporter(),
                        "tls-ekm is used when the JDK can export");

                String dev = "ovc" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000));
                TunChannel tun = (TunChannel) new Bootstrap().group(group)
                        .channelFactory(() -> new TunChannel(innerNs)).handler(new ChannelInboundHandlerAdapter())
                        .bind(TunTapAddress.of(dev)).sync().channel();
                try {
                    tun.link().mtu(1500).addAddress(pushed.address().getHostAddress() + "/" + pushed.prefixLength())
                            .up();
                    hub.attach(tun, L3PortOptions.prefixes(pushed.address().getHostAddress() + "/32"));

                    CommandResult ping = inner.exec(Duration.ofSeconds(30), "ping", "-c", "3", "-i", "0.2", "-W",
                            "5", "10.8.0.1");
                    assertEquals(0, ping.exit(), ping.output() + client.drops() + Files.readString(serverLog));

                    if (!reneg.equals("none")) {
                        // a renegotiation (new TLS session, key method 2, next key ID) keeps the tunnel going
                        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                        while (transport.eventLoop().submit(client::renegotiations).get() < 1) {
                            assertTrue(System.nanoTime() < end, "no renegotiation: drops " + client.drops()
                                    + " failure " + client.failure() + "\n" + Files.readString(serverLog));
                            Thread.sleep(50); // polling a condition with a deadline
                        }
                        CommandResult again = inner.exec(Duration.ofSeconds(30), "ping", "-c", "2", "-i", "0.2",
                                "-W", "5", "10.8.0.1");
                        assertEquals(0, again.exit(), again.output() + client.drops());
                    }
                    Path file = dir.resolve("payload.bin");
                    String sha = payload(file, 16);
                    int tport = 5000 + ThreadLocalRandom.current().nextInt(1000);
                    Path sum = dir.resolve("sum");
                    Process receiver = srv.start(sum, "sh", "-c", "socat -u TCP4-LISTEN:" + tport
                            + ",bind=10.8.0.1,reuseaddr STDOUT | sha256sum");
                    Path sendLog = dir.resolve("send.log");
                    Process sender = inner.start(sendLog, "socat", "-u", "OPEN:" + file,
                            "TCP4:10.8.0.1:" + tport + ",retry=100,interval=0.1");
                    assertTrue(sender.waitFor(120, TimeUnit.SECONDS) && receiver.waitFor(30, TimeUnit.SECONDS),
                            "transfer did not finish: " + Files.readString(sendLog));
                    assertEquals(sha, Files.readString(sum).split("\\s+")[0], "16 MiB through the tunnel");
                    assertEquals(0L, client.drops().getOrDefault(OpenVpnDropReason.DATA_BAD_TAG,
                            0L), "drops: " + client.drops());

                    tunnel.close().sync();
                    // the server hears our explicit-exit-notify (UDP: OCC_EXIT; TCP: the connection's end)
                    awaitLog(serverLog, proto.equals("udp") ? "remote-exit" : "Connection reset", 15);
                    assertTrue(!transport.isOpen() || transport.closeFuture().await(5, TimeUnit.SECONDS));
                } finally {
                    tun.close().sync();
                }
            } finally {
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
            }
        }
    }

    private static String network(OpenVpnPushReply r) {
        int a = 0;
        for (byte x : r.address().getAddress()) {
            a = (a << 8) | (x & 0xff);
        }
        int mask = r.prefixLength() == 0 ? 0 : -1 << (32 - r.prefixLength());
        int n = a & mask;
        return (n >>> 24) + "." + ((n >>> 16) & 0xff) + "." + ((n >>> 8) & 0xff) + "." + (n & 0xff);
    }

    private static <T> T call(NetNamespace ns, java.util.concurrent.Callable<T> c) {
        try {
            return ns.call(c);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void awaitLog(Path log, String text, long seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!(Files.exists(log) && Files.readString(log).contains(text))) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for '" + text + "' in " + log + ":\n"
                        + (Files.exists(log) ? Files.readString(log) : ""));
            }
            Thread.sleep(50); // polling a condition with a deadline, not synchronising on time
        }
    }

    /** {@code mib} MiB of seeded random bytes into {@code f}; returns their SHA-256. */
    static String payload(Path f, int mib) throws Exception {
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
        return HexFormat.of().formatHex(md.digest());
    }
}

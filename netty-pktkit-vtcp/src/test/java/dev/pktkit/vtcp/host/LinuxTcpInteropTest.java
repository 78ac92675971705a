package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linux's TCP against the virtual host's through a TUN into a namespace: curl fetches from a Netty HTTP server on
 * the virtual host; the virtual host's Bootstrap moves 64 MiB each way with socat, SHA-256 checked; ss shows the
 * options negotiated. IPv4 and IPv6, on epoll and io_uring.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class LinuxTcpInteropTest {
    static final long BULK = Long.getLong("vtcp.bulk", 64L << 20);

    static List<String> loops() {
        return LinuxPeer.loops();
    }

    static Channel httpServer(LinuxPeer p, byte[] body) throws InterruptedException {
        return new ServerBootstrap().group(p.group).channelFactory(p.host.serverSocketChannels())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new HttpTlsOverVirtualNetTest.HttpServerHandler(body));
                    }
                }).bind(80).sync().channel();
    }

    static String sha256(byte[] b) throws Exception {
        return Transfers.hex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static String sha256(Path f) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
        }
        return Transfers.hex(d.digest());
    }

    @ParameterizedTest
    @MethodSource("loops")
    void curlFetchesFromNettyOnTheVirtualHost(String kind) throws Exception {
        Tools.assumeCommand("curl", "curl");
        try (LinuxPeer p = new LinuxPeer(kind, VirtualHost.builder(), null, 1500)) {
            p.ns.exec("sysctl", "-q", "-w", "net.ipv4.tcp_ecn=1").check();
            byte[] body = HttpTlsOverVirtualNetTest.body(3_000_000);
            Channel server = httpServer(p, body);
            for (String url : new String[] {"http://" + LinuxPeer.HOST_V4 + "/", "http://[" + LinuxPeer.HOST_V6 + "]/"}) {
                TestNamespace.Result r = p.ns.exec("sh", "-c",
                        "curl -sS --http1.1 --max-time 60 " + url + " | sha256sum");
                assertEquals(0, r.exit(), r.output());
                assertTrue(r.output().startsWith(sha256(body)), url + ": " + r.output());
            }
            server.close().sync();
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void bulkBothWaysWithSocatAndNegotiatedOptions(String kind) throws Exception {
        Tools.assumeCommand("socat", "socat");
        Tools.assumeCommand("ss", "iproute2");
        Path dir = Files.createTempDirectory("vtcph-bulk");
        try (LinuxPeer p = new LinuxPeer(kind, VirtualHost.builder(), null, 1500)) {
            Path src = dir.resolve("down.bin");
            p.ns.exec("sh", "-c", "head -c " + BULK + " /dev/urandom > " + src).check();
            String srcSha = sha256(src);
            for (boolean v6 : new boolean[] {false, true}) {
                String nsAddr = v6 ? "[" + LinuxPeer.NS_V6 + "]" : LinuxPeer.NS_V4;
                String listen = v6 ? "TCP6-LISTEN" : "TCP4-LISTEN";
                Path up = dir.resolve("up" + v6 + ".bin");
                // upload: socat writes what it receives to a file and exits at EOF
                Process upSocat = p.ns.start(dir.resolve("up" + v6 + ".log"), "socat", "-u",
                        listen + ":5001,reuseaddr,bind=" + nsAddr, "CREATE:" + up);
                // download: socat sends the file and closes
                Process downSocat = p.ns.start(dir.resolve("down" + v6 + ".log"), "socat", "-u", "OPEN:" + src,
                        listen + ":5002,reuseaddr,bind=" + nsAddr);
                LinuxUdpInteropTest.awaitListening(p.ns, 5001);
                LinuxUdpInteropTest.awaitListening(p.ns, 5002);
                String target = v6 ? LinuxPeer.NS_V6 : LinuxPeer.NS_V4;

                Transfers.Sender sender = new Transfers.Sender(BULK, v6 ? 6 : 4, false);
                Channel upCh = new Bootstrap().group(p.group).channelFactory(p.host.socketChannels())
                        .handler(sender).connect(new InetSocketAddress(target, 5001)).sync().channel();
                Transfers.Receiver receiver = new Transfers.Receiver();
                Channel downCh = new Bootstrap().group(p.group).channelFactory(p.host.socketChannels())
                        .handler(receiver).connect(new InetSocketAddress(target, 5002)).sync().channel();
                // while both run, Linux shows what it negotiated with us; our side's view of the same handshake
                TestNamespace.Result ss = p.ns.exec("ss", "-tin", "state", "established");
                var upStats = ((VirtualSocketChannel) upCh).connectionStats().get(10, TimeUnit.SECONDS);
                var downStats = ((VirtualSocketChannel) downCh).connectionStats().get(10, TimeUnit.SECONDS);
                String upSha;
                String downSha;
                try {
                    upSha = sender.done.get(90, TimeUnit.SECONDS);
                    downSha = receiver.done.get(90, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new AssertionError("stalled: sent " + sender.sent + " received " + receiver.received
                            + " up writable " + upCh.isWritable() + " " + p.host.counters() + "\n"
                            + ((VirtualSocketChannel) upCh).writeState() + "\n"
                            + ((VirtualSocketChannel) upCh).connectionStats().get(5, TimeUnit.SECONDS) + "\n"
                            + ((VirtualSocketChannel) downCh).connectionStats().get(5, TimeUnit.SECONDS) + "\n"
                            + "engine drops " + engineDrops(p) + "\n"
                            + p.ns.exec("ss", "-tin").output() + "\n" + p.tun, e);
                }
                assertEquals(srcSha + ":" + BULK, downSha, "download");
                assertTrue(upSocat.waitFor(60, TimeUnit.SECONDS), "socat saw the upload's FIN");
                assertEquals(upSha, sha256(up), "upload");
                assertTrue(downSocat.waitFor(30, TimeUnit.SECONDS));
                String s = ss.output();
                // This kernel (6.18) with Debian 12's ss prints no "ts"/"sack"/"ecn" flags even for Linux-to-Linux
                // connections, so those are checked on the SYN-ACK Linux sent us (the engine enables an option
                // only when the peer's SYN-ACK carried it) and the window scale on both sides.
                assertTrue(s.contains("wscale:"), s);
                for (var st : new dev.pktkit.vtcp.engine.TcpConnectionStats[] {upStats, downStats}) {
                    assertTrue(st.timestamps() && st.sack() && st.ecn() && st.sendWindowScale() > 0, st.toString());
                }
                upCh.closeFuture().sync();
                downCh.close().sync();
                Files.deleteIfExists(up);
            }
        } finally {
            deleteDir(dir);
        }
    }
    /**
     * The engine's segmentation offload ({@code TcpEngineConfig.largeSegmentBytes}) towards Linux: large segments
     * leave as {@code OffloadPacket}s, cut by the kernel (TUN with virtio-net headers, {@code LARGE}) or by the
     * TUN channel in software (no virtio-net headers, {@code NONE}); Linux's TCP must accept every piece (partial
     * checksums completed correctly, sequence numbers, flags) for the SHA-256 to match. IPv4 and IPv6.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = dev.pktkit.tuntap.OffloadMode.class, names = {"NONE", "LARGE"})
    void uploadWithSegmentationOffload(dev.pktkit.tuntap.OffloadMode offload) throws Exception {
        upload(offload, false, VirtualHost.builder()
                .tcp(new dev.pktkit.vtcp.engine.TcpEngineConfig().largeSegmentBytes(64_000)));
    }

    /**
     * The default config on a TUN whose codec marks the channel ({@code VirtioNetCodec.forwarding()}): the host
     * turns segmentation offload on by itself, so the upload leaves as large segments; and the codec's inbound
     * {@code OffloadPacket}s (Linux's large segments) are taken: a 16 MiB download, SHA-256 checked.
     */
    @Test
    void automaticOffloadWithAMarkingCodec() throws Exception {
        upload(dev.pktkit.tuntap.OffloadMode.LARGE, true, VirtualHost.builder());
    }

    private void upload(dev.pktkit.tuntap.OffloadMode offload, boolean forwardingCodec, VirtualHost.Builder hb)
            throws Exception {
        Tools.assumeCommand("socat", "socat");
        org.junit.jupiter.api.Assumptions.assumeTrue(io.netty.channel.epoll.Epoll.isAvailable(), "epoll");
        Path dir = Files.createTempDirectory("vtcph-tso");
        long size = 16L << 20;
        try (LinuxPeer p = new LinuxPeer(dev.pktkit.testkit.TestLoops.EPOLL, hb, null, 1500, offload,
                forwardingCodec)) {
            if (forwardingCodec) {
                Path src = dir.resolve("down.bin");
                byte[] block = new byte[1 << 20];
                new java.util.Random(21).nextBytes(block);
                try (var out = Files.newOutputStream(src)) {
                    for (int i = 0; i < 16; i++) {
                        out.write(block);
                    }
                }
                Process downSocat = p.ns.start(dir.resolve("down.log"), "socat", "-u", "OPEN:" + src,
                        "TCP4-LISTEN:5004,reuseaddr,bind=" + LinuxPeer.NS_V4);
                LinuxUdpInteropTest.awaitListening(p.ns, 5004);
                Transfers.Receiver receiver = new Transfers.Receiver();
                new Bootstrap().group(p.group).channelFactory(p.host.socketChannels()).handler(receiver)
                        .connect(new InetSocketAddress(LinuxPeer.NS_V4, 5004)).sync();
                assertEquals(sha256(src) + ":" + size, receiver.done.get(90, TimeUnit.SECONDS), "download");
                assertTrue(downSocat.waitFor(30, TimeUnit.SECONDS));
                Files.deleteIfExists(src);
            }
            for (boolean v6 : new boolean[] {false, true}) {
                String nsAddr = v6 ? "[" + LinuxPeer.NS_V6 + "]" : LinuxPeer.NS_V4;
                Path up = dir.resolve("up" + v6 + ".bin");
                Process upSocat = p.ns.start(dir.resolve("up" + v6 + ".log"), "socat", "-u",
                        (v6 ? "TCP6-LISTEN" : "TCP4-LISTEN") + ":5003,reuseaddr,bind=" + nsAddr, "CREATE:" + up);
                LinuxUdpInteropTest.awaitListening(p.ns, 5003);
                long sentBefore = p.host.counters().transmitted();
                Transfers.Sender sender = new Transfers.Sender(size, v6 ? 16 : 14, false);
                Channel ch = new Bootstrap().group(p.group).channelFactory(p.host.socketChannels())
                        .option(io.netty.channel.ChannelOption.SO_SNDBUF, 1 << 20)
                        .handler(sender).connect(new InetSocketAddress(v6 ? LinuxPeer.NS_V6 : LinuxPeer.NS_V4, 5003))
                        .sync().channel();
                String sha = sender.done.get(90, TimeUnit.SECONDS);
                assertTrue(upSocat.waitFor(60, TimeUnit.SECONDS), "socat saw the upload's FIN");
                assertEquals(sha, sha256(up), "upload " + (v6 ? "v6" : "v4"));
                ch.closeFuture().sync();
                // far fewer packets than 1448-byte segments left the host: the large segments were used
                long packets = p.host.counters().transmitted() - sentBefore;
                assertTrue(packets < size / 1448 / 2, packets + " packets for " + size / 1448 + " segments");
                Files.deleteIfExists(up);
            }
        } finally {
            deleteDir(dir);
        }
    }

    /** The engine's per-reason drop counters, read on its loop (for a stalled transfer's message). */
    static String engineDrops(LinuxPeer p) throws Exception {
        TcpLayer layer = p.host.tcpLayer();
        return layer.loop.submit(() -> java.util.Arrays.toString(layer.engine.dropCounts())).get(5, TimeUnit.SECONDS);
    }

    static void deleteDir(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}

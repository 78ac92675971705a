package dev.pktkit.afxdp;

import dev.pktkit.switching.L2Hub;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.testkit.netns.NetnsExtension;
import dev.pktkit.tuntap.TapChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proof of the transport against Linux: kernel TCP in namespace A ↔ veth ↔ {@link XdpChannel} →
 * {@link L2Hub} → {@link TapChannel} ↔ kernel TCP in namespace B. A file goes each way with socat and is
 * checked with SHA-256 (so the XDP receive path and its transmit path each carry a bulk transfer, and each
 * carries the other's ACKs), A pings B, and each kernel has resolved the other with ARP across the hub. On epoll
 * and io_uring, with the redirect program in native and in generic mode.
 *
 * <p>The veth end in A sends with checksum offload off ({@code ethtool -K va tx off}): a veth leaves TCP
 * checksums to the receiver, and AF_XDP hands frames over byte for byte, so the TAP side would see them
 * incomplete. Single-queue veths, so every frame meets the socket on queue 0.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class XdpTapInteropTest {
    static final int BYTES = 8 << 20;

    @RegisterExtension
    final NetnsExtension netns = new NetnsExtension();
    @TempDir
    Path dir;

    private MultiThreadIoEventLoopGroup group;
    private L2Hub hub;

    @BeforeEach
    void setUp() {
        Netns.assumeTunUsable();
        Tools.assumeCommand("socat", "socat");
        Tools.assumeCommand("ping", "iputils-ping");
        Tools.assumeCommand("ethtool", "ethtool");
    }

    @AfterEach
    void tearDown() {
        if (hub != null) {
            hub.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        if (group != null) {
            group.shutdownGracefully(0, 10, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** A single-queue veth: {@code name} in {@code a}, {@code peer} in {@code b}, up, sender offloads off. */
    static void singleQueueVeth(Netns a, String name, Netns b, String peer) throws Exception {
        a.exec("ip", "link", "add", name, "numtxqueues", "1", "numrxqueues", "1", "type", "veth", "peer", "name",
                peer, "numtxqueues", "1", "numrxqueues", "1", "netns", b.name()).check();
        a.exec("ethtool", "-K", name, "tx", "off", "tso", "off", "gso", "off").check();
        a.exec("ip", "link", "set", name, "up").check();
        b.exec("ip", "link", "set", peer, "up").check();
    }

    @ParameterizedTest
    @MethodSource("dev.pktkit.afxdp.XdpFixture#loopsAndModes")
    void kernelTcpThroughXdpHubAndTap(String loop, XdpMode mode) throws Exception {
        Netns a = netns.create();
        Netns b = netns.create();
        singleQueueVeth(a, "va", b, "vx");
        a.exec("ip", "addr", "add", "10.92.0.1/24", "dev", "va").check();
        group = TestLoops.group(loop, 2);
        hub = L2Hub.builder().name("xdp-lan").build();

        XdpChannel xdp = XdpChannel.open(XdpSocketConfig.builder("vx").namespace(XdpFixture.handle(b))
                .ringSize(512).attach(mode).build());
        xdp.pipeline().addLast(new ChannelInboundHandlerAdapter());
        group.register(xdp).sync();
        hub.add(xdp);
        TapChannel tap = (TapChannel) new Bootstrap().group(group)
                .channelFactory(() -> new TapChannel(XdpFixture.handle(b)))
                .handler(new ChannelInboundHandlerAdapter())
                .bind(TunTapAddress.of("pktap0")).sync().channel();
        hub.add(tap);
        tap.link().addAddress("10.92.0.2/24").up();

        CommandResult ping = a.exec(Duration.ofSeconds(30), "ping", "-c", "3", "-i", "0.2", "-w", "20",
                "10.92.0.2");
        assertEquals(0, ping.exit(), ping.output());

        // A → B: XDP receive carries the data, XDP transmit the ACKs
        transfer(b, a, "10.92.0.2", 5001);
        // B → A: XDP transmit carries the data
        transfer(a, b, "10.92.0.1", 5002);

        long tapMac = tap.link().info().macAddress();
        CommandResult neighA = a.exec("ip", "neigh", "show", "10.92.0.2");
        assertTrue(neighA.output().contains(mac(tapMac)), "A resolved B's TAP with ARP across the hub: "
                + neighA.output());
        CommandResult neighB = b.exec("ip", "neigh", "show", "10.92.0.1");
        assertTrue(neighB.output().contains("lladdr"), "B resolved A with ARP: " + neighB.output());

        long in = xdp.counters().get(XdpCounter.FRAMES_IN);
        long out = xdp.counters().get(XdpCounter.FRAMES_OUT);
        assertTrue(in > BYTES / 1514 && out > BYTES / 1514, "frames in " + in + ", out " + out);
        assertEquals(0, xdp.counters().get(XdpCounter.DROPPED_BAD_DESCRIPTOR));
        CommandResult link = b.exec("ip", "-d", "link", "show", "vx");
        assertTrue(link.output().contains(mode == XdpMode.NATIVE ? "xdp " : "xdpgeneric"), link.output());
        xdp.close().sync();
        tap.close().sync();
    }

    private void transfer(Netns server, Netns client, String serverIp, int port) throws Exception {
        byte[] data = new byte[BYTES];
        new Random(port).nextBytes(data);
        Path in = dir.resolve("in-" + port);
        Path out = dir.resolve("out-" + port);
        Files.write(in, data);
        Process listener = server.start(dir.resolve("server-" + port + ".log"), "socat", "-u",
                "TCP-LISTEN:" + port + ",reuseaddr", "CREATE:" + out);
        try {
            CommandResult send = null;
            for (int i = 0; i < 50; i++) { // until the listener is up (connection refused before)
                send = client.exec(Duration.ofSeconds(60), "socat", "-u", "OPEN:" + in,
                        "TCP:" + serverIp + ":" + port + ",connect-timeout=5");
                if (send.ok() || !send.output().contains("Connection refused")) {
                    break;
                }
                Thread.sleep(100); // the listener starts in another process; retry the connect
            }
            assertTrue(send.ok(), send.output());
            assertTrue(listener.waitFor(30, TimeUnit.SECONDS), "the receiving socat did not finish");
        } finally {
            listener.destroyForcibly();
        }
        assertEquals(sha256(data), sha256(Files.readAllBytes(out)), "SHA-256 of the " + BYTES + " bytes");
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static String mac(long m) {
        StringBuilder s = new StringBuilder();
        for (int i = 5; i >= 0; i--) {
            s.append(String.format("%02x", (m >>> (8 * i)) & 0xff));
            if (i > 0) {
                s.append(':');
            }
        }
        return s.toString();
    }
}

package dev.pktkit.switching.vxlan;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioDatagramChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Linux kernel's {@code vxlan} device on both sides of our tunnel. Namespace {@code u} holds our VTEP's UDP
 * socket and two veths; namespace {@code a} a kernel VTEP for VNI 42, {@code b} one for VNI 43, each with a
 * static all-zeros {@code bridge fdb} entry pointing at us (head-end replication, as {@code bridge fdb append}
 * sets it up). Our VTEP bridges both VNIs through one {@link L2Hub}, on which a host of ours (ARP, ping) sits.
 * Proven over an IPv4 and an IPv6 underlay: pings a→b, b→a, a/b→ours, a 4 MiB TCP transfer each way
 * (SHA-256 compared), learning in both tables ({@code bridge fdb show} in a and b, {@link VxlanTunnel#fdb()}).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VxlanKernelInteropTest {
    private MultiThreadIoEventLoopGroup group;
    private Netns u;
    private Netns a;
    private Netns b;
    private Path dir;

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeUsable();
        Tools.assumeCommand("socat", "socat");
        Tools.assumeCommand("ping", "iputils-ping");
        Tools.assumeCommand("bridge", "iproute2");
        Tools.assumeCommand("ethtool", "ethtool");
        Tools.assumeCommand("tshark", "tshark");
        group = TestLoops.group(TestLoops.NIO, 1);
        u = Netns.create();
        a = Netns.create();
        b = Netns.create();
        dir = Files.createTempDirectory("pktkit-vxlan");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Netns ns : new Netns[] {a, b, u}) {
            if (ns != null) {
                ns.close();
            }
        }
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (dir != null) {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    @ParameterizedTest(name = "{0} underlay")
    @ValueSource(strings = {"ipv4", "ipv6"})
    void kernelVxlanToKernelVxlanThroughOurVtep(String family) throws Exception {
        boolean v6 = family.equals("ipv6");
        String us1 = v6 ? "fd00:99:1::1" : "10.99.1.1";
        String peerA = v6 ? "fd00:99:1::2" : "10.99.1.2";
        String us2 = v6 ? "fd00:99:2::1" : "10.99.2.1";
        String peerB = v6 ? "fd00:99:2::2" : "10.99.2.2";
        String len = v6 ? "/64" : "/24";
        u.veth("ua", a, "eth0");
        u.veth("ub", b, "eth0");
        address(u, "ua", us1 + len);
        address(a, "eth0", peerA + len);
        address(u, "ub", us2 + len);
        address(b, "eth0", peerB + len);
        for (Netns ns : new Netns[] {a, b}) {
            ns.exec("ip", "link", "set", "eth0", "up").check();
            // A veth hands a CHECKSUM_PARTIAL packet on as it is: without this, the inner TCP checksum of the
            // kernel's VXLAN datagrams would reach our socket unfilled (a real NIC would fill it).
            ns.exec("ethtool", "-K", "eth0", "tx", "off").check();
        }
        u.exec("ip", "link", "set", "ua", "up").check();
        u.exec("ip", "link", "set", "ub", "up").check();
        kernelVtep(a, 42, peerA, us1, "192.168.42.2/24");
        kernelVtep(b, 43, peerB, us2, "192.168.42.3/24");

        // our VTEP in u: VNIs 42 and 43 into one hub, plus a host at 192.168.42.1
        L2Hub hub = L2Hub.builder().name("vxlan-interop").build();
        VxlanTunnel tunnel = VxlanTunnel.builder().vni(42, hub).vni(43, hub).peer(42, peerA).peer(43, peerB)
                .mtu(v6 ? 1430 : 1450).build();
        NetNamespace uNs = u.closeWith(NetNamespace.named(u.name()));
        EventLoop loop = group.next();
        Channel udp = new Bootstrap().group(loop).channelFactory(() -> {
            try {
                return uNs.call(() -> new NioDatagramChannel(v6 ? SocketProtocolFamily.INET6
                        : SocketProtocolFamily.INET));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).handler(tunnel).bind(v6 ? "::" : "0.0.0.0", Vxlan.DEFAULT_PORT).sync().channel();
        u.closeWith(() -> {
            udp.close().syncUninterruptibly();
            hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        });
        tunnel.ready().get(5, TimeUnit.SECONDS);
        L2Adapter host = L2Adapter.builder().ipv4("192.168.42.1/24").build();
        hub.attach(loop, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(host, new EchoResponder(host));
            }
        });

        // capture a's underlay link while the pings run: every datagram must decode as VXLAN in Wireshark
        Path pcap = dir.resolve("ua.pcapng");
        Path captureLog = dir.resolve("tshark.log");
        Process capture = u.start(captureLog, "tshark", "-n", "-i", "ua", "-w", pcap.toString());
        awaitLine(captureLog, "Capturing on", capture);

        // ping across our VTEP both ways, and our host from both sides
        a.exec(Duration.ofSeconds(30), "ping", "-c", "3", "-i", "0.2", "-W", "5", "192.168.42.3").check();
        b.exec(Duration.ofSeconds(30), "ping", "-c", "3", "-i", "0.2", "-W", "5", "192.168.42.2").check();
        a.exec(Duration.ofSeconds(30), "ping", "-c", "2", "-i", "0.2", "-W", "5", "192.168.42.1").check();
        b.exec(Duration.ofSeconds(30), "ping", "-c", "2", "-i", "0.2", "-W", "5", "192.168.42.1").check();

        capture.destroy(); // SIGTERM: tshark closes the file
        assertTrue(capture.waitFor(20, TimeUnit.SECONDS), "tshark stopped");
        String vnis = u.exec("tshark", "-n", "-r", pcap.toString(), "-Y", "vxlan", "-T", "fields", "-e", "vxlan.vni")
                .check().output();
        long datagrams = vnis.lines().filter(l -> l.strip().equals("42")).count();
        assertTrue(datagrams >= 10, "VXLAN datagrams of VNI 42 in the capture:\n" + vnis);
        assertTrue(vnis.lines().allMatch(l -> l.strip().equals("42") || l.startsWith("Running as")),
                "only VNI 42 on a's link:\n" + vnis);
        String malformed = u.exec("tshark", "-n", "-r", pcap.toString(), "-Y", "_ws.malformed || _ws.expert.severity >= error")
                .check().output();
        assertTrue(malformed.lines().noneMatch(l -> !l.startsWith("Running as") && !l.isBlank()),
                "the capture decodes cleanly:\n" + malformed);

        // TCP, 4 MiB each way, full-size segments (the inner MTU is the kernel device's)
        transfer(a, b, "192.168.42.3", 5001);
        transfer(b, a, "192.168.42.2", 5002);

        // learning, seen on both sides
        long macA = MacAddress.parse(a.exec("cat", "/sys/class/net/vx0/address").check().output().trim());
        long macB = MacAddress.parse(b.exec("cat", "/sys/class/net/vx0/address").check().output().trim());
        List<String> ours = tunnel.fdb();
        assertTrue(ours.contains("42 " + MacAddress.format(macA) + " " + peerA), ours.toString());
        assertTrue(ours.contains("43 " + MacAddress.format(macB) + " " + peerB), ours.toString());
        String fdbA = a.exec("bridge", "fdb", "show", "dev", "vx0").check().output();
        assertTrue(fdbA.contains(MacAddress.format(macB) + " dst " + us1), "kernel a learned b's MAC at us:\n" + fdbA);
        String fdbB = b.exec("bridge", "fdb", "show", "dev", "vx0").check().output();
        assertTrue(fdbB.contains(MacAddress.format(macA) + " dst " + us2), "kernel b learned a's MAC at us:\n" + fdbB);
        assertEquals(0, tunnel.drops().sum(), "no drops: " + tunnel.drops());
        assertTrue(tunnel.traffic().get(VxlanTraffic.DECAPSULATED) > 2000, tunnel.traffic().toString());
    }

    private static void address(Netns ns, String dev, String cidr) throws Exception {
        if (cidr.contains(":")) {
            ns.exec("ip", "addr", "add", cidr, "dev", dev, "nodad").check();
        } else {
            ns.exec("ip", "addr", "add", cidr, "dev", dev).check();
        }
    }

    /** A kernel VTEP {@code vx0} for {@code vni} on {@code local}, flooding to {@code remote} (us). */
    private static void kernelVtep(Netns ns, int vni, String local, String remote, String inner) throws Exception {
        CommandResult add = ns.exec("ip", "link", "add", "vx0", "type", "vxlan", "id", Integer.toString(vni),
                "local", local, "dstport", Integer.toString(Vxlan.DEFAULT_PORT), "dev", "eth0", "learning");
        Assumptions.assumeFalse(add.output().contains("Unknown device type")
                || add.output().contains("not supported"), "this kernel has no vxlan device: " + add.output());
        add.check();
        ns.exec("bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst", remote).check();
        ns.exec("ip", "addr", "add", inner, "dev", "vx0").check();
        ns.exec("ip", "link", "set", "vx0", "up").check();
    }

    /** Waits (bounded) until {@code log} holds a line containing {@code text}, written by {@code process}. */
    private static void awaitLine(Path log, String text, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            if (!process.isAlive()) {
                break;
            }
            Thread.sleep(50); // polling a tool's log for its readiness line, with a deadline
        }
        throw new AssertionError("no '" + text + "' from the tool: " + (Files.exists(log) ? Files.readString(log) : ""));
    }

    /** Sends 4 MiB from {@code from} to a socat listener in {@code to}; compares SHA-256. */
    private void transfer(Netns from, Netns to, String toAddress, int port) throws Exception {
        byte[] data = new byte[4 << 20];
        new Random(port).nextBytes(data);
        Path src = dir.resolve("src-" + port);
        Path dst = dir.resolve("dst-" + port);
        Files.write(src, data);
        Process server = to.start(dir.resolve("server-" + port + ".log"), "socat", "-u",
                "TCP-LISTEN:" + port + ",reuseaddr", "CREATE:" + dst);
        // the listener may take a moment to open: socat's own connect retry covers it
        from.exec(Duration.ofSeconds(60), "socat", "-u", "FILE:" + src,
                "TCP:" + toAddress + ":" + port + ",retry=100,interval=0.1").check();
        assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the receiver finished");
        assertEquals(0, server.exitValue(), Files.readString(dir.resolve("server-" + port + ".log")));
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] want = sha.digest(data);
        byte[] got = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(dst));
        assertArrayEquals(want, got, "SHA-256 " + HexFormat.of().formatHex(got));
    }
}

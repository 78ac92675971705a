package dev.pktkit.nat;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The NAT between two kernels: namespace "inside" (10.70.0.2/24 on TUN nin0, default route onto it, the NAT's
 * inside address 10.70.0.1) and namespace "outside" (198.51.100.10/24 on TUN nout0; the NAT's outside address
 * 198.51.100.1). Both TUN channels and the NAT share one epoll loop. Real peers: curl, python3 servers and
 * clients, socat, ping.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NatInteropTest {
    static final String SERVER = "198.51.100.10";
    static final String NAT_OUT = "198.51.100.1";
    static final String HOST = "10.70.0.2";

    private Netns in;
    private Netns in6;
    private Netns out;
    private TunChannel tunIn6;
    private final String v6Namespace = "v6-only";
    private byte[] big;
    private MultiThreadIoEventLoopGroup group;
    private Nat nat;
    private TunChannel tunIn;
    private TunChannel tunOut;
    private Path dir;
    private final SizeRecorder toInside = new SizeRecorder();
    private final SizeRecorder toOutside = new SizeRecorder();

    /** Records the largest packet written to a TUN channel. */
    @ChannelHandler.Sharable
    static final class SizeRecorder extends ChannelOutboundHandlerAdapter {
        final AtomicInteger max = new AtomicInteger();
        final AtomicInteger packets = new AtomicInteger();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf b) {
                max.accumulateAndGet(b.readableBytes(), Math::max);
                packets.incrementAndGet();
            }
            ctx.write(msg, promise);
        }
    }

    @BeforeAll
    void setUp() throws Exception {
        Netns.assumeUsable();
        Tools.assumeCommand("python3", "python3");
        Tools.assumeCommand("curl", "curl");
        Tools.assumeCommand("socat", "socat");
        Tools.assumeCommand("ping", "iputils-ping");
        org.junit.jupiter.api.Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL),
                "epoll natives not available");
        dir = Files.createTempDirectory("nat-interop");
        in = Netns.create();
        out = Netns.create();
        group = TestLoops.group(TestLoops.EPOLL, 1);
        nat = Nat.create(group.next(), NatConfig.builder().outsideAddresses(NAT_OUT).insideAddress("10.70.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).outsideMtu(1500).insideMtu(1500).nat64().build());
        tunIn = bind(in, "nin0", toInside);
        tunOut = bind(out, "nout0", toOutside);
        tunIn.link().mtu(1500).addAddress(HOST + "/24").up();
        in.exec("ip", "route", "add", "default", "dev", "nin0").check();
        tunOut.link().mtu(1500).addAddress(SERVER + "/24").up();
        nat.attach(tunIn, "inside");
        nat.attachOutside(tunOut);
        in6 = Netns.create();
        tunIn6 = bind(in6, "nin6", new ChannelOutboundHandlerAdapter());
        tunIn6.link().mtu(1500).addAddress("fd70::2/64").up().addRoute("64:ff9b::/96");
        nat.attach(tunIn6, v6Namespace);
        Path www = Files.createDirectories(dir.resolve("www"));
        big = new byte[64 << 20];
        new Random(12).nextBytes(big);
        Files.write(www.resolve("big.bin"), big);
        Files.write(www.resolve("small.bin"), java.util.Arrays.copyOf(big, 1 << 20));
        out.start(dir.resolve("http.log"), "python3", "-m", "http.server", "8080", "--bind", SERVER,
                "--directory", www.toString());
        out.awaitListening(8080, false);
        Files.writeString(dir.resolve("udp_echo.py"), """
                import socket, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                s.bind((sys.argv[1], int(sys.argv[2])))
                while True:
                    d, a = s.recvfrom(65535)
                    s.sendto(d, a)
                """);
        Files.writeString(dir.resolve("udp_client.py"), """
                import socket, sys, hashlib, os
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(5)
                s.connect((sys.argv[1], int(sys.argv[2])))
                data = os.urandom(int(sys.argv[3]))
                try:
                    s.send(data)
                    r = s.recv(65535)
                    print("echo-ok" if r == data else "echo-differs %d" % len(r))
                except ConnectionRefusedError:
                    print("refused")
                except socket.timeout:
                    print("timeout")
                """);
    }

    private TunChannel bind(Netns ns, String name, ChannelHandler handler) throws InterruptedException {
        return (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(ns.handle))
                .handler(handler).bind(TunTapAddress.of(name)).sync().channel();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (nat != null) {
            nat.close();
        }
        if (tunIn != null) {
            tunIn.close().sync();
        }
        if (tunIn6 != null) {
            tunIn6.close().sync();
        }
        if (tunOut != null) {
            tunOut.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
        if (in != null) {
            in.close();
        }
        if (out != null) {
            out.close();
        }
        if (in6 != null) {
            in6.close();
        }
    }

    @Test
    void nat64V6OnlyHostReachesV4ServerAndPings() throws Exception {
        Path got = dir.resolve("got64.bin");
        Netns.Result r = in6.exec("curl", "-sS", "-g", "--max-time", "30", "-o", got.toString(),
                "http://[64:ff9b::" + SERVER + "]:8080/small.bin");
        assertEquals(0, r.exit(), r.output());
        assertEquals(sha256(java.util.Arrays.copyOf(big, 1 << 20)), sha256(Files.readAllBytes(got)));
        Netns.Result ping = in6.exec("ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "64:ff9b::" + SERVER);
        assertEquals(0, ping.exit(), ping.output());
        assertTrue(ping.output().contains("3 received"), ping.output());
        Netns.Result refused = in6.exec("python3", "-c", """
                import socket
                s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(5)
                s.connect(("64:ff9b::%s", 9998))
                try:
                    s.send(b"x"); s.recv(100); print("answered")
                except ConnectionRefusedError:
                    print("refused")
                except socket.timeout:
                    print("timeout")
                """.formatted(SERVER));
        assertEquals("refused", refused.output().trim(), "ICMPv4 port unreachable arrived as ICMPv6");
    }

    @Test
    void pingThroughNatAndToItsInsideAddress() throws Exception {
        Netns.Result r = in.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", SERVER);
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("3 received"), r.output());
        Netns.Result local = in.exec("ping", "-c", "1", "-W", "2", "10.70.0.1");
        assertEquals(0, local.exit(), local.output());
    }

    @Test
    void curlDownloads64MiBAndServerSeesOutsideAddress() throws Exception {
        byte[] data = big;
        Path log = dir.resolve("http.log");
        Path got = dir.resolve("got.bin");
        Netns.Result r = in.exec("curl", "-sS", "--max-time", "50", "-o", got.toString(),
                "http://" + SERVER + ":8080/big.bin");
        assertEquals(0, r.exit(), r.output());
        assertEquals(sha256(data), sha256(Files.readAllBytes(got)));
        String served = Files.readString(log);
        assertTrue(served.contains(NAT_OUT + " - - "), "the server saw the NAT's outside address: " + served);
        assertFalse(served.contains(HOST), served);
    }

    @Test
    void udpEchoSmallAnd60KBothWaysWithinMtu() throws Exception {
        out.start(dir.resolve("udp.log"), "python3", dir.resolve("udp_echo.py").toString(), SERVER, "9000");
        out.awaitListening(9000, true);
        Netns.Result r = in.exec("python3", dir.resolve("udp_client.py").toString(), SERVER, "9000", "100");
        assertEquals("echo-ok", r.output().trim());
        int before = nat.defragmenter().counters() == null ? 0 : (int) nat.defragmenter().counters().reassembled();
        Netns.Result big = in.exec("python3", dir.resolve("udp_client.py").toString(), SERVER, "9000", "60000");
        assertEquals("echo-ok", big.output().trim());
        assertTrue(nat.defragmenter().counters().reassembled() >= before + 2, "reassembled both ways");
        assertTrue(toOutside.max.get() <= 1500, "largest packet to the outside " + toOutside.max.get());
        assertTrue(toInside.max.get() <= 1500, "largest packet to the inside " + toInside.max.get());
    }

    @Test
    void closedUdpPortGivesPortUnreachableInside() throws Exception {
        Netns.Result r = in.exec("python3", dir.resolve("udp_client.py").toString(), SERVER, "9999", "10");
        assertEquals("refused", r.output().trim(),
                "the kernel matched the translated ICMP port unreachable to its socket");
    }

    @Test
    void portForwardReachedFromOutside() throws Exception {
        nat.addPortForward("inside", IpProtocol.TCP, 2022, HOST, 8022).sync();
        try {
            in.start(dir.resolve("fwd.log"), "socat", "TCP4-LISTEN:8022,reuseaddr,fork", "SYSTEM:echo forwarded");
            in.awaitListening(8022, false);
            Netns.Result r = out.exec("socat", "-T", "5", "-", "TCP4:" + NAT_OUT + ":2022");
            assertEquals(0, r.exit(), r.output());
            assertEquals("forwarded", r.output().trim());
        } finally {
            nat.removePortForward(IpProtocol.TCP, 2022).sync();
        }
    }

    /**
     * A port forward to the IPv6-only host behind NAT64: TCP from outside reaches its socat on [fd70::2]:8023
     * (IPv4 translated to IPv6, RFC 6146 §3.5), and UDP to a forwarded port where nothing listens there makes
     * its kernel send ICMPv6 port unreachable, which arrives outside as ICMPv4 port unreachable ({@code
     * ECONNREFUSED} at the outside socket: the quoted packet was turned back into the one it sent).
     */
    @Test
    void portForwardToTheIpv6HostAndItsIcmpv6ErrorsTranslated() throws Exception {
        nat.addPortForward(v6Namespace, IpProtocol.TCP, 2023, "fd70::2", 8023).sync();
        nat.addPortForward(v6Namespace, IpProtocol.UDP, 2024, "fd70::2", 8024).sync();
        try {
            in6.start(dir.resolve("fwd6.log"), "socat", "TCP6-LISTEN:8023,reuseaddr,fork", "SYSTEM:echo forwarded6");
            in6.awaitListening(8023, false);
            Netns.Result r = out.exec("socat", "-T", "5", "-", "TCP4:" + NAT_OUT + ":2023");
            assertEquals(0, r.exit(), r.output());
            assertEquals("forwarded6", r.output().trim());
            Netns.Result u = out.exec("python3", dir.resolve("udp_client.py").toString(), NAT_OUT, "2024", "10");
            assertEquals("refused", u.output().trim(), "ICMPv6 port unreachable arrived as ICMPv4");
        } finally {
            nat.removePortForward(IpProtocol.TCP, 2023).sync();
            nat.removePortForward(IpProtocol.UDP, 2024).sync();
        }
    }

    /**
     * A router namespace in the path: "outside" forwards to a server namespace behind a veth (192.0.2.0/24).
     * {@code traceroute -n} from inside shows the router's hop (its time exceeded, translated back by the NAT)
     * and then the server (its port unreachable).
     */
    @Test
    void tracerouteShowsTheRouterHop() throws Exception {
        Tools.assumeCommand("traceroute", "traceroute");
        try (Netns srv = Netns.create()) {
            String veth = "natv" + (ProcessHandle.current().pid() % 100000);
            out.exec("ip", "link", "add", veth, "type", "veth", "peer", "name", "srv0", "netns", srv.name).check();
            out.exec("ip", "addr", "add", "192.0.2.1/24", "dev", veth).check();
            out.exec("ip", "link", "set", veth, "up").check();
            out.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1").check();
            srv.exec("ip", "addr", "add", "192.0.2.2/24", "dev", "srv0").check();
            srv.exec("ip", "link", "set", "srv0", "up").check();
            srv.exec("ip", "route", "add", "default", "via", "192.0.2.1").check();
            Netns.Result r = in.exec("traceroute", "-n", "-q", "1", "-w", "2", "-m", "4", "192.0.2.2");
            assertEquals(0, r.exit(), r.output());
            List<String> hops = r.output().lines().skip(1).map(String::trim).toList();
            assertTrue(hops.size() >= 2, r.output());
            assertTrue(hops.get(0).startsWith("1  " + SERVER), "router hop: " + r.output());
            assertTrue(hops.get(1).startsWith("2  192.0.2.2"), "destination: " + r.output());
        }
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}

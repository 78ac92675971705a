package dev.pktkit.tuntap;

import dev.pktkit.testkit.Cleanup;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.dhcp.DhcpServer;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The kernel's DHCP client ({@code udhcpc}, busybox) on a TAP device in a namespace the test creates.
 *
 * <ul>
 *   <li>{@link #udhcpcDiscoverArrivesOnTheTapChannel}: udhcpc's DISCOVER arrives on the channel as a well-formed
 *       broadcast frame from the TAP's MAC (the raw frame path, runs now).</li>
 *   <li>{@link #udhcpcLeasesFromOurDhcpServerAndPingsTheGateway}: the TAP joins an {@link L2Hub} with our DHCP
 *       server ({@link DhcpServer}) in front of an {@link L2Adapter} gateway; udhcpc gets a lease and pings the
 *       gateway.</li>
 * </ul>
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TapDhcpTest {
    static final long GATEWAY_MAC = 0x02_00_5e_79_00_01L;
    static final String GATEWAY_IP = "10.79.0.1";

    @TempDir
    Path dir;

    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private Netns ns;

    static List<String> loops() {
        return NativeLoops.available();
    }

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeTunUsable();
        Tools.assumeCommand("udhcpc", "udhcpc");
        ns = cleanup.add(Netns.create());
    }

    @ParameterizedTest
    @MethodSource("loops")
    void udhcpcDiscoverArrivesOnTheTapChannel(String loop) throws Exception {
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(loop, 1));
        TapTest.FrameRecorder recorder = new TapTest.FrameRecorder();
        TapChannel tap = (TapChannel) cleanup.add(new Bootstrap().group(group)
                .channelFactory(() -> new TapChannel(Namespaces.handle(ns)))
                .handler(recorder)
                .bind(TunTapAddress.of("pktap2")).sync().channel());
        try {
            tap.link().up();
            long mac = tap.link().info().macAddress();
            ns.start(dir.resolve("udhcpc.log"), "udhcpc", "-f", "-i", "pktap2", "-t", "5", "-T", "1",
                    "-s", script(dir).toString());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                long left = deadline - System.nanoTime();
                ByteBuf f = left > 0 ? recorder.frames.poll(left, TimeUnit.NANOSECONDS) : null;
                if (f == null) {
                    fail("no DHCP DISCOVER from udhcpc arrived on the TAP channel");
                }
                try {
                    if (isDiscover(f, mac)) {
                        break;
                    }
                } finally {
                    f.release();
                }
            }
        } finally {
            tap.close().syncUninterruptibly();
            recorder.releaseAll();
        }
    }

    /** A broadcast IPv4/UDP 68→67 frame from {@code mac} holding a DHCPDISCOVER for {@code mac}. */
    private static boolean isDiscover(ByteBuf f, long mac) {
        int off = f.readerIndex();
        if (Ethernet.etherType(f, off) != Ethernet.IPV4) {
            return false;
        }
        int ip = off + Ethernet.HEADER_LENGTH;
        if (Ipv4.protocol(f, ip) != IpProtocol.UDP) {
            return false;
        }
        int udp = Ipv4.payloadOffset(f, ip);
        if (Udp.srcPort(f, udp) != Dhcp4.CLIENT_PORT || Udp.dstPort(f, udp) != Dhcp4.SERVER_PORT) {
            return false;
        }
        assertEquals(MacAddress.BROADCAST, Ethernet.dst(f, off));
        assertEquals(mac, Ethernet.src(f, off));
        int dhcp = udp + 8;
        int len = f.writerIndex() - dhcp;
        assertEquals(Dhcp4.OP_REQUEST, Dhcp4.op(f, dhcp));
        assertEquals(mac, Dhcp4.chaddr(f, dhcp));
        assertEquals(Dhcp4.DISCOVER, Dhcp4.messageType(f, dhcp, len));
        return true;
    }

    @ParameterizedTest
    @MethodSource("loops")
    void udhcpcLeasesFromOurDhcpServerAndPingsTheGateway(String loop) throws Exception {
        Tools.assumeCommand("ping", "iputils-ping");
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(loop, 2));
        L2Hub hub = cleanup.add(L2Hub.builder().name("dhcp-lan").build());
        L2Adapter adapter = L2Adapter.builder().mac(GATEWAY_MAC).ipv4(GATEWAY_IP + "/24").ipv6(false).build();
        EchoResponder responder = new EchoResponder(adapter);
        ChannelHandler server = dhcpServerHandler();
        PacketPipe gateway = PacketPipe.open(group.next(), new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(server, adapter, responder); // the server reads frames, before the adapter
            }
        }, group.next(), null).sync().getNow();
        cleanup.add(gateway::close);
        hub.add(gateway.b());
        TapChannel tap = (TapChannel) cleanup.add(new Bootstrap().group(group)
                .channelFactory(() -> new TapChannel(Namespaces.handle(ns)))
                .handler(new ChannelInboundHandlerAdapter())
                .bind(TunTapAddress.of("pktap3")).sync().channel());
        hub.add(tap);
        tap.link().up();

        Path lease = dir.resolve("lease.env");
        CommandResult r = ns.exec("udhcpc", "-i", "pktap3", "-n", "-q", "-t", "5", "-T", "1",
                "-s", script(dir).toString());
        assertEquals(0, r.exit(), "udhcpc got no lease: " + r.output());
        Map<String, String> env = readEnv(lease);
        assertEquals(GATEWAY_IP, env.get("router"), env.toString());
        assertTrue(env.getOrDefault("ip", "").startsWith("10.79.0."), env.toString());
        CommandResult ping = ns.exec("ping", "-c", "3", "-i", "0.2", "-w", "20", GATEWAY_IP);
        assertEquals(0, ping.exit(), ping.output());
        assertTrue(responder.replies() >= 3);
    }

    /** The DHCP server for 10.79.0.0/24 with router {@value #GATEWAY_IP}, in front of the gateway's adapter. */
    private static ChannelHandler dhcpServerHandler() {
        return DhcpServer.builder().serverMac(GATEWAY_MAC).serverAddress(GATEWAY_IP, 24)
                .pool("10.79.0.100", "10.79.0.199").router(GATEWAY_IP).dnsServer(GATEWAY_IP).build();
    }

    /**
     * A udhcpc script that records the lease's variables in {@code lease.env} and applies it (address, default
     * route) with {@code ip}, as Debian's default script would.
     */
    private static Path script(Path dir) throws Exception {
        Path s = dir.resolve("udhcpc.sh");
        Path env = dir.resolve("lease.env");
        Files.writeString(s, """
                #!/bin/sh
                case "$1" in
                  bound|renew)
                    { echo "ip=$ip"; echo "mask=$mask"; echo "router=$router"; echo "serverid=$serverid"; \
                      echo "lease=$lease"; } > %s
                    ip addr flush dev "$interface"
                    ip addr add "$ip/${mask:-24}" dev "$interface"
                    for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
                    ;;
                  deconfig)
                    ip addr flush dev "$interface"
                    ;;
                esac
                exit 0
                """.formatted(env), StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(s, PosixFilePermissions.fromString("rwx------"));
        return s;
    }

    private static Map<String, String> readEnv(Path file) throws Exception {
        Map<String, String> m = new HashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return m;
    }
}

package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.linux.KernelTap;
import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Dhcp4Option;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DhcpServer} behind ISC {@code dhcrelay} (Debian's {@code isc-dhcp-relay}): a busybox {@code udhcpc} in
 * one namespace, on a veth link to a second namespace where {@code dhcrelay} relays between that link
 * (10.80.0.1/24, the giaddr) and a TAP (10.79.0.2/24) whose frames reach the server (10.79.0.1). The client gets a
 * lease from the relayed subnet's pool through the relay, with option 82 added by the relay and echoed unchanged
 * by the server; it then renews and releases by unicast through the relay's namespace acting as its router (giaddr
 * 0, the subnet found by ciaddr). dhcrelay also relays a copy of those unicasts (it captures every port-67
 * datagram on its client link), which the server answers or ignores as the duplicates they are.
 */
class DhcpRelayInteropTest {
    static final String VETH_RELAY = "vr";
    static final String VETH_CLIENT = "vc";
    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void loops() {
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll not available");
        group = TestLoops.group(TestLoops.EPOLL, 1);
    }

    @AfterEach
    void shutdown() {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * Option 82 of the relayed requests the server read and of the replies it wrote, and the RELEASEs it read by
     * path: routed by the relay's namespace (giaddr 0) or relayed by dhcrelay (giaddr set).
     */
    static final class AgentOptions extends ChannelDuplexHandler {
        final List<byte[]> in = new CopyOnWriteArrayList<>();
        final List<byte[]> out = new CopyOnWriteArrayList<>();
        final AtomicInteger routedReleases = new AtomicInteger();
        final AtomicInteger relayedReleases = new AtomicInteger();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf f) {
                record(f, in);
                countRelease(f);
            }
            ctx.fireChannelRead(msg);
        }

        private void countRelease(ByteBuf f) {
            int off = f.readerIndex();
            if (f.readableBytes() < 42 + Dhcp4.OPTIONS_OFFSET || Ethernet.etherType(f, off) != Ethernet.IPV4
                    || Ipv4.protocol(f, off + 14) != 17) {
                return;
            }
            int udp = Ipv4.payloadOffset(f, off + 14);
            if (Udp.dstPort(f, udp) != Dhcp4.SERVER_PORT) {
                return;
            }
            int d = udp + Udp.HEADER_LENGTH;
            if (Dhcp4.messageType(f, d, Udp.length(f, udp) - Udp.HEADER_LENGTH) == Dhcp4.RELEASE) {
                (Dhcp4.giaddr(f, d) == 0 ? routedReleases : relayedReleases).incrementAndGet();
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof ByteBuf f) {
                record(f, out);
            }
            ctx.write(msg, promise);
        }

        private static void record(ByteBuf f, List<byte[]> to) {
            int off = f.readerIndex();
            if (f.readableBytes() < 42 || Ethernet.etherType(f, off) != Ethernet.IPV4
                    || Ipv4.protocol(f, off + 14) != 17) {
                return;
            }
            int udp = Ipv4.payloadOffset(f, off + 14);
            if (Udp.srcPort(f, udp) != Dhcp4.SERVER_PORT || Udp.dstPort(f, udp) != Dhcp4.SERVER_PORT) {
                return; // relay traffic is server port to server port both ways
            }
            int d = udp + Udp.HEADER_LENGTH;
            byte[] agent = Dhcp4.optionBytes(f, d, Udp.length(f, udp) - Udp.HEADER_LENGTH,
                    Dhcp4Option.RELAY_AGENT_INFORMATION);
            if (agent != null) {
                to.add(agent);
            }
        }
    }

    @Test
    void busyboxBehindDhcrelayLeasesFromTheRelayedSubnetRenewsAndReleases() throws Exception {
        String busybox = Tools.assumeCommand("busybox", "busybox-static");
        String dhcrelay = Tools.assumeCommand("dhcrelay", "isc-dhcp-relay");
        DhcpServer server = DhcpServer.builder().serverMac(DhcpServerInteropTest.GATEWAY_MAC)
                .serverAddress("10.79.0.1", 24).pool("10.79.0.100", "10.79.0.110").router("10.79.0.1")
                .dnsServer("10.79.0.1").leaseTime(Duration.ofMinutes(10))
                .relayedSubnet(DhcpSubnet.builder("10.80.0.0", 24).pool("10.80.0.100", "10.80.0.110")
                        .router("10.80.0.1").domainName("branch.test").build())
                .build();
        DhcpServerInteropTest.LeaseEvents events = new DhcpServerInteropTest.LeaseEvents();
        AgentOptions agents = new AgentOptions();
        L2Adapter nic = L2Adapter.builder().mac(DhcpServerInteropTest.GATEWAY_MAC).ipv4("10.79.0.1/24")
                .ipv6(false).build(); // answers ARP for the server address; replies go back by frame source
        ChannelInitializer<Channel> gateway = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(agents, server, events, nic);
            }
        };
        try (KernelTap tap = KernelTap.open(group, "10.79.0.2/24", gateway)) {
            String clientNs = tap.namespace + "-c";
            run("ip", "netns", "add", clientNs);
            Process udhcpc = null;
            try {
                tap.exec("ip", "link", "add", VETH_RELAY, "type", "veth", "peer", "name", VETH_CLIENT, "netns",
                        clientNs);
                tap.exec("ip", "addr", "add", "10.80.0.1/24", "dev", VETH_RELAY);
                tap.exec("ip", "link", "set", VETH_RELAY, "up");
                tap.exec("sysctl", "-qw", "net.ipv4.ip_forward=1"); // the relay's namespace routes unicast renewals
                run("ip", "netns", "exec", clientNs, "ip", "link", "set", "lo", "up");
                run("ip", "netns", "exec", clientNs, "ip", "link", "set", VETH_CLIENT, "up");
                Process relay = tap.start(dhcrelay, "-4", "-d", "-a", "-pf", tap.dir().resolve("relay.pid").toString(),
                        "-id", VETH_RELAY, "-iu", KernelTap.TAP, "10.79.0.1");
                tap.awaitWithLogs(() -> tap.log(relay).contains("Sending on"), "dhcrelay up");

                Path script = DhcpServerInteropTest.script(tap.dir(), """
                        echo "EVENT $1 ip=$ip mask=$mask router=$router domain=$domain"
                        case "$1" in
                          bound|renew) ip addr replace "$ip/$mask" dev "$interface"
                                       ip route replace default via "$router" dev "$interface" ;;
                          deconfig) ip addr flush dev "$interface" ;;
                        esac
                        """);
                Path log = tap.dir().resolve("udhcpc.log");
                udhcpc = new ProcessBuilder("ip", "netns", "exec", clientNs, busybox, "udhcpc", "-f", "-i",
                        VETH_CLIENT, "-s", script.toString(), "-t", "5", "-T", "2", "-A", "1")
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                Process client = udhcpc;
                KernelTap.Check bound = () -> Files.readString(log).contains("EVENT bound");
                tap.awaitWithLogs(bound, "udhcpc bound through the relay\n" + Files.readString(log));

                DhcpLeaseEvent granted = events.await(DhcpLeaseEvent.Kind.GRANTED);
                String ip = granted.address().getHostAddress();
                assertTrue(ip.startsWith("10.80.0.1"), "from the relayed subnet's pool: " + ip);
                assertEquals("10.80.0.1", granted.relay().getHostAddress());
                String clientLog = Files.readString(log);
                assertTrue(clientLog.contains("EVENT bound ip=" + ip + " mask=24 router=10.80.0.1 domain=branch.test"),
                        clientLog);
                assertTrue(run("ip", "netns", "exec", clientNs, "ip", "-4", "addr", "show", VETH_CLIENT)
                        .contains(ip + "/24"));

                assertFalse(agents.in.isEmpty(), "dhcrelay -a adds option 82");
                assertEquals(agents.in.size(), agents.out.size(), "every relayed reply carries it");
                for (int i = 0; i < agents.in.size(); i++) {
                    assertArrayEquals(agents.in.get(i), agents.out.get(i), "option 82 echoed unchanged");
                }
                String circuit = new String(agents.in.get(0), StandardCharsets.ISO_8859_1);
                assertTrue(circuit.contains(VETH_RELAY), "dhcrelay's circuit id names its interface: " + circuit);

                DhcpServerInteropTest.signal(client, "USR1"); // renew: unicast to 10.79.0.1 via the router
                assertEquals(ip, events.await(DhcpLeaseEvent.Kind.RENEWED).address().getHostAddress());
                tap.awaitWithLogs(() -> Files.readString(log).contains("EVENT renew"), "udhcpc renewed");

                // Release, routed too. dhcrelay captures every port-67 datagram on its client link, so it also relays
                // a copy of each unicast the client routes through it: the server may read the RELEASE twice
                // (routed, giaddr 0, and relayed), and frees the lease once.
                DhcpServerInteropTest.signal(client, "USR2");
                assertEquals(ip, events.await(DhcpLeaseEvent.Kind.RELEASED).address().getHostAddress());
                KernelTap.await(() -> agents.routedReleases.get() >= 1, "the routed RELEASE");
                assertEquals(1, agents.routedReleases.get(), "the client sent exactly one RELEASE");
                assertTrue(agents.relayedReleases.get() <= 1, "at most dhcrelay's one copy");
                assertEquals(1, server.counters().leaseEvents(DhcpLeaseEvent.Kind.RELEASED), "freed once");
                assertTrue(server.bindings().isEmpty(), String.valueOf(server.bindings()));
                assertEquals(0, server.counters().drops(), String.valueOf(server.counters()));
            } finally {
                if (udhcpc != null) {
                    udhcpc.destroy();
                    if (!udhcpc.waitFor(5, TimeUnit.SECONDS)) {
                        udhcpc.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    }
                }
                run("ip", "netns", "del", clientNs);
            }
        }
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new AssertionError("timed out: " + String.join(" ", cmd));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}

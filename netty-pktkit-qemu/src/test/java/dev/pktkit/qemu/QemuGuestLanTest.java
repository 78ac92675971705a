package dev.pktkit.qemu;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.dhcp.DhcpBinding;
import dev.pktkit.codec.dhcp.DhcpServer;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.guest.LinuxGuest;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real Linux guests on a virtual LAN: an {@link L2Hub} with a gateway (DHCP server, {@link L2Adapter}, echo
 * responder) and two QEMU guests joined through this module's transports. Each guest gets its lease from our
 * server with busybox {@code udhcpc}, pings the gateway, and pings the other guest.
 */
class QemuGuestLanTest {
    static final long GATEWAY_MAC = MacAddress.parse("02:00:00:00:02:01");
    static final String MAC_A = "52:54:00:00:00:0a";
    static final String MAC_B = "52:54:00:00:00:0b";

    private MultiThreadIoEventLoopGroup group;
    private L2Hub hub;
    private DhcpServer dhcp;
    private PacketPipe gateway;
    private Path dir;
    private final List<QemuListener> listeners = new ArrayList<>();

    @BeforeEach
    void lan() throws Exception {
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll not available");
        group = TestLoops.group(TestLoops.EPOLL, 2);
        dir = Files.createTempDirectory("pktkit-lan");
        hub = L2Hub.builder().name("lan").build();
        dhcp = DhcpServer.builder().serverMac(GATEWAY_MAC).serverAddress("10.0.2.1", 24)
                .pool("10.0.2.100", "10.0.2.150").router("10.0.2.1").dnsServer("10.0.2.1")
                .staticLease(MacAddress.parse(MAC_A), "10.0.2.11").staticLease(MacAddress.parse(MAC_B), "10.0.2.12")
                .build();
        L2Adapter nic = L2Adapter.builder().mac(GATEWAY_MAC).ipv4("10.0.2.1/24").build();
        gateway = PacketPipe.open(group.next(), new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(dhcp, nic, new EchoResponder(nic));
            }
        }, group.next(), null).get(10, TimeUnit.SECONDS);
        hub.add(gateway.b());
    }

    @AfterEach
    void shutdown() throws Exception {
        for (QemuListener l : listeners) {
            l.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        if (hub != null) {
            hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            gateway.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (dir != null) {
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Binds our side for one guest and returns the {@code -netdev} argument that joins it. */
    private String join(String transport, String guest) throws Exception {
        QemuListener l;
        String arg;
        switch (transport) {
            case "stream-unix" -> {
                l = QemuListener.stream(QemuAddress.unix(dir.resolve(guest + ".sock"))).group(group).connector(hub)
                        .bind().get(10, TimeUnit.SECONDS);
                arg = l.netdevArgument("n0");
            }
            case "stream-tcp" -> {
                l = QemuListener.stream(QemuAddress.inet("127.0.0.1", 0)).group(group).connector(hub).bind()
                        .get(10, TimeUnit.SECONDS);
                arg = l.netdevArgument("n0");
            }
            case "socket-tcp" -> {
                l = QemuListener.stream(QemuAddress.inet("127.0.0.1", 0)).group(group).connector(hub).bind()
                        .get(10, TimeUnit.SECONDS);
                arg = l.legacyNetdevArgument("n0");
            }
            case "dgram-udp" -> {
                l = QemuListener.datagram(QemuAddress.inet("127.0.0.1", 0))
                        .remote(QemuAddress.inet("127.0.0.1", freeUdpPort())).group(group).connector(hub).bind()
                        .get(10, TimeUnit.SECONDS);
                arg = l.netdevArgument("n0");
            }
            case "dgram-unix" -> {
                l = QemuListener.datagram(QemuAddress.unix(dir.resolve(guest + "-ours.sock")))
                        .remote(QemuAddress.unix(dir.resolve(guest + "-qemu.sock"))).group(group).connector(hub)
                        .bind().get(10, TimeUnit.SECONDS);
                arg = l.netdevArgument("n0");
            }
            default -> throw new IllegalArgumentException(transport);
        }
        listeners.add(l);
        return arg;
    }

    static String script(String other) {
        return """
                if udhcpc -i eth0 -n -q -t 5 -T 2; then
                  if ping -c 2 -w 20 "$(cat /tmp/router)" >/dev/null; then mark gateway ok; else mark gateway fail; fi
                  if ping -c 1 -w 30 %s >/dev/null; then mark peer ok; else mark peer fail; fi
                else
                  mark lease none
                fi
                read stay_up_until_the_test_is_done
                """.formatted(other);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stream-unix", "stream-tcp", "socket-tcp", "dgram-udp", "dgram-unix"})
    void guestsLeasePingTheGatewayAndEachOther(String transport) throws Exception {
        String argA = join(transport, "a");
        String argB = join(transport, "b");
        try (LinuxGuest a = LinuxGuest.builder().nic(argA, MAC_A).script(script("10.0.2.12")).start();
             LinuxGuest b = LinuxGuest.builder().nic(argB, MAC_B).script(script("10.0.2.11")).start()) {
            assertEquals("10.0.2.11/24 router 10.0.2.1 dns 10.0.2.1", a.awaitMarker("lease", Duration.ofSeconds(60)));
            assertEquals("10.0.2.12/24 router 10.0.2.1 dns 10.0.2.1", b.awaitMarker("lease", Duration.ofSeconds(60)));
            assertEquals("ok", a.awaitMarker("gateway", Duration.ofSeconds(60)), a.consoleTail());
            assertEquals("ok", b.awaitMarker("gateway", Duration.ofSeconds(60)), b.consoleTail());
            assertEquals("ok", a.awaitMarker("peer", Duration.ofSeconds(60)), a.consoleTail());
            assertEquals("ok", b.awaitMarker("peer", Duration.ofSeconds(60)), b.consoleTail());
            List<DhcpBinding> leases = dhcp.bindings();
            assertEquals(2, leases.size(), String.valueOf(leases));
            assertTrue(leases.stream().allMatch(l -> l.state() == DhcpBinding.State.BOUND));
            assertEquals(3, hub.ports().size(), "gateway and two guests");
        }
    }
}

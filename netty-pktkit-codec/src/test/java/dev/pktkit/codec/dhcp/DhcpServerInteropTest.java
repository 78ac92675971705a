package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.linux.KernelTap;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DhcpServer} serving Linux's own DHCP clients — busybox {@code udhcpc} and ISC {@code dhclient} — on a
 * TAP device in a namespace: lease, renewal, release. The server shares its port with the gateway's
 * {@link L2Adapter} (which answers ARP, so clients can renew by unicast) and an {@link EchoResponder}.
 */
class DhcpServerInteropTest {
    static final long GATEWAY_MAC = MacAddress.parse("02:00:00:00:79:01");
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

    static ChannelInitializer<Channel> gateway(DhcpServer server, LeaseEvents events) {
        L2Adapter nic = L2Adapter.builder().mac(GATEWAY_MAC).ipv4("10.79.0.1/24").ipv6(false).build();
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(server, events, nic, new EchoResponder(nic));
            }
        };
    }

    /** The server's lease events, queued as they are fired: tests wait on them instead of polling the table. */
    static final class LeaseEvents extends ChannelInboundHandlerAdapter {
        final BlockingQueue<DhcpLeaseEvent> queue = new LinkedBlockingQueue<>();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof DhcpLeaseEvent e) {
                queue.add(e);
            }
            ctx.fireUserEventTriggered(evt);
        }

        /** The next event of {@code kind} within 20 s, skipping others; fails otherwise. */
        DhcpLeaseEvent await(DhcpLeaseEvent.Kind kind) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            for (long left; (left = deadline - System.nanoTime()) > 0; ) {
                DhcpLeaseEvent e = queue.poll(left, TimeUnit.NANOSECONDS);
                if (e != null && e.kind() == kind) {
                    return e;
                }
            }
            throw new AssertionError("no " + kind + " lease event within 20 s");
        }
    }

    static DhcpServer server(Duration lease) {
        return DhcpServer.builder().serverMac(GATEWAY_MAC).serverAddress("10.79.0.1", 24)
                .pool("10.79.0.100", "10.79.0.110").router("10.79.0.1").dnsServer("10.79.0.1")
                .domainName("pktkit.test").leaseTime(lease).build();
    }

    static Path script(Path dir, String body) throws Exception {
        Path p = dir.resolve("dhcp-script.sh");
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    static String macOf(KernelTap tap) throws Exception {
        String out = tap.exec("cat", "/sys/class/net/" + KernelTap.TAP + "/address").output().trim();
        assertTrue(out.matches("[0-9a-f:]{17}"), out);
        return out;
    }

    static DhcpBinding bindingOf(DhcpServer server, String mac) {
        for (DhcpBinding b : server.bindings()) {
            if (MacAddress.format(b.mac()).equals(mac)) {
                return b;
            }
        }
        return null;
    }

    static void signal(Process p, String sig) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).start();
        assertTrue(k.waitFor(5, TimeUnit.SECONDS) && k.exitValue() == 0, "kill -" + sig);
    }

    @Test
    void busyboxUdhcpcLeasesRenewsAndReleases() throws Exception {
        String busybox = Tools.assumeCommand("busybox", "busybox-static");
        Tools.assumeCommand("ping", "iputils-ping");
        DhcpServer server = server(Duration.ofMinutes(10));
        LeaseEvents events = new LeaseEvents();
        try (KernelTap tap = KernelTap.open(group, "none", gateway(server, events))) {
            String mac = macOf(tap);
            // "ip addr replace", not "flush" + "add", on renew: removing the interface's last address makes the
            // kernel flush the interface's neighbour entries too (arp_ifdown), so the unicast RELEASE that follows
            // would wait for ARP, and the "deconfig" flush right after the RELEASE would drop it with the entry.
            Path s = script(tap.dir(), """
                    echo "EVENT $1 ip=$ip mask=$mask router=$router dns=$dns domain=$domain lease=$lease"
                    case "$1" in
                      bound|renew) ip addr replace "$ip/$mask" dev "$interface" ;;
                      deconfig) ip addr flush dev "$interface" ;;
                    esac
                    """);
            Process udhcpc = tap.start(busybox, "udhcpc", "-f", "-i", KernelTap.TAP, "-s", s.toString(),
                    "-t", "5", "-T", "2", "-A", "1");
            tap.awaitWithLogs(() -> tap.log(udhcpc).contains("EVENT bound"), "udhcpc bound");
            DhcpLeaseEvent granted = events.await(DhcpLeaseEvent.Kind.GRANTED);
            String log = tap.log(udhcpc);
            assertTrue(log.contains("EVENT bound ip=10.79.0.1") && log.contains("mask=24")
                    && log.contains("router=10.79.0.1") && log.contains("dns=10.79.0.1")
                    && log.contains("domain=pktkit.test") && log.contains("lease=600"), log);
            DhcpBinding b = bindingOf(server, mac);
            assertEquals(DhcpBinding.State.BOUND, b.state(), String.valueOf(server.bindings()));
            String ip = b.address().getHostAddress();
            assertEquals(ip, granted.address().getHostAddress());
            assertEquals(mac, MacAddress.format(granted.mac()));
            assertTrue(log.contains("EVENT bound ip=" + ip + " "), log);
            assertTrue(tap.exec("ip", "-4", "addr", "show", KernelTap.TAP).output().contains(ip + "/24"));
            KernelTap.Result ping = tap.exec(30, "ping", "-c", "2", "-w", "20", "10.79.0.1");
            assertEquals(0, ping.exit(), "the client reaches its gateway: " + ping.output());

            long acks = server.counters().sent(dev.pktkit.codec.wire.Dhcp4.ACK);
            long requests = server.counters().received(dev.pktkit.codec.wire.Dhcp4.REQUEST);
            signal(udhcpc, "USR1"); // renew now (a unicast REQUEST to the server)
            tap.awaitWithLogs(() -> tap.log(udhcpc).contains("EVENT renew"), "udhcpc renew");
            // One ACK per REQUEST, and at least one. busybox sends the unicast renewal from a short-lived UDP socket
            // connected to the server; an ACK that arrives before that socket is closed is delivered to it and lost,
            // and udhcpc asks again 2 s later (-T 2), so a fast server may see two REQUESTs here.
            long renewAcks = server.counters().sent(dev.pktkit.codec.wire.Dhcp4.ACK) - acks;
            long renewRequests = server.counters().received(dev.pktkit.codec.wire.Dhcp4.REQUEST) - requests;
            assertTrue(renewAcks >= 1, tap.log(udhcpc));
            assertEquals(renewRequests, renewAcks, tap.log(udhcpc));
            assertEquals(ip, bindingOf(server, mac).address().getHostAddress(), "same address after renewal");

            assertEquals(ip, events.await(DhcpLeaseEvent.Kind.RENEWED).address().getHostAddress());

            signal(udhcpc, "USR2"); // release: one unicast RELEASE, then "deconfig"
            assertEquals(ip, events.await(DhcpLeaseEvent.Kind.RELEASED).address().getHostAddress());
            tap.awaitWithLogs(() -> tap.log(udhcpc).contains("EVENT deconfig"), "udhcpc deconfig");
            assertNull(bindingOf(server, mac));
            assertEquals(1, server.counters().received(dev.pktkit.codec.wire.Dhcp4.RELEASE), "exactly one RELEASE");
            assertEquals(0, server.counters().drops(), String.valueOf(server.counters()));
        }
    }

    @Test
    void iscDhclientLeasesRenewsAndReleases() throws Exception {
        String dhclient = Tools.assumeCommand("dhclient", "isc-dhcp-client");
        DhcpServer server = server(Duration.ofSeconds(12)); // T1 = 6 s: the renewal comes on its own
        LeaseEvents events = new LeaseEvents();
        try (KernelTap tap = KernelTap.open(group, "none", gateway(server, events))) {
            String mac = macOf(tap);
            Path s = script(tap.dir(), """
                    echo "EVENT $reason ip=$new_ip_address mask=$new_subnet_mask router=$new_routers"
                    case "$reason" in
                      BOUND|RENEW|REBIND|REBOOT)
                        ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
                      RELEASE|EXPIRE|STOP) ip addr flush dev "$interface" ;;
                    esac
                    exit 0
                    """);
            Path lf = tap.dir().resolve("dhclient.leases");
            Path pf = tap.dir().resolve("dhclient.pid");
            Process client = tap.start(dhclient, "-d", "-1", "-v", "-lf", lf.toString(), "-pf", pf.toString(), "-sf", s.toString(),
                    KernelTap.TAP);
            tap.awaitWithLogs(() -> tap.log(client).contains("EVENT BOUND"), "dhclient bound");
            DhcpBinding b = bindingOf(server, mac);
            assertEquals(DhcpBinding.State.BOUND, b.state(), String.valueOf(server.bindings()));
            String ip = b.address().getHostAddress();
            assertTrue(tap.log(client).contains("EVENT BOUND ip=" + ip + " mask=255.255.255.0 router=10.79.0.1"),
                    tap.log(client));
            assertTrue(tap.exec("ip", "-4", "addr", "show", KernelTap.TAP).output().contains(ip + "/24"));

            tap.awaitWithLogs(() -> tap.log(client).contains("EVENT RENEW"), "dhclient renewal at T1");
            assertEquals(ip, bindingOf(server, mac).address().getHostAddress());

            assertEquals(ip, events.await(DhcpLeaseEvent.Kind.RENEWED).address().getHostAddress());

            // Release (the script keeps the address on renew with "replace", see the busybox test): one RELEASE.
            KernelTap.Result r = tap.exec(20, dhclient, "-r", "-v", "-lf", lf.toString(), "-pf", pf.toString(),
                    "-sf", s.toString(), KernelTap.TAP);
            assertEquals(0, r.exit(), r.output());
            assertEquals(ip, events.await(DhcpLeaseEvent.Kind.RELEASED).address().getHostAddress());
            assertEquals(1, server.counters().received(dev.pktkit.codec.wire.Dhcp4.RELEASE), "exactly one RELEASE");
            List<DhcpBinding> left = server.bindings();
            assertTrue(left.isEmpty(), String.valueOf(left));
        }
    }
}

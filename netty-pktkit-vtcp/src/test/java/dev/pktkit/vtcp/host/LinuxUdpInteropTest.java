package dev.pktkit.vtcp.host;

import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linux's stack against the virtual host through a TUN: ping (ICMP, ICMPv6), UDP both ways with socat, and
 * dnsmasq answering Netty's DnsNameResolver over UDP. On epoll and io_uring.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class LinuxUdpInteropTest {
    static List<String> loops() {
        return LinuxPeer.loops();
    }

    @ParameterizedTest
    @MethodSource("loops")
    void linuxPingsTheVirtualHost(String kind) throws Exception {
        Tools.assumeCommand("ping", "iputils-ping");
        try (LinuxPeer p = new LinuxPeer(kind, VirtualHost.builder(), null, 1500)) {
            TestNamespace.Result v4 = p.ns.exec("ping", "-c", "3", "-i", "0.2", "-W", "5", LinuxPeer.HOST_V4);
            assertEquals(0, v4.exit(), v4.output());
            TestNamespace.Result v6 = p.ns.exec("ping", "-6", "-c", "3", "-i", "0.2", "-W", "5", LinuxPeer.HOST_V6);
            assertEquals(0, v6.exit(), v6.output());
            assertTrue(p.host.counters().echoReplies() >= 6);
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void udpBothWaysWithSocat(String kind) throws Exception {
        Tools.assumeCommand("socat", "socat");
        try (LinuxPeer p = new LinuxPeer(kind, VirtualHost.builder(), null, 1500)) {
            Channel echo = new Bootstrap().group(p.group).channelFactory(p.host.datagramChannels())
                    .handler(new VirtualDatagramChannelTest.Echo()).bind(7).sync().channel();
            TestNamespace.Result r = p.ns.exec("sh", "-c",
                    "echo hello-virtual | socat -t 1 - UDP4:" + LinuxPeer.HOST_V4 + ":7");
            assertEquals(0, r.exit(), r.output());
            assertTrue(r.output().contains("hello-virtual"), r.output());
            TestNamespace.Result r6 = p.ns.exec("sh", "-c",
                    "echo hello-v6 | socat -t 1 - UDP6:[" + LinuxPeer.HOST_V6 + "]:7");
            assertTrue(r6.output().contains("hello-v6"), r6.output());
            // a closed port: Linux's socat sees ECONNREFUSED from our ICMP port unreachable
            TestNamespace.Result closed = p.ns.exec("sh", "-c",
                    "echo x | socat -t 1 - UDP4:" + LinuxPeer.HOST_V4 + ":9; echo rc=$?");
            assertTrue(closed.output().contains("Connection refused"), closed.output());
            echo.close().sync();
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void dnsmasqAnswersNettysResolverOverUdp(String kind) throws Exception {
        String dnsmasq = Tools.assumeCommand("dnsmasq", "dnsmasq-base");
        try (LinuxPeer p = new LinuxPeer(kind, VirtualHost.builder(), null, 1500)) {
            Path log = Files.createTempFile("vtcph-dnsmasq", ".log");
            try {
                p.ns.start(log, dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon",
                        "--user=root", "--bind-interfaces", "--listen-address=" + LinuxPeer.NS_V4,
                        "--address=/web.test/10.77.0.50", "--address=/web.test/fd77::50", "--log-queries",
                        "--pid-file=");
                awaitListening(p.ns, 53);
                DnsNameResolver r = p.host.dnsResolverBuilder(new InetSocketAddress(LinuxPeer.NS_V4, 53))
                        .eventLoop(p.group.next()).resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                        .queryTimeoutMillis(3000).build();
                try {
                    List<InetAddress> all = r.resolveAll("web.test").get(10, TimeUnit.SECONDS);
                    assertTrue(all.contains(InetAddress.getByName("10.77.0.50")), all.toString());
                    assertTrue(all.contains(InetAddress.getByName("fd77::50")), all.toString());
                } finally {
                    r.close();
                }
                String l = Files.readString(log);
                assertTrue(l.contains("query[A] web.test from " + LinuxPeer.HOST_V4), l);
            } finally {
                Files.deleteIfExists(log);
            }
        }
    }

    /** Waits until something listens on UDP or TCP {@code port} in the namespace (ss, bounded). */
    static void awaitListening(TestNamespace ns, int port) throws Exception {
        for (int i = 0; i < 100; i++) {
            TestNamespace.Result r = ns.exec("ss", "-Hlnu", "sport = :" + port);
            TestNamespace.Result t = ns.exec("ss", "-Hlnt", "sport = :" + port);
            if (!r.output().isBlank() || !t.output().isBlank()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("nothing listens on port " + port + " in " + ns);
    }
}

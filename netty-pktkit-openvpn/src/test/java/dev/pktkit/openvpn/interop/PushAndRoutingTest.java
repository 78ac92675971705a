package dev.pktkit.openvpn.interop;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.openvpn.OpenVpnClient;
import dev.pktkit.openvpn.OpenVpnTls;
import dev.pktkit.openvpn.OpenVpnTunnelChannel;
import dev.pktkit.switching.DropReason;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3Port;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollDatagramChannel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What our server pushes, as the stock client applies it ({@code dhcp-option DNS} handed to its up script as a
 * foreign option, {@code redirect-gateway def1} installed as the two /1 routes), and two clients at once (the
 * stock one and ours) reaching each other through the server's {@link L3Hub}, and nothing that is not routed.
 */
class PushAndRoutingTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    @Test
    void stockClientAppliesPushedDnsAndRedirectGateway() throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            // redirect-gateway needs a default route to replace: a veth to the server namespace carries it
            f.outer.veth("ovr", f.inner, "ovq").addresses("10.201.0.1/24", "10.201.0.2/24").up();
            f.inOuter(10, "ip", "route", "add", "default", "via", "10.201.0.2").check();
            f.startServer(b -> b.push("dhcp-option DNS 10.8.0.53").push("redirect-gateway def1"));
            Path env = dir.resolve("up.env");
            Path up = dir.resolve("up.sh");
            Files.writeString(up, "#!/bin/sh\nenv > " + env + "\n");
            Files.setPosixFilePermissions(up, PosixFilePermissions.fromString("rwx------"));
            f.startClient(f.profile("script-security 2\nup " + up));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            String vars = Files.readString(env);
            assertTrue(vars.lines().anyMatch(l -> l.matches("foreign_option_\\d+=dhcp-option DNS 10\\.8\\.0\\.53")),
                    "the up script sees the pushed DNS server:\n" + vars);
            String routes = f.inOuter(10, "ip", "route", "show").output();
            assertTrue(routes.contains("0.0.0.0/1 via 10.8.0.1") && routes.contains("128.0.0.0/1 via 10.8.0.1"),
                    "redirect-gateway def1 installed:\n" + routes);
            CommandResult ping = f.inOuter(30, "ping", "-c", "2", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
            assertEquals(0, ping.exit(), ping.output());
        }
    }

    @Test
    void twoClientsReachEachOtherOnlyWhereRouted() throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir); Netns third = Netns.create()) {
            f.startServer(b -> b);
            f.startClient(f.profile(""));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            // the second client is ours: its socket next to the stock client's, its tunnel on a TUN in `third`
            L3Hub side = L3Hub.builder().name("second-client").build();
            OpenVpnClient client = OpenVpnClient.builder()
                    .ssl(OpenVpnTls.clientContext(f.pki.clientCert, f.pki.clientKey, f.pki.ca))
                    .tunnelInitializer(new ChannelInitializer<OpenVpnTunnelChannel>() {
                        @Override
                        protected void initChannel(OpenVpnTunnelChannel ch) {
                            side.attach(ch, L3PortOptions.prefixes("10.8.0.0/24"));
                        }
                    }).build();
            NetNamespace outerNs = f.outer.closeWith(NetNamespace.named(f.outer.name()));
            NetNamespace thirdNs = third.closeWith(NetNamespace.named(third.name()));
            new Bootstrap().group(f.group).channelFactory(() -> {
                try {
                    return outerNs.call(EpollDatagramChannel::new);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).handler(client).connect("127.0.0.1", f.port()).sync();
            OpenVpnTunnelChannel tunnel = client.tunnel().get(30, TimeUnit.SECONDS);
            String b = tunnel.tunnelAddress().getHostAddress();
            assertEquals("10.8.0.3", b, "the second client gets the next pool address");
            TunChannel tun = (TunChannel) new Bootstrap().group(f.group).channelFactory(() -> new TunChannel(thirdNs))
                    .handler(new ChannelInboundHandlerAdapter()).bind(TunTapAddress.of("ovb0")).sync().channel();
            try {
                tun.link().mtu(1500).addAddress(b + "/24").up();
                side.attach(tun, L3PortOptions.prefixes(b + "/32"));
                assertEquals(2, f.clientCount());

                // routed: the stock client (10.8.0.2) and ours (10.8.0.3) through the server's hub, both ways
                CommandResult ab = f.inOuter(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", b);
                assertEquals(0, ab.exit(), ab.output() + f.server.drops());
                CommandResult ba = third.exec(Duration.ofSeconds(30), "ping", "-c", "3", "-i", "0.2", "-W", "5",
                        "10.8.0.2");
                assertEquals(0, ba.exit(), ba.output());

                // not routed: a pool address no client holds goes nowhere, and the hub counts the drop at the
                // second client's port
                L3Port port = f.udp.eventLoop().submit(() -> f.hub.route(0x0a080003)).get();
                assertEquals("OpenVpnClientChannel", port.port().getClass().getSimpleName(), "the second client's port");
                long before = port.counters().drops(DropReason.NO_ROUTE);
                CommandResult none = third.exec(Duration.ofSeconds(30), "ping", "-c", "2", "-i", "0.2", "-W", "1",
                        "10.8.0.77");
                assertNotEquals(0, none.exit(), "10.8.0.77 is not routed: " + none.output());
                assertTrue(port.counters().drops(DropReason.NO_ROUTE) >= before + 2,
                        "the hub dropped the unrouted pings: " + port.counters().drops(DropReason.NO_ROUTE));
            } finally {
                tun.close().sync();
            }
        }
    }
}

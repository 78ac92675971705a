package dev.pktkit.openvpn.interop;

import dev.pktkit.openvpn.OpenVpnClientChannel;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 both ways: the stock client reaches our server over UDP on {@code ::1} (IPv6 outer transport), is pushed
 * {@code ifconfig-ipv6} from {@code server-ipv6 fd00:8::/64} and a {@code route-ipv6}, pings the server side's
 * IPv6 address through the tunnel and moves 16 MiB over TCP/IPv6 inside it, SHA-256 checked.
 */
class StockClientIpv6Test {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    @Test
    void ipv6OuterTransportAndIpv6InsideTheTunnel() throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            f.ipv6 = true;
            f.startServer(b -> b.dataCiphers("CHACHA20-POLY1305").push("route-ipv6 fd00:9::/64"), f.outer, "::1");
            f.startClient(f.profile("udp6", "::1", f.port(), ""));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            assertTrue(f.clientLog().contains("[AF_INET6]"), "the outer transport is IPv6: " + f.clientLog());
            String clientV6 = "fd00:8::1002";
            CommandResult addr = f.inOuter(10, "ip", "-6", "addr", "show");
            assertTrue(addr.output().contains(clientV6 + "/64"), addr.output());
            CommandResult route = f.inOuter(10, "ip", "-6", "route", "show", "fd00:9::/64");
            assertTrue(route.output().contains("fd00:9::/64"), "route-ipv6 installed: " + route.output());
            CommandResult ping = f.inOuter(30, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "5",
                    TunnelFixture.SERVER_V6);
            assertEquals(0, ping.exit(), ping.output() + f.clientLog() + f.server.drops());
            TunnelFixture.Payload data = f.payload(16);
            assertEquals(data.sha256(), f.transferToInner(data, TunnelFixture.SERVER_V6), "16 MiB over IPv6 inside");
            List<OpenVpnClientChannel> clients = f.udp.eventLoop().submit(f.server::clientChannels).get();
            assertEquals(1, clients.size());
            assertEquals(clientV6, clients.get(0).tunnelAddress6().getHostAddress().replace(":0:0:0:0:0", ":"));
            assertTrue(clients.get(0).transportAddress().getAddress() instanceof java.net.Inet6Address);
        }
    }
}

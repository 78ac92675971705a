package dev.pktkit.wireguard.interop;

import dev.pktkit.wireguard.WireGuardTimers;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our endpoint as client (it dials), wireguard-go as server. */
class OurClientInteropTest {
    @BeforeAll
    static void tools() {
        WgGoFixture.assumeUsable();
    }

    private static int goPort() {
        return 30000 + ThreadLocalRandom.current().nextInt(20000);
    }

    @Test
    void dialsWireguardGoThenPingsAndTransfers() throws Exception {
        try (WgGoFixture f = new WgGoFixture()) {
            int port = goPort();
            f.startWireguardGo(f.goConfig(port, f.ourPeerForGo(null)));
            f.startOurs("127.0.0.1", b -> b, p -> p.withEndpoint(new InetSocketAddress("127.0.0.1", port)));
            f.endpoint.connect(f.goKey.publicKey()).get(20, TimeUnit.SECONDS);
            Sh.Result ping = f.inInner(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", WgGoFixture.GO_V4);
            assertEquals(0, ping.exit(), ping.output() + f.goLog());
            // wireguard-go, the responder, records the handshake once our first data packet confirms it: after
            // the ping it must be there (right after connect() it may not be yet)
            assertTrue(Long.parseLong(f.wgShow("latest-handshakes").trim().split("\\s+")[1]) > 0);
            Sh.Result ping6 = f.inInner(30, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "5", WgGoFixture.GO_V6);
            assertEquals(0, ping6.exit(), ping6.output());
            WgGoFixture.Payload data = f.payload(64);
            assertEquals(data.sha256(), f.transfer(data, false, WgGoFixture.GO_V4, false, null), "64 MiB, IPv4");
            assertEquals(data.sha256(), f.transfer(data, false, WgGoFixture.GO_V6, true, null), "64 MiB, IPv6");
            String transfer = f.wgShow("transfer");
            assertTrue(Long.parseLong(transfer.trim().split("\\s+")[1]) > 128L << 20, transfer);
        }
    }

    @Test
    void rekeysAfterOurRekeyAfterTimeWhileTrafficFlows() throws Exception {
        WireGuardTimers t = WireGuardTimers.builder().rekeyAfterTime(Duration.ofSeconds(10)).build();
        try (WgGoFixture f = new WgGoFixture()) {
            int port = goPort();
            f.startWireguardGo(f.goConfig(port, f.ourPeerForGo(null)));
            f.startOurs("127.0.0.1", b -> b.timers(t), p -> p.withEndpoint(new InetSocketAddress("127.0.0.1", port)));
            f.endpoint.connect(f.goKey.publicKey()).get(20, TimeUnit.SECONDS);
            // 60 pings over 15 s cross the 10 s mark; every one must be answered
            Sh.Result ping = f.inInner(40, "ping", "-c", "60", "-i", "0.25", "-W", "2", WgGoFixture.GO_V4);
            assertEquals(0, ping.exit(), ping.output());
            assertTrue(ping.output().contains("60 received"), ping.output());
            assertTrue(f.endpoint.status().get(0).handshakes() >= 2, "keys rotated: " + f.endpoint.show());
            WgGoFixture.Payload data = f.payload(16);
            assertEquals(data.sha256(), f.transfer(data, false, WgGoFixture.GO_V4, false, null));
        }
    }

    /**
     * wireguard-go moves to another port; we are told its new endpoint. With the current keypair still valid and no
     * traffic to send, nothing but the endpoint change can start a handshake (wireguard-go itself would send the
     * next data packet to the new address and handshake only after REKEY_TIMEOUT): the handshake count must rise
     * before any packet is written, and traffic then flows to the new port.
     */
    @Test
    void anEndpointChangeHandshakesAtOnce() throws Exception {
        try (WgGoFixture f = new WgGoFixture()) {
            int port = goPort();
            f.startWireguardGo(f.goConfig(port, f.ourPeerForGo(null)));
            f.startOurs("127.0.0.1", b -> b, p -> p.withEndpoint(new InetSocketAddress("127.0.0.1", port)));
            f.endpoint.connect(f.goKey.publicKey()).get(20, TimeUnit.SECONDS);
            assertEquals(0, f.inInner(30, "ping", "-c", "2", "-i", "0.2", "-W", "5", WgGoFixture.GO_V4).exit());
            long before = f.endpoint.status().get(0).handshakes();
            int moved = port + 1;
            Sh.run("wg", "set", f.goIf, "listen-port", Integer.toString(moved)).check();
            f.endpoint.setEndpoint(f.goKey.publicKey(), new InetSocketAddress("127.0.0.1", moved))
                    .get(10, TimeUnit.SECONDS);
            WgGoFixture.waitFor(() -> f.endpoint.status().get(0).handshakes() > before, 10,
                    "a handshake with the new endpoint, without traffic");
            assertEquals(moved, f.endpoint.status().get(0).endpoint().getPort());
            Sh.Result ping = f.inInner(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", WgGoFixture.GO_V4);
            assertEquals(0, ping.exit(), ping.output() + f.goLog());
        }
    }

    @Test
    void hostNameIsResolvedAgainWhileHandshakesFail() throws Exception {
        String hostsFile = System.getProperty("jdk.net.hosts.file");
        org.junit.jupiter.api.Assumptions.assumeTrue(hostsFile != null, "run by surefire with jdk.net.hosts.file");
        java.nio.file.Path hosts = java.nio.file.Path.of(hostsFile);
        String name = "wg-peer.pktkit.test";
        try (WgGoFixture f = new WgGoFixture()) {
            java.nio.file.Files.writeString(hosts, "10.255.255.1 " + name + "\n"); // no route from the namespace
            int port = goPort();
            f.startWireguardGo(f.goConfig(port, f.ourPeerForGo(null)));
            f.startOurs("127.0.0.1", b -> b, p -> p.withEndpoint(InetSocketAddress.createUnresolved(name, port)));
            io.netty.util.concurrent.Future<Void> connected = f.endpoint.connect(f.goKey.publicKey());
            WgGoFixture.waitFor(() -> f.endpoint.drops(dev.pktkit.wireguard.WireGuardDropReason.SEND_FAILED) > 0, 10,
                    "an initiation to the old address");
            assertEquals("10.255.255.1", f.endpoint.status().get(0).endpoint().getAddress().getHostAddress());
            java.nio.file.Files.writeString(hosts, "127.0.0.1 " + name + "\n"); // the name moves
            connected.get(20, TimeUnit.SECONDS);
            assertEquals("127.0.0.1", f.endpoint.status().get(0).endpoint().getAddress().getHostAddress());
            assertEquals(0, f.inInner(30, "ping", "-c", "2", "-i", "0.2", "-W", "5", WgGoFixture.GO_V4).exit());
        } finally {
            java.nio.file.Files.deleteIfExists(hosts);
        }
    }
}

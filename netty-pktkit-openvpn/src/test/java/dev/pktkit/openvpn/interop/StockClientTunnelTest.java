package dev.pktkit.openvpn.interop;

import dev.pktkit.openvpn.OpenVpnClientChannel;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stock {@code openvpn --client} (Debian's 2.6) connects to our {@code OpenVpnServer} over UDP, gets its
 * pushed address, over UDP or TCP (one server listening on both), pings the server side of the tunnel (a kernel TUN behind our {@code L3Hub}) and moves a file over
 * TCP through the tunnel, SHA-256 checked.
 */
class StockClientTunnelTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    @ParameterizedTest(name = "{3}, {0}, tls-ekm={1}, tls-auth={2}")
    @CsvSource({
        "AES-256-GCM, true, false, udp",
        "CHACHA20-POLY1305, false, true, udp",
        "AES-128-GCM, true, true, tcp",
        "CHACHA20-POLY1305, true, false, tcp",
    })
    void stockClientConnectsPingsAndTransfers(String cipher, boolean ekm, boolean tlsAuth, String proto)
            throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            f.startServer(b -> {
                b.dataCiphers(cipher).tlsEkm(ekm);
                if (tlsAuth) {
                    try {
                        b.tlsAuth(dev.pktkit.openvpn.crypto.StaticKey.parse(
                                java.nio.file.Files.readString(f.pki.staticKey)),
                                dev.pktkit.openvpn.crypto.KeyDirection.NORMAL, "SHA1");
                    } catch (java.io.IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return b;
            });
            f.startClient(f.profile(proto, tlsAuth ? "tls-auth " + f.pki.staticKey + " 1" : ""));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            CommandResult ping = f.inOuter(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
            assertEquals(0, ping.exit(), ping.output() + f.clientLog() + f.server.drops());
            TunnelFixture.Payload data = f.payload(16);
            assertEquals(data.sha256(), f.transferToInner(data, TunnelFixture.SERVER_V4), "16 MiB through the tunnel");
            List<OpenVpnClientChannel> clients = f.udp.eventLoop().submit(f.server::clientChannels).get();
            assertEquals(1, clients.size());
            assertEquals("10.8.0.2", clients.get(0).tunnelAddress().getHostAddress());
            assertEquals(cipher, clients.get(0).cipher());
            assertEquals(ekm, clients.get(0).keysFromExporter());
            assertEquals("client", clients.get(0).credentials().commonName());
            assertTrue(f.clientLog().contains(cipher), f.clientLog());
            assertEquals(proto.equals("tcp"), clients.get(0).parent() != f.udp, "the client's transport");
        }
    }
}

package dev.pktkit.openvpn.interop;

import dev.pktkit.openvpn.OpenVpnClientChannel;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsCryptV2;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
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

    @ParameterizedTest(name = "{3}, {0}, tls-ekm={1}, {2}")
    @CsvSource({
        "AES-256-GCM, true, none, udp",
        "CHACHA20-POLY1305, false, tls-auth, udp",
        "AES-128-GCM, true, tls-auth, tcp",
        "CHACHA20-POLY1305, true, none, tcp",
        "AES-256-GCM, true, tls-crypt, udp",
        "AES-128-GCM, true, tls-crypt-v2 openvpn-made keys, udp",
        "CHACHA20-POLY1305, true, tls-crypt-v2 our keys, tcp",
    })
    void stockClientConnectsPingsAndTransfers(String cipher, boolean ekm, String protection, String proto)
            throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            String clientLine = protection(f, protection);
            f.startServer(b -> {
                b.dataCiphers(cipher).tlsEkm(ekm);
                try {
                    switch (protection) {
                        case "tls-auth" -> b.tlsAuth(StaticKey.parse(Files.readString(f.pki.staticKey)),
                                KeyDirection.NORMAL, "SHA1");
                        case "tls-crypt" -> b.tlsCrypt(StaticKey.parse(Files.readString(f.pki.staticKey)));
                        case "none" -> { }
                        default -> b.tlsCryptV2(TlsCryptV2.ServerKey.parse(Files.readString(dir.resolve("v2-server.key"))));
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                return b;
            });
            f.startClient(f.profile(proto, clientLine));
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
            long stateless = f.udp.eventLoop().submit(f.server::statelessReplies).get();
            assertEquals(proto.equals("udp"), stateless > 0, "UDP handshakes go through the HMAC cookie: " + stateless);
        }
    }

    /**
     * Makes the keys of {@code protection} and returns the client's profile line. tls-crypt-v2 both ways: with
     * openvpn's keys ({@code --genkey tls-crypt-v2-server}, then {@code tls-crypt-v2-client} from it) our server
     * opens the client's WKc; with ours ({@link TlsCryptV2.ServerKey#newClientKey}) the stock client reads our file.
     */
    static String protection(TunnelFixture f, String protection) throws Exception {
        Path srv = f.dir.resolve("v2-server.key");
        Path cli = f.dir.resolve("v2-client.key");
        switch (protection) {
            case "tls-auth":
                return "tls-auth " + f.pki.staticKey + " 1";
            case "tls-crypt":
                return "tls-crypt " + f.pki.staticKey;
            case "none":
                return "";
            case "tls-crypt-v2 openvpn-made keys":
                TestPki.run(f.dir, "openvpn", "--genkey", "tls-crypt-v2-server", srv.toString());
                TestPki.run(f.dir, "openvpn", "--tls-crypt-v2", srv.toString(), "--genkey", "tls-crypt-v2-client",
                        cli.toString());
                return "tls-crypt-v2 " + cli;
            default:
                TlsCryptV2.ServerKey k = TlsCryptV2.ServerKey.generate(new SecureRandom());
                Files.writeString(srv, k.format());
                Files.writeString(cli, k.newClientKey(new SecureRandom(), null));
                return "tls-crypt-v2 " + cli;
        }
    }
}

package dev.pktkit.openvpn.interop;

import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Renegotiation: with a short {@code reneg-sec} on the client (it sends the soft reset) or on our server (we do),
 * or our {@code reneg-bytes},
 * keys are renegotiated (new TLS session, key method 2, key ID 1, 2, ...) while 16 MiB transfers run back to back
 * through the tunnel, each SHA-256 checked; the old key stays a lame duck for the transition window.
 */
class StockClientRenegotiationTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    @ParameterizedTest(name = "renegotiated by the {0}, {1}")
    @CsvSource({"client, tls-auth", "server, tls-crypt", "server reneg-bytes, none"})
    void transfersSurviveKeyChanges(String initiator, String protection) throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            StaticKey key = StaticKey.parse(Files.readString(f.pki.staticKey));
            f.startServer(b -> {
                b.dataCiphers("AES-256-GCM").renegSeconds(initiator.equals("server") ? 3 : 0);
                if (initiator.equals("server reneg-bytes")) {
                    b.renegBytes(8 << 20); // a new key every 8 MiB: at least two per 16 MiB transfer
                }
                return switch (protection) {
                    case "tls-auth" -> b.tlsAuth(key, dev.pktkit.openvpn.crypto.KeyDirection.NORMAL, "SHA1");
                    case "tls-crypt" -> b.tlsCrypt(key);
                    default -> b;
                };
            });
            String line = switch (protection) {
                case "tls-auth" -> "tls-auth " + f.pki.staticKey + " 1";
                case "tls-crypt" -> "tls-crypt " + f.pki.staticKey;
                default -> "";
            };
            f.startClient(f.profile("udp", line + "\nreneg-sec " + (initiator.equals("client") ? 3 : 0)));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            TunnelFixture.Payload data = f.payload(16);
            int transfers = 0;
            // transfers back to back until two renegotiations completed (bounded)
            while (renegotiations(f) < 2 && transfers < 40) {
                assertEquals(data.sha256(), f.transferToInner(data, TunnelFixture.SERVER_V4), "transfer " + transfers);
                transfers++;
            }
            assertTrue(renegotiations(f) >= 2, "renegotiations: " + renegotiations(f) + "; " + f.server.drops());
            assertEquals(data.sha256(), f.transferToInner(data, TunnelFixture.SERVER_V4), "after the key changes");
            CommandResult ping = f.inOuter(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
            assertEquals(0, ping.exit(), ping.output() + f.server.drops());
            // the client logs each TLS session it completes: the first key's and one per renegotiation
            String log = f.clientLog();
            assertTrue(log.split("Control Channel: TLS", -1).length - 1 >= 3, log);
            assertEquals(1, f.clientCount(), "the same client session throughout");
            assertEquals(1, f.sessionsCreated(), "no reconnect");
        }
    }

    static long renegotiations(TunnelFixture f) throws Exception {
        return f.udp.eventLoop().submit(f.server::renegotiations).get();
    }
}

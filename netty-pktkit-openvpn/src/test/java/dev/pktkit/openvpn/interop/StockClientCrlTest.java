package dev.pktkit.openvpn.interop;

import dev.pktkit.openvpn.OpenVpnTls;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code crl-verify}: our server's TLS context from {@link OpenVpnTls#serverContext} with a CRL (made by
 * {@code openssl ca}) that revokes the client certificate: the stock client with it is refused in the TLS
 * handshake and never gets a session; a second, unrevoked certificate of the same CA connects and pings.
 */
class StockClientCrlTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    @Test
    void revokedCertificateIsRefusedOthersConnect() throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            Path[] good = f.pki.issueClient("client2");
            Path crl = f.pki.revoke("client");
            f.startServer(b -> {
                try {
                    return b.ssl(OpenVpnTls.serverContext(f.pki.serverCert, f.pki.serverKey, f.pki.ca, crl));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            f.startClient(f.profile("udp", ""));
            f.awaitClientLog("Received fatal SSL alert", 30); // our TLS alert: the handshake is refused
            assertEquals(0, f.clientCount(), "no session for the revoked certificate");
            f.client.destroy();
            assertTrue(f.client.waitFor(5, java.util.concurrent.TimeUnit.SECONDS));
            f.startClient(f.profile("udp", "").replace("cert " + f.pki.clientCert, "cert " + good[0])
                    .replace("key " + f.pki.clientKey, "key " + good[1]));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            CommandResult ping = f.inOuter(30, "ping", "-c", "2", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
            assertEquals(0, ping.exit(), ping.output());
            assertEquals(1, f.clientCount());
            assertEquals("client2", f.udp.eventLoop().submit(() -> f.server.clientChannels().get(0).credentials()
                    .commonName()).get());
        }
    }
}

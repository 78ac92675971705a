package dev.pktkit.openvpn.interop;

import dev.pktkit.openvpn.Compression;
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
 * AES-256-CBC with HMAC-SHA256/512 for clients that name it in {@code data-ciphers}, and compression framing
 * ({@code compress stub-v2}, {@code compress stub}, {@code comp-lzo no}) in the client's profile and pushed by
 * us: the stock client connects, pings and moves 16 MiB, SHA-256 checked.
 */
class StockClientCbcCompressionTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    @ParameterizedTest(name = "{3}, {0}/{1}, {2}")
    @CsvSource({
        "AES-256-CBC, SHA256, STUB_V2, udp",
        "AES-256-CBC, SHA512, LZO_NO, tcp",
        "AES-256-GCM, SHA1, STUB, udp",
    })
    void cbcAndCompressionFraming(String cipher, String auth, Compression compression, String proto) throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            f.startServer(b -> b.dataCiphers(cipher).auth(auth).compression(compression));
            f.startClient(f.profile(proto, "data-ciphers " + cipher + "\nauth " + auth + "\n" + compression.directive));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            CommandResult ping = f.inOuter(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
            assertEquals(0, ping.exit(), ping.output() + f.clientLog() + f.server.drops());
            TunnelFixture.Payload data = f.payload(16);
            assertEquals(data.sha256(), f.transferToInner(data, TunnelFixture.SERVER_V4), "16 MiB through the tunnel");
            List<OpenVpnClientChannel> clients = f.udp.eventLoop().submit(f.server::clientChannels).get();
            assertEquals(cipher, clients.get(0).cipher());
            assertTrue(f.clientLog().contains(cipher), f.clientLog());
            assertEquals(0, f.server.drops(dev.pktkit.openvpn.OpenVpnDropReason.COMPRESSED));
        }
    }
}

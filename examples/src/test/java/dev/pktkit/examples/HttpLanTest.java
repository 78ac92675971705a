package dev.pktkit.examples;

import dev.pktkit.testkit.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HttpLan example end to end: both hosts lease from the LAN's DHCP server, the GET returns the served body
 * (SHA-256), and tshark decodes the capture — DHCP, ARP, TCP and HTTP present, no malformed packet.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpLanTest {
    @Test
    void twoDhcpHostsSpeakHttpOverVtcpAndTsharkReadsTheCapture() throws Exception {
        String tshark = Tools.assumeCommand("tshark", "tshark");
        Path dir = Files.createTempDirectory("pktkit-http-lan");
        Path pcap = dir.resolve("http-lan.pcapng");
        try {
            HttpLan.Result r = HttpLan.run(pcap);
            assertEquals(200, r.status());
            assertEquals(HttpLan.BODY_BYTES, r.bodyBytes());
            assertEquals(r.expectedSha256(), r.bodySha256());
            for (var lease : List.of(r.serverLease(), r.clientLease())) {
                String a = lease.address().getHostAddress();
                int last = Integer.parseInt(a.substring(a.lastIndexOf('.') + 1));
                assertTrue(a.startsWith("10.0.5.") && last >= 100 && last <= 199 && lease.prefixLength() == 24, a);
            }
            assertTrue(!r.serverLease().address().equals(r.clientLease().address()));

            // tshark: no malformed packets, and the protocols the example speaks are all there
            assertEquals("", tshark(tshark, pcap, "_ws.malformed || _ws.expert.severity == error").trim(),
                    "malformed or erroneous packets");
            String http = tshark(tshark, pcap, "http");
            assertTrue(http.contains("GET / HTTP/1.1") && http.contains("HTTP/1.1 200 OK"), http);
            String dhcp = tshark(tshark, pcap, "dhcp");
            assertTrue(dhcp.contains("DHCP Discover") && dhcp.contains("DHCP Offer") && dhcp.contains("DHCP Request")
                    && dhcp.contains("DHCP ACK"), dhcp);
            assertTrue(!tshark(tshark, pcap, "arp").isBlank(), "ARP resolved the hosts");
            String syn = tshark(tshark, pcap, "tcp.flags.syn == 1 && tcp.flags.ack == 0");
            assertTrue(syn.contains("→ 80") || syn.contains("80 ["), syn);
            String fin = tshark(tshark, pcap, "tcp.flags.fin == 1");
            assertTrue(!fin.isBlank(), "the connection closed with FIN");
            assertEquals("", tshark(tshark, pcap, "tcp.flags.reset == 1").trim(), "no RST");
        } finally {
            Files.deleteIfExists(pcap);
            Files.deleteIfExists(dir);
        }
    }

    private static String tshark(String tshark, Path pcap, String filter) throws Exception {
        // stdout only: as root, tshark warns on stderr
        Process p = new ProcessBuilder(tshark, "-r", pcap.toString(), "-Y", filter)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "tshark finished");
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}

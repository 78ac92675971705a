package dev.pktkit.openvpn.interop;

import dev.pktkit.openvpn.OpenVpnClientChannel;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TAP mode: the stock client ({@code dev tap}) connects over UDP with tls-crypt, gets a tap device with its
 * pushed address, resolves the server side by ARP through the tunnel (our client channel is a port of an
 * {@code L2Hub} together with a kernel TAP in the other namespace), pings it and moves 16 MiB, SHA-256 checked.
 */
class StockClientTapTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    @Test
    void tapClientArpsPingsAndTransfersThroughAnL2Hub() throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            f.tap = true;
            f.startServer(b -> {
                try {
                    return b.dataCiphers("AES-256-GCM").tlsCrypt(StaticKey.parse(Files.readString(f.pki.staticKey)));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            f.startClient(f.profile("udp", "tls-crypt " + f.pki.staticKey));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            assertTrue(f.clientLog().contains("TUN/TAP device tap"), f.clientLog());
            CommandResult ping = f.inOuter(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
            assertEquals(0, ping.exit(), ping.output() + f.clientLog() + f.server.drops());
            // the client learnt the server side's MAC by ARP through the tunnel: the kernel TAP's own address
            String serverMac = f.inner.exec(java.time.Duration.ofSeconds(10), "cat",
                    "/sys/class/net/" + f.tapDevice.link().name() + "/address").output().trim();
            CommandResult neigh = f.inOuter(10, "ip", "neigh", "show", TunnelFixture.SERVER_V4);
            assertTrue(neigh.output().contains("lladdr " + serverMac), neigh.output() + " vs " + serverMac);
            TunnelFixture.Payload data = f.payload(16);
            assertEquals(data.sha256(), f.transferToInner(data, TunnelFixture.SERVER_V4), "16 MiB through the tunnel");
            List<OpenVpnClientChannel> clients = f.udp.eventLoop().submit(f.server::clientChannels).get();
            assertEquals(1, clients.size());
            assertEquals("10.8.0.2", clients.get(0).tunnelAddress().getHostAddress());
        }
    }
}

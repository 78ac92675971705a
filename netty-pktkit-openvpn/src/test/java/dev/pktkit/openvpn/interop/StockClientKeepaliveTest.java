package dev.pktkit.openvpn.interop;

import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * keepalive both ways with the pushed {@code ping 1, ping-restart 2}: a client that goes silent (SIGSTOP) is
 * dropped by the server after twice ping-restart; when it resumes, its own ping-restart fires (the server no
 * longer knows it) and it reconnects with a fresh session and passes traffic again.
 */
class StockClientKeepaliveTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    @Test
    void silentClientIsDroppedAndReconnectsAfterItsPingRestart() throws Exception {
        try (TunnelFixture f = new TunnelFixture(dir)) {
            f.startServer(b -> b.keepalive(1, 2));
            f.startClient(f.profile(""));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            assertEquals(1, f.clientCount());
            long pid = f.client.pid();
            Runtime.getRuntime().exec(new String[] {"kill", "-STOP", Long.toString(pid)}).waitFor();
            try {
                f.waitFor(() -> f.clientCount() == 0, 15, "the server to drop the silent client");
            } finally {
                Runtime.getRuntime().exec(new String[] {"kill", "-CONT", Long.toString(pid)}).waitFor();
            }
            f.waitFor(() -> f.clientCount() == 1 && f.sessionsCreated() >= 2, 30, "the client to reconnect");
            f.awaitClientLog("Inactivity timeout (--ping-restart)", 5);
            f.waitFor(() -> {
                try {
                    String log = f.clientLog();
                    return log.indexOf("Initialization Sequence Completed")
                            < log.lastIndexOf("Initialization Sequence Completed");
                } catch (java.io.IOException e) {
                    return false;
                }
            }, 30, "the client's second Initialization Sequence Completed");
            CommandResult ping = f.inOuter(30, "ping", "-c", "2", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
            assertEquals(0, ping.exit(), ping.output() + f.clientLog());
            assertTrue(f.sessionsCreated() >= 2);
        }
    }
}

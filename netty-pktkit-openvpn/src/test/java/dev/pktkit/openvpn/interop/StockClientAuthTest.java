package dev.pktkit.openvpn.interop;

import dev.pktkit.openvpn.OpenVpnAuthenticator;
import dev.pktkit.openvpn.OpenVpnCredentials;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code auth-user-pass} from the stock client through an asynchronous authenticator that answers from another
 * thread: the right password connects and passes traffic; a wrong one gets {@code AUTH_FAILED}, the client gives
 * up (default {@code auth-retry none}) and no client channel is made. The first client's
 * {@code explicit-exit-notify} removes it from the server as soon as it stops.
 */
class StockClientAuthTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        TunnelFixture.assumeUsable();
    }

    private static OpenVpnAuthenticator delayed(ScheduledExecutorService db, AtomicReference<OpenVpnCredentials> seen) {
        return c -> {
            seen.set(c);
            CompletableFuture<Boolean> f = new CompletableFuture<>();
            // a "database" answering later on its own thread: the loop is never blocked
            db.schedule(() -> f.complete(c.username().equals("alice") && c.password().equals("s3cret")),
                    100, TimeUnit.MILLISECONDS);
            return f;
        };
    }

    @Test
    void rightPasswordConnectsWrongPasswordGetsAuthFailed() throws Exception {
        ScheduledExecutorService db = Executors.newSingleThreadScheduledExecutor();
        AtomicReference<OpenVpnCredentials> seen = new AtomicReference<>();
        try (TunnelFixture f = new TunnelFixture(dir)) {
            f.startServer(b -> b.authenticator(delayed(db, seen)));
            Path creds = dir.resolve("creds.txt");
            Files.writeString(creds, "alice\ns3cret\n");
            f.startClient(f.profile("auth-user-pass " + creds + "\nexplicit-exit-notify 1"));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            CommandResult ping = f.inOuter(30, "ping", "-c", "2", "-i", "0.2", "-W", "5", TunnelFixture.SERVER_V4);
            assertEquals(0, ping.exit(), ping.output());
            assertEquals("alice", seen.get().username());
            assertEquals("client", seen.get().commonName());
            assertTrue(seen.get().peerInfo().get("IV_VER").startsWith("2.6"), seen.get().peerInfo().toString());
            f.client.destroy();
            assertTrue(f.client.waitFor(10, TimeUnit.SECONDS));
            // explicit-exit-notify: the client says it is going, and the server drops it at once
            f.waitFor(() -> f.clientCount() == 0, 10, "the exit notification");

            Files.writeString(creds, "alice\nwrong\n");
            f.startClient(f.profile("auth-user-pass " + creds));
            f.awaitClientLog("AUTH_FAILED", 30);
            assertTrue(f.client.waitFor(20, TimeUnit.SECONDS), "the client gave up after AUTH_FAILED");
            assertEquals(1, f.server.authFailures());
            assertEquals(0, f.clientCount());
        } finally {
            db.shutdownNow();
        }
    }
}

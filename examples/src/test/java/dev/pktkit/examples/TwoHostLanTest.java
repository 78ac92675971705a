package dev.pktkit.examples;

import dev.pktkit.testkit.guest.LinuxGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LAN across machines: two {@link TwoHostLan} hosts in two JVM processes, joined by VXLAN over loopback
 * (each the other's peer; told apart by port), with a QEMU guest on each. Host 1 runs the gateway; the guest of
 * host 2 leases from its DHCP server across the tunnel, and the guests ping the gateway and each other.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TwoHostLanTest {
    private static final String MAC1 = "52:54:00:00:03:11";
    private static final String MAC2 = "52:54:00:00:03:12";

    private final List<Host> hosts = new ArrayList<>();
    private Path dir;

    /** One example JVM and what it printed. */
    static final class Host implements AutoCloseable {
        final Process process;
        final List<String> lines = new ArrayList<>();

        Host(List<String> args) throws IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("--enable-native-access=ALL-UNNAMED");
            cmd.add("-cp");
            cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
            cmd.add(TwoHostLan.class.getName());
            cmd.addAll(args);
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (this) {
                            lines.add(line);
                            notifyAll();
                        }
                    }
                } catch (IOException ignored) {
                    // the process went away
                }
            }, "host-output");
            reader.setDaemon(true);
            reader.start();
        }

        /** Waits for a line starting with {@code prefix}; fails with the output after {@code timeout}. */
        synchronized String await(String prefix, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                for (String l : lines) {
                    if (l.startsWith(prefix)) {
                        return l;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || !process.isAlive() && lines.stream().noneMatch(l -> l.startsWith(prefix))) {
                    throw new AssertionError("no '" + prefix + "' line; output:\n" + String.join("\n", lines));
                }
                TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, 500_000_000L));
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy(); // SIGTERM: the example's shutdown hook closes its channels
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Host h : hosts) {
            h.close();
        }
        if (dir != null) {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.bind(new InetSocketAddress("127.0.0.1", 0));
            return ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
    }

    @Test
    void guestsOnTwoHostsLeaseFromOneDhcpServerAndPingAcross() throws Exception {
        dir = Files.createTempDirectory("pktkit-two-hosts");
        int p1 = freeUdpPort();
        int p2 = freeUdpPort();
        Path s1 = dir.resolve("h1.sock");
        Path s2 = dir.resolve("h2.sock");
        Host h1 = new Host(List.of("--bind=127.0.0.1:" + p1, "--peer=127.0.0.1", "--remote-port=" + p2,
                "--socket=" + s1, "--gateway=10.0.3.1/24", "--static-lease=" + MAC1 + "=10.0.3.11",
                "--static-lease=" + MAC2 + "=10.0.3.12", "--seconds=170"));
        hosts.add(h1);
        Host h2 = new Host(List.of("--bind=127.0.0.1:" + p2, "--peer=127.0.0.1", "--remote-port=" + p1,
                "--socket=" + s2, "--seconds=170"));
        hosts.add(h2);
        h1.await("ready", Duration.ofSeconds(30));
        h2.await("ready", Duration.ofSeconds(30));

        String script = """
                udhcpc -i eth0 -n -q -t 10 -T 2
                if ping -c 2 -w 30 10.0.3.1 >/dev/null; then mark gateway ok; else mark gateway fail; fi
                # the other guest may still be booting: busybox ping gives up at the first unanswered ARP
                r=fail
                for i in $(seq 1 40); do
                    if ping -c 1 -W 2 %s >/dev/null 2>&1; then r=ok; break; fi
                    sleep 1
                done
                mark other $r
                sleep 120 # stay up for the other guest's pings; the test stops the guest when it has its markers
                """;
        try (LinuxGuest g1 = LinuxGuest.builder().nic("stream,id=n0,server=off,addr.type=unix,addr.path=" + s1, MAC1)
                .script(script.formatted("10.0.3.12")).start();
             LinuxGuest g2 = LinuxGuest.builder().nic("stream,id=n0,server=off,addr.type=unix,addr.path=" + s2, MAC2)
                     .script(script.formatted("10.0.3.11")).start()) {
            String lease2 = g2.awaitMarker("lease", Duration.ofSeconds(90));
            assertTrue(lease2.startsWith("10.0.3.12/24 router 10.0.3.1"), "host 2's guest leased across: " + lease2);
            String lease1 = g1.awaitMarker("lease", Duration.ofSeconds(90));
            assertTrue(lease1.startsWith("10.0.3.11/24"), lease1);
            assertEquals("ok", g2.awaitMarker("gateway", Duration.ofSeconds(60)), g2.consoleTail());
            assertEquals("ok", g1.awaitMarker("gateway", Duration.ofSeconds(60)), g1.consoleTail());
            assertEquals("ok", g2.awaitMarker("other", Duration.ofSeconds(90)), g2.consoleTail());
            assertEquals("ok", g1.awaitMarker("other", Duration.ofSeconds(90)), g1.consoleTail());
        }
        // each host learned the other's guest behind the tunnel
        h1.await("remote station: VNI 42 " + MAC2, Duration.ofSeconds(10));
        h2.await("remote station: VNI 42 " + MAC1, Duration.ofSeconds(10));
        h1.await("lease: " + MAC2 + " 10.0.3.12", Duration.ofSeconds(10));
    }
}

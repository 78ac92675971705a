package dev.pktkit.testkit.netns;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The namespace fixture against the real {@code ip}: names, veth, commands, time limits, cleanup. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class NetnsTest {
    @RegisterExtension
    final NetnsExtension netns = new NetnsExtension();

    @TempDir
    Path dir;

    @BeforeEach
    void assume() {
        Netns.assumeUsable();
    }

    @Test
    void uniqueNamesLoopbackUpAndEverythingGoneOnClose() throws Exception {
        Netns a = Netns.create();
        Netns b = Netns.create();
        try {
            assertNotEquals(a.name(), b.name());
            assertTrue(a.name().startsWith(Netns.PREFIX + ProcessHandle.current().pid() + "-"), a.name());
            assertTrue(Files.exists(a.path()));
            assertTrue(a.exec("ip", "link", "show", "lo").check().output().contains("UP"));
            a.veth("pkv0", b, "pkv1");
        } finally {
            b.close();
        }
        assertFalse(Files.exists(b.path()), "namespace file removed");
        // the veth went with b: its other end is gone from a
        assertFalse(a.exec("ip", "link", "show", "pkv0").ok());
        Process sleeper = a.start(dir.resolve("sleep.log"), "sleep", "600");
        List<String> order = new ArrayList<>();
        a.closeWith(() -> order.add("first registered"));
        a.closeWith(() -> order.add("last registered"));
        a.close();
        assertFalse(Files.exists(a.path()));
        assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS), "background process killed");
        assertEquals(List.of("last registered", "first registered"), order);
        assertTrue(a.isClosed());
        a.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> a.exec("true"));
    }

    @Test
    void vethPairCarriesTraffic() throws Exception {
        Netns a = netns.create();
        Netns b = netns.create();
        a.veth("pkva", b, "pkvb").addresses("10.201.0.1/24", "10.201.0.2/24").up();
        CommandResult ping = a.exec("ping", "-c", "1", "-W", "5", "10.201.0.2");
        assertTrue(ping.ok(), ping.describe());
        assertTrue(b.exec("ip", "addr", "show", "pkvb").check().output().contains("10.201.0.2/24"));
    }

    @Test
    void commandsAreBoundedAndTheirOutputCaptured() throws Exception {
        Netns a = netns.create();
        CommandResult r = a.exec("sh", "-c", "echo out; echo err >&2; exit 3");
        assertEquals(3, r.exit());
        assertFalse(r.ok());
        assertTrue(r.output().contains("out") && r.output().contains("err"), r.output());
        assertThrows(java.io.IOException.class, r::check);
        CommandResult slow = a.exec(Duration.ofMillis(300), "sleep", "600");
        assertTrue(slow.timedOut());
        assertEquals(-1, slow.exit());
        // commands run inside: the namespace has only its loopback
        String links = a.exec("ip", "-o", "link", "show").check().output();
        assertEquals(1, links.lines().count(), links);
    }

    @Test
    void sysctlIsPerNamespace() throws Exception {
        Netns a = netns.create();
        a.sysctl("net.ipv4.ping_group_range", "0 2147483647");
        assertEquals("0\t2147483647", a.exec("cat", "/proc/sys/net/ipv4/ping_group_range").check().output()
                .strip());
    }

    @Test
    void namespacesOfDeadJvmsAreSwept() throws Exception {
        // pid_max is at most 2^22, so this "JVM" cannot be alive
        String stale = Netns.PREFIX + "999999999-1";
        Netns.runOnHost(Duration.ofSeconds(30), "ip", "netns", "add", stale).check();
        try {
            assertTrue(Netns.sweepStale() >= 1);
            assertFalse(Files.exists(Netns.NAMED_NAMESPACES.resolve(stale)));
        } finally {
            Netns.runOnHost(Duration.ofSeconds(30), "ip", "netns", "del", stale);
        }
        Netns mine = netns.create();
        Netns.sweepStale();
        assertTrue(Files.exists(mine.path()), "a live JVM's namespace is kept");
    }
}

package dev.pktkit.testkit.guest;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guest's shell helpers ({@link LinuxGuest#HELPERS}, udhcpc's script) run on the host by the same busybox the
 * guest boots, with {@code ip} and {@code insmod} replaced by shell functions that log their arguments (a shell
 * function wins over any applet or program, so nothing touches the host's interfaces), and the Java side's
 * marker parser. No VM is started.
 */
class GuestScriptsTest {
    @TempDir
    Path dir;

    private Path log;

    record Run(int status, String stdout, List<String> calls) {
    }

    @BeforeEach
    void busybox() throws IOException {
        Assumptions.assumeTrue(Files.isRegularFile(GuestImage.busybox()),
                "busybox-static is not installed (" + GuestImage.busybox() + "); .ci/run installs it");
        log = dir.resolve("calls");
        Files.writeString(dir.resolve("pktkit.sh"), LinuxGuest.HELPERS);
        Files.writeString(dir.resolve("stubs.sh"), """
                ip() { echo "ip $*" >> "$CALLS"; }
                insmod() { echo "insmod $*" >> "$CALLS"; case "$1" in *bad.ko) return 1 ;; esac; }
                """);
    }

    /** Runs {@code script} (with the helpers and stubs sourced where it sources the helpers) under busybox sh. */
    private Run run(String script, Map<String, String> env, String... args) throws Exception {
        Path file = dir.resolve("script");
        Files.writeString(file, script.replace(". /etc/pktkit.sh",
                ". " + dir.resolve("pktkit.sh") + "; . " + dir.resolve("stubs.sh")));
        ProcessBuilder pb = new ProcessBuilder(GuestImage.busybox().toString(), "sh", file.toString());
        pb.command().addAll(List.of(args));
        pb.environment().clear();
        pb.environment().put("PATH", "/nonexistent");
        pb.environment().put("CALLS", log.toString());
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        List<String> calls = Files.exists(log) ? Files.readAllLines(log) : List.of();
        Files.deleteIfExists(log);
        return new Run(p.exitValue(), out, calls);
    }

    private static LinuxGuest.Marker onlyMarker(String stdout) {
        List<LinuxGuest.Marker> ms = stdout.lines().map(LinuxGuest::parseMarker)
                .filter(java.util.Objects::nonNull).toList();
        assertEquals(1, ms.size(), stdout);
        return ms.get(0);
    }

    @Test
    void markPrintsALineTheParserReadsBack() throws Exception {
        Run r = run(". /etc/pktkit.sh\nmark lease 10.0.2.11/24 router 10.0.2.1\nmark answer\n", Map.of());
        assertEquals(0, r.status());
        assertEquals("PKTKIT lease 10.0.2.11/24 router 10.0.2.1\nPKTKIT answer\n", r.stdout());
        List<LinuxGuest.Marker> ms = r.stdout().lines().map(LinuxGuest::parseMarker).toList();
        assertEquals(List.of(new LinuxGuest.Marker("lease", "10.0.2.11/24 router 10.0.2.1"),
                new LinuxGuest.Marker("answer", "")), ms);
    }

    @Test
    void markerParserSkipsConsoleNoise() {
        assertEquals(new LinuxGuest.Marker("boot", "6.1.0-27-amd64"),
                LinuxGuest.parseMarker("\u001b[2J\u001b[01;01H\u001b[0mPKTKIT boot 6.1.0-27-amd64\r"));
        assertEquals(new LinuxGuest.Marker("ping", "ok"), LinuxGuest.parseMarker("PKTKIT   ping    ok  "));
        assertNull(LinuxGuest.parseMarker("[    1.234] virtio_net virtio0 eth0: renamed"));
        assertNull(LinuxGuest.parseMarker("PKTKIT "));
    }

    @Test
    void boundLeaseIsAppliedRecordedAndMarked() throws Exception {
        Run r = run(LinuxGuest.UDHCPC_SCRIPT, Map.of("interface", "eth0", "ip", "10.0.2.11", "mask", "24",
                "router", "10.0.2.1 10.0.2.254", "dns", "10.0.2.1 10.0.2.3", "PKTKIT_STATE", dir.toString()),
                "bound");
        assertEquals(0, r.status(), r.stdout());
        assertEquals(List.of("ip addr flush dev eth0", "ip addr add 10.0.2.11/24 dev eth0",
                "ip route replace default via 10.0.2.1 dev eth0"), r.calls(), "only the first router is the route");
        assertEquals("10.0.2.1\n", Files.readString(dir.resolve("router")));
        assertEquals(new LinuxGuest.Marker("lease", "10.0.2.11/24 router 10.0.2.1 10.0.2.254 dns 10.0.2.1 10.0.2.3"),
                onlyMarker(r.stdout()));
    }

    @Test
    void renewIsAppliedAsBound() throws Exception {
        Run r = run(LinuxGuest.UDHCPC_SCRIPT, Map.of("interface", "eth1", "ip", "10.0.3.5", "mask", "16",
                "router", "10.0.0.1", "dns", "10.0.0.53", "PKTKIT_STATE", dir.toString()), "renew");
        assertEquals(List.of("ip addr flush dev eth1", "ip addr add 10.0.3.5/16 dev eth1",
                "ip route replace default via 10.0.0.1 dev eth1"), r.calls());
        assertEquals("10.0.3.5/16 router 10.0.0.1 dns 10.0.0.53", onlyMarker(r.stdout()).value());
    }

    @Test
    void leaseWithoutRouterSetsNoRoute() throws Exception {
        Run r = run(LinuxGuest.UDHCPC_SCRIPT, Map.of("interface", "eth0", "ip", "10.0.2.11", "mask", "24",
                "dns", "10.0.2.1", "PKTKIT_STATE", dir.toString()), "bound");
        assertEquals(List.of("ip addr flush dev eth0", "ip addr add 10.0.2.11/24 dev eth0"), r.calls());
        assertFalse(Files.exists(dir.resolve("router")));
        assertEquals("10.0.2.11/24 router dns 10.0.2.1", onlyMarker(r.stdout()).value());
    }

    @Test
    void deconfigFlushesAndOtherEventsDoNothing() throws Exception {
        Map<String, String> env = Map.of("interface", "eth0", "PKTKIT_STATE", dir.toString());
        Run deconfig = run(LinuxGuest.UDHCPC_SCRIPT, env, "deconfig");
        assertEquals(0, deconfig.status());
        assertEquals(List.of("ip addr flush dev eth0"), deconfig.calls());
        assertEquals("", deconfig.stdout());
        for (String event : new String[] {"leasefail", "nak", "unknown"}) {
            Run r = run(LinuxGuest.UDHCPC_SCRIPT, env, event);
            assertEquals(0, r.status(), event);
            assertEquals(List.of(), r.calls(), event);
            assertEquals("", r.stdout(), event);
        }
    }

    @Test
    void modulesLoadInListedOrderAndAFailureIsMarked() throws Exception {
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("order"), "virtio_ring.ko\nbad.ko\n\nvirtio.ko\n");
        Run r = run(". /etc/pktkit.sh\nload_modules " + modules.resolve("order") + "\n", Map.of());
        assertEquals(List.of("insmod " + modules.resolve("virtio_ring.ko"), "insmod " + modules.resolve("bad.ko"),
                "insmod " + modules.resolve("virtio.ko")), r.calls());
        assertEquals(new LinuxGuest.Marker("insmod-failed", "bad.ko"), onlyMarker(r.stdout()));
    }

    @Test
    void linksUpBringsUpEveryEthernetInterfaceOnly() throws Exception {
        Path net = Files.createDirectories(dir.resolve("net"));
        for (String n : new String[] {"eth1", "lo", "eth0", "sit0"}) {
            Files.createDirectory(net.resolve(n));
        }
        Run r = run(". /etc/pktkit.sh\nlinks_up " + net + "\n", Map.of());
        assertEquals(List.of("ip link set eth0 up", "ip link set eth1 up"), r.calls());
        Path none = Files.createDirectories(dir.resolve("none"));
        assertEquals(List.of(), run(". /etc/pktkit.sh\nlinks_up " + none + "\n", Map.of()).calls(),
                "no literal eth* when there is no interface");
    }
}

package dev.pktkit.examples;

import dev.pktkit.testkit.guest.LinuxGuest;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's main example with a real VM: the VM gets a lease from it and pings its gateway. */
class QemuLanTest {
    @Test
    void aVmJoinsTheLanGetsALeaseAndPingsTheGateway() throws Exception {
        Path dir = Files.createTempDirectory("pktkit-example");
        Path socket = dir.resolve("lan.sock");
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CountDownLatch stop = new CountDownLatch(1);
        Thread lan = new Thread(() -> {
            try {
                QemuLan.run(socket, 120, stop);
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "qemu-lan");
        lan.start();
        try {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!Files.exists(socket) && System.nanoTime() < deadline && lan.isAlive()) {
                Thread.sleep(50); // polling for the listener's socket with a deadline
            }
            assertTrue(Files.exists(socket), "the example listens on " + socket);
            String netdev = "stream,id=n0,server=off,addr.type=unix,addr.path=" + socket;
            try (LinuxGuest vm = LinuxGuest.builder().nic(netdev, "52:54:00:12:34:56").script("""
                    udhcpc -i eth0 -n -q -t 5 -T 2
                    if ping -c 2 -w 20 10.0.2.1 >/dev/null; then mark ping ok; else mark ping fail; fi
                    """).start()) {
                String lease = vm.awaitMarker("lease", Duration.ofSeconds(60));
                assertTrue(lease.startsWith("10.0.2.1") && lease.contains("/24 router 10.0.2.1"), lease);
                assertEquals("ok", vm.awaitMarker("ping", Duration.ofSeconds(60)), vm.consoleTail());
            }
        } finally {
            stop.countDown();
            lan.join(20_000);
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
        assertNull(failed.get());
    }
}

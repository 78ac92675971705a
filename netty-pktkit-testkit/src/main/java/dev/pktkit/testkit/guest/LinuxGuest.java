package dev.pktkit.testkit.guest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A real Linux guest under QEMU (TCG) for interop tests: a stock Debian kernel ({@link GuestImage}) and a busybox
 * initramfs that loads the virtio-net driver, brings up {@code lo} and every {@code ethN}, runs the test's shell
 * script, and powers off. Each NIC is a QEMU socket netdev ({@code -netdev stream|dgram|socket,...}) the test
 * points at its own Java transport.
 *
 * <p>The script reports results as console lines {@code PKTKIT <key> <value...>} ({@code mark key value} in
 * the script); {@link #awaitMarker} waits for one. The guest's default DHCP script
 * ({@code /etc/udhcpc/default.script}, used by {@code udhcpc}) applies the lease with {@code ip} and marks
 * {@code lease <ip>/<prefix> router <r> dns <d...>}; the router is also written to {@code /tmp/router}. The init
 * marks {@code boot <kernel release>} before and {@code exit <status>} after the script.
 *
 * <pre>{@code
 * try (LinuxGuest g = LinuxGuest.builder()
 *         .nic(QemuNetdev.streamArgument("n0", address), "52:54:00:12:34:56")
 *         .script("udhcpc -i eth0 -n -q -t 5 -T 1 && ping -c 3 -W 2 $(cat /tmp/router) && mark ping ok")
 *         .start()) {
 *     assertEquals("ok", g.awaitMarker("ping", Duration.ofSeconds(60)));
 * }
 * }</pre>
 *
 * A script that must stay up until the test is done (to answer the other side) can end with {@code read x}:
 * the console is its standard input, and {@link #close()} ends the guest.
 *
 * <p>Start the host side of each netdev first: QEMU 7.2's stream client neither retries nor reports a failed
 * connect. {@link #close()} kills QEMU if it still runs and deletes the guest's files.
 */
public final class LinuxGuest implements AutoCloseable {
    /** A marker line the guest printed. */
    public record Marker(String key, String value) {
    }

    private final Process qemu;
    private final Path dir;
    private final List<Marker> markers = new ArrayList<>();
    private final Deque<String> tail = new ArrayDeque<>();
    private final Thread reader;

    private LinuxGuest(Process qemu, Path dir) {
        this.qemu = qemu;
        this.dir = dir;
        this.reader = new Thread(this::readConsole, "guest-console-" + qemu.pid());
        reader.setDaemon(true);
        reader.start();
    }

    public static Builder builder() {
        return new Builder();
    }

    private void readConsole() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(qemu.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (this) {
                    tail.addLast(line);
                    if (tail.size() > 200) {
                        tail.removeFirst();
                    }
                    int at = line.indexOf("PKTKIT ");
                    if (at >= 0) {
                        String rest = line.substring(at + 7).strip();
                        int sp = rest.indexOf(' ');
                        markers.add(sp < 0 ? new Marker(rest, "") : new Marker(rest.substring(0, sp),
                                rest.substring(sp + 1).strip()));
                    }
                    notifyAll();
                }
            }
        } catch (IOException ignored) {
            // QEMU went away
        }
    }

    /** Every marker so far, in order. */
    public synchronized List<Marker> markers() {
        return List.copyOf(markers);
    }

    /** The last lines of the console (for failure messages). */
    public synchronized String consoleTail() {
        return String.join("\n", tail);
    }

    /**
     * The value of the first marker {@code key}; waits up to {@code timeout}.
     *
     * @throws AssertionError on timeout or when QEMU exits first, with the console's tail
     */
    public String awaitMarker(String key, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (true) {
                for (Marker m : markers) {
                    if (m.key().equals(key)) {
                        return m.value();
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!qemu.isAlive() && !reader.isAlive())) {
                    throw new AssertionError("no marker '" + key + "' from the guest"
                            + (qemu.isAlive() ? " within " + timeout : " (QEMU exited)") + "; console:\n"
                            + consoleTail());
                }
                TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
            }
        }
    }

    /** Waits for QEMU to exit (the script ended and the guest powered off); returns its exit code. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!qemu.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new AssertionError("guest still running after " + timeout + "; console:\n" + consoleTail());
        }
        reader.join(TimeUnit.SECONDS.toMillis(5));
        return qemu.exitValue();
    }

    @Override
    public void close() {
        qemu.destroyForcibly();
        try {
            qemu.waitFor(10, TimeUnit.SECONDS);
            reader.join(TimeUnit.SECONDS.toMillis(5));
            GuestImage.deleteTree(dir);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** What to boot. */
    public static final class Builder {
        private final List<String[]> nics = new ArrayList<>();
        private String script = "true";
        private int memoryMb = 256;

        private Builder() {
        }

        /**
         * Adds a NIC: {@code netdev} is QEMU's {@code -netdev} value, which must carry an {@code id=}; the NIC is
         * {@code virtio-net-pci} with MAC {@code mac} (e.g. {@code 52:54:00:12:34:56}). NICs appear as
         * eth0, eth1, ... in the order added.
         */
        public Builder nic(String netdev, String mac) {
            String id = null;
            for (String part : netdev.split(",")) {
                if (part.startsWith("id=")) {
                    id = part.substring(3);
                }
            }
            if (id == null || !mac.matches("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}")) {
                throw new IllegalArgumentException("netdev needs id=, mac must be aa:bb:cc:dd:ee:ff: " + netdev
                        + " " + mac);
            }
            nics.add(new String[] {netdev, id, mac});
            return this;
        }

        /** The shell script the guest runs (busybox sh); {@code mark key value} prints a marker. */
        public Builder script(String script) {
            this.script = Objects.requireNonNull(script);
            return this;
        }

        public Builder memoryMb(int mb) {
            this.memoryMb = mb;
            return this;
        }

        /**
         * Builds the initramfs and starts QEMU. Skips the calling test when QEMU, busybox-static, cpio, xz or the
         * kernel package is unavailable.
         */
        public LinuxGuest start() throws IOException, InterruptedException {
            GuestImage image = GuestImage.get();
            Path dir = Files.createTempDirectory("pktkit-guest");
            try {
                Path initrd = initramfs(image, dir);
                List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-accel", "tcg", "-m",
                        Integer.toString(memoryMb), "-nographic", "-no-reboot",
                        "-kernel", image.kernel.toString(), "-initrd", initrd.toString(), "-append",
                        "console=ttyS0 quiet panic=-1"));
                for (String[] n : nics) {
                    cmd.addAll(List.of("-netdev", n[0], "-device", "virtio-net-pci,netdev=" + n[1] + ",mac=" + n[2]
                            + ",romfile="));
                }
                Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                return new LinuxGuest(qemu, dir);
            } catch (IOException | RuntimeException e) {
                GuestImage.deleteTree(dir);
                throw e;
            }
        }

        private Path initramfs(GuestImage image, Path dir) throws IOException, InterruptedException {
            Path root = dir.resolve("root");
            for (String d : new String[] {"bin", "sbin", "etc/udhcpc", "proc", "sys", "dev", "tmp", "modules"}) {
                Files.createDirectories(root.resolve(d));
            }
            Files.copy(GuestImage.busybox(), root.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
            StringBuilder load = new StringBuilder();
            for (Path m : image.modules) {
                Files.copy(m, root.resolve("modules").resolve(m.getFileName()));
                load.append("insmod /modules/").append(m.getFileName()).append('\n');
            }
            executable(root.resolve("init"), """
                    #!/bin/busybox sh
                    /bin/busybox --install -s /bin
                    export PATH=/bin
                    mount -t proc proc /proc
                    mount -t sysfs sys /sys
                    mount -t devtmpfs dev /dev
                    mark() { echo "PKTKIT $*"; }
                    """ + load + """
                    ip link set lo up
                    for n in /sys/class/net/eth*; do ip link set "${n##*/}" up; done
                    mark boot "$(uname -r)"
                    sh /script.sh
                    mark exit "$?"
                    poweroff -f
                    """);
            executable(root.resolve("etc/udhcpc/default.script"), """
                    #!/bin/sh
                    case "$1" in
                      deconfig) ip addr flush dev "$interface" ;;
                      bound|renew)
                        ip addr flush dev "$interface"
                        ip addr add "$ip/$mask" dev "$interface"
                        for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
                        for r in $router; do echo "$r" > /tmp/router; break; done
                        echo "PKTKIT lease $ip/$mask router $router dns $dns"
                        ;;
                    esac
                    exit 0
                    """);
            executable(root.resolve("script.sh"), "mark() { echo \"PKTKIT $*\"; }\n" + script + "\n");
            Path out = dir.resolve("initrd.gz");
            GuestImage.run(root, 60, "sh", "-c", "find . | cpio -o -H newc --quiet | gzip -1 > " + out);
            return out;
        }

        private static void executable(Path p, String text) throws IOException {
            Files.writeString(p, text);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }
}

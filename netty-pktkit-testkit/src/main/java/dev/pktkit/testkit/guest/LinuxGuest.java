package dev.pktkit.testkit.guest;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * A real Linux guest under QEMU (TCG) for interop tests: a stock Debian kernel ({@link GuestImage}) and a busybox
 * initramfs that loads the virtio-net driver (modules in {@code depends=} order, {@link GuestImage}), brings up
 * {@code lo} and every {@code ethN}, runs the test's shell script, and powers off. The initramfs is a gzipped newc
 * cpio archive written in Java ({@code CpioWriter}, {@code java.util.zip}; no {@code cpio} process). Each NIC
 * is a QEMU socket netdev ({@code -netdev stream|dgram|socket,...}) the test points at its own Java transport.
 *
 * <p>The script reports results as console lines {@code PKTKIT <key> <value...>} ({@code mark key value} in
 * the script); {@link #awaitMarker} waits for one. The shell helpers ({@code HELPERS}, {@code /etc/pktkit.sh},
 * sourced by {@code /init}, the test's script and udhcpc's script) are {@code mark}, {@code load_modules},
 * {@code links_up} and {@code udhcpc_event}: the guest's DHCP script ({@code /etc/udhcpc/default.script}, used by
 * {@code udhcpc}) applies the lease with {@code ip} and marks {@code lease <ip>/<prefix> router <r...> dns <d...>};
 * the first router is also written to {@code /tmp/router}. A module that fails to load is marked
 * {@code insmod-failed <file>}. The init marks {@code boot <kernel release>} before and {@code exit <status>}
 * after the script.
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

    /** What {@code mark} prints before its arguments. */
    static final String MARKER_PREFIX = "PKTKIT ";

    /**
     * The guest's shell helpers ({@code /etc/pktkit.sh}), sourced by {@code /init}, by the test's script and by
     * udhcpc's script; {@code GuestScriptsTest} runs them on the host with busybox and stand-ins for
     * {@code ip} and {@code insmod}.
     */
    static final String HELPERS = """
            # Shell helpers of the pktkit test guest (busybox sh).

            # mark KEY [VALUE...]: a marker line on the console ("PKTKIT KEY VALUE..."), for LinuxGuest.awaitMarker.
            mark() { echo "PKTKIT $*"; }

            # load_modules LIST: insmod each module file LIST names (one per line, in load order, beside LIST);
            # a module that fails to load is marked "insmod-failed NAME" and the rest still load.
            load_modules() {
              while read -r m; do
                [ -n "$m" ] || continue
                insmod "${1%/*}/$m" || mark insmod-failed "$m"
              done < "$1"
            }

            # links_up [DIR]: brings up every ethN interface listed in DIR (default /sys/class/net).
            links_up() {
              for n in "${1:-/sys/class/net}"/eth*; do
                [ -e "$n" ] || continue
                ip link set "${n##*/}" up
              done
            }

            # udhcpc_event EVENT: applies what udhcpc passes in its environment ($interface, $ip, $mask, $router,
            # $dns) with ip; on bound/renew the first router becomes the default route and goes to
            # ${PKTKIT_STATE:-/tmp}/router, and the lease is marked "lease IP/MASK router R... dns D...".
            udhcpc_event() {
              case "$1" in
                deconfig) ip addr flush dev "$interface" ;;
                bound|renew)
                  ip addr flush dev "$interface"
                  ip addr add "$ip/$mask" dev "$interface"
                  for r in $router; do
                    ip route replace default via "$r" dev "$interface"
                    echo "$r" > "${PKTKIT_STATE:-/tmp}/router"
                    break
                  done
                  mark lease "$ip/$mask" router $router dns $dns
                  ;;
              esac
              return 0
            }
            """;

    /** The guest's {@code /init}: mounts, modules, links, the test's script, power off. */
    static final String INIT = """
            #!/bin/busybox sh
            /bin/busybox --install -s /bin
            export PATH=/bin
            mount -t proc proc /proc
            mount -t sysfs sys /sys
            mount -t devtmpfs dev /dev
            . /etc/pktkit.sh
            load_modules /modules/order
            ip link set lo up
            links_up
            mark boot "$(uname -r)"
            sh /script.sh
            mark exit "$?"
            poweroff -f
            """;

    /** udhcpc's script, at the path Debian's busybox looks for. */
    static final String UDHCPC_SCRIPT = """
            #!/bin/sh
            . /etc/pktkit.sh
            udhcpc_event "$1"
            """;

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
                    Marker m = parseMarker(line);
                    if (m != null) {
                        markers.add(m);
                    }
                    notifyAll();
                }
            }
        } catch (IOException ignored) {
            // QEMU went away
        }
    }

    /**
     * The marker in a console line, or null: the text after {@value #MARKER_PREFIX} (anywhere in the line, since
     * SeaBIOS's escape codes can precede it), split at the first space into key and value, both stripped.
     */
    static Marker parseMarker(String line) {
        int at = line.indexOf(MARKER_PREFIX);
        if (at < 0) {
            return null;
        }
        String rest = line.substring(at + MARKER_PREFIX.length()).strip();
        if (rest.isEmpty()) {
            return null;
        }
        int sp = rest.indexOf(' ');
        return sp < 0 ? new Marker(rest, "") : new Marker(rest.substring(0, sp), rest.substring(sp + 1).strip());
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
        private final List<Path> hostPrograms = new ArrayList<>();
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

        /**
         * Adds the host's program {@code name} (found in {@code /usr/bin}, {@code /bin}, {@code /usr/sbin} or
         * {@code /sbin}) to the guest's {@code /bin}, with the shared libraries and loader that {@code ldd} lists
         * at their own paths, for what busybox lacks (a UDP server, for one). Skips the calling test when the
         * program is not installed; {@code debianPackage} names the package that has it. The guest has no
         * {@code ld.so.cache}: libraries are found in the loader's built-in directories (Debian's multiarch
         * {@code /lib/x86_64-linux-gnu} among them), and what a program loads with {@code dlopen} is not copied.
         */
        public Builder hostProgram(String name, String debianPackage) {
            Path found = null;
            for (String dir : new String[] {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    found = p;
                    break;
                }
            }
            org.junit.jupiter.api.Assumptions.assumeTrue(found != null,
                    name + " is not installed (Debian package " + debianPackage + ")");
            hostPrograms.add(found);
            return this;
        }

        /**
         * The absolute paths of the libraries and loader in {@code ldd}'s output, in order: for
         * {@code name => /path}, the path; for a line naming an absolute path on its left (the loader, which some
         * systems print as {@code /lib64/ld.so => /usr/lib64/ld.so}), that too, as the program's ELF interpreter
         * field names it. A static program ({@code not a dynamic executable}) has none.
         *
         * @throws IllegalStateException for a library {@code ldd} could not find (the program would fail in the
         *         guest)
         */
        static List<String> lddPaths(String lddOutput) {
            List<String> paths = new ArrayList<>();
            for (String line : lddOutput.split("\n")) {
                String l = line.trim();
                if (l.endsWith("=> not found")) {
                    throw new IllegalStateException("ldd: " + l);
                }
                int paren = l.lastIndexOf(" (");
                String spec = paren >= 0 ? l.substring(0, paren) : l;
                int arrow = spec.indexOf(" => ");
                String left = arrow >= 0 ? spec.substring(0, arrow) : spec;
                String right = arrow >= 0 ? spec.substring(arrow + 4) : "";
                for (String path : new String[] {left, right}) {
                    if (path.startsWith("/") && !paths.contains(path)) {
                        paths.add(path);
                    }
                }
            }
            return paths;
        }

        public Builder memoryMb(int mb) {
            this.memoryMb = mb;
            return this;
        }

        /**
         * Builds the initramfs and starts QEMU. Skips the calling test when QEMU, busybox-static, xz or the
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

        /**
         * Writes the guest's initramfs: a gzipped newc cpio archive ({@link CpioWriter}, {@code java.util.zip})
         * of busybox, the helpers, {@code /init}, udhcpc's script, the test's script and the NIC modules with
         * their load order ({@code /modules/order}).
         */
        private Path initramfs(GuestImage image, Path dir) throws IOException {
            Path out = dir.resolve("initrd.gz");
            StringBuilder order = new StringBuilder();
            try (CpioWriter cpio = new CpioWriter(new GZIPOutputStream(new BufferedOutputStream(
                    Files.newOutputStream(out), 1 << 16), 1 << 16) {
                {
                    def.setLevel(Deflater.BEST_SPEED);
                }
            })) {
                for (String d : new String[] {"bin", "sbin", "etc", "etc/udhcpc", "proc", "sys", "dev", "tmp",
                        "modules"}) {
                    cpio.directory(d, 0755);
                }
                cpio.characterDevice("dev/console", 0600, 5, 1);
                cpio.file("bin/busybox", 0755, Files.readAllBytes(GuestImage.busybox()));
                cpio.file("etc/pktkit.sh", 0644, utf8(HELPERS));
                cpio.file("init", 0755, utf8(INIT));
                cpio.file("etc/udhcpc/default.script", 0755, utf8(UDHCPC_SCRIPT));
                cpio.file("script.sh", 0755, utf8(". /etc/pktkit.sh\n" + script + "\n"));
                for (Path m : image.modules) {
                    String name = m.getFileName().toString();
                    cpio.file("modules/" + name, 0644, Files.readAllBytes(m));
                    order.append(name).append('\n');
                }
                cpio.file("modules/order", 0644, utf8(order.toString()));
                Set<String> dirs = new HashSet<>(List.of("bin", "sbin", "etc", "tmp"));
                for (Path program : hostPrograms) {
                    cpio.file("bin/" + program.getFileName(), 0755, Files.readAllBytes(program));
                    for (String lib : lddPaths(ldd(program))) {
                        String name = lib.substring(1);
                        for (int i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
                            if (dirs.add(name.substring(0, i))) {
                                cpio.directory(name.substring(0, i), 0755);
                            }
                        }
                        if (dirs.add(name)) { // a library two programs share is written once
                            cpio.file(name, 0755, Files.readAllBytes(Path.of(lib)));
                        }
                    }
                }
            }
            return out;
        }

        /** {@code ldd program}'s output (empty for a static program); an {@link IOException} when it fails. */
        private static String ldd(Path program) throws IOException {
            Process p = new ProcessBuilder("ldd", program.toString()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                if (p.waitFor() != 0) {
                    if (output.contains("not a dynamic executable")) {
                        return "";
                    }
                    throw new IOException("ldd " + program + " failed: " + output);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            return output;
        }

        private static byte[] utf8(String s) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
    }
}

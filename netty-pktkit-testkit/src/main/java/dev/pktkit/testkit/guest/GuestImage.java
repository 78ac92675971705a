package dev.pktkit.testkit.guest;

import dev.pktkit.testkit.Tools;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The parts of a minimal Linux guest that every guest shares, built once from Debian packages and cached: the
 * stock Debian kernel (as an uncompressed ELF {@code vmlinux} when it can be extracted, which boots about twice as
 * fast under TCG as the compressed bzImage) and the modules its virtio NIC needs: {@link #ROOT_MODULES} and
 * everything their {@code depends=} fields name, transitively, read from each module's {@code .modinfo} section
 * ({@link KernelModule}); {@link #modules} lists them in load order (dependencies first).
 *
 * <p>Cache: {@code $PKTKIT_GUEST_CACHE}, else {@code ~/.cache/netty-pktkit/guest}, one folder per kernel
 * package; built in a temporary folder and renamed into place, under a file lock, so concurrent JVMs agree.
 */
public final class GuestImage {
    /**
     * The modules the guest's NIC needs, without their dependencies: the virtio PCI transport and the virtio-net
     * driver (Debian builds both as modules).
     */
    static final List<String> ROOT_MODULES = List.of("virtio_pci", "virtio_net");
    private static final byte[] XZ_MAGIC = {(byte) 0xFD, '7', 'z', 'X', 'Z', 0};

    private static GuestImage cached;

    /** The kernel to boot: {@code vmlinux} (ELF) or the bzImage. */
    public final Path kernel;
    /** The NIC modules in load order. */
    public final List<Path> modules;
    /** The kernel package the image came from. */
    public final String kernelPackage;

    private GuestImage(Path kernel, List<Path> modules, String kernelPackage) {
        this.kernel = kernel;
        this.modules = modules;
        this.kernelPackage = kernelPackage;
    }

    /**
     * The image, built on first use; skips the calling test (JUnit assumption) when a tool or the kernel package
     * is unavailable.
     */
    public static synchronized GuestImage get() throws IOException, InterruptedException {
        if (cached != null) {
            return cached;
        }
        Tools.assumeCommand("qemu-system-x86_64", "qemu-system-x86");
        Tools.assumeCommand("apt-get", "apt");
        Tools.assumeCommand("apt-cache", "apt");
        Tools.assumeCommand("dpkg", "dpkg");
        Tools.assumeCommand("xz", "xz-utils");
        Assumptions.assumeTrue(Files.isRegularFile(busybox()), "busybox-static is not installed ("
                + busybox() + "); .ci/run installs it");
        String pkg = kernelPackage();
        Path root = cacheRoot();
        Files.createDirectories(root);
        Path dir = root.resolve(pkg);
        try (FileChannel lockFile = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
            if (!Files.isRegularFile(dir.resolve("ready"))) {
                build(pkg, root, dir);
            }
        }
        List<KernelModule> available = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir.resolve("modules"))) {
            for (Path ko : s.filter(p -> p.getFileName().toString().endsWith(".ko")).sorted().toList()) {
                available.add(KernelModule.read(ko));
            }
        }
        List<Path> mods = new ArrayList<>();
        for (KernelModule m : KernelModule.loadOrder(available, ROOT_MODULES)) {
            mods.add(m.file());
        }
        Path vmlinux = dir.resolve("vmlinux");
        cached = new GuestImage(Files.exists(vmlinux) ? vmlinux : dir.resolve("vmlinuz"), List.copyOf(mods), pkg);
        return cached;
    }

    /** Busybox, statically linked (the Debian package busybox-static puts it here). */
    static Path busybox() {
        return Path.of("/bin/busybox");
    }

    static Path cacheRoot() {
        String env = System.getenv("PKTKIT_GUEST_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "netty-pktkit", "guest");
    }

    /** The versioned package behind {@code linux-image-amd64}, e.g. {@code linux-image-6.1.0-56-amd64}. */
    private static String kernelPackage() throws IOException, InterruptedException {
        String out = run(Path.of("."), 60, "apt-cache", "depends", "linux-image-amd64");
        for (String line : out.split("\n")) {
            line = line.trim();
            if (line.startsWith("Depends: linux-image-")) {
                return line.substring("Depends: ".length()).trim();
            }
        }
        Assumptions.abort("no kernel package behind linux-image-amd64: " + out);
        return null;
    }

    private static void build(String pkg, Path root, Path dir) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory(root, "build-");
        try {
            String got;
            try {
                got = run(work, 300, "apt-get", "download", pkg);
            } catch (IOException e) {
                Assumptions.abort("could not download " + pkg + " with apt-get: " + e.getMessage());
                return;
            }
            Path deb;
            try (Stream<Path> s = Files.list(work)) {
                deb = s.filter(p -> p.getFileName().toString().endsWith(".deb")).findFirst().orElse(null);
            }
            Assumptions.assumeTrue(deb != null, "could not download " + pkg + ": " + got);
            Path x = work.resolve("x");
            run(work, 300, "dpkg", "-x", deb.toString(), x.toString());
            Path out = work.resolve("image");
            Files.createDirectories(out.resolve("modules"));
            Path vmlinuz;
            try (Stream<Path> s = Files.list(x.resolve("boot"))) {
                vmlinuz = s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst()
                        .orElseThrow(() -> new IOException("no vmlinuz in " + deb));
            }
            Files.copy(vmlinuz, out.resolve("vmlinuz"));
            extractVmlinux(vmlinuz, out.resolve("vmlinux"));
            Path modRoot;
            try (Stream<Path> s = Files.list(x.resolve("lib/modules"))) {
                modRoot = s.findFirst().orElseThrow(() -> new IOException("no modules in " + deb));
            }
            for (KernelModule m : neededModules(modRoot)) {
                Files.copy(m.file(), out.resolve("modules").resolve(m.name() + ".ko"));
            }
            Files.writeString(out.resolve("ready"), pkg + "\n");
            if (Files.exists(dir)) {
                deleteTree(dir);
            }
            Files.move(out, dir, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            deleteTree(work);
        }
    }

    /**
     * {@link #ROOT_MODULES} and, transitively, every module their {@code depends=} fields name, found by file name
     * under {@code modRoot} (a kernel's {@code lib/modules/<release>}). Only the needed modules are read.
     *
     * @throws IOException if one is missing (for example compressed, {@code .ko.xz}, which this does not read)
     */
    static List<KernelModule> neededModules(Path modRoot) throws IOException {
        Map<String, Path> files = new HashMap<>();
        try (Stream<Path> s = Files.walk(modRoot)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".ko")).toList()) {
                String n = p.getFileName().toString();
                files.putIfAbsent(KernelModule.normalise(n.substring(0, n.length() - 3)), p);
            }
        }
        Map<String, KernelModule> needed = new LinkedHashMap<>();
        Deque<String> todo = new ArrayDeque<>(ROOT_MODULES);
        while (!todo.isEmpty()) {
            String name = KernelModule.normalise(todo.removeFirst());
            if (needed.containsKey(name)) {
                continue;
            }
            Path ko = files.get(name);
            if (ko == null) {
                throw new IOException("module " + name + " (needed by the guest's NIC) is not under " + modRoot
                        + " as " + name + ".ko");
            }
            KernelModule m = KernelModule.read(ko);
            needed.put(name, m);
            todo.addAll(m.depends());
        }
        return KernelModule.loadOrder(needed.values(), ROOT_MODULES);
    }

    /**
     * Extracts the ELF kernel from a bzImage whose payload is XZ-compressed (Debian's): finds the XZ stream and
     * decompresses it with {@code xz}, keeping the result only if it is an ELF file.
     */
    static void extractVmlinux(Path bzImage, Path vmlinux) throws IOException, InterruptedException {
        byte[] img = Files.readAllBytes(bzImage);
        for (int at = indexOf(img, XZ_MAGIC, 0); at >= 0; at = indexOf(img, XZ_MAGIC, at + 1)) {
            Path tmp = vmlinux.resolveSibling("vmlinux.tmp");
            Process p = new ProcessBuilder("xz", "-dc").redirectOutput(tmp.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(img, at, img.length - at);
            } catch (IOException ignored) {
                // xz stops reading at the end of the stream; the rest of the image is not XZ
            }
            p.waitFor(120, TimeUnit.SECONDS);
            byte[] head = new byte[4];
            try (InputStream r = Files.newInputStream(tmp)) {
                if (r.read(head) == 4 && head[0] == 0x7F && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') {
                    Files.move(tmp, vmlinux, StandardCopyOption.REPLACE_EXISTING);
                    return;
                }
            }
            Files.deleteIfExists(tmp);
        }
        // No ELF found: the guest boots the compressed bzImage (slower, still correct).
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    static String run(Path cwd, int seconds, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", cmd));
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + text);
        }
        return text;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

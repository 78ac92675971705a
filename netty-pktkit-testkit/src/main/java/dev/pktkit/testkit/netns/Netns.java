package dev.pktkit.testkit.netns;

import dev.pktkit.testkit.Tools;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A network namespace a test creates ({@code ip netns add}) and removes, with what runs and lives in it.
 *
 * <ul>
 *   <li>Names are unique: {@code pktt-PID-N}, with the JVM's process id, so tests running in parallel JVMs never
 *       collide, and namespaces left by a JVM that died (killed at a timeout) are recognised and removed by the
 *       next {@link #create()} on this machine.</li>
 *   <li>{@link #exec} runs a command inside (through {@code ip netns exec}) with a time limit (default
 *       {@link #DEFAULT_TIMEOUT}), killing it and its children when the limit passes, and returns its exit status
 *       and merged output ({@link CommandResult}); {@link #start} runs one in the background until
 *       {@link #close()}.</li>
 *   <li>{@link #veth} makes a veth pair between this namespace and another (or the JVM's).</li>
 *   <li>{@link #closeWith} registers something to close before the namespace goes (a channel, a handle on the
 *       namespace).</li>
 *   <li>{@link #close()} closes the registered resources (last first), kills every process in the namespace
 *       (also those it did not start), and deletes the namespace, which removes its devices, addresses and
 *       routes. A JVM shutdown hook deletes namespaces a test forgot; {@link NetnsExtension} closes those of a
 *       test after it, passed or failed.</li>
 * </ul>
 *
 * <pre>{@code
 * Netns.assumeUsable();                       // skips without root or iproute2
 * try (Netns a = Netns.create(); Netns b = Netns.create()) {
 *     a.veth("va", b, "vb").addresses("10.1.0.1/24", "10.1.0.2/24").up();
 *     a.exec("ping", "-c", "1", "-W", "5", "10.1.0.2").check();
 * }
 * }</pre>
 *
 * Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and {@code ip} from iproute2. Thread-safe.
 */
public final class Netns implements AutoCloseable {
    /** Prefix of every namespace this class creates. */
    public static final String PREFIX = "pktt-";
    /** Time limit of {@link #exec(String...)}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** Where {@code ip netns} keeps named namespaces. */
    public static final Path NAMED_NAMESPACES = Path.of("/run/netns");

    private static final Pattern OURS = Pattern.compile(Pattern.quote(PREFIX) + "(\\d+)-\\d+");
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Set<Netns> LIVE = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean SWEPT = new AtomicBoolean();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (Netns ns : LIVE) {
                try {
                    ns.close();
                } catch (Exception ignored) {
                    // best effort at JVM exit
                }
            }
        }, "netns-cleanup"));
    }

    private final String name;
    private final List<Process> started = new ArrayList<>();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private boolean closed;

    private Netns(String name) {
        this.name = name;
    }

    /**
     * Skips the calling test (JUnit {@link Assumptions}) unless namespaces can be made here: Linux, root, and
     * {@code ip} installed.
     */
    public static void assumeUsable() {
        Assumptions.assumeTrue(System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT)
                .startsWith("linux"), "network namespaces need Linux");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "creating network namespaces needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)");
        Tools.assumeCommand("ip", "iproute2");
    }

    /** Skips the calling test unless {@link #assumeUsable()} holds and {@code /dev/net/tun} exists. */
    public static void assumeTunUsable() {
        assumeUsable();
        Assumptions.assumeTrue(new File("/dev/net/tun").exists(), "/dev/net/tun does not exist here");
    }

    /** Creates a fresh namespace with a unique name and its loopback up. */
    public static Netns create() throws IOException, InterruptedException {
        if (SWEPT.compareAndSet(false, true)) {
            sweepStale();
        }
        String name = PREFIX + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        runOnHost(DEFAULT_TIMEOUT, "ip", "netns", "add", name).check();
        Netns ns = new Netns(name);
        LIVE.add(ns);
        try {
            ns.exec("ip", "link", "set", "lo", "up").check();
        } catch (IOException | InterruptedException | RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    /**
     * Deletes namespaces named {@code pktt-PID-N} whose JVM is no longer running (left behind by a test JVM that
     * was killed). Runs once per JVM on the first {@link #create()}; namespaces of live JVMs are never touched.
     */
    public static int sweepStale() {
        int removed = 0;
        if (!Files.isDirectory(NAMED_NAMESPACES)) {
            return 0;
        }
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(NAMED_NAMESPACES, PREFIX + "*")) {
            for (Path p : dir) {
                Matcher m = OURS.matcher(p.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).map(ProcessHandle::isAlive)
                        .orElse(false) == Boolean.FALSE) {
                    String stale = p.getFileName().toString();
                    killAllIn(stale);
                    if (runOnHost(DEFAULT_TIMEOUT, "ip", "netns", "del", stale).ok()) {
                        removed++;
                    }
                }
            }
        } catch (IOException e) {
            return removed;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return removed;
    }

    /** The namespace's name (as {@code ip netns} knows it). */
    public String name() {
        return name;
    }

    /** The namespace's file, {@code /run/netns/NAME}: open it to hold the namespace or enter it. */
    public Path path() {
        return NAMED_NAMESPACES.resolve(name);
    }

    /** Runs {@code command} inside the namespace with the {@linkplain #DEFAULT_TIMEOUT default time limit}. */
    public CommandResult exec(String... command) throws IOException, InterruptedException {
        return exec(DEFAULT_TIMEOUT, command);
    }

    /**
     * Runs {@code command} inside the namespace and waits for it, at most {@code timeout}: then it and its
     * children are killed and the result says {@code timedOut}.
     */
    public CommandResult exec(Duration timeout, String... command) throws IOException, InterruptedException {
        ensureOpen();
        return run(timeout, inside(command));
    }

    /**
     * Starts {@code command} inside the namespace in the background, its output (merged) going to {@code log};
     * it is killed, with its children, at {@link #close()}.
     */
    public Process start(Path log, String... command) throws IOException {
        ensureOpen();
        Process p = new ProcessBuilder(inside(command)).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        synchronized (this) {
            started.add(p);
        }
        return p;
    }

    /**
     * Makes a veth pair: {@code name} in this namespace and {@code peerName} in {@code peer} (the JVM's own
     * namespace if null), both down and without addresses.
     */
    public Veth veth(String name, Netns peer, String peerName) throws IOException, InterruptedException {
        ensureOpen();
        String where = peer != null ? peer.name() : Long.toString(ProcessHandle.current().pid());
        exec("ip", "link", "add", name, "type", "veth", "peer", "name", peerName, "netns", where).check();
        return new Veth(name, this, peerName, peer);
    }

    /** Sets the sysctl {@code key} (e.g. {@code net.ipv4.ping_group_range}) to {@code value} in this namespace. */
    public void sysctl(String key, String value) throws IOException, InterruptedException {
        exec("sysctl", "-q", "-w", key + "=" + value).check();
    }

    /** Registers {@code resource} to be closed at {@link #close()}, before the namespace is deleted. */
    public synchronized <T extends AutoCloseable> T closeWith(T resource) {
        ensureOpen();
        resources.push(Objects.requireNonNull(resource, "resource"));
        return resource;
    }

    private List<String> inside(String... command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(command));
        return cmd;
    }

    private synchronized void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    /** Runs {@code command} in the JVM's own namespace with a time limit. */
    public static CommandResult runOnHost(Duration timeout, String... command) throws IOException,
            InterruptedException {
        return run(timeout, List.of(command));
    }

    private static CommandResult run(Duration timeout, List<String> command) throws IOException,
            InterruptedException {
        Path out = Files.createTempFile("pktt-cmd", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                return new CommandResult(command, -1, Files.readString(out, StandardCharsets.UTF_8), true);
            }
            return new CommandResult(command, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), false);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Kills every process whose network namespace is {@code name} ({@code ip netns pids}). */
    private static void killAllIn(String name) throws IOException, InterruptedException {
        CommandResult pids = runOnHost(DEFAULT_TIMEOUT, "ip", "netns", "pids", name);
        for (String line : pids.output().split("\\s+")) {
            if (line.matches("\\d+")) {
                ProcessHandle.of(Long.parseLong(line)).ifPresent(h -> {
                    h.descendants().forEach(ProcessHandle::destroyForcibly);
                    h.destroyForcibly();
                });
            }
        }
    }

    /**
     * Deletes this namespace's veth devices, which takes their peers in other namespaces with them now: the kernel
     * dismantles a deleted namespace's devices later, in a work queue, so a peer would otherwise linger for a
     * while after {@link #close()}.
     */
    private void deleteVeths() throws IOException, InterruptedException {
        CommandResult list = runOnHost(DEFAULT_TIMEOUT, "ip", "-n", name, "-o", "link", "show", "type", "veth");
        if (!list.ok()) {
            return;
        }
        for (String line : list.output().split("\n")) {
            String[] f = line.split(":\\s+", 3); // "7: pkv1@if8: <BROADCAST,...": the name before '@'
            if (f.length >= 2 && !f[1].isEmpty()) {
                String dev = f[1].contains("@") ? f[1].substring(0, f[1].lastIndexOf('@')) : f[1];
                runOnHost(DEFAULT_TIMEOUT, "ip", "-n", name, "link", "del", "dev", dev);
            }
        }
    }

    /**
     * Closes the registered resources (last registered first), kills the processes in the namespace and deletes
     * it. Idempotent. Throws (after doing all of it) if something could not be closed or deleted.
     */
    @Override
    public void close() throws IOException, InterruptedException {
        List<AutoCloseable> toClose;
        List<Process> procs;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = new ArrayList<>(resources);
            resources.clear();
            procs = new ArrayList<>(started);
            started.clear();
        }
        Exception failure = null;
        for (AutoCloseable r : toClose) {
            try {
                r.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        for (Process p : procs) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        killAllIn(name);
        try {
            deleteVeths();
        } catch (IOException | RuntimeException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        CommandResult r = runOnHost(DEFAULT_TIMEOUT, "ip", "netns", "del", name);
        LIVE.remove(this);
        if (!r.ok()) {
            IOException e = new IOException("deleting namespace " + name + ": " + r.describe());
            if (failure != null) {
                e.addSuppressed(failure);
            }
            throw e;
        }
        if (failure instanceof IOException e) {
            throw e;
        }
        if (failure != null) {
            throw new IOException("closing a resource of namespace " + name + " failed", failure);
        }
    }

    /** Whether {@link #close()} was called. */
    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return name;
    }
}

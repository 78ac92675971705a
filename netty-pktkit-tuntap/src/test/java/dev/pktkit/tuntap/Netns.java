package dev.pktkit.tuntap;

import dev.pktkit.testkit.Tools;
import dev.pktkit.tuntap.linux.LibC;
import dev.pktkit.tuntap.netlink.NetNamespace;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A network namespace a test creates ({@code ip netns add}) and removes, with the processes it started in it.
 * Names are unique per JVM and test ({@code pktt-PID-N}); {@link #close()} kills what it started, closes the
 * handle and deletes the namespace (which also removes the devices and addresses inside it). Small on purpose:
 * only what this module's tests need.
 */
final class Netns implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    /** Bound on any one command a test runs in a namespace (ping, udhcpc, curl, ...). */
    static final long COMMAND_TIMEOUT_SECONDS = 60;

    final String name;
    final NetNamespace handle;
    private final List<Process> started = new ArrayList<>();

    private Netns(String name, NetNamespace handle) {
        this.name = name;
        this.handle = handle;
    }

    /** Skips the test unless namespaces, TUN/TAP and the {@code ip} tool can be used here (root on Linux). */
    static void assumeUsable() {
        Assumptions.assumeTrue(LibC.unavailabilityCause() == null, "not Linux on a 64-bit JVM");
        Assumptions.assumeTrue(new File("/dev/net/tun").exists(), "/dev/net/tun does not exist here");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "network namespaces and TUN/TAP devices need root (CAP_SYS_ADMIN, CAP_NET_ADMIN)");
        Tools.assumeCommand("ip", "iproute2");
    }

    /** Creates a fresh namespace with its loopback up. */
    static Netns create() throws IOException, InterruptedException {
        String name = "pktt-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        Result r = run(List.of("ip", "netns", "add", name));
        if (r.exit != 0) {
            throw new IOException("ip netns add " + name + " failed: " + r.output);
        }
        NetNamespace handle;
        try {
            handle = NetNamespace.named(name);
        } catch (RuntimeException e) {
            run(List.of("ip", "netns", "del", name));
            throw e;
        }
        Netns ns = new Netns(name, handle);
        ns.exec("ip", "link", "set", "lo", "up").check();
        return ns;
    }

    /** The result of a command: exit status (-1 if it was killed at the timeout) and merged output. */
    record Result(int exit, String output) {
        Result check() throws IOException {
            if (exit != 0) {
                throw new IOException("command failed (" + exit + "): " + output);
            }
            return this;
        }
    }

    /** Runs {@code command} inside the namespace, waiting at most {@value #COMMAND_TIMEOUT_SECONDS} s. */
    Result exec(String... command) throws IOException, InterruptedException {
        return run(inside(command));
    }

    /** Starts {@code command} inside the namespace in the background; it is killed at {@link #close()}. */
    Process start(Path log, String... command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(inside(command)).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private List<String> inside(String... command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(command));
        return cmd;
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("pktt-cmd", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                return new Result(-1, String.join(" ", command) + " timed out; output: "
                        + Files.readString(out, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        started.clear();
        handle.close();
        Result r = run(List.of("ip", "netns", "del", name));
        if (r.exit != 0) {
            throw new IOException("ip netns del " + name + " failed: " + r.output);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}

package dev.pktkit.nat;

import dev.pktkit.testkit.Tools;
import dev.pktkit.linux.NetNamespace;
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
 * A network namespace a test creates and removes ({@code ip netns add/del}), with the processes started in it.
 * Names are {@code nat-PID-N}; {@link #close()} kills what it started and deletes the namespace.
 */
final class Netns implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    static final long COMMAND_TIMEOUT_SECONDS = 60;

    final String name;
    final NetNamespace handle;
    private final List<Process> started = new ArrayList<>();

    private Netns(String name, NetNamespace handle) {
        this.name = name;
        this.handle = handle;
    }

    /** Skips unless namespaces, TUN and {@code ip} can be used (root on Linux). */
    static void assumeUsable() {
        Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux"), "not Linux");
        Assumptions.assumeTrue(new File("/dev/net/tun").exists(), "/dev/net/tun does not exist here");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "network namespaces and TUN devices need root");
        Tools.assumeCommand("ip", "iproute2");
    }

    static Netns create() throws IOException, InterruptedException {
        String name = "nat-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
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

    record Result(int exit, String output) {
        Result check() throws IOException {
            if (exit != 0) {
                throw new IOException("command failed (" + exit + "): " + output);
            }
            return this;
        }
    }

    Result exec(String... command) throws IOException, InterruptedException {
        return run(inside(command));
    }

    Result sh(String script) throws IOException, InterruptedException {
        return exec("sh", "-c", script);
    }

    Process start(Path log, String... command) throws IOException {
        Process p = new ProcessBuilder(inside(command)).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        started.add(p);
        return p;
    }

    /** Polls {@code ss} until something listens on {@code port} ({@code udp}: bound); fails after 20 s. */
    void awaitListening(int port, boolean udp) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Result r = exec("ss", udp ? "-Hlun" : "-Hltn", "sport = :" + port);
            if (r.exit() == 0 && !r.output().isBlank()) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("nothing listens on port " + port + " in " + name);
    }

    private List<String> inside(String... command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(command));
        return cmd;
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("nat-cmd", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
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
        run(List.of("ip", "netns", "del", name));
    }

    @Override
    public String toString() {
        return name;
    }
}

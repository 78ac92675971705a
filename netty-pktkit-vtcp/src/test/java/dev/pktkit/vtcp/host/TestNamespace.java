package dev.pktkit.vtcp.host;

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
 * A network namespace the test creates and deletes ({@code ip netns}), with the processes started in it. IPv6
 * duplicate address detection is off inside, so the kernel's addresses are usable at once.
 */
final class TestNamespace implements AutoCloseable {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    static final long COMMAND_TIMEOUT_SECONDS = 120;

    final String name;
    final NetNamespace handle;
    private final List<Process> started = new ArrayList<>();

    private TestNamespace(String name, NetNamespace handle) {
        this.name = name;
        this.handle = handle;
    }

    static void assumeUsable() {
        Assumptions.assumeTrue(new File("/dev/net/tun").exists(), "/dev/net/tun does not exist here");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "network namespaces and TUN devices need root");
        Tools.assumeCommand("ip", "iproute2");
    }

    static TestNamespace create() throws IOException, InterruptedException {
        String name = "vtcph-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
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
        TestNamespace ns = new TestNamespace(name, handle);
        ns.exec("ip", "link", "set", "lo", "up").check();
        ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0").check();
        ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0").check();
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

    Process start(Path log, String... command) throws IOException {
        Process p = new ProcessBuilder(inside(command)).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        started.add(p);
        return p;
    }

    private List<String> inside(String... command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(command));
        return cmd;
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("vtcph-cmd", ".log");
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
        run(List.of("ip", "netns", "del", name));
    }

    @Override
    public String toString() {
        return name;
    }
}

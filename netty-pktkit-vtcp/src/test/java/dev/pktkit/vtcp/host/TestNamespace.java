package dev.pktkit.vtcp.host;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;


/**
 * A network namespace a vtcp interop test creates and deletes, with the processes started in it.
 * A thin layer over testkit's {@link Netns} fixture (unique names, cleanup, time limits) that adds the
 * {@link NetNamespace} handle a {@code TunChannel} is created in.
 */
final class TestNamespace implements AutoCloseable {
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);

    final String name;
    final NetNamespace handle;
    private final Netns ns;

    private TestNamespace(Netns ns, NetNamespace handle) {
        this.ns = ns;
        this.name = ns.name();
        this.handle = handle;
    }

    /** Skips unless namespaces, TUN and {@code ip} can be used (root on Linux). */
    static void assumeUsable() {
        Netns.assumeTunUsable();
    }

    static TestNamespace create() throws IOException, InterruptedException {
        Netns ns = Netns.create();
        NetNamespace handle;
        try {
            handle = NetNamespace.open(ns.path());
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        TestNamespace t = new TestNamespace(ns, handle);
        // IPv6 duplicate address detection off inside, so the kernel's addresses are usable at once
        t.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0").check();
        t.exec("sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0").check();
        return t;
    }

    record Result(int exit, String output) {
        Result check() throws IOException {
            if (exit != 0) {
                throw new IOException("command failed (" + exit + "): " + output);
            }
            return this;
        }
    }

    private static Result of(CommandResult r) {
        return new Result(r.exit(), r.timedOut() ? String.join(" ", r.command()) + " timed out; output: "
                + r.output() : r.output());
    }

    Result exec(String... command) throws IOException, InterruptedException {
        return of(ns.exec(COMMAND_TIMEOUT, command));
    }

    Process start(Path log, String... command) throws IOException {
        return ns.start(log, command);
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        return of(Netns.runOnHost(COMMAND_TIMEOUT, command.toArray(String[]::new)));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        handle.close();
        ns.close();
    }

    @Override
    public String toString() {
        return name;
    }
}

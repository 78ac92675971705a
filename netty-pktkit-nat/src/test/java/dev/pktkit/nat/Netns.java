package dev.pktkit.nat;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.netns.CommandResult;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace a NAT test creates and removes, with the processes started in it.
 * A thin layer over testkit's {@link dev.pktkit.testkit.netns.Netns} fixture (unique names, cleanup, time
 * limits) that adds the {@link NetNamespace} handle a {@code TunChannel} is created in.
 */
final class Netns implements AutoCloseable {
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    final String name;
    final NetNamespace handle;
    private final dev.pktkit.testkit.netns.Netns ns;

    private Netns(dev.pktkit.testkit.netns.Netns ns, NetNamespace handle) {
        this.ns = ns;
        this.name = ns.name();
        this.handle = handle;
    }

    /** Skips unless namespaces, TUN and {@code ip} can be used (root on Linux). */
    static void assumeUsable() {
        dev.pktkit.testkit.netns.Netns.assumeTunUsable();
    }

    static Netns create() throws IOException, InterruptedException {
        dev.pktkit.testkit.netns.Netns ns = dev.pktkit.testkit.netns.Netns.create();
        NetNamespace handle;
        try {
            handle = NetNamespace.open(ns.path());
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        Netns t = new Netns(ns, handle);
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

    Result sh(String script) throws IOException, InterruptedException {
        return exec("sh", "-c", script);
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

    static Result run(List<String> command) throws IOException, InterruptedException {
        return of(dev.pktkit.testkit.netns.Netns.runOnHost(COMMAND_TIMEOUT, command.toArray(String[]::new)));
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

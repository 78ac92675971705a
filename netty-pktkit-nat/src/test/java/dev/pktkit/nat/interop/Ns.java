package dev.pktkit.nat.interop;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A namespace an ALG or port-control interop test makes and removes: testkit's {@link Netns} fixture (unique
 * name, processes killed and the namespace deleted at {@link #close()}, time-limited commands) plus the
 * {@link NetNamespace} handle a {@code TunChannel} is created in.
 */
public final class Ns implements AutoCloseable {
    /** The time limit of {@link #exec(String...)}. */
    public static final Duration TIMEOUT = Duration.ofSeconds(90);
    /** testkit's namespace. */
    public final Netns ns;
    /** The handle a {@code TunChannel} is created in. */
    public final NetNamespace handle;

    private Ns(Netns ns, NetNamespace handle) {
        this.ns = ns;
        this.handle = handle;
    }

    /** Makes a namespace (root needed: callers check {@link Netns#assumeTunUsable()} first). */
    public static Ns create() throws IOException, InterruptedException {
        Netns ns = Netns.create();
        try {
            return new Ns(ns, NetNamespace.open(ns.path()));
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    /** The namespace's name (for {@code ip ... netns NAME}). */
    public String name() {
        return ns.name();
    }

    /** Runs {@code command} in the namespace, at most {@link #TIMEOUT}. */
    public CommandResult exec(String... command) throws IOException, InterruptedException {
        return ns.exec(TIMEOUT, command);
    }

    /** Runs {@code command} in the namespace, at most {@code timeout}. */
    public CommandResult exec(Duration timeout, String... command) throws IOException, InterruptedException {
        return ns.exec(timeout, command);
    }

    /** Starts {@code command} in the background, its output to {@code log}; it is killed at {@link #close()}. */
    public Process start(Path log, String... command) throws IOException {
        return ns.start(log, command);
    }

    /** Polls {@code ss} until something listens (TCP) or is bound (UDP) on {@code port}; fails after 20 s. */
    public void awaitListening(int port, boolean udp) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            CommandResult r = exec("ss", udp ? "-Hlun" : "-Hltn", "sport = :" + port);
            if (r.exit() == 0 && !r.output().isBlank()) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("nothing listens on port " + port + " in " + ns.name());
    }

    @Override
    public void close() throws IOException, InterruptedException {
        handle.close();
        ns.close();
    }

    @Override
    public String toString() {
        return ns.name();
    }
}

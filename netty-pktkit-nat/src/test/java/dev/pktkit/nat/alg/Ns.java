package dev.pktkit.nat.alg;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A namespace an ALG interop test makes and removes (testkit's fixture plus the handle a TunChannel needs). */
final class Ns implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(90);
    final Netns ns;
    final NetNamespace handle;

    private Ns(Netns ns, NetNamespace handle) {
        this.ns = ns;
        this.handle = handle;
    }

    static Ns create() throws IOException, InterruptedException {
        Netns ns = Netns.create();
        try {
            return new Ns(ns, NetNamespace.open(ns.path()));
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    CommandResult exec(String... command) throws IOException, InterruptedException {
        return ns.exec(TIMEOUT, command);
    }

    Process start(Path log, String... command) throws IOException {
        return ns.start(log, command);
    }

    /** Polls {@code ss} until something listens (TCP) or is bound (UDP) on {@code port}; fails after 20 s. */
    void awaitListening(int port, boolean udp) throws IOException, InterruptedException {
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
}

package dev.pktkit.wireguard.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs commands with a bound on time; the processes it starts in the background are stopped by PID on close. */
final class Sh implements AutoCloseable {
    record Result(int exit, String output) {
        Result check() throws IOException {
            if (exit != 0) {
                throw new IOException("command failed (" + exit + "): " + output);
            }
            return this;
        }
    }

    private final List<Process> background = new ArrayList<>();

    static Result run(long timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // process killed
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            reader.join(2000);
            return new Result(-1, String.join(" ", cmd) + " timed out after " + timeoutSeconds + " s: " + out);
        }
        reader.join(5000);
        return new Result(p.exitValue(), out.toString());
    }

    static Result run(String... cmd) throws IOException, InterruptedException {
        return run(60, cmd);
    }

    /** Starts {@code cmd} in the background, output to {@code log}. */
    Process start(java.nio.file.Path log, String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        background.add(p);
        return p;
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : background) {
            p.destroy();
        }
        for (Process p : background) {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}

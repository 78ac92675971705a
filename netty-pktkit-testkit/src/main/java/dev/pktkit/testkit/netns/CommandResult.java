package dev.pktkit.testkit.netns;

import java.io.IOException;
import java.util.List;

/**
 * How a command a test ran ended: its exit status ({@code -1} if it was killed at its time limit), and its
 * standard output and error merged in the order they were written.
 *
 * @param command  the command as run (with the {@code ip netns exec NAME} prefix, if any)
 * @param exit     the exit status, or -1 after a timeout
 * @param output   stdout and stderr, merged
 * @param timedOut whether the command was killed at its time limit
 */
public record CommandResult(List<String> command, int exit, String output, boolean timedOut) {
    public CommandResult {
        command = List.copyOf(command);
    }

    /** Whether the command exited with status 0. */
    public boolean ok() {
        return exit == 0 && !timedOut;
    }

    /** This result if the command succeeded; otherwise an {@link IOException} naming the command and its output. */
    public CommandResult check() throws IOException {
        if (!ok()) {
            throw new IOException(describe());
        }
        return this;
    }

    /** One line for failure messages: the command, how it ended, and its output. */
    public String describe() {
        return String.join(" ", command) + (timedOut ? " timed out" : " exited " + exit) + "; output:\n" + output;
    }
}

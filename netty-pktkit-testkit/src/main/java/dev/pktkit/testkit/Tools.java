package dev.pktkit.testkit;

import org.junit.jupiter.api.Assumptions;

import java.io.File;

/** Checks for external programs that interop tests need; a missing one skips the test with its reason. */
public final class Tools {
    private Tools() {
    }

    /** Absolute path of {@code command} on PATH, or null. */
    public static String which(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            File f = new File(dir, command);
            if (f.isFile() && f.canExecute()) {
                return f.getAbsolutePath();
            }
        }
        return null;
    }

    /** Skips the calling test unless {@code command} is installed; returns its path. */
    public static String assumeCommand(String command, String debianPackage) {
        String p = which(command);
        Assumptions.assumeTrue(p != null,
                command + " is not installed (Debian package " + debianPackage + "); .ci/run installs it");
        return p;
    }
}

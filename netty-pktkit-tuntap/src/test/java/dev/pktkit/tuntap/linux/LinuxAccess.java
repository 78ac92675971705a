package dev.pktkit.tuntap.linux;

/** Test access to {@link LibC}'s package-private parts. */
public final class LinuxAccess {
    private LinuxAccess() {
    }

    public static String platformProblem(String osName, long pointerSize) {
        return LibC.platformProblem(osName, pointerSize);
    }
}

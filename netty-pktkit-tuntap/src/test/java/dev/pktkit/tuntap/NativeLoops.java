package dev.pktkit.tuntap;

import dev.pktkit.testkit.TestLoops;

import java.util.List;

/** The loop kinds a TUN/TAP channel registers with: {@link TestLoops}' kinds without NIO. */
final class NativeLoops {
    private NativeLoops() {
    }

    static List<String> available() {
        return TestLoops.available().stream().filter(k -> !k.equals(TestLoops.NIO)).toList();
    }
}

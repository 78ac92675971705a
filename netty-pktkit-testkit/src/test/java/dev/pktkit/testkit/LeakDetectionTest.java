package dev.pktkit.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The leak detection every test runs under (the root pom's {@code pktkit.test.leakArgs}: paranoid, records on
 * retain/release only) still finds a leak and reports where the buffer was allocated and last retained. The leak
 * happens in a child JVM started with this JVM's own flags, so that this class's {@link LeakCheckExtension} does
 * not see it.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class LeakDetectionTest {

    @Test
    void aLeakedBufferIsReportedWithItsAllocationAndLastRetain() throws Exception {
        List<String> flags = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-Dio.netty.leakDetection.")) {
                flags.add(a);
            }
        }
        assertTrue(flags.contains("-Dio.netty.leakDetection.level=paranoid"), "tests run paranoid: " + flags);
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(flags);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Leaker.class.getName());
        java.nio.file.Path log = java.nio.file.Files.createTempFile("leak-child", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean ended = p.waitFor(60, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = java.nio.file.Files.readString(log, StandardCharsets.UTF_8);
        java.nio.file.Files.deleteIfExists(log);
        assertTrue(ended, "the child ended within 60 s: " + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("LEAKS 1"), out);
        // the records name the method that allocated the buffer and the one that retained it last
        assertTrue(out.contains("Leaker.allocate"), out);
        assertTrue(out.contains("Leaker.retainIt"), out);
    }

    /** The child: leaks one pooled direct buffer after a read, a write and a retain, then prints what LeakGuard saw. */
    static final class Leaker {
        public static void main(String[] args) {
            LeakGuard.install();
            retainIt(allocate());
            int leaks = 0;
            for (int i = 0; i < 20 && leaks == 0; i++) {
                leaks = LeakGuard.collect();
            }
            System.out.println("LEAKS " + leaks);
            System.out.println(String.join("\n----\n", LeakGuard.reports()));
        }

        static ByteBuf allocate() {
            ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(64);
            b.writeLong(42);
            b.readLong();
            return b;
        }

        static void retainIt(ByteBuf b) {
            b.retain();
            b.release(); // refCnt 1 again: never released, only dropped
        }
    }
}

package dev.pktkit.tuntap;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Linux capabilities of the calling thread (they are per thread): lets a test take {@code CAP_NET_ADMIN} out of
 * one event-loop thread's effective set, and give it back, to see how the channel reports a missing privilege
 * without starting an unprivileged process.
 */
final class Capabilities {
    static final int CAP_NET_ADMIN = 12;
    private static final long SYS_CAPGET = 125; // x86_64
    private static final long SYS_CAPSET = 126;
    private static final int VERSION_3 = 0x20080522;
    private static final MethodHandle SYSCALL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS), Linker.Option.firstVariadicArg(1));

    private Capabilities() {
    }

    /** Whether the x86_64 system call numbers used here apply. */
    static boolean supported() {
        return "amd64".equals(System.getProperty("os.arch")) || "x86_64".equals(System.getProperty("os.arch"));
    }

    /** Sets whether {@code cap} is in the calling thread's effective set (it must stay in the permitted set). */
    static void setEffective(int cap, boolean on) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hdr = arena.allocate(8);
            hdr.set(JAVA_INT, 0, VERSION_3);
            hdr.set(JAVA_INT, 4, 0);
            MemorySegment data = arena.allocate(24);
            long r = (long) SYSCALL.invokeExact(SYS_CAPGET, hdr, data);
            if (r != 0) {
                throw new IllegalStateException("capget failed");
            }
            int word = cap / 32;
            int bit = 1 << (cap % 32);
            int effective = data.get(JAVA_INT, word * 12L);
            data.set(JAVA_INT, word * 12L, on ? effective | bit : effective & ~bit);
            r = (long) SYSCALL.invokeExact(SYS_CAPSET, hdr, data);
            if (r != 0) {
                throw new IllegalStateException("capset failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}

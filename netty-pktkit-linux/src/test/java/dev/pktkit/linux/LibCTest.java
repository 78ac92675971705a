package dev.pktkit.linux;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The libc bindings and their error reporting; nothing here needs privileges. */
class LibCTest {
    @BeforeEach
    void linux() {
        assumeTrue(LibC.isAvailable(), () -> "not usable here: " + LibC.unavailabilityCause());
    }

    @Test
    void platformProblemNamesWhatIsMissing() {
        assertNull(LibC.platformProblem("Linux", 8));
        assertTrue(LibC.platformProblem("Mac OS X", 8).contains("need Linux"));
        assertTrue(LibC.platformProblem("Mac OS X", 8).contains("Mac OS X"));
        assertTrue(LibC.platformProblem("Windows 11", 8).contains("need Linux"));
        assertTrue(LibC.platformProblem("Linux", 4).contains("64-bit"));
        assertNull(LibC.unavailabilityCause());
        LibC.ensureAvailable();
    }

    @Test
    void failuresAreNegatedErrnoValues() {
        assertEquals(-Errno.ENOENT, LibC.open("/nonexistent/pktkit", LibC.O_RDONLY | LibC.O_CLOEXEC));
        assertEquals(-Errno.EBADF, LibC.close(-1));
        assertEquals(-Errno.EAFNOSUPPORT, LibC.socket(12345, LibC.SOCK_DGRAM, 0));
        int fd = LibC.open("/dev/null", LibC.O_RDONLY | LibC.O_CLOEXEC);
        assertTrue(fd >= 0, Errno.name(fd));
        assertEquals(-Errno.ENOTTY, LibC.ioctl(fd, 0x5401L /* TCGETS */, 0L));
        assertEquals(0, LibC.close(fd));
    }

    @Test
    void socketOptionsRoundTrip() {
        int fd = LinuxException.check(LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0), "socket");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocateFrom(ValueLayout.JAVA_INT, 65536);
            assertEquals(0, LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, v));
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            assertEquals(4, LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, out));
            assertEquals(2 * 65536, out.get(ValueLayout.JAVA_INT, 0)); // the kernel doubles it for bookkeeping
            assertEquals(-Errno.ENOPROTOOPT, LibC.getsockopt(fd, LibC.SOL_SOCKET, 9999, out));
        } finally {
            LibC.close(fd);
        }
    }

    @Test
    void anonymousMappingsCanBeUsedAndUnmapped() {
        long len = 2 * 4096;
        long a = LibC.mmap(len, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
        assertTrue(a > 0, () -> Errno.name((int) a));
        MemorySegment m = MemorySegment.ofAddress(a).reinterpret(len);
        assertEquals(0, m.get(ValueLayout.JAVA_LONG, 4096)); // anonymous memory starts zeroed
        m.set(ValueLayout.JAVA_LONG, 4096, 0x1122334455667788L);
        assertEquals(0x1122334455667788L, m.get(ValueLayout.JAVA_LONG, 4096));
        assertEquals(0, LibC.munmap(a, len));
        assertEquals(-Errno.EINVAL, LibC.mmap(0, LibC.PROT_READ, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0));
        assertEquals(-Errno.EBADF, LibC.mmap(4096, LibC.PROT_READ, LibC.MAP_SHARED, -1, 0));
    }

    @Test
    void exceptionsCarryErrnoReasonAndText() {
        assertEquals(7, LinuxException.check(7, "x"));
        LinuxException e = assertThrows(LinuxException.class, () -> LinuxException.check(-Errno.EPERM, "doing it"));
        assertEquals(Errno.EPERM, e.errno());
        assertEquals(LinuxException.Reason.PERMISSION_DENIED, e.reason());
        assertTrue(e.getMessage().startsWith("doing it: EPERM (operation not permitted)"), e.getMessage());
        assertTrue(e.getMessage().contains("CAP_NET_ADMIN"), e.getMessage());
        assertEquals(LinuxException.Reason.NOT_FOUND, new LinuxException("x", Errno.ENODEV).reason());
        assertEquals(LinuxException.Reason.INVALID_ARGUMENT, new LinuxException("x", -Errno.EINVAL).reason());
        assertEquals(LinuxException.Reason.TIMED_OUT, new LinuxException("x", Errno.EAGAIN).reason());
        assertEquals(LinuxException.Reason.UNSUPPORTED, new LinuxException("x", Errno.EOPNOTSUPP).reason());
        assertEquals(LinuxException.Reason.OTHER, new LinuxException("x", 200).reason());
        assertEquals("errno 200", Errno.name(200));
        assertEquals("ENODEV (no such device)", Errno.name(-Errno.ENODEV));
        assertThrows(LinuxException.class, () -> LinuxException.check(-1L, "long"));
    }
}

package dev.pktkit.tuntap;

import dev.pktkit.tuntap.linux.LibC;
import dev.pktkit.tuntap.linux.LinuxAccess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Errors that need no privilege to provoke: a missing device node, a foreign operating system. */
class TunTapErrorsTest {
    @Test
    void missingDeviceNodeIsReportedAsNoTunDevice() {
        Assumptions.assumeTrue(LibC.unavailabilityCause() == null, "not Linux on a 64-bit JVM");
        TunTapException e = assertThrows(TunTapException.class, () -> new TunChannel(null, "/nonexistent/net/tun"));
        assertEquals(TunTapException.Reason.NO_TUN_DEVICE, e.reason());
        assertEquals(LibC.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("/nonexistent/net/tun does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("modprobe tun"), e.getMessage());
        TunTapException tap = assertThrows(TunTapException.class, () -> new TapChannel(null, "/nonexistent/tun"));
        assertEquals(TunTapException.Reason.NO_TUN_DEVICE, tap.reason());
    }

    @Test
    void notLinuxIsReportedAsSuch() {
        String problem = LinuxAccess.platformProblem("Mac OS X", 8);
        assertTrue(problem.contains("need Linux") && problem.contains("Mac OS X"), problem);
        assertTrue(problem.contains("utun"), problem);
        TunTapException e = TunDevice.notLinux(new UnsupportedOperationException(problem));
        assertEquals(TunTapException.Reason.NOT_LINUX, e.reason());
        assertEquals(problem, e.getMessage());
        assertTrue(LinuxAccess.platformProblem("Windows 11", 8).contains("need Linux"));
        assertTrue(LinuxAccess.platformProblem("Linux", 4).contains("64-bit"));
        assertNull(LinuxAccess.platformProblem("Linux", 8));
    }
}

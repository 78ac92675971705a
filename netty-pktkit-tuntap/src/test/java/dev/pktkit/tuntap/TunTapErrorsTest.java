package dev.pktkit.tuntap;

import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Errors that need no privilege to provoke: a missing device node, a foreign operating system. */
class TunTapErrorsTest {
    @Test
    void missingDeviceNodeIsReportedAsNoTunDevice() {
        Assumptions.assumeTrue(LibC.unavailabilityCause() == null, "not Linux on a 64-bit JVM");
        TunTapException e = assertThrows(TunTapException.class, () -> new TunChannel(null, "/nonexistent/net/tun"));
        assertEquals(TunTapException.Reason.NO_TUN_DEVICE, e.reason());
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("/nonexistent/net/tun does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("modprobe tun"), e.getMessage());
        TunTapException tap = assertThrows(TunTapException.class, () -> new TapChannel(null, "/nonexistent/tun"));
        assertEquals(TunTapException.Reason.NO_TUN_DEVICE, tap.reason());
    }

    @Test
    void notLinuxIsReportedAsSuch() {
        String problem = LibC.platformProblem("Mac OS X", 8);
        TunTapException e = TunDevice.notLinux(new UnsupportedOperationException(problem));
        assertEquals(TunTapException.Reason.NOT_LINUX, e.reason());
        assertTrue(e.getMessage().startsWith(problem), e.getMessage());
        assertTrue(e.getMessage().contains("need Linux") && e.getMessage().contains("Mac OS X"), e.getMessage());
        assertTrue(e.getMessage().contains("utun"), e.getMessage());
        TunTapException windows = TunDevice.notLinux(new UnsupportedOperationException(
                LibC.platformProblem("Windows 11", 8)));
        assertEquals(LibC.platformProblem("Windows 11", 8), windows.getMessage());
    }
}

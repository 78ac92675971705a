package dev.pktkit.testkit.guest;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramSocket;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fixture itself: a guest boots and reports markers; two guests on QEMU's own datagram link ping. */
class LinuxGuestTest {
    static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void guestBootsRunsTheScriptAndPowersOff() throws Exception {
        try (LinuxGuest g = LinuxGuest.builder()
                .nic("dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=" + freeUdpPort()
                        + ",remote.type=inet,remote.host=127.0.0.1,remote.port=" + freeUdpPort(), "52:54:00:00:00:01")
                .script("mark link $(cat /sys/class/net/eth0/address)\nmark answer 42").start()) {
            String release = g.awaitMarker("boot", Duration.ofSeconds(60));
            assertTrue(release.endsWith("-amd64"), release);
            assertEquals("52:54:00:00:00:01", g.awaitMarker("link", Duration.ofSeconds(30)));
            assertEquals("42", g.awaitMarker("answer", Duration.ofSeconds(30)));
            assertEquals("0", g.awaitMarker("exit", Duration.ofSeconds(30)));
            assertEquals(0, g.awaitExit(Duration.ofSeconds(30)));
        }
    }

    @Test
    void aHostProgramRunsInTheGuestWithItsLibraries() throws Exception {
        try (LinuxGuest g = LinuxGuest.builder()
                .nic("dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=" + freeUdpPort()
                        + ",remote.type=inet,remote.host=127.0.0.1,remote.port=" + freeUdpPort(), "52:54:00:00:00:01")
                .hostProgram("socat", "socat")
                .script("mark socat \"$(socat -V | grep -o 'socat version [0-9]*' | head -1)\"").start()) {
            assertEquals("socat version 1", g.awaitMarker("socat", Duration.ofSeconds(60)), g.consoleTail());
        }
    }

    @Test
    void lddOutputGivesTheLibrariesAndTheLoader() {
        assertEquals(List.of("/lib/x86_64-linux-gnu/libwrap.so.0", "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"), LinuxGuest.Builder.lddPaths("""
                \tlinux-vdso.so.1 (0x00007ff592dc3000)
                \tlibwrap.so.0 => /lib/x86_64-linux-gnu/libwrap.so.0 (0x00007ff592cfd000)
                \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ff59241e000)
                \t/lib64/ld-linux-x86-64.so.2 (0x00007ff592dc5000)
                \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ff59241e000)
                """));
        assertEquals(List.of("/usr/lib64/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2"),
                LinuxGuest.Builder.lddPaths("""
                \tlibc.so.6 => /usr/lib64/libc.so.6 (0x00007f0000000000)
                \t/lib64/ld-linux-x86-64.so.2 => /usr/lib64/ld-linux-x86-64.so.2 (0x00007f0000100000)
                """), "a loader printed with => is copied under both names (the ELF interpreter is the left one)");
        assertEquals(List.of(), LinuxGuest.Builder.lddPaths(""), "a static program");
        IllegalStateException missing = assertThrows(IllegalStateException.class, () -> LinuxGuest.Builder.lddPaths(
                "\tlibgone.so.1 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n"));
        assertTrue(missing.getMessage().contains("libgone.so.1"), missing.getMessage());
    }

    @Test
    void twoGuestsOnADatagramLinkPingEachOther() throws Exception {
        int pa = freeUdpPort();
        int pb = freeUdpPort();
        String a = "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=" + pa
                + ",remote.type=inet,remote.host=127.0.0.1,remote.port=" + pb;
        String b = "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=" + pb
                + ",remote.type=inet,remote.host=127.0.0.1,remote.port=" + pa;
        try (LinuxGuest ga = LinuxGuest.builder().nic(a, "52:54:00:00:00:0a").script("""
                ip addr add 192.168.50.1/24 dev eth0
                if ping -c 1 -w 30 192.168.50.2 >/dev/null; then mark ping ok; else mark ping fail; fi
                read stay_up_until_the_test_is_done
                """).start();
             LinuxGuest gb = LinuxGuest.builder().nic(b, "52:54:00:00:00:0b").script("""
                ip addr add 192.168.50.2/24 dev eth0
                if ping -c 1 -w 30 192.168.50.1 >/dev/null; then mark ping ok; else mark ping fail; fi
                read stay_up_until_the_test_is_done
                """).start()) {
            assertEquals("ok", ga.awaitMarker("ping", Duration.ofSeconds(90)), ga.consoleTail());
            assertEquals("ok", gb.awaitMarker("ping", Duration.ofSeconds(90)), gb.consoleTail());
        }
    }
}

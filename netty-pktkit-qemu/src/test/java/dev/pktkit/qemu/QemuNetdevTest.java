package dev.pktkit.qemu;

import io.netty.channel.unix.DomainSocketAddress;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class QemuNetdevTest {
    private static final QemuAddress UNIX = QemuAddress.unix("/tmp/x.sock");
    private static final QemuAddress INET = QemuAddress.inet("127.0.0.1", 5555);

    @Test
    void streamArguments() {
        assertEquals("stream,id=n0,server=off,addr.type=unix,addr.path=/tmp/x.sock",
                QemuNetdev.streamArgument("n0", UNIX));
        assertEquals("stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=5555",
                QemuNetdev.streamArgument("n0", INET));
        assertEquals("stream,id=n1,server=on,addr.type=inet,addr.host=::1,addr.port=7",
                QemuNetdev.streamServerArgument("n1", QemuAddress.inet("::1", 7)));
    }

    @Test
    void legacySocketArguments() {
        assertEquals("socket,id=n0,connect=127.0.0.1:5555", QemuNetdev.socketConnectArgument("n0", INET));
        assertEquals("socket,id=n0,listen=[::1]:5555",
                QemuNetdev.socketListenArgument("n0", QemuAddress.inet("::1", 5555)));
        assertEquals("socket,id=n0,udp=127.0.0.1:5555,localaddr=127.0.0.1:6666",
                QemuNetdev.socketUdpArgument("n0", QemuAddress.inet("127.0.0.1", 6666), INET));
        assertThrows(IllegalArgumentException.class, () -> QemuNetdev.socketConnectArgument("n0", UNIX));
    }

    @Test
    void datagramArguments() {
        assertEquals("dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=6666,"
                        + "remote.type=inet,remote.host=127.0.0.1,remote.port=5555",
                QemuNetdev.datagramArgument("n0", QemuAddress.inet("127.0.0.1", 6666), INET));
        assertEquals("dgram,id=n0,local.type=unix,local.path=/tmp/q.sock,remote.type=unix,remote.path=/tmp/x.sock",
                QemuNetdev.datagramArgument("n0", QemuAddress.unix("/tmp/q.sock"), UNIX));
        assertThrows(IllegalArgumentException.class, () -> QemuNetdev.datagramArgument("n0", UNIX, INET));
    }

    @Test
    void commasInValuesAreDoubledAndIdsAreChecked() {
        assertEquals("stream,id=n0,server=off,addr.type=unix,addr.path=/tmp/a,,b.sock",
                QemuNetdev.streamArgument("n0", QemuAddress.unix("/tmp/a,b.sock")));
        assertThrows(IllegalArgumentException.class, () -> QemuNetdev.streamArgument("n0,x=y", UNIX));
        assertThrows(IllegalArgumentException.class, () -> QemuNetdev.streamArgument("0n", UNIX));
    }

    @Test
    void addressesFromTransportAddresses() {
        assertEquals(QemuAddress.unix("/tmp/x.sock"), QemuAddress.of(new DomainSocketAddress("/tmp/x.sock")));
        assertEquals(QemuAddress.unix("/tmp/x.sock"), QemuAddress.of(UnixDomainSocketAddress.of("/tmp/x.sock")));
        assertEquals(INET, QemuAddress.of(new InetSocketAddress("127.0.0.1", 5555)));
        assertEquals(Path.of("/tmp/x.sock"), ((QemuAddress.Unix) UNIX).path());
        assertThrows(IllegalArgumentException.class, () -> QemuAddress.inet("h", 70000));
    }
}

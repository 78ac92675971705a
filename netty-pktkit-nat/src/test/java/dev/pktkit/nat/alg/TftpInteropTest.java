package dev.pktkit.nat.alg;

import dev.pktkit.nat.Nat;
import dev.pktkit.nat.interop.NatTunFixture;
import dev.pktkit.nat.interop.Ns;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The TFTP ALG against real peers: tftp-hpa in namespace "inside" (10.72.0.2 behind the NAT, outside address
 * 198.51.100.1) fetches a file from tftpd-hpa in namespace "outside" (198.51.100.20) under address-and-port
 * dependent filtering: the server answers from a new port, which only the ALG's expectation lets in.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TftpInteropTest {
    static final String SERVER = "198.51.100.20";
    static final String NAT_OUT = NatTunFixture.NAT_OUT;
    static final String HOST = "10.72.0.2";

    private NatTunFixture f;
    private Ns in;
    private Ns out;
    private Nat nat;
    private Path dir;
    private byte[] data;

    @BeforeAll
    void setUp() throws Exception {
        Tools.assumeCommand("in.tftpd", "tftpd-hpa");
        Tools.assumeCommand("tftp", "tftp-hpa");
        Tools.assumeCommand("ss", "iproute2");
        f = NatTunFixture.builder("t").host(HOST).natInside("10.72.0.1").remote(SERVER).start();
        in = f.in();
        out = f.out();
        nat = f.nat();
        dir = f.dir();
        data = new byte[1 << 20];
        new Random(14).nextBytes(data);
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.write(root.resolve("file.bin"), data);
        Files.setPosixFilePermissions(root.resolve("file.bin"), PosixFilePermissions.fromString("rw-r--r--"));
        // -L foreground, -s chroot into root; the server answers from a new port (its transfer identifier)
        out.start(dir.resolve("tftpd.log"), "in.tftpd", "-L", "-s", "-a", SERVER + ":69", root.toString());
        out.awaitListening(69, true);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    /** tftp-hpa inside fetches file.bin; 1 s per retransmission, 3 s in all. */
    private CommandResult get(Path to) throws Exception {
        return in.exec("sh", "-c", "printf 'binary\\nrexmt 1\\ntimeout 3\\nget file.bin %s\\nquit\\n' | tftp %s"
                .formatted(to, SERVER));
    }

    @Test
    void tftpGetThroughAddressAndPortDependentFiltering() throws Exception {
        Path got = dir.resolve("got.bin");
        CommandResult r = get(got);
        assertTrue(Files.exists(got) && Files.size(got) == data.length, r.describe());
        assertEquals(NatTunFixture.sha256(data), NatTunFixture.sha256(Files.readAllBytes(got)));
        assertTrue(nat.algs().tftp().counters().get(AlgEvent.EXPECTED) >= 1, nat.algs().toString());
        assertTrue(nat.counters().expectationsMatched() >= 1);
    }

    @Test
    void tftpFailsWithTheAlgOff() throws Exception {
        nat.algs(AlgConfig.none()).sync();
        try {
            Path got = dir.resolve("off.bin");
            CommandResult r = get(got);
            assertFalse(Files.exists(got) && Files.size(got) == data.length, r.describe());
            assertTrue(r.output().contains("timed out"), r.describe());
        } finally {
            nat.algs(AlgConfig.defaults()).sync();
        }
    }
}

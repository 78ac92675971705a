package dev.pktkit.nat.alg;

import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The TFTP ALG against real peers: tftp-hpa in namespace "inside" (10.72.0.2 behind the NAT, outside address
 * 198.51.100.1) fetches a file from tftpd-hpa in namespace "outside" (198.51.100.20) under address-and-port
 * dependent filtering: the server answers from a new port, which only the ALG's expectation lets in.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TftpInteropTest {
    static final String SERVER = "198.51.100.20";
    static final String NAT_OUT = "198.51.100.1";
    static final String HOST = "10.72.0.2";

    private Ns in;
    private Ns out;
    private MultiThreadIoEventLoopGroup group;
    private Nat nat;
    private TunChannel tunIn;
    private TunChannel tunOut;
    private Path dir;
    private byte[] data;

    @BeforeAll
    void setUp() throws Exception {
        dev.pktkit.testkit.netns.Netns.assumeTunUsable();
        Tools.assumeCommand("in.tftpd", "tftpd-hpa");
        Tools.assumeCommand("tftp", "tftp-hpa");
        Tools.assumeCommand("ss", "iproute2");
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll natives not available");
        dir = Files.createTempDirectory("tftp-alg");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        in = Ns.create();
        out = Ns.create();
        group = TestLoops.group(TestLoops.EPOLL, 1);
        nat = Nat.create(group.next(), NatConfig.builder().outsideAddresses(NAT_OUT).insideAddress("10.72.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).outsideMtu(1500).insideMtu(1500).build());
        tunIn = bind(in, "tin0");
        tunOut = bind(out, "tout0");
        tunIn.link().mtu(1500).addAddress(HOST + "/24").up();
        in.exec("ip", "route", "add", "default", "dev", "tin0").check();
        tunOut.link().mtu(1500).addAddress(SERVER + "/24").up();
        nat.attach(tunIn, "inside");
        nat.attachOutside(tunOut);
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

    private TunChannel bind(Ns ns, String name) throws InterruptedException {
        return (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(ns.handle))
                .handler(new ChannelInboundHandlerAdapter()).bind(TunTapAddress.of(name)).sync().channel();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (nat != null) {
            nat.close();
        }
        if (tunIn != null) {
            tunIn.close().sync();
        }
        if (tunOut != null) {
            tunOut.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
        if (in != null) {
            in.close();
        }
        if (out != null) {
            out.close();
        }
        if (dir != null) {
            FtpInteropTest.deleteTree(dir);
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
        assertEquals(FtpInteropTest.sha256(data), FtpInteropTest.sha256(Files.readAllBytes(got)));
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

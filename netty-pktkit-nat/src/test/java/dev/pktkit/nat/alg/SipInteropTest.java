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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The SIP ALG against a real SIP registrar and proxy: kamailio (Debian's default configuration: registrar,
 * location, no authentication) in namespace "outside" (198.51.100.60). A scripted user agent "alice" in
 * namespace "inside" (10.75.0.2 behind the NAT, outside address 198.51.100.1) registers; kamailio stores the
 * contact the ALG rewrote. A scripted "bob" outside calls alice through kamailio, which relays the INVITE to
 * that contact; alice answers with SDP, and RTP flows both ways between the addresses each side learnt from the
 * other's SDP. (No call between two real user agents: baresip is not set up here; sipsak, tried as the client,
 * crashes in its message mode on this system.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SipInteropTest {
    static final String SERVER = "198.51.100.60";
    static final String NAT_OUT = "198.51.100.1";
    static final String HOST = "10.75.0.2";

    private Ns in;
    private Ns out;
    private MultiThreadIoEventLoopGroup group;
    private Nat nat;
    private TunChannel tunIn;
    private TunChannel tunOut;
    private Path dir;

    @BeforeAll
    void setUp() throws Exception {
        dev.pktkit.testkit.netns.Netns.assumeTunUsable();
        Tools.assumeCommand("kamailio", "kamailio");
        Tools.assumeCommand("python3", "python3");
        Tools.assumeCommand("ss", "iproute2");
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll natives not available");
        dir = Files.createTempDirectory("sip-alg");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        in = Ns.create();
        out = Ns.create();
        group = TestLoops.group(TestLoops.EPOLL, 1);
        nat = Nat.create(group.next(), NatConfig.builder().outsideAddresses(NAT_OUT).insideAddress("10.75.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).outsideMtu(1500).insideMtu(1500).build());
        tunIn = bind(in, "sin0");
        tunOut = bind(out, "sout0");
        tunIn.link().mtu(1500).addAddress(HOST + "/24").up();
        in.exec("ip", "route", "add", "default", "dev", "sin0").check();
        tunOut.link().mtu(1500).addAddress(SERVER + "/24").up();
        nat.attach(tunIn, "inside");
        nat.attachOutside(tunOut);
        nat.algs(AlgConfig.builder().sip(true).build()).sync();
        try (var script = SipInteropTest.class.getResourceAsStream("sip_ua.py")) {
            Files.write(dir.resolve("sip_ua.py"), script.readAllBytes());
        }
        Path cfg = Path.of("/etc/kamailio/kamailio.cfg");
        Assumptions.assumeTrue(Files.exists(cfg), "kamailio's default configuration is missing");
        // foreground, log to stderr, one worker, runtime files in the test's directory
        out.start(dir.resolve("kamailio.log"), "kamailio", "-f", cfg.toString(), "-l", "udp:" + SERVER + ":5060",
                "-DD", "-E", "-n", "1", "-Y", dir.toString(), "-w", dir.toString());
        out.awaitListening(5060, true);
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

    @Test
    void registerThroughKamailioThenCallWithRtpBothWays() throws Exception {
        Path aliceLog = dir.resolve("alice.log");
        Process alice = in.start(aliceLog, "python3", dir.resolve("sip_ua.py").toString(), "alice", HOST, SERVER);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(Files.exists(aliceLog) && Files.readString(aliceLog).contains("registered"))) {
                assertTrue(alice.isAlive() && System.nanoTime() < deadline, "alice did not register: "
                        + (Files.exists(aliceLog) ? Files.readString(aliceLog) : "") + "\nkamailio: "
                        + Files.readString(dir.resolve("kamailio.log")));
                Thread.onSpinWait();
            }
            CommandResult bob = out.exec("python3", dir.resolve("sip_ua.py").toString(), "bob", SERVER, SERVER);
            assertTrue(alice.waitFor(30, TimeUnit.SECONDS), "alice did not finish");
            String a = Files.readString(aliceLog);
            String b = bob.output();
            String both = "alice:\n" + a + "\nbob:\n" + b;
            assertEquals(0, bob.exit(), both);
            // kamailio stored the contact as the ALG rewrote it, and alice saw her own Via in the reply
            assertTrue(a.contains("registered <sip:alice@" + NAT_OUT + ":5060>"), both);
            assertTrue(a.contains("via SIP/2.0/UDP " + HOST + ":5060;"), both);
            // kamailio relayed bob's INVITE to that contact; the NAT turned its request line back to alice
            assertTrue(a.contains("invite INVITE sip:alice@" + HOST + ":5060 SIP/2.0"), both);
            // bob learnt alice's media address from her rewritten SDP; both got RTP from the other
            assertTrue(b.contains("answer-media " + NAT_OUT + " 40000 contact <sip:alice@" + NAT_OUT + ":5060>"), both);
            assertTrue(b.contains("rtp-from ('" + NAT_OUT + "', 40000)"), both);
            assertTrue(a.contains("rtp-from ('" + SERVER + "', 41000)"), both);
            assertTrue(nat.algs().sip().counters().get(AlgEvent.EXPECTED) >= 2, nat.algs().toString());
        } finally {
            alice.destroy();
        }
    }
}

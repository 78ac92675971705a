package dev.pktkit.nat.alg;

import dev.pktkit.nat.Nat;
import dev.pktkit.nat.interop.KernelNatRouter;
import dev.pktkit.nat.interop.NatTunFixture;
import dev.pktkit.nat.interop.Ns;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static dev.pktkit.nat.alg.AlgPackets.ip;
import static dev.pktkit.nat.alg.H323Messages.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The H.323 ALG against scripted peers over real kernel TCP/UDP sockets (no H.323 endpoint installs from Debian
 * here: {@code apt-cache search h323} and {@code h.323} find nothing). A caller in namespace "inside" (10.74.0.2) sends a
 * Setup from this project's PER encoder ({@link H323Messages}) with {@code h245Address} 10.74.0.2:30000 and a
 * fastStart OpenLogicalChannel whose reverse RTP address is 10.74.0.2:16000, to a callee outside
 * (198.51.100.50:1720). The callee reads the two addresses at their offsets (a rewrite keeps them in place),
 * opens the H.245 connection and sends RTP to what it read: both reach the caller through the NAT's
 * expectations under address-and-port-dependent filtering. tshark decodes what crossed the outside TUN; the same
 * scripts run through the kernel's {@code nf_nat_h323} (nft masquerade + {@code ct helper} "Q.931").
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class H323InteropTest {
    static final String SERVER = "198.51.100.50";
    static final String NAT_OUT = NatTunFixture.NAT_OUT;
    static final String HOST = "10.74.0.2";

    private NatTunFixture f;
    private Ns in;
    private Ns out;
    private Nat nat;
    private Path dir;
    private Path setupFile;
    private int h245At;
    private int rtpAt;

    @BeforeAll
    void setUp() throws Exception {
        Tools.assumeCommand("python3", "python3");
        Tools.assumeCommand("ss", "iproute2");
        f = NatTunFixture.builder("h").host(HOST).natInside("10.74.0.1").remote(SERVER).recordOutside().start();
        in = f.in();
        out = f.out();
        nat = f.nat();
        dir = f.dir();
        f.resource(H323InteropTest.class, "h323.py");
        byte[] setup = tpkt(q931(SETUP, 1, setup(ip(HOST), 30000, 0, 0,
                openLogicalChannel(1, ip(HOST), 16001, ip(HOST), 16000))));
        h245At = find(setup, ip(HOST), 30000);
        rtpAt = find(setup, ip(HOST), 16000);
        assertTrue(h245At > 0 && rtpAt > 0);
        setupFile = dir.resolve("setup.bin");
        Files.write(setupFile, setup);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    /** What the scripted peers saw: the callee's log and the caller's. */
    record Run(String callee, String caller) {
    }

    private Run run(Ns inside, Ns outside) throws Exception {
        Path calleeLog = dir.resolve("callee-" + outside.ns.name() + ".log");
        Process callee = outside.start(calleeLog, "python3", dir.resolve("h323.py").toString(), "callee", SERVER,
                Integer.toString(h245At), Integer.toString(rtpAt));
        try {
            outside.awaitListening(1720, false);
            CommandResult c = inside.exec("python3", dir.resolve("h323.py").toString(), "caller", HOST, SERVER,
                    setupFile.toString());
            assertTrue(callee.waitFor(40, TimeUnit.SECONDS), "the callee did not finish: "
                    + Files.readString(calleeLog));
            Run r = new Run(Files.readString(calleeLog), c.output());
            assertEquals(0, c.exit(), c.describe() + "\ncallee: " + r.callee());
            assertEquals(0, callee.exitValue(), r.toString());
            return r;
        } finally {
            callee.destroy();
        }
    }

    @Test
    void setupWithFastStartThroughTheNat() throws Exception {
        nat.algs(AlgConfig.builder().h323(true).build()).sync();
        Run r = run(in, out);
        // the callee read the NAT's outside address in both fields, and both flows reached the caller
        assertTrue(r.callee().contains("setup from " + NAT_OUT + " h245 " + NAT_OUT + ":"), r.toString());
        assertTrue(r.callee().contains(" rtp " + NAT_OUT + ":"), r.toString());
        assertTrue(r.caller().contains("h245 from " + SERVER + " data h245-hello"), r.toString());
        assertTrue(r.caller().contains("rtp from " + SERVER + " data rtp-payload"), r.toString());
        H323Alg h = nat.algs().h323();
        assertTrue(h.counters().get(AlgEvent.REWRITTEN) >= 1, h.toString());
        assertTrue(h.counters().get(AlgEvent.FLOWS) >= 2, "signalling and H.245 claimed: " + h);
        if (Tools.which("tshark") != null) {
            Path pcap = dir.resolve("outside.pcap");
            f.outsideRecorder().write(pcap);
            CommandResult decoded = out.exec("tshark", "-n", "-r", pcap.toString(), "-T", "fields", "-e",
                    "_ws.col.Protocol", "-e", "h225.h323_message_body", "-e", "h225.ip", "-e", "h245.network",
                    "-e", "_ws.malformed");
            assertEquals(0, decoded.exit(), decoded.describe());
            String t = decoded.output();
            assertFalse(t.contains("Malformed"), t);
            assertTrue(t.lines().anyMatch(l -> l.startsWith("H.225.0")), t);
            CommandResult tree = out.exec("tshark", "-n", "-r", pcap.toString(), "-V", "-O", "h225");
            String v = tree.output();
            assertTrue(v.contains("h245Address: ipAddress") && v.contains("ip: " + NAT_OUT)
                    && v.contains("network: " + NAT_OUT), "the rewritten Setup as tshark decodes it: " + v);
        }
    }

    @Test
    void withTheAlgOffTheCalleeSeesTheInsideAddresses() throws Exception {
        nat.algs(AlgConfig.none()).sync();
        Run r = run(in, out);
        assertTrue(r.callee().contains(" h245 " + HOST + ":30000"), r.toString());
        assertTrue(r.caller().contains("no h245"), r.toString());
        assertTrue(r.caller().contains("no rtp"), r.toString());
    }

    /**
     * The same scripts through the kernel: nft masquerade in a router namespace with the built-in H.323 helper
     * ({@code nf_conntrack_h323} / {@code nf_nat_h323}) attached to TCP 1720.
     */
    @Test
    void kernelNfNatH323OnTheSameTraffic() throws Exception {
        Tools.assumeCommand("nft", "nftables");
        try (KernelNatRouter k3 = KernelNatRouter.create("10.74.0.1", NAT_OUT, SERVER, HOST)) {
            Ns cl = k3.clients;
            Ns srv = k3.server;
            CommandResult nft = k3.load(dir.resolve("h323.nft"), """
                    table ip pktkit_h323 {
                        ct helper q931 {
                            type "Q.931" protocol tcp
                        }
                        chain pre {
                            type filter hook prerouting priority filter; policy accept;
                            tcp dport 1720 ct helper set "q931"
                        }
                        chain forward_h323 {
                            type filter hook forward priority filter; policy drop;
                            ct state established,related accept
                            iifname "rin" accept
                        }
                        chain post {
                            type nat hook postrouting priority srcnat; policy accept;
                            oifname "rout" masquerade
                        }
                    }
                    """);
            Assumptions.assumeTrue(nft.exit() == 0, "this kernel has no Q.931 conntrack helper: " + nft.describe());
            Run k = run(cl, srv);
            // seen on this kernel (6.18): what the kernel's helper did with the same Setup
            assertTrue(k.callee().contains("setup from " + NAT_OUT + " h245 " + NAT_OUT + ":"), k.toString());
            assertTrue(k.callee().contains(" rtp " + NAT_OUT + ":"), k.toString());
            assertTrue(k.caller().contains("h245 from " + SERVER + " data h245-hello"), k.toString());
            assertTrue(k.caller().contains("rtp from " + SERVER + " data rtp-payload"), k.toString());
        }
    }
}

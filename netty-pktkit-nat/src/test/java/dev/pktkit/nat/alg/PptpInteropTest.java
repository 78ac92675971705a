package dev.pktkit.nat.alg;

import dev.pktkit.nat.Nat;
import dev.pktkit.nat.interop.KernelNatRouter;
import dev.pktkit.nat.interop.NatTunFixture;
import dev.pktkit.nat.interop.Ns;
import dev.pktkit.nat.interop.Tshark;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The PPTP ALG against scripted peers (this kernel has no PPP, so no pptpd/pptp-linux): a server (PAC) in
 * namespace "outside" (198.51.100.50) and two clients (PNS) in namespace "inside" at 10.74.0.2 and 10.74.0.3, both
 * picking call ID 0x1234. Each client's Outgoing-Call-Request reaches the server with a different call ID; the
 * server's enhanced GRE to each outside call ID reaches the right client carrying 0x1234; each client's GRE
 * reaches the server from the NAT's outside address. The control messages and GRE packets are real kernel
 * sockets' (TCP, raw IPPROTO_GRE) with RFC 2637 layouts written by the script.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PptpInteropTest {
    static final String SERVER = "198.51.100.50";
    static final String NAT_OUT = NatTunFixture.NAT_OUT;
    static final String HOST = "10.74.0.2";
    static final String HOST_B = "10.74.0.3";

    private NatTunFixture f;
    private Ns in;
    private Ns out;
    private Nat nat;
    private Path dir;

    @BeforeAll
    void setUp() throws Exception {
        Tools.assumeCommand("python3", "python3");
        Tools.assumeCommand("ss", "iproute2");
        f = NatTunFixture.builder("p").host(HOST).natInside("10.74.0.1").remote(SERVER).recordOutside().start();
        in = f.in();
        out = f.out();
        nat = f.nat();
        dir = f.dir();
        in.exec("ip", "addr", "add", HOST_B + "/24", "dev", "pin0").check();
        nat.algs(AlgConfig.builder().pptp(true).build()).sync();
        f.resource(PptpInteropTest.class, "pptp.py");
    }

    @AfterAll
    void tearDown() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    /** What the scripted peers saw: the PAC's log, client A's and client B's. */
    record Run(String pac, String a, String b) {
    }

    private Run run(Ns clients, Ns server, String natOut, boolean check) throws Exception {
        Path pacLog = dir.resolve("pac-" + server.ns.name() + ".log");
        Path aLog = dir.resolve("a-" + clients.ns.name() + ".log");
        Process pac = server.start(pacLog, "python3", dir.resolve("pptp.py").toString(), "pac", SERVER, "2");
        Process clientA = null;
        try {
            server.awaitListening(1723, false);
            clientA = clients.start(aLog, "python3", dir.resolve("pptp.py").toString(), "pns", HOST, SERVER);
            CommandResult b = clients.exec("python3", dir.resolve("pptp.py").toString(), "pns", HOST_B, SERVER);
            assertEquals(0, b.exit(), b.describe() + "\npac: " + Files.readString(pacLog));
            assertTrue(clientA.waitFor(30, TimeUnit.SECONDS), "client A did not finish");
            assertTrue(pac.waitFor(30, TimeUnit.SECONDS), "the PAC did not finish: " + Files.readString(pacLog));
            Run r = new Run(Files.readString(pacLog), Files.readString(aLog), b.output());
            assertEquals(0, clientA.exitValue(), r.a());
            assertEquals(0, pac.exitValue(), r.pac());
            if (check) {
                check(r, natOut);
            }
            return r;
        } finally {
            pac.destroy();
            if (clientA != null) {
                clientA.destroy();
            }
        }
    }

    /** The outcome both NATs must give. */
    private static void check(Run r, String natOut) {
        String p = r.pac();
        // the server saw two calls from the NAT's address with different call IDs: 0x1234 and another
        assertTrue(p.contains("call " + natOut + " peer-call-id 4660 "), p);
        assertEquals(2, p.lines().filter(l -> l.startsWith("call " + natOut + " ")).map(l -> l.split(" ")[3])
                .distinct().count(), p);
        // each client was told its own call ID and got GRE with it, sent to its own outside call ID
        for (String log : new String[]{r.a(), r.b()}) {
            assertTrue(log.contains("reply my-call-id 4660 "), log);
            assertTrue(log.contains(" call 4660 payload to " + natOut + " "), log);
        }
        assertNotEquals(r.a().substring(r.a().indexOf("payload")), r.b().substring(r.b().indexOf("payload")));
        // both clients' GRE reached the server from the outside address, keyed by its call IDs
        assertTrue(p.contains("gre-from " + natOut + " call 256 payload from "), p);
        assertTrue(p.contains("gre-from " + natOut + " call 257 payload from "), p);
        assertTrue(p.contains("payload from " + HOST) && p.contains("payload from " + HOST_B), p);
    }

    @Test
    void twoClientsWithTheSameCallIdThroughScriptedPac() throws Exception {
        run(in, out, NAT_OUT, true);
        assertTrue(nat.algs().pptp().counters().get(AlgEvent.REWRITTEN) >= 2, nat.algs().toString());
        if (Tshark.available()) {
            // what crossed the outside TUN, both ways, as tshark sees it: every packet decodes cleanly, its IP,
            // TCP checksums checked
            Path pcap = dir.resolve("outside.pcap");
            f.outsideRecorder().write(pcap);
            List<Tshark.Row> rows = Tshark.decodeCleanly(out, pcap, "tcp.check_checksum:TRUE");
            assertEquals(f.outsideRecorder().packets().size(), rows.size(), "every recorded packet decoded");
            checkDecoded(rows, NAT_OUT, "ours");
        }
    }

    /**
     * One run's outside link as tshark decoded it ({@link Tshark#decodeCleanly}: nothing malformed, no error):
     * every GRE packet decoded through enhanced GRE down to PPP LCP, every TCP packet as TCP or PPTP, at least 8
     * PPTP control messages, and enhanced GRE both from and to the NAT's outside address (both directions were
     * captured).
     */
    static void checkDecoded(List<Tshark.Row> rows, String natOut, String run) {
        String all = run + ":\n" + String.join("\n", rows.stream().map(Tshark.Row::line).toList());
        for (Tshark.Row r : rows) {
            if (r.ipProto() == 47) {
                assertEquals("PPP LCP", r.protocol(), "GRE decoded down to its PPP payload: " + all);
            } else if (r.ipProto() == 6) {
                assertTrue(r.protocol().equals("PPTP") || r.protocol().equals("TCP"), "TCP on 1723: " + all);
            }
        }
        assertTrue(rows.stream().filter(r -> r.protocol().equals("PPTP")).count() >= 8, "PPTP control: " + all);
        assertTrue(rows.stream().filter(r -> r.ipProto() == 47 && r.src().equals(natOut)).count() >= 2,
                "enhanced GRE from the NAT: " + all);
        assertTrue(rows.stream().filter(r -> r.ipProto() == 47 && r.dst().equals(natOut)).count() >= 2,
                "enhanced GRE to the NAT: " + all);
    }

    /**
     * The same scripts through the kernel's NAT: nft masquerade in a router namespace with the built-in
     * {@code pptp} conntrack helper attached ({@code nf_nat_pptp}). Seen on this kernel (6.18): both calls work
     * outbound, but the kernel does not remap the clients' equal call IDs, so at most one client gets the server's
     * GRE back; our NAT keeps them apart.
     */
    @Test
    void kernelNfNatPptpOnTheSameTraffic() throws Exception {
        Tools.assumeCommand("nft", "nftables");
        Tools.assumeCommand("conntrack", "conntrack");
        try (KernelNatRouter k3 = KernelNatRouter.create("10.74.0.1", NAT_OUT, SERVER, HOST, HOST_B)) {
            Ns cl = k3.clients;
            Ns router = k3.router;
            Ns srv = k3.server;
            CommandResult nft = k3.load(dir.resolve("pptp.nft"), """
                    table ip pktkit_alg {
                        ct helper pptp-helper {
                            type "pptp" protocol tcp
                        }
                        chain pre {
                            type filter hook prerouting priority filter; policy accept;
                            tcp dport 1723 ct helper set "pptp-helper"
                        }
                        chain post {
                            type nat hook postrouting priority srcnat; policy accept;
                            oifname "rout" masquerade
                        }
                    }
                    """);
            Assumptions.assumeTrue(nft.exit() == 0, "this kernel has no pptp conntrack helper: " + nft.describe());
            // the router's outside link, as tshark will decode it (dumpcap ships with tshark)
            boolean decode = Tools.which("tshark") != null && Tools.which("dumpcap") != null;
            Path pcap = dir.resolve("kernel-outside.pcap");
            Path capLog = dir.resolve("kernel-dumpcap.log");
            Process cap = null;
            if (decode) {
                cap = router.start(capLog, "dumpcap", "-i", "rout", "-P", "-w", pcap.toString());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!(Files.exists(capLog) && Files.readString(capLog).contains("Capturing on"))) {
                    assertTrue(cap.isAlive() && System.nanoTime() < deadline, "dumpcap did not start: "
                            + (Files.exists(capLog) ? Files.readString(capLog) : ""));
                    Thread.onSpinWait();
                }
            }
            Run k = run(cl, srv, NAT_OUT, false);
            if (cap != null) {
                cap.destroy(); // SIGTERM: dumpcap closes the file
                assertTrue(cap.waitFor(20, TimeUnit.SECONDS), "dumpcap did not stop");
                // the kernel's translation of the same traffic decodes cleanly too (IP header checksums checked;
                // TCP's not: locally sent segments cross veth with offloaded, partial checksums)
                checkDecoded(Tshark.decodeCleanly(router, pcap), NAT_OUT, "kernel");
            }
            // what the kernel does with this traffic: its GRE and control translation work for one client, but it
            // passes both clients' call ID 0x1234 through unchanged, so the server's GRE for the two calls is
            // indistinguishable at the NAT (our NAT gives the second call another outside ID: see above)
            assertEquals(2, k.pac().lines().filter(l -> l.startsWith("call " + NAT_OUT + " peer-call-id 4660 "))
                    .count(), "the kernel kept both call IDs: " + k);
            assertTrue(k.pac().contains("gre-from " + NAT_OUT + " call 256 payload from "), k.toString());
            assertTrue(k.pac().contains("gre-from " + NAT_OUT + " call 257 payload from "), k.toString());
            String tracked = router.exec("conntrack", "-L").output();
            assertTrue(tracked.contains("dport=1723") && tracked.contains("helper=pptp"),
                    "the kernel attached its pptp helper: " + tracked);
            long delivered = Stream.of(k.a(), k.b()).filter(l -> l.contains("gre-to ")).count();
            assertTrue(delivered <= 1, "both clients got their GRE through the kernel: " + k);
        }
    }
}

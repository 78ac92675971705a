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
    static final String NAT_OUT = "198.51.100.1";
    static final String HOST = "10.74.0.2";
    static final String HOST_B = "10.74.0.3";

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
        Tools.assumeCommand("python3", "python3");
        Tools.assumeCommand("ss", "iproute2");
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll natives not available");
        dir = Files.createTempDirectory("pptp-alg");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        in = Ns.create();
        out = Ns.create();
        group = TestLoops.group(TestLoops.EPOLL, 1);
        nat = Nat.create(group.next(), NatConfig.builder().outsideAddresses(NAT_OUT).insideAddress("10.74.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).outsideMtu(1500).insideMtu(1500).build());
        tunIn = bind(in, "pin0");
        tunOut = bind(out, "pout0");
        tunIn.link().mtu(1500).addAddress(HOST + "/24").up();
        in.exec("ip", "route", "add", "default", "dev", "pin0").check();
        tunOut.link().mtu(1500).addAddress(SERVER + "/24").up();
        nat.attach(tunIn, "inside");
        nat.attachOutside(tunOut);
        in.exec("ip", "addr", "add", HOST_B + "/24", "dev", "pin0").check();
        nat.algs(AlgConfig.builder().pptp(true).build()).sync();
        try (var script = PptpInteropTest.class.getResourceAsStream("pptp.py")) {
            Files.write(dir.resolve("pptp.py"), script.readAllBytes());
        }
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
    void twoClientsWithTheSameCallIdThroughScriptedPac() throws Exception {
        Path pacLog = dir.resolve("pac.log");
        Process pac = out.start(pacLog, "python3", dir.resolve("pptp.py").toString(), "pac", SERVER, "2");
        Process clientA = null;
        try {
            out.awaitListening(1723, false);
            clientA = in.start(dir.resolve("a.log"), "python3", dir.resolve("pptp.py").toString(), "pns", HOST,
                    SERVER);
            CommandResult b = in.exec("python3", dir.resolve("pptp.py").toString(), "pns", HOST_B, SERVER);
            assertEquals(0, b.exit(), b.describe() + "\npac: " + Files.readString(pacLog));
            assertTrue(clientA.waitFor(30, TimeUnit.SECONDS), "client A did not finish");
            assertTrue(pac.waitFor(30, TimeUnit.SECONDS), "the PAC did not finish: " + Files.readString(pacLog));
            String a = Files.readString(dir.resolve("a.log"));
            String p = Files.readString(pacLog);
            assertEquals(0, clientA.exitValue(), a);
            assertEquals(0, pac.exitValue(), p);
            // the server saw two calls from the NAT's address with different call IDs: 0x1234 and another
            assertTrue(p.contains("call " + NAT_OUT + " peer-call-id 4660 "), p);
            assertEquals(2, p.lines().filter(l -> l.startsWith("call " + NAT_OUT + " ")).map(l -> l.split(" ")[3])
                    .distinct().count(), p);
            // each client was told its own call ID and got GRE with it, sent to its own outside call ID
            for (String log : new String[]{a, b.output()}) {
                assertTrue(log.contains("reply my-call-id 4660 "), log);
                assertTrue(log.contains(" call 4660 payload to " + NAT_OUT + " "), log);
            }
            assertNotEquals(a.substring(a.indexOf("payload")), b.output().substring(b.output().indexOf("payload")));
            // both clients' GRE reached the server from the outside address, keyed by its call IDs
            assertTrue(p.contains("gre-from " + NAT_OUT + " call 256 payload from "), p);
            assertTrue(p.contains("gre-from " + NAT_OUT + " call 257 payload from "), p);
            assertTrue(p.contains("payload from " + HOST) && p.contains("payload from " + HOST_B), p);
        } finally {
            pac.destroy();
            if (clientA != null) {
                clientA.destroy();
            }
        }
    }
}

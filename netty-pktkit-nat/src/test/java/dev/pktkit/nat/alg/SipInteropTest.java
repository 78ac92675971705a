package dev.pktkit.nat.alg;

import dev.pktkit.nat.Nat;
import dev.pktkit.nat.interop.NatTunFixture;
import dev.pktkit.nat.interop.PacketRecorder.Packet;
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
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    static final String NAT_OUT = NatTunFixture.NAT_OUT;
    static final String HOST = "10.75.0.2";

    private NatTunFixture f;
    private Ns in;
    private Ns out;
    private Nat nat;
    private Path dir;

    @BeforeAll
    void setUp() throws Exception {
        Tools.assumeCommand("kamailio", "kamailio");
        Tools.assumeCommand("ss", "iproute2");
        f = NatTunFixture.builder("s").host(HOST).natInside("10.75.0.1").remote(SERVER).recordInside()
                .recordOutside().start();
        in = f.in();
        out = f.out();
        nat = f.nat();
        dir = f.dir();
        nat.algs(AlgConfig.builder().sip(true).build()).sync();
        f.resource(SipInteropTest.class, "sip_ua.py");
        Path cfg = Path.of("/etc/kamailio/kamailio.cfg");
        Assumptions.assumeTrue(Files.exists(cfg), "kamailio's default configuration is missing");
        // foreground, log to stderr, one worker, runtime files in the test's directory
        out.start(dir.resolve("kamailio.log"), "kamailio", "-f", cfg.toString(), "-l", "udp:" + SERVER + ":5060",
                "-DD", "-E", "-n", "1", "-Y", dir.toString(), "-w", dir.toString());
        out.awaitListening(5060, true);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void registerThroughKamailioThenCallWithRtpBothWays() throws Exception {
        Tools.assumeCommand("python3", "python3");
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

    /**
     * Why the RTP expectation is needed: alice answers but sends no RTP until she has received some, so bob's
     * RTP (from 198.51.100.60 to the port alice's rewritten SDP named) is the media flow's first packet.
     * Under this test's address-and-port-dependent filtering nothing but the SIP ALG's expectation lets it in.
     * Two runs, each on RTP ports of its own (no session left by another run or test can let bob in): with the
     * expectations withdrawn (cancelled on the NAT's loop once bob has alice's 200 OK, before he starts), bob's
     * RTP is dropped (counted: {@code NO_MAPPING}, as the withdrawn expectation held the mapping, or
     * {@code FILTERED}) and alice gets none within her 6 s; with them in place bob's RTP reaches alice and she
     * answers it.
     */
    @Test
    void rtpFromOutsideNeedsTheMediaExpectation() throws Exception {
        Tools.assumeCommand("python3", "python3");
        for (boolean withdraw : new boolean[]{true, false}) {
            int aliceRtp = withdraw ? 40100 : 40200;
            int bobRtp = withdraw ? 41100 : 41200;
            Path aliceLog = dir.resolve("alice-listen-" + withdraw + ".log");
            Path bobLog = dir.resolve("bob-listen-" + withdraw + ".log");
            Path go = dir.resolve("go-" + withdraw);
            String ua = dir.resolve("sip_ua.py").toString();
            Process alice = in.start(aliceLog, "env", "RTP_PORT=" + aliceRtp, "python3", ua, "alice", HOST, SERVER,
                    "listen");
            Process bob = null;
            try {
                awaitLine(aliceLog, "registered", alice);
                bob = out.start(bobLog, "env", "RTP_PORT=" + bobRtp, "python3", ua, "bob", SERVER, SERVER,
                        go.toString());
                // bob has alice's 200 OK: the NAT translated it, so its SDP's expectations exist (alice's own
                // "answered" comes before the NAT has read the datagram)
                awaitLine(bobLog, "answer-media", bob);
                long refused = refusedInbound();
                int withdrawn = 0;
                if (withdraw) {
                    withdrawn = nat.eventLoop().submit(() -> {
                        int n = 0;
                        for (dev.pktkit.nat.ExpectedFlow x : List.copyOf(nat.engine().expectations())) {
                            int p = x.expectation().insidePort();
                            if (p == aliceRtp || p == aliceRtp + 1) { // RTP and RTCP of this call only
                                x.cancel();
                                n++;
                            }
                        }
                        return n;
                    }).get(10, TimeUnit.SECONDS);
                }
                Files.createFile(go);
                assertTrue(alice.waitFor(30, TimeUnit.SECONDS), "alice did not finish");
                assertTrue(bob.waitFor(30, TimeUnit.SECONDS), "bob did not finish");
                String a = Files.readString(aliceLog);
                String b = Files.readString(bobLog);
                String both = "withdrawn " + withdraw + "\nalice:\n" + a + "\nbob:\n" + b;
                assertEquals(0, alice.exitValue(), both);
                assertEquals(0, bob.exitValue(), both);
                assertTrue(b.contains("answer-media " + NAT_OUT + " " + aliceRtp + " "), both);
                // on the wire: bob's RTP reached the NAT's outside TUN at alice's announced port
                assertTrue(f.outsideRecorder().count(x -> x.fromKernel() && x.udp() && x.destination().equals(NAT_OUT)
                        && x.destinationPort() == aliceRtp && x.sourcePort() == bobRtp) > 0, "bob sent RTP: " + both);
                // and on the inside TUN, the packets of alice's RTP port in the order they crossed it
                List<Packet> media = f.insideRecorder().packets().stream().filter(x -> x.udp()
                        && ((x.fromKernel() && x.source().equals(HOST) && x.sourcePort() == aliceRtp)
                        || (!x.fromKernel() && x.destination().equals(HOST) && x.destinationPort() == aliceRtp)))
                        .toList();
                if (!withdraw) {
                    // the first media packet came from outside, through the expectation
                    assertTrue(a.contains("rtp-first-from ('" + SERVER + "', " + bobRtp + ")"), both);
                    assertTrue(b.contains("rtp-from ('" + NAT_OUT + "', " + aliceRtp + ")"), both);
                    // deterministic, not a race: alice sends no RTP before she has received some, so the first
                    // packet at her port is bob's, written inwards by the NAT before any of hers went out
                    assertFalse(media.isEmpty(), both);
                    assertFalse(media.get(0).fromKernel(), "the first RTP packet at alice's port was inbound: " + both);
                    assertEquals(SERVER, media.get(0).source());
                    assertEquals(bobRtp, media.get(0).sourcePort());
                } else {
                    // nothing reached alice's port, nor did she send from it
                    assertEquals(List.of(), media, both);
                    assertEquals(2, withdrawn, "RTP and RTCP were pending: " + both);
                    assertTrue(a.contains("no-rtp"), both);
                    assertTrue(b.contains("rtp-from None"), both);
                    assertTrue(refusedInbound() > refused, "bob's RTP was dropped: " + nat.counters());
                }
            } finally {
                alice.destroy();
                if (bob != null) {
                    bob.destroy();
                }
            }
        }
    }

    private long refusedInbound() {
        return nat.counters().dropped(dev.pktkit.nat.NatDropReason.NO_MAPPING)
                + nat.counters().dropped(dev.pktkit.nat.NatDropReason.FILTERED);
    }

    /** Waits (bounded, 30 s) until {@code log} holds {@code text}; fails early when the process died. */
    private static void awaitLine(Path log, String text, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(Files.exists(log) && Files.readString(log).contains(text))) {
            assertTrue(p.isAlive() && System.nanoTime() < deadline, "no '" + text + "' in: "
                    + (Files.exists(log) ? Files.readString(log) : ""));
            Thread.onSpinWait();
        }
    }

    static final String CAROL = HOST;
    static final int CAROL_SIP = 5070;
    /** dave shares kamailio's address (baresip sends RTP from the interface's first address) on port 5080. */
    static final String DAVE = SERVER;
    static final int DAVE_SIP = 5080;
    static final int CAROL_RTP = 42000;
    static final int DAVE_RTP = 44000;
    /** RTP packets each way, on each TUN, before the call is ended. */
    static final int RTP_PACKETS = 50;

    /** A baresip configuration directory: SIP on {@code address:sipPort}, opus with a 440 Hz sine, no sound card. */
    private Path baresipConfig(String user, String address, int sipPort, int rtpPort) throws Exception {
        Path d = Files.createDirectories(dir.resolve("baresip-" + user));
        Files.writeString(d.resolve("config"), """
                poll_method epoll
                sip_listen %s:%d
                net_interface %s
                audio_player aubridge,nil
                audio_source ausine,440
                audio_alert aubridge,nil
                rtp_ports %d-%d
                rtcp_mux no
                rtp_stats yes
                module_path /usr/lib/baresip/modules
                module opus.so
                module ausine.so
                module aubridge.so
                module_tmp account.so
                module_app menu.so
                """.formatted(address, sipPort, address, rtpPort, rtpPort + 9));
        // no authentication at Debian's default kamailio; answer calls at once
        Files.writeString(d.resolve("accounts"), "<sip:%s@%s>;answermode=auto;regint=60;audio_codecs=opus/48000/2\n"
                .formatted(user, SERVER));
        return d;
    }

    /** A baresip log without its per-tick status lines. */
    private static String clean(String log) {
        return log.replaceAll("\\[\\d+:\\d\\d:\\d\\d\\] audio=\\S+ \\(bit/s\\)\\s*", "");
    }

    private static boolean inRange(int port, int base) {
        return port >= base && port < base + 10;
    }

    /** The packet and receive counts baresip prints for the audio stream when a call ends (rtp_stats). */
    private static int[] rtpStats(String log) {
        Matcher m = Pattern.compile("packets:\\s+(\\d+)\\s+(\\d+)").matcher(log);
        assertTrue(m.find(), "no RTP statistics in: " + log);
        return new int[]{Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    /**
     * Two real user agents: baresip "carol" inside (10.75.0.2:5070) registers with kamailio through the NAT;
     * baresip "dave" outside (198.51.100.60:5080) calls sip:carol@kamailio, kamailio relays the INVITE to the contact
     * the ALG rewrote, carol answers, and opus RTP (a 440 Hz sine, no sound card) flows both ways across the NAT.
     * Seen on both TUNs and in each UA's own statistics; nothing on the outside TUN carries the inside address.
     */
    @Test
    void baresipInsideRegistersAndTakesACallFromBaresipOutside() throws Exception {
        Tools.assumeCommand("baresip", "baresip-core");
        Path modules = Path.of("/usr/lib/baresip/modules");
        for (String m : List.of("opus.so", "ausine.so", "aubridge.so", "account.so", "menu.so")) {
            Assumptions.assumeTrue(Files.exists(modules.resolve(m)), "baresip module " + m + " missing");
        }
        long expected = nat.algs().sip().counters().get(AlgEvent.EXPECTED);
        Path carolLog = dir.resolve("carol.log");
        Path daveLog = dir.resolve("dave.log");
        // -t: each quits on its own after 60 s at the latest
        Process carol = in.start(carolLog, "baresip", "-4", "-f", baresipConfig("carol", CAROL, CAROL_SIP, CAROL_RTP)
                .toString(), "-t", "60");
        Process dave = null;
        try {
            f.awaitLog(carolLog, "carol@" + SERVER + ": {0/UDP/v4} 200 OK", carol, 30);
            dave = out.start(daveLog, "baresip", "-4", "-f",
                    baresipConfig("dave", DAVE, DAVE_SIP, DAVE_RTP).toString(), "-t", "60", "-e", "/dial sip:carol@" + SERVER);
            f.awaitLog(carolLog, "Call established: sip:dave@" + SERVER, carol, 30);
            f.awaitLog(daveLog, "Call established: sip:carol@" + SERVER, dave, 30);
            // RTP both ways on both TUNs: inside between carol and dave, outside between the NAT and dave
            Predicate<Packet> carolOut = p -> p.fromKernel() && p.udp() && p.source().equals(CAROL)
                    && inRange(p.sourcePort(), CAROL_RTP) && p.destination().equals(DAVE)
                    && inRange(p.destinationPort(), DAVE_RTP);
            Predicate<Packet> carolIn = p -> !p.fromKernel() && p.udp() && p.source().equals(DAVE)
                    && inRange(p.sourcePort(), DAVE_RTP) && p.destination().equals(CAROL)
                    && inRange(p.destinationPort(), CAROL_RTP);
            Predicate<Packet> daveIn = p -> !p.fromKernel() && p.udp() && p.source().equals(NAT_OUT)
                    && p.destination().equals(DAVE) && inRange(p.destinationPort(), DAVE_RTP);
            Predicate<Packet> daveOut = p -> p.fromKernel() && p.udp() && p.source().equals(DAVE)
                    && inRange(p.sourcePort(), DAVE_RTP) && p.destination().equals(NAT_OUT);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(f.insideRecorder().count(carolOut) >= RTP_PACKETS
                    && f.insideRecorder().count(carolIn) >= RTP_PACKETS
                    && f.outsideRecorder().count(daveIn) >= RTP_PACKETS
                    && f.outsideRecorder().count(daveOut) >= RTP_PACKETS)) {
                assertTrue(System.nanoTime() < deadline && carol.isAlive() && dave.isAlive(), "RTP inside "
                        + f.insideRecorder().count(carolOut) + " out / " + f.insideRecorder().count(carolIn)
                        + " in, outside " + f.outsideRecorder().count(daveOut) + " from dave / "
                        + f.outsideRecorder().count(daveIn) + " to dave\ncarol:\n" + clean(Files.readString(carolLog))
                        + "\ndave:\n" + clean(Files.readString(daveLog)));
                Thread.onSpinWait();
            }
            // dave hangs up (SIGTERM: baresip sends BYE and prints its statistics), then carol is stopped
            dave.destroy();
            assertTrue(dave.waitFor(20, TimeUnit.SECONDS), "dave did not quit");
            String c = f.awaitLog(carolLog, "terminated", carol, 20);
            carol.destroy();
            assertTrue(carol.waitFor(20, TimeUnit.SECONDS), "carol did not quit");
            c = clean(Files.readString(carolLog));
            String d = clean(Files.readString(daveLog));
            String both = "carol:\n" + c + "\ndave:\n" + d;
            // each side received RTP from the address it learnt from the other's SDP: dave from the NAT's
            assertTrue(d.contains("incoming rtp for 'audio' established, receiving from " + NAT_OUT + ":"), both);
            assertTrue(c.contains("incoming rtp for 'audio' established, receiving from " + DAVE + ":"), both);
            int[] cs = rtpStats(c);
            int[] ds = rtpStats(d);
            // the UAs' own counts (a few packets written to a TUN may still be queued when the call ends)
            assertTrue(cs[0] >= RTP_PACKETS / 2 && cs[1] >= RTP_PACKETS / 2, "carol sent / received " + cs[0] + " / "
                    + cs[1]);
            assertTrue(ds[0] >= RTP_PACKETS / 2 && ds[1] >= RTP_PACKETS / 2, "dave sent / received " + ds[0] + " / "
                    + ds[1]);
            // what crossed the outside: carol's REGISTER with the contact the ALG rewrote, her SDP with the NAT's
            // address, and no SIP message with the inside address
            List<String> sip = f.outsideRecorder().packets().stream().filter(p -> p.udp()
                    && (p.sourcePort() == 5060 || p.destinationPort() == 5060)).map(Packet::udpText).toList();
            // (baresip's contact user is "carol-0x..." and its answer "200 Answering")
            assertTrue(sip.stream().anyMatch(t -> t.startsWith("REGISTER ") && t.contains("Contact: <sip:carol-")
                    && t.contains("@" + NAT_OUT + ":" + CAROL_SIP + ">")), String.join("\n----\n", sip));
            assertTrue(sip.stream().anyMatch(t -> t.startsWith("SIP/2.0 200 ") && t.contains("c=IN IP4 " + NAT_OUT)),
                    String.join("\n----\n", sip));
            assertTrue(sip.stream().noneMatch(t -> t.contains(CAROL)), String.join("\n----\n", sip));
            // kamailio relayed dave's INVITE to that contact; the NAT turned its request line back to carol
            List<String> toCarol = f.insideRecorder().packets().stream().filter(p -> !p.fromKernel() && p.udp()
                    && p.destinationPort() == CAROL_SIP).map(Packet::udpText).toList();
            assertTrue(toCarol.stream().anyMatch(t -> t.startsWith("INVITE sip:carol-")
                    && t.substring(0, t.indexOf('\r')).endsWith("@" + CAROL + ":" + CAROL_SIP + " SIP/2.0")),
                    String.join("\n----\n", toCarol));
            assertTrue(nat.algs().sip().counters().get(AlgEvent.EXPECTED) - expected >= 2, nat.algs().toString());
        } finally {
            if (dave != null) {
                dave.destroy();
            }
            carol.destroy();
        }
    }
}

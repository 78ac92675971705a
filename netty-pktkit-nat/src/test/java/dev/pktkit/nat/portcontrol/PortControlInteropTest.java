package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.interop.NatTunFixture;
import dev.pktkit.nat.interop.Ns;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Real clients against the port control: namespace "inside" (10.71.0.2/24 on TUN pcin0, default route onto it;
 * the NAT's inside address 10.71.0.1) and namespace "outside" (198.51.100.10/24 on TUN pcout0; the NAT's outside
 * address 198.51.100.1), both TUNs and the NAT on one epoll loop. {@code upnpc} (miniupnpc) discovers the IGD by
 * SSDP, reads the external address, adds / lists / deletes mappings; {@code natpmpc} (libnatpmp) reads the
 * address and maps a port; each mapping is then proved by a {@code socat} connection from outside to a
 * {@code socat} server inside. Lease expiry runs on a clock the test moves forward (no waiting).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PortControlInteropTest {
    static final String HOST = "10.71.0.2";
    static final String GW = "10.71.0.1";
    static final String NAT_OUT = NatTunFixture.NAT_OUT;
    static final String REMOTE = "198.51.100.10";
    static final String ROOT = "http://" + GW + ":5000/rootDesc.xml";
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private NatTunFixture f;
    private Ns in;
    private Ns out;
    private Nat nat;
    private PortControl pc;
    private Path dir;
    private final AtomicLong skew = new AtomicLong();

    @BeforeAll
    void setUp() throws Exception {
        Tools.assumeCommand("upnpc", "miniupnpc");
        Tools.assumeCommand("natpmpc", "natpmpc");
        Tools.assumeCommand("socat", "socat");
        Tools.assumeCommand("ss", "iproute2");
        f = NatTunFixture.builder("pc").host(HOST).natInside(GW).remote(REMOTE)
                .attachInside((n, tun) -> {
                    pc = PortControl.create(n, PortControlConfig.builder()
                            .clock(() -> System.nanoTime() + skew.get()).build());
                    return pc.attach(tun, "lan");
                }).start();
        f.closeFirst(pc);
        in = f.in();
        out = f.out();
        nat = f.nat();
        dir = f.dir();
        for (int port : new int[]{8080, 9090}) {
            in.start(dir.resolve("srv" + port + ".log"), "socat", "TCP-LISTEN:" + port + ",reuseaddr,fork",
                    "SYSTEM:echo inside-" + port);
            awaitListening(in, port);
        }
    }

    @AfterAll
    void tearDown() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    private static void awaitListening(Ns ns, int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            CommandResult r = ns.exec(TIMEOUT, "ss", "-Hltn", "sport = :" + port);
            if (r.exit() == 0 && !r.output().isBlank()) {
                return;
            }
        }
        throw new AssertionError("nothing listens on " + port);
    }

    /** What a TCP connection from outside to the NAT's outside address reads ("" when refused / nothing). */
    private String fromOutside(int port) throws IOException, InterruptedException {
        CommandResult r = out.exec(TIMEOUT, "socat", "-T", "3", "-u",
                "TCP:" + NAT_OUT + ":" + port + ",connect-timeout=3", "-");
        return r.exit() == 0 ? r.output().trim() : "";
    }

    private String upnpc(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 4];
        cmd[0] = "upnpc";
        cmd[1] = "-i";
        cmd[2] = "-u";
        cmd[3] = ROOT;
        System.arraycopy(args, 0, cmd, 4, args.length);
        return in.exec(TIMEOUT, cmd).output();
    }

    private List<Lease> leases() throws Exception {
        return pc.leases().get(10, TimeUnit.SECONDS);
    }

    @Test
    void upnpcDiscoversMapsListsDeletesAndLeasesExpire() throws Exception {
        // discovery by SSDP (M-SEARCH to 239.255.255.250:1900 out of the TUN), then the status actions
        // -i: miniupnpc calls an IGD whose external address is in a reserved range (198.51.100.0/24 here) "not
        // connected?" and stops unless told to go on
        String status = in.exec(TIMEOUT, "upnpc", "-i", "-m", HOST, "-s").output();
        assertTrue(status.contains("desc: " + ROOT), status);
        assertTrue(status.contains("IGD : http://" + GW + ":5000/ctl/IPConn"), status);
        assertTrue(status.contains("Connection Type : IP_Routed"), status);
        assertTrue(status.contains("ExternalIPAddress = " + NAT_OUT), status);
        assertTrue(status.contains("Connected"), status);
        assertTrue(pc.counters().get(PortControlCounter.SSDP_ANSWERED) >= 1);

        String add = upnpc("-e", "pktkit-test", "-a", HOST, "8080", "18080", "TCP", "3600");
        assertTrue(add.contains("external " + NAT_OUT + ":18080 TCP is redirected to internal " + HOST + ":8080"), add);
        assertEquals("inside-8080", fromOutside(18080));
        assertEquals(IpProtocol.TCP, nat.mappings().get().stream().filter(m -> m.outsidePort() == 18080)
                .findFirst().orElseThrow().protocol());

        String list = upnpc("-l");
        assertTrue(list.matches("(?s).*TCP\\s+18080->" + HOST.replace(".", "\\.") + ":8080\\s+'pktkit-test'.*"), list);

        // IGD:2's AddAnyPortMapping: 18080 is taken, so another external port is reserved for 9090
        String any = upnpc("-n", HOST, "9090", "18080", "TCP", "600");
        java.util.regex.Matcher am = java.util.regex.Pattern.compile("external " + NAT_OUT.replace(".", "\\.")
                + ":(\\d+) TCP is redirected to internal " + HOST.replace(".", "\\.") + ":9090").matcher(any);
        assertTrue(am.find(), any);
        int anyPort = Integer.parseInt(am.group(1));
        assertNotEquals(18080, anyPort);
        assertEquals("inside-9090", fromOutside(anyPort));
        assertTrue(upnpc("-d", Integer.toString(anyPort), "TCP").contains("returned : 0"));

        // another host's address: refused (606), nothing mapped
        String third = upnpc("-a", "10.71.0.99", "8081", "18081", "TCP", "60");
        assertTrue(third.contains("606"), third);
        assertFalse(nat.mappings().get().stream().anyMatch(m -> m.outsidePort() == 18081));

        String del = upnpc("-d", "18080", "TCP");
        assertTrue(del.contains("UPNP_DeletePortMapping() returned : 0"), del);
        assertEquals("", fromOutside(18080));
        assertTrue(leases().isEmpty());

        // a 5 s lease: works, then the clock moves past it and the expiry removes it
        String lease = upnpc("-a", HOST, "8080", "18082", "TCP", "5");
        assertTrue(lease.contains("is redirected to internal " + HOST + ":8080"), lease);
        assertTrue(lease.contains("(duration=5)") || lease.contains("duration=5"), lease);
        assertEquals("inside-8080", fromOutside(18082));
        skew.addAndGet(TimeUnit.SECONDS.toNanos(6));
        assertEquals(1, pc.expireLeases().get(10, TimeUnit.SECONDS));
        assertEquals("", fromOutside(18082));
        assertFalse(upnpc("-l").contains("18082"));
        assertTrue(pc.counters().get(PortControlCounter.LEASE_EXPIRED) >= 1);
    }

    /** Hostile control traffic over the real path: answered with the right error or dropped, and counted. */
    @Test
    void hostileControlTrafficIsRefusedAndCounted() throws Exception {
        Tools.assumeCommand("curl", "curl");
        Tools.assumeCommand("python3", "python3");
        Path big = dir.resolve("big.xml");
        Files.writeString(big, "<s:Envelope>" + "x".repeat(20000) + "</s:Envelope>");
        CommandResult r = in.exec(TIMEOUT, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                "-H", "Content-Type: text/xml", "--data-binary", "@" + big, "http://" + GW + ":5000/ctl/IPConn");
        assertEquals("413", r.output().trim(), r.describe());
        assertEquals(1, pc.counters().get(PortControlCounter.SOAP_OVERSIZED));
        Path secret = dir.resolve("secret.txt");
        Files.writeString(secret, "TOP-SECRET-CONTENT");
        Path xxe = dir.resolve("xxe.xml");
        Files.writeString(xxe, "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file://" + secret + "\">]>"
                + "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:GetExternalIPAddress "
                + "xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">&x;</u:GetExternalIPAddress></s:Body></s:Envelope>");
        r = in.exec(TIMEOUT, "curl", "-s", "--max-time", "10", "-H", "Content-Type: text/xml", "--data-binary",
                "@" + xxe, "http://" + GW + ":5000/ctl/IPConn");
        assertTrue(r.output().contains("<errorCode>401</errorCode>"), r.describe());
        assertFalse(r.output().contains("TOP-SECRET"), r.output());
        assertTrue(pc.counters().get(PortControlCounter.SOAP_MALFORMED) >= 1);

        // NAT-PMP / PCP junk from a real socket: a 1-byte datagram (no answer), PCP version 7 (UNSUPP_VERSION),
        // a PCP MAP with a client address that is not the sender's (ADDRESS_MISMATCH)
        long droppedBefore = pc.counters().get(PortControlCounter.NATPMP_DROPPED);
        r = in.exec(TIMEOUT, "python3", "-c", """
                import socket, struct
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
                s.connect(("%s", 5351))
                s.send(b"\\x00")
                try:
                    s.recv(1100); print("answered-1-byte")
                except socket.timeout:
                    print("no-answer")
                s.send(bytes([7, 1]) + bytes(58))
                r = s.recv(1100); print("version", r[0], "result", r[3])
                req = bytes([2, 1, 0, 0]) + struct.pack("!I", 60) + bytes(10) + b"\\xff\\xff" + socket.inet_aton("10.71.0.99")
                req += bytes(12) + bytes([6, 0, 0, 0]) + struct.pack("!HH", 80, 80) + bytes(16)
                s.send(req)
                r = s.recv(1100); print("mismatch", r[3], len(r))
                """.formatted(GW));
        assertEquals("no-answer\nversion 2 result 1\nmismatch 12 60", r.output().trim(), r.describe());
        assertEquals(droppedBefore + 1, pc.counters().get(PortControlCounter.NATPMP_DROPPED));
        assertTrue(leases().stream().noneMatch(l -> l.externalPort() == 80));
    }

    /**
     * PCP over the real path with a scripted client (Debian has no PCP client): a MAP laid out as RFC 6887 §11.1
     * from a Python socket in the inside namespace, then a connection from outside through the assigned port, then
     * the delete (lifetime 0, same nonce).
     */
    @Test
    void scriptedPcpMapWorksFromOutside() throws Exception {
        Tools.assumeCommand("python3", "python3");
        String client = """
                import socket, struct, sys
                life, nonce = int(sys.argv[1]), bytes([7] * 12)
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
                s.connect(("%s", 5351))
                hdr = bytes([2, 1, 0, 0]) + struct.pack("!I", life) + bytes(10) + b"\\xff\\xff" + socket.inet_aton("%s")
                s.send(hdr + nonce + bytes([6, 0, 0, 0]) + struct.pack("!HH", 8080, 28080 if life else 0) + bytes(16))
                r = s.recv(1100)
                print(r[1], r[3], struct.unpack("!I", r[4:8])[0], struct.unpack("!H", r[42:44])[0],
                      socket.inet_ntoa(r[56:60]))
                """.formatted(GW, HOST);
        CommandResult r = in.exec(TIMEOUT, "python3", "-c", client, "300");
        assertEquals("129 0 300 28080 " + NAT_OUT, r.output().trim(), r.describe());
        assertEquals("inside-8080", fromOutside(28080));
        assertEquals(Lease.Source.PCP, leases().stream().filter(l -> l.externalPort() == 28080).findFirst()
                .orElseThrow().source());
        r = in.exec(TIMEOUT, "python3", "-c", client, "0");
        assertEquals("129 0 0 0 0.0.0.0", r.output().trim(), r.describe());
        assertEquals("", fromOutside(28080));
    }

    @Test
    void natpmpcMapsUdpToo() throws Exception {
        in.start(dir.resolve("udp9091.log"), "socat", "UDP-RECVFROM:9091,fork", "SYSTEM:echo inside-udp");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (in.exec(TIMEOUT, "ss", "-Hlun", "sport = :9091").output().isBlank() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        String map = in.exec(TIMEOUT, "natpmpc", "-g", GW, "-a", "19091", "9091", "udp", "60").output();
        assertTrue(map.contains("Mapped public port 19091 protocol UDP to local port 9091"), map);
        CommandResult r = out.exec(TIMEOUT, "sh", "-c", "echo ping | socat -T 3 - UDP:" + NAT_OUT + ":19091");
        assertEquals("inside-udp", r.output().trim(), r.describe());
        in.exec(TIMEOUT, "natpmpc", "-g", GW, "-a", "19091", "9091", "udp", "0");
        assertTrue(leases().stream().noneMatch(x -> x.externalPort() == 19091));
    }

    @Test
    void natpmpcReadsAddressAndMapsAPortThatWorksFromOutside() throws Exception {
        String addr = in.exec(TIMEOUT, "natpmpc", "-g", GW).output();
        assertTrue(addr.contains("Public IP address : " + NAT_OUT), addr);
        String map = in.exec(TIMEOUT, "natpmpc", "-g", GW, "-a", "19090", "9090", "tcp", "120").output();
        assertTrue(map.contains("Mapped public port 19090 protocol TCP to local port 9090"), map);
        assertEquals("inside-9090", fromOutside(19090));
        Lease l = leases().stream().filter(x -> x.externalPort() == 19090).findFirst().orElseThrow();
        assertEquals(Lease.Source.NATPMP, l.source());
        assertEquals(Ip4.parse(HOST), l.internalAddress());

        String unmap = in.exec(TIMEOUT, "natpmpc", "-g", GW, "-a", "19090", "9090", "tcp", "0").output();
        assertTrue(unmap.contains("lifetime 0") || unmap.contains("liftime 0"), unmap);
        assertEquals("", fromOutside(19090));
        assertTrue(leases().stream().noneMatch(x -> x.externalPort() == 19090));
    }

    /**
     * RFC 6886 §3.3 with real peers: the inside host sends from UDP 9092 first (a dynamic mapping, on another
     * outside port because 9092 outside is taken by a forward), then asks natpmpc to map 9092: it is told the
     * existing external port, and a datagram from outside reaches the same socket through it.
     */
    @Test
    void natpmpcForAPortTheHostAlreadySendsFromGetsTheExistingMapping() throws Exception {
        nat.addPortForward("lan", IpProtocol.UDP, 9092, "10.71.0.9", 9).get(10, TimeUnit.SECONDS);
        try {
            Path log = dir.resolve("existing9092.log");
            String script = "import socket,sys\n"
                    + "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                    + "s.bind(('0.0.0.0',9092))\n"
                    + "s.sendto(b'out',('" + REMOTE + "',9999))\n"
                    + "print('sent',flush=True)\n"
                    + "s.settimeout(60)\n"
                    + "while True:\n"
                    + "    d,a=s.recvfrom(2048)\n"
                    + "    if d.startswith(b'ping'):\n"
                    + "        s.sendto(b'inside-existing\\n',a)\n";
            Process p = in.start(log, "python3", "-c", script);
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!(Files.exists(log) && Files.readString(log).contains("sent")) && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertTrue(Files.readString(log).contains("sent"), "the inside host sent first");
                // the outbound datagram and natpmpc's request cross the same TUN in order, so the mapping exists
                String map = in.exec(TIMEOUT, "natpmpc", "-g", GW, "-a", "19092", "9092", "udp", "60").output();
                java.util.regex.Matcher mm = java.util.regex.Pattern
                        .compile("Mapped public port (\\d+) protocol UDP to local port 9092").matcher(map);
                assertTrue(mm.find(), map);
                int ext = Integer.parseInt(mm.group(1));
                assertNotEquals(9092, ext, "not the forward's port");
                assertNotEquals(19092, ext, "the existing mapping's port, not the suggested one");
                Lease l = leases().stream().filter(x -> x.internalPort() == 9092).findFirst().orElseThrow();
                assertTrue(l.opened(), "the NAT's own mapping was opened");
                assertEquals(ext, l.externalPort());
                CommandResult r = out.exec(TIMEOUT, "sh", "-c", "echo ping | socat -T 3 - UDP:" + NAT_OUT + ":" + ext);
                assertEquals("inside-existing", r.output().trim(), r.describe());
                in.exec(TIMEOUT, "natpmpc", "-g", GW, "-a", "19092", "9092", "udp", "0");
                assertTrue(leases().stream().noneMatch(x -> x.internalPort() == 9092));
            } finally {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            nat.removePortForward(IpProtocol.UDP, 9092).get(10, TimeUnit.SECONDS);
        }
    }
}

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
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The IRC DCC ALG against a real IRC server: ngircd in namespace "outside" (198.51.100.30); a scripted client
 * "alice" in namespace "inside" (10.73.0.2 behind the NAT, outside address 198.51.100.1) offers a file with
 * {@code DCC SEND} to "bob", a scripted client outside, who connects to the address and port he was told and
 * fetches it (SHA-256 checked). Alice's address, a decimal number, gets one digit longer when rewritten.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IrcInteropTest {
    static final String SERVER = "198.51.100.30";
    static final String NAT_OUT = NatTunFixture.NAT_OUT;
    static final String HOST = "10.73.0.2";

    private NatTunFixture f;
    private Ns in;
    private Ns out;
    private Nat nat;
    private Path dir;
    private byte[] data;

    @BeforeAll
    void setUp() throws Exception {
        Tools.assumeCommand("ngircd", "ngircd");
        Tools.assumeCommand("python3", "python3");
        Tools.assumeCommand("ss", "iproute2");
        f = NatTunFixture.builder("i").host(HOST).natInside("10.73.0.1").remote(SERVER).start();
        in = f.in();
        out = f.out();
        nat = f.nat();
        dir = f.dir();
        nat.algs(AlgConfig.builder().irc(true).build()).sync();
        data = new byte[4 << 20];
        new Random(15).nextBytes(data);
        Files.write(dir.resolve("file.bin"), data);
        Path conf = dir.resolve("ngircd.conf");
        Files.writeString(conf, """
                [Global]
                Name = irc.test
                Info = pktkit ALG test
                Listen = %s
                Ports = 6667
                ServerUID = nobody
                ServerGID = nogroup
                [Limits]
                PingTimeout = 120
                [Options]
                DNS = no
                Ident = no
                PAM = no
                """.formatted(SERVER));
        out.start(dir.resolve("ngircd.log"), "ngircd", "-n", "-f", conf.toString());
        out.awaitListening(6667, false);
        Files.writeString(dir.resolve("irc.py"), """
                import hashlib, socket, struct, sys
                role, server, path = sys.argv[1], sys.argv[2], sys.argv[3]
                s = socket.create_connection((server, 6667), timeout=30)
                f = s.makefile("rb")
                nick = role
                s.sendall(("NICK %s\\r\\nUSER %s 0 * :%s\\r\\n" % (nick, nick, nick)).encode())
                def line():
                    l = f.readline()
                    if not l:
                        sys.exit("server closed")
                    l = l.decode("latin-1").rstrip("\\r\\n")
                    if l.startswith("PING"):
                        s.sendall(("PONG" + l[4:] + "\\r\\n").encode())
                    return l
                while " 001 " not in line():
                    pass
                if role == "bob":
                    print("ready", flush=True)
                    while True:
                        l = line()
                        if "\\x01DCC SEND " in l:
                            break
                    args = l.split("\\x01DCC SEND ")[1].rstrip("\\x01").split()
                    addr, port, size = int(args[1]), int(args[2]), int(args[3])
                    ip = socket.inet_ntoa(struct.pack("!I", addr))
                    print("offer", ip, port, size, flush=True)
                    d = socket.create_connection((ip, port), timeout=30)
                    got = bytearray()
                    while len(got) < size:
                        b = d.recv(65536)
                        if not b:
                            break
                        got += b
                        d.sendall(struct.pack("!I", len(got) & 0xFFFFFFFF))
                    open(path, "wb").write(got)
                    print("received", len(got), hashlib.sha256(got).hexdigest(), flush=True)
                else:
                    data = open(path, "rb").read()
                    l = socket.socket()
                    l.bind(("0.0.0.0", 50500))
                    l.listen(1)
                    l.settimeout(30)
                    me = struct.unpack("!I", socket.inet_aton(s.getsockname()[0]))[0]
                    s.sendall(("PRIVMSG bob :\\x01DCC SEND file.bin %d 50500 %d\\x01\\r\\n" % (me, len(data))).encode())
                    c, peer = l.accept()
                    c.sendall(data)
                    c.shutdown(socket.SHUT_WR)
                    c.settimeout(30)
                    while c.recv(65536):
                        pass
                    print("sent to", peer[0], flush=True)
                s.sendall(b"QUIT\\r\\n")
                """);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void dccSendThroughNgircd() throws Exception {
        Path bobLog = dir.resolve("bob.log");
        Path got = dir.resolve("got.bin");
        Process bob = out.start(bobLog, "python3", dir.resolve("irc.py").toString(), "bob", SERVER, got.toString());
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(Files.exists(bobLog) && Files.readString(bobLog).contains("ready"))) {
                assertTrue(bob.isAlive() && System.nanoTime() < deadline, "bob did not register: "
                        + (Files.exists(bobLog) ? Files.readString(bobLog) : ""));
                Thread.onSpinWait();
            }
            CommandResult alice = in.exec("python3", dir.resolve("irc.py").toString(), "alice", SERVER,
                    dir.resolve("file.bin").toString());
            assertEquals(0, alice.exit(), alice.describe());
            assertTrue(bob.waitFor(30, TimeUnit.SECONDS), "bob did not finish");
            String log = Files.readString(bobLog);
            assertTrue(log.contains("offer " + NAT_OUT + " 50500 " + data.length), log);
            assertTrue(alice.output().contains("sent to " + SERVER), alice.describe());
            assertEquals(NatTunFixture.sha256(data), NatTunFixture.sha256(Files.readAllBytes(got)), log);
            assertEquals(1, nat.algs().irc().counters().get(AlgEvent.REWRITTEN), nat.algs().toString());
        } finally {
            bob.destroy();
        }
    }
}

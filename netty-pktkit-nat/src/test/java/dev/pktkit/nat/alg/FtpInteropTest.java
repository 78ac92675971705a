package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.Nat;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The FTP ALG against real peers: curl in namespace "inside" (10.71.0.2 behind the NAT, whose outside address
 * is 198.51.100.1) and vsftpd in namespace "outside" (198.51.100.10), and the other way round, a curl outside
 * against a vsftpd inside behind a port forward of TCP 21. "10,71,0,2" becomes "198,51,100,1": every rewrite
 * changes the text's length, so the transfers also prove the sequence offsets. Filtering is address-and-port
 * dependent: the data connections get in only as expected flows. 8 MiB each way per mode, SHA-256 checked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FtpInteropTest {
    static final String SERVER = "198.51.100.10";
    static final String NAT_OUT = NatTunFixture.NAT_OUT;
    static final String HOST = "10.71.0.2";
    static final int SIZE = 8 << 20;

    private NatTunFixture f;
    private Ns in;
    private Ns out;
    private Nat nat;
    private Path dir;
    private Path outsideRoot;
    private Path insideRoot;
    private byte[] data;

    @BeforeAll
    void setUp() throws Exception {
        Tools.assumeCommand("curl", "curl");
        Tools.assumeCommand("vsftpd", "vsftpd");
        Tools.assumeCommand("ss", "iproute2");
        Assumptions.assumeTrue(Tools.which("id") != null
                && Runtime.getRuntime().exec(new String[]{"id", "ftp"}).waitFor() == 0,
                "vsftpd's anonymous user 'ftp' is missing (apt-get install vsftpd creates it)");
        f = NatTunFixture.builder("f").host(HOST).natInside("10.71.0.1").remote(SERVER).start();
        in = f.in();
        out = f.out();
        nat = f.nat();
        dir = f.dir();
        nat.addPortForward("inside", IpProtocol.TCP, 21, HOST, 21).sync();
        data = new byte[SIZE];
        new Random(13).nextBytes(data);
        outsideRoot = ftpRoot("outside-root");
        insideRoot = ftpRoot("inside-root");
        startVsftpd(out, SERVER, outsideRoot, "outside");
        startVsftpd(in, HOST, insideRoot, "inside");
    }

    private Path ftpRoot(String name) throws Exception {
        Path root = Files.createDirectories(dir.resolve(name));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.write(root.resolve("big.bin"), data);
        Files.setPosixFilePermissions(root.resolve("big.bin"), PosixFilePermissions.fromString("rw-r--r--"));
        Path up = Files.createDirectories(root.resolve("up"));
        Files.setPosixFilePermissions(up, PosixFilePermissions.fromString("rwxrwxrwx"));
        return root;
    }

    private void startVsftpd(Ns ns, String address, Path root, String name) throws Exception {
        Path empty = Files.createDirectories(dir.resolve(name + "-empty"));
        Files.setPosixFilePermissions(empty, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path conf = dir.resolve(name + ".conf");
        Files.writeString(conf, """
                listen=YES
                listen_ipv6=NO
                listen_address=%s
                background=NO
                anonymous_enable=YES
                local_enable=NO
                no_anon_password=YES
                write_enable=YES
                anon_upload_enable=YES
                anon_umask=022
                anon_root=%s
                port_enable=YES
                connect_from_port_20=YES
                pasv_enable=YES
                pasv_min_port=30000
                pasv_max_port=30999
                seccomp_sandbox=NO
                isolate=NO
                isolate_network=NO
                secure_chroot_dir=%s
                xferlog_enable=YES
                vsftpd_log_file=%s
                """.formatted(address, root, empty, dir.resolve(name + "-xfer.log")));
        ns.start(dir.resolve(name + "-vsftpd.log"), "vsftpd", conf.toString());
        ns.awaitListening(21, false);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (f != null) {
            f.close();
        }
    }


    private CommandResult curl(Ns ns, String... args) throws Exception {
        String[] cmd = new String[args.length + 4];
        cmd[0] = "curl";
        cmd[1] = "-sS";
        cmd[2] = "--max-time";
        cmd[3] = "60";
        System.arraycopy(args, 0, cmd, 4, args.length);
        return ns.exec(cmd);
    }

    /** Downloads big.bin and uploads it back under {@code name}, with the given curl mode options. */
    private void roundTrip(Ns client, String server, Path root, String name, String[] down, String[] up)
            throws Exception {
        Path got = dir.resolve(name + ".down");
        CommandResult r = curl(client, concat(down, "-o", got.toString(), "ftp://" + server + "/big.bin"));
        assertEquals(0, r.exit(), r.describe());
        assertEquals(NatTunFixture.sha256(data), NatTunFixture.sha256(Files.readAllBytes(got)), "download " + name);
        Path src = dir.resolve(name + ".src");
        Files.write(src, data);
        r = curl(client, concat(up, "-T", src.toString(), "ftp://" + server + "/up/" + name));
        assertEquals(0, r.exit(), r.describe());
        assertEquals(NatTunFixture.sha256(data), NatTunFixture.sha256(Files.readAllBytes(root.resolve("up").resolve(name))), "upload " + name);
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private long ftp(AlgEvent e) {
        return nat.algs().ftp().counters().get(e);
    }

    @Test
    void insideClientActiveModePortAndEprt() throws Exception {
        long rewritten = ftp(AlgEvent.REWRITTEN);
        // download with PORT, upload with EPRT
        roundTrip(in, SERVER, outsideRoot, "active", new String[]{"--ftp-port", "-", "--disable-eprt"},
                new String[]{"--ftp-port", "-"});
        assertTrue(ftp(AlgEvent.REWRITTEN) - rewritten >= 2, nat.algs().toString());
    }

    @Test
    void insideClientPassiveModeEpsvAndPasv() throws Exception {
        roundTrip(in, SERVER, outsideRoot, "passive", new String[]{"--ftp-pasv"},
                new String[]{"--ftp-pasv", "--disable-epsv"});
    }

    @Test
    void outsideClientReachesInsideServerThroughPortForward() throws Exception {
        long rewritten = ftp(AlgEvent.REWRITTEN);
        // download with PASV (its 227 reply carries the inside address), upload with EPSV
        roundTrip(out, NAT_OUT, insideRoot, "forwarded", new String[]{"--ftp-pasv", "--disable-epsv"},
                new String[]{"--ftp-pasv"});
        assertTrue(ftp(AlgEvent.REWRITTEN) - rewritten >= 1, nat.algs().toString());
    }

    @Test
    void activeModeFailsWithTheAlgOff() throws Exception {
        nat.algs(AlgConfig.none()).sync();
        try {
            CommandResult r = curl(in, "--ftp-port", "-", "--disable-eprt", "-o", dir.resolve("off.bin").toString(),
                    "ftp://" + SERVER + "/big.bin");
            assertNotEquals(0, r.exit(), "active FTP without the ALG: " + r.describe());
        } finally {
            nat.algs(AlgConfig.defaults()).sync();
        }
    }

}

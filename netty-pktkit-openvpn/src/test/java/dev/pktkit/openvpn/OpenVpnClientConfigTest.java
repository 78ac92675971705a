package dev.pktkit.openvpn;

import dev.pktkit.openvpn.OpenVpnClientConfig.Proto;
import dev.pktkit.openvpn.OpenVpnClientConfig.Remote;
import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsCryptV2;
import dev.pktkit.openvpn.data.DataCipher;
import dev.pktkit.testkit.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link OpenVpnClientConfig}: every directive it reads, every refusal with its line, and the builder it makes. */
class OpenVpnClientConfigTest {
    @TempDir
    Path dir;

    private static String staticKey() {
        byte[] k = new byte[StaticKey.LENGTH];
        new SecureRandom().nextBytes(k);
        return StaticKey.of(k).format();
    }

    private static final String MINIMAL = "remote vpn.example.com\n<ca>\nCA\n</ca>\n";

    @Test
    void readsAStockClientProfile() throws Exception {
        String ta = staticKey();
        Files.writeString(dir.resolve("ta.key"), ta);
        Files.writeString(dir.resolve("ca.crt"), "CA");
        Files.writeString(dir.resolve("client.crt"), "CERT");
        Files.writeString(dir.resolve("client.key"), "KEY");
        Files.writeString(dir.resolve("pass.txt"), "alice\ns3cret\n");
        Path profile = dir.resolve("client.ovpn");
        Files.writeString(profile, """
                # as openvpn 2.6's sample client.conf has it
                client
                dev tun
                proto udp
                remote vpn1.example.com 1195
                remote vpn2.example.com
                remote 192.0.2.7 443 tcp-client
                remote 2001:db8::7 1196 udp6
                remote-random
                port 1200
                resolv-retry infinite
                nobind
                persist-key
                persist-tun
                ca ca.crt
                cert client.crt
                key client.key
                remote-cert-tls server
                verify-x509-name 'vpn server' name
                tls-auth ta.key 1
                data-ciphers AES-256-GCM:CHACHA20-POLY1305
                cipher AES-256-CBC
                auth SHA256
                tls-version-min 1.3
                auth-user-pass pass.txt
                keepalive 10 60
                explicit-exit-notify 2
                verb 3
                mute 20
                """);
        OpenVpnClientConfig c = OpenVpnClientConfig.read(profile);
        assertTrue(c.client());
        assertFalse(c.tap());
        assertEquals(List.of(new Remote("vpn1.example.com", 1195, Proto.UDP, false),
                new Remote("vpn2.example.com", 1200, Proto.UDP, false),
                new Remote("192.0.2.7", 443, Proto.TCP, false),
                new Remote("2001:db8::7", 1196, Proto.UDP, true)), c.remotes(), "in order, port from 'port'");
        assertTrue(c.remoteRandom());
        assertTrue(c.nobind());
        assertEquals("infinite", c.resolvRetry());
        assertTrue(c.remoteCertTlsServer());
        assertEquals("vpn server", c.verifyX509Name());
        assertEquals("name", c.verifyX509NameType());
        assertEquals("AES-256-GCM:CHACHA20-POLY1305:AES-256-CBC", c.dataCiphers(), "cipher appended, as 2.6 does");
        assertEquals("SHA256", c.auth());
        assertEquals("alice", c.username());
        assertEquals("s3cret", c.password());
        assertEquals(10, c.ping());
        assertEquals(60, c.pingRestart());
        assertEquals(2, c.explicitExitNotify());
        assertNull(c.tlsCryptV2());
    }

    @Test
    void defaultsAndProtoAndPortOrder() {
        OpenVpnClientConfig c = OpenVpnClientConfig.parse(MINIMAL, dir);
        assertEquals(List.of(new Remote("vpn.example.com", 1194, Proto.UDP, false)), c.remotes());
        assertFalse(c.client());
        assertFalse(c.remoteRandom());
        assertNull(c.dataCiphers());
        assertEquals("SHA1", c.auth());
        assertNull(c.username());
        assertNull(c.explicitExitNotify());
        assertEquals(0, c.ping());
        assertEquals(OpenVpnClientConfig.DEFAULT_SERVER_POLL_TIMEOUT, c.serverPollTimeout());
        assertEquals(7, OpenVpnClientConfig.parse(MINIMAL + "server-poll-timeout 7\n", dir).serverPollTimeout());
        assertEquals(9, OpenVpnClientConfig.parse(MINIMAL + "connect-timeout 9\n", dir).serverPollTimeout());
        // port and proto apply to every remote without its own, wherever they stand in the file
        c = OpenVpnClientConfig.parse(MINIMAL + "rport 443\nproto tcp6\n", dir);
        assertEquals(List.of(new Remote("vpn.example.com", 443, Proto.TCP, true)), c.remotes());
        for (String p : List.of("udp", "udp4", "tcp", "tcp4", "tcp-client", "tcp4-client", "tcp6-client", "udp6")) {
            Remote r = OpenVpnClientConfig.parse(MINIMAL + "proto " + p + "\n", dir).remotes().get(0);
            assertEquals(p.startsWith("tcp") ? Proto.TCP : Proto.UDP, r.proto(), p);
            assertEquals(p.contains("6"), r.ipv6(), p);
        }
        c = OpenVpnClientConfig.parse(MINIMAL + "ping 5\nping-restart 30\nexplicit-exit-notify\npull\ntls-client\n"
                + "auth-nocache\nmute-replay-warnings\nverify-x509-name \"C=DE, CN=vpn\"\ndev-type tap\n", dir);
        assertEquals(5, c.ping());
        assertEquals(30, c.pingRestart());
        assertEquals(1, c.explicitExitNotify());
        assertEquals("subject", c.verifyX509NameType(), "subject is verify-x509-name's default type");
        assertEquals("C=DE, CN=vpn", c.verifyX509Name());
        assertTrue(c.tap());
    }

    @Test
    void inlineBlocks() throws Exception {
        String ta = staticKey();
        OpenVpnClientConfig c = OpenVpnClientConfig.parse("""
                remote 127.0.0.1 1194 udp
                key-direction 1
                <ca>
                CA
                </ca>
                <cert>
                CERT
                </cert>
                <key>
                KEY
                </key>
                <tls-auth>
                """ + ta + """
                </tls-auth>
                <auth-user-pass>
                bob
                hunter2
                </auth-user-pass>
                """, dir);
        assertEquals("bob", c.username());
        assertEquals("hunter2", c.password());
        assertArrayEquals("CA\n".getBytes(StandardCharsets.UTF_8), c.caBytes());

        c = OpenVpnClientConfig.parse("remote h\ntls-crypt [inline]\nca [inline]\n<ca>\nX\n</ca>\n<tls-crypt>\n"
                + ta + "</tls-crypt>\n", dir);
        assertArrayEquals("X\n".getBytes(StandardCharsets.UTF_8), c.caBytes());

        TlsCryptV2.ServerKey server = TlsCryptV2.ServerKey.generate(new SecureRandom());
        String clientKey = server.newClientKey(new SecureRandom(), null);
        c = OpenVpnClientConfig.parse(MINIMAL + "<tls-crypt-v2>\n" + clientKey + "</tls-crypt-v2>\n", dir);
        assertTrue(c.tlsCryptV2() != null);
        OpenVpnConfigException e = assertThrows(OpenVpnConfigException.class, c::builder);
        assertEquals(5, e.line(), "builder() names the tls-crypt-v2 line: " + e.getMessage());
        Files.writeString(dir.resolve("v2.key"), clientKey);
        c = OpenVpnClientConfig.parse(MINIMAL + "tls-crypt-v2 v2.key\n", dir);
        assertTrue(c.tlsCryptV2() != null);

        e = assertThrows(OpenVpnConfigException.class,
                OpenVpnClientConfig.parse(MINIMAL + "dev tap0\n", dir)::builder);
        assertEquals(5, e.line(), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "frobnicate 1|line 5: unknown directive 'frobnicate'",
        "server 10.8.0.0 255.255.255.0|line 5: unsupported directive 'server': this reads client profiles",
        "push \"route 10.0.0.0\"|line 5: unsupported directive 'push'",
        "up /etc/openvpn/update-resolv-conf|line 5: unsupported directive 'up': scripts are not run",
        "http-proxy 10.0.0.1 8080|line 5: unsupported directive 'http-proxy': proxies are not done",
        "client 1|line 5: client takes 0 arguments, not 1",
        "dev wg0|line 5: dev wg0: name it tun* or tap*",
        "dev-type tunnel|line 5: dev-type must be tun or tap",
        "proto tcp-server|line 5: proto tcp-server is not a client transport",
        "remote|line 5: remote takes 1..3 arguments, not 0",
        "remote a 1 udp extra|line 5: remote takes 1..3 arguments, not 4",
        "remote a 70000|line 5: port out of range: 70000",
        "remote a 0|line 5: remote port 0",
        "remote a 1194 sctp|line 5: proto sctp is not a client transport",
        "remote-random x|line 5: remote-random takes 0 arguments, not 1",
        "port banana|line 5: not a non-negative number: banana",
        "port 0|line 5: port 0",
        "nobind now|line 5: nobind takes 0 arguments, not 1",
        "resolv-retry forever|line 5: not a non-negative number: forever",
        "remote-cert-tls client|line 5: a client checks remote-cert-tls server",
        "verify-x509-name vpn cn|line 5: verify-x509-name type must be subject, name or name-prefix",
        "verify-x509-name|line 5: verify-x509-name takes 1..2 arguments, not 0",
        "data-ciphers AES-256-GCM:BF-CBC|line 5: unsupported data cipher BF-CBC",
        "cipher BF-CBC|line 5: unsupported data cipher BF-CBC",
        "auth MD5|line 5: auth must be SHA1, SHA256 or SHA512",
        "tls-version-min 1.1|line 5: tls-version-min must be 1.2 or 1.3",
        "key-direction 2|line 5: key direction must be 0 or 1",
        "tls-auth [inline] 2|line 5: key direction must be 0 or 1",
        "tls-auth missing.key|line 5: cannot read",
        "tls-crypt missing.key|line 5: cannot read",
        "tls-crypt-v2 missing.key|line 5: cannot read",
        "cert /dev/zero|line 5: cannot read /dev/zero: not a regular file",
        "key .|line 5: cannot read",
        "auth-user-pass|line 5: auth-user-pass needs a file",
        "auth-user-pass nopass.txt|line 5: cannot read",
        "ping -1|line 5: not a non-negative number: -1",
        "ping-restart x|line 5: not a non-negative number: x",
        "keepalive 10|line 5: keepalive takes 2 arguments, not 1",
        "keepalive 60 10|line 5: keepalive's restart (10) must be at least twice its ping (60)",
        "keepalive 10 15|line 5: keepalive's restart (15) must be at least twice its ping (10)",
        "keepalive 10 19|line 5: keepalive's restart (19) must be at least twice its ping (10)",
        "keepalive 0 10|line 5: keepalive parameters must be > 0",
        "explicit-exit-notify x|line 5: not a non-negative number: x",
        "server-poll-timeout 0|line 5: server-poll-timeout must be at least 1 second",
        "connect-timeout soon|line 5: not a non-negative number: soon",
        "verb 3 \"|line 5: unclosed quote",
        "<dh>|line 5: <dh> is not closed",
    })
    void refusesWithTheLine(String line, String message) {
        String text = MINIMAL + line + "\n";
        OpenVpnConfigException e = assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnClientConfig.parse(text, dir));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
        assertEquals(5, e.line());
    }

    /** OpenVPN 2.6 takes a restart of exactly twice the ping (it refuses less: see refusesWithTheLine). */
    @Test
    void keepaliveRestartTwiceThePingIsAccepted() {
        assertDoesNotThrow(() -> OpenVpnClientConfig.parse(MINIMAL + "keepalive 10 20\n", dir));
    }

    @Test
    void refusesBadBlocksAndIncompleteProfiles() throws Exception {
        OpenVpnConfigException e = assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnClientConfig.parse(MINIMAL + "<tls-crypt>\nnot a key\n</tls-crypt>\n", dir));
        assertEquals(5, e.line(), e.getMessage());
        e = assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnClientConfig.parse(MINIMAL + "<dh>\nX\n</dh>\n", dir));
        assertEquals("line 5: unsupported inline block <dh>", e.getMessage());
        e = assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnClientConfig.parse(MINIMAL + "<auth-user-pass>\nonly-a-name\n</auth-user-pass>\n", dir));
        assertTrue(e.getMessage().startsWith("line 5: auth-user-pass: a user name line and a password line"),
                e.getMessage());
        Files.writeString(dir.resolve("empty.txt"), "");
        e = assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnClientConfig.parse(MINIMAL + "auth-user-pass empty.txt\n", dir));
        assertEquals(5, e.line(), e.getMessage());
        Files.write(dir.resolve("big.pem"), new byte[OpenVpnServerConfig.MAX_FILE_BYTES + 1]);
        e = assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnClientConfig.parse(MINIMAL + "ca big.pem\n", dir));
        assertTrue(e.getMessage().contains("is larger than"), e.getMessage());

        assertEquals("remote HOST [PORT] is required", assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnClientConfig.parse("client\n<ca>\nCA\n</ca>\n", dir)).getMessage());
        assertEquals(0, assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnClientConfig.parse("remote h\n", dir)).line(), "ca is required");
        assertEquals("cert and key go together", assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnClientConfig.parse(MINIMAL + "<cert>\nC\n</cert>\n", dir)).getMessage());
        String ta = staticKey();
        assertTrue(assertThrows(OpenVpnConfigException.class, () -> OpenVpnClientConfig.parse(MINIMAL
                + "<tls-auth>\n" + ta + "</tls-auth>\n<tls-crypt>\n" + ta + "</tls-crypt>\n", dir))
                .getMessage().startsWith("choose one of"));
    }

    /** Certificates made by openssl: the builder's TLS context, and the remote-cert-tls / verify-x509-name checks. */
    @Test
    void builderAndServerCertificateChecks() throws Exception {
        makeCa();
        issue("server", "/C=DE/O=Example/CN=vpn.example.com", "keyUsage=critical,digitalSignature\n"
                + "extendedKeyUsage=serverAuth\n");
        issue("client", "/CN=alice", "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
        issue("noku", "/CN=vpn.example.com", "extendedKeyUsage=serverAuth\n");

        String ta = staticKey();
        String profile = "client\nremote 127.0.0.1 1194\nremote-cert-tls server\nkey-direction 1\n"
                + "data-ciphers CHACHA20-POLY1305\nauth SHA512\nping 7\n"
                + "<ca>\n" + read("ca.pem") + "</ca>\n<cert>\n" + read("client.pem") + "</cert>\n"
                + "<key>\n" + read("client.key") + "</key>\n<tls-auth>\n" + ta + "</tls-auth>\n";
        OpenVpnClient.Builder b = OpenVpnClientConfig.parse(profile, dir).builder();
        OpenVpnOptions.Shared s = b.shared(false);
        assertTrue(s.ssl().isClient());
        assertEquals(List.of(DataCipher.CHACHA20_POLY1305), s.dataCiphers());
        assertEquals("SHA512", s.authDigest());
        assertEquals(KeyDirection.INVERSE, s.tlsAuthDirection(), "key-direction 1");
        assertEquals("SHA512", s.tlsAuthDigest(), "tls-auth's HMAC follows auth");
        assertTrue(s.tlsAuthKey() != null);
        assertDoesNotThrow(() -> b.build());
        // tls-auth without a direction is bidirectional, as in OpenVPN
        OpenVpnOptions.Shared bidi = OpenVpnClientConfig.parse(profile.replace("key-direction 1\n", ""), dir)
                .builder().shared(false);
        assertEquals(KeyDirection.BIDIRECTIONAL, bidi.tlsAuthDirection());
        // no cert/key: a server that needs none (auth-user-pass only)
        assertTrue(OpenVpnClientConfig.parse("remote h\n<ca>\n" + read("ca.pem") + "</ca>\n", dir).builder()
                .shared(false).ssl().isClient());

        X509Certificate server = cert("server.pem");
        X509Certificate client = cert("client.pem");
        X509Certificate noKu = cert("noku.pem");
        OpenVpnTls.ServerCheck tls = new OpenVpnTls.ServerCheck(true, null, null);
        assertDoesNotThrow(() -> tls.check(server));
        assertThrows(CertificateException.class, () -> tls.check(client), "clientAuth only");
        assertThrows(CertificateException.class, () -> tls.check(noKu), "no key usage");
        assertEquals("C=DE, O=Example, CN=vpn.example.com",
                OpenVpnTls.ServerCheck.openVpnSubject(server.getSubjectX500Principal()));
        assertDoesNotThrow(() -> new OpenVpnTls.ServerCheck(false, "C=DE, O=Example, CN=vpn.example.com",
                "subject").check(server));
        assertThrows(CertificateException.class, () -> new OpenVpnTls.ServerCheck(false, "vpn.example.com",
                "subject").check(server));
        assertDoesNotThrow(() -> new OpenVpnTls.ServerCheck(false, "vpn.example.com", "name").check(server));
        assertThrows(CertificateException.class, () -> new OpenVpnTls.ServerCheck(false, "vpn.example",
                "name").check(server));
        assertDoesNotThrow(() -> new OpenVpnTls.ServerCheck(false, "vpn.", "name-prefix").check(server));
        assertThrows(CertificateException.class, () -> new OpenVpnTls.ServerCheck(false, "alice",
                "name-prefix").check(server));
    }

    /**
     * verify-x509-name ... subject compares with the subject as OpenVPN 2.6 prints it: OpenSSL's short names
     * (emailAddress as easy-rsa's "org" certificates carry it), multi-valued RDNs joined with " + ", the
     * certificate's order; checked against openssl's own print with OpenVPN's flags.
     */
    @Test
    void verifyX509NameSubjectAsOpenVpnPrintsIt() throws Exception {
        makeCa();
        String ext = "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n";
        issue("org", "/C=US/ST=CA/L=SanFrancisco/O=Copyleft Certificate Co/OU=My Organizational Unit"
                + "/CN=server/emailAddress=me@example.net", ext);
        issue("multi", "/C=DE/O=Example, Inc./CN=vpn.example.com+serialNumber=42/street=Main St 1", ext);

        String org = "C=US, ST=CA, L=SanFrancisco, O=Copyleft Certificate Co, OU=My Organizational Unit,"
                + " CN=server, emailAddress=me@example.net";
        assertEquals(org, OpenVpnTls.ServerCheck.openVpnSubject(cert("org.pem").getSubjectX500Principal()));
        assertEquals(org, opensslSubject("org.pem"));
        assertDoesNotThrow(() -> new OpenVpnTls.ServerCheck(false, org, "subject").check(cert("org.pem")));
        assertThrows(CertificateException.class, () -> new OpenVpnTls.ServerCheck(false,
                org.replace("me@", "you@"), "subject").check(cert("org.pem")));

        // the parts of a multi-valued RDN in their DER order (a SET OF sorts by encoding: the shorter first)
        String multi = "C=DE, O=Example, Inc., serialNumber=42 + CN=vpn.example.com, street=Main St 1";
        assertEquals(multi, OpenVpnTls.ServerCheck.openVpnSubject(cert("multi.pem").getSubjectX500Principal()));
        assertEquals(multi, opensslSubject("multi.pem"));
        assertDoesNotThrow(() -> new OpenVpnTls.ServerCheck(false, multi, "subject").check(cert("multi.pem")));
        assertDoesNotThrow(() -> new OpenVpnTls.ServerCheck(false, "vpn.example.com", "name")
                .check(cert("multi.pem")));
    }

    /** The server reads a client's common name from the DER: an escaped comma and a multi-valued RDN kept whole. */
    @Test
    void theServerReadsAClientsCommonNameWhole() throws Exception {
        makeCa();
        String ext = "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
        issue("comma", "/O=Example/CN=Doe, John", ext);
        issue("multi", "/O=Example/CN=alice+serialNumber=7", ext);
        issue("none", "/O=Example", ext);
        assertEquals("Doe, John", OpenVpnServer.commonName(cert("comma.pem")));
        assertEquals("alice", OpenVpnServer.commonName(cert("multi.pem")));
        assertEquals("", OpenVpnServer.commonName(cert("none.pem")));
    }

    /** The subject as openssl prints it with the flags OpenVPN 2.6's x509_get_subject passes. */
    private String opensslSubject(String pem) throws Exception {
        Process p = new ProcessBuilder("openssl", "x509", "-in", pem, "-noout", "-subject", "-nameopt",
                "sep_comma_plus_space,sname,utf8,esc_ctrl").directory(dir.toFile()).redirectErrorStream(true)
                .start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "openssl hung");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.startsWith("subject="), out);
        return out.substring("subject=".length());
    }

    /** A self-signed test CA in {@code ca.pem} / {@code ca.key}, made by openssl (skips without it). */
    private void makeCa() throws Exception {
        Tools.assumeCommand("openssl", "openssl");
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-subj", "/CN=test CA", "-days", "1", "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", "-out", "ca.pem");
    }

    private void issue(String name, String subject, String ext) throws Exception {
        Files.writeString(dir.resolve(name + ".ext"), "basicConstraints=CA:FALSE\n" + ext);
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                name + ".key", "-subj", subject, "-out", name + ".csr");
        run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "1", "-extfile", name + ".ext", "-out", name + ".pem");
    }

    private String read(String name) throws Exception {
        return Files.readString(dir.resolve(name));
    }

    private X509Certificate cert(String name) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(dir.resolve(name))));
    }

    private void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "openssl hung");
        assertEquals(0, p.exitValue(), out);
    }
}

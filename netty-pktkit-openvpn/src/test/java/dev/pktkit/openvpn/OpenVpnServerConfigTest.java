package dev.pktkit.openvpn;

import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsCryptV2;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenVpnServerConfigTest {
    @TempDir
    Path dir;

    private String staticKey() {
        byte[] k = new byte[StaticKey.LENGTH];
        new SecureRandom().nextBytes(k);
        return StaticKey.of(k).format();
    }

    /** ca/cert/key as files next to the configuration (their contents are not parsed until {@code builder()}). */
    private String pkiLines() throws Exception {
        Files.writeString(dir.resolve("ca.crt"), "CA");
        Files.writeString(dir.resolve("server.crt"), "CERT");
        Files.writeString(dir.resolve("server.key"), "KEY");
        return "ca ca.crt\ncert server.crt\nkey server.key\n";
    }

    @Test
    void readsTheCommonServerDirectives() throws Exception {
        Files.writeString(dir.resolve("ta.key"), staticKey());
        Path conf = dir.resolve("server.conf");
        Files.writeString(conf, """
                # a typical server file
                port 1195
                proto tcp-server
                local 127.0.0.1
                dev tap0
                topology subnet
                server 10.8.0.0 255.255.255.0   ; the pool
                server-ipv6 fd00:8::/64
                """ + pkiLines() + """
                dh none
                tls-crypt ta.key
                data-ciphers AES-256-GCM:CHACHA20-POLY1305
                cipher AES-256-CBC
                auth SHA256
                push "route 10.9.0.0 255.255.255.0"
                push "dhcp-option DNS 10.8.0.53"
                push 'redirect-gateway def1'
                keepalive 5 30
                reneg-sec 600
                hand-window 30
                compress stub-v2
                max-clients 10
                client-to-client
                verb 3
                persist-key
                """);
        OpenVpnServerConfig c = OpenVpnServerConfig.read(conf);
        assertEquals(1195, c.port());
        assertEquals(Set.of(OpenVpnServerConfig.Transport.TCP), c.transports());
        assertEquals("127.0.0.1", c.local());
        assertTrue(c.tap());
        assertTrue(c.clientToClient());
        assertEquals(List.of("route 10.9.0.0 255.255.255.0", "dhcp-option DNS 10.8.0.53", "redirect-gateway def1"),
                c.push());
        assertEquals("AES-256-GCM:CHACHA20-POLY1305:AES-256-CBC", c.dataCiphers(), "cipher is appended, as 2.6 does");
    }

    @Test
    void inlineBlocksAndDefaults() throws Exception {
        String v2 = TlsCryptV2.ServerKey.generate(new SecureRandom()).format();
        OpenVpnServerConfig c = OpenVpnServerConfig.parse("""
                server 10.9.0.0 255.255.0.0
                <ca>
                CA
                </ca>
                <cert>
                CERT
                </cert>
                <key>
                KEY
                </key>
                <tls-crypt-v2>
                """ + v2 + """
                </tls-crypt-v2>
                """, dir);
        assertEquals(1194, c.port());
        assertEquals(Set.of(OpenVpnServerConfig.Transport.UDP), c.transports());
        assertFalse(c.tap());
        assertEquals(null, c.local());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "frobnicate 1|line 4: unknown directive 'frobnicate'",
        "auth-user-pass-verify /bin/check via-file|line 4: unsupported directive 'auth-user-pass-verify': give the server a Java OpenVpnAuthenticator instead",
        "remote vpn.example.com|line 4: unsupported directive 'remote'",
        "topology net30|line 4: only topology subnet is supported",
        "proto tcp-client|line 4: proto tcp-client is not a server transport",
        "data-ciphers AES-256-GCM:BF-CBC|line 4: unsupported data cipher BF-CBC",
        "keepalive 10|line 4: keepalive takes 2 arguments, not 1",
        "keepalive 60 10|line 4: keepalive's restart (10) must be at least twice its ping (60)",
        "keepalive 10 15|line 4: keepalive's restart (15) must be at least twice its ping (10)",
        "keepalive 10 19|line 4: keepalive's restart (19) must be at least twice its ping (10)",
        "keepalive 0 10|line 4: keepalive parameters must be > 0",
        "port 70000|line 4: port out of range: 70000",
        "compress lz4-v2|line 4: compress lz4-v2: only the framing stubs",
        "comp-lzo yes|line 4: only comp-lzo no is supported",
        "push \"route 10.9.0.0 255.255.255.0|line 4: unclosed quote",
        "tls-crypt missing.key|line 4: cannot read",
        "server 10.8.0.0 banana|line 4: server: ",
        "dev wg0|line 4: dev wg0: name it tun* or tap*",
    })
    void refusesWithTheLine(String line, String message) throws Exception {
        String text = pkiLines() + line + "\nserver 10.8.0.0 255.255.255.0\n";
        OpenVpnConfigException e = assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnServerConfig.parse(text, dir));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
        assertEquals(4, e.line());
    }

    /** OpenVPN 2.6 takes a restart of exactly twice the ping (it refuses less: see refusesWithTheLine). */
    @Test
    void keepaliveRestartTwiceThePingIsAccepted() throws Exception {
        String text = pkiLines() + "keepalive 10 20\nserver 10.8.0.0 255.255.255.0\n";
        assertDoesNotThrow(() -> OpenVpnServerConfig.parse(text, dir));
    }

    @Test
    void refusesIncompleteFiles() throws Exception {
        assertEquals("ca, cert and key are required", assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnServerConfig.parse("server 10.8.0.0 255.255.255.0\n", dir)).getMessage());
        assertTrue(assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnServerConfig.parse(pkiLines(), dir)).getMessage().startsWith("server NETWORK"));
        Files.writeString(dir.resolve("ta.key"), staticKey());
        assertTrue(assertThrows(OpenVpnConfigException.class, () -> OpenVpnServerConfig.parse(pkiLines()
                + "server 10.8.0.0 255.255.255.0\ntls-auth ta.key 0\ntls-crypt ta.key\n", dir)).getMessage()
                .startsWith("choose one of"));
        assertEquals("line 4: <ca> is not closed", assertThrows(OpenVpnConfigException.class,
                () -> OpenVpnServerConfig.parse(pkiLines() + "<ca>\nCA\n", dir)).getMessage());
    }

    @Test
    void tokenizerFollowsOpenVpnQuoting() {
        assertEquals(List.of("push", "route 10.9.0.0 255.255.255.0"),
                OpenVpnServerConfig.tokens("push \"route 10.9.0.0 255.255.255.0\"", 1));
        assertEquals(List.of("push", "dhcp-option DOMAIN a b"),
                OpenVpnServerConfig.tokens("push 'dhcp-option DOMAIN a b'  # comment", 1));
        assertEquals(List.of("ca", "my file.crt"), OpenVpnServerConfig.tokens("ca my\\ file.crt", 1));
    }
}

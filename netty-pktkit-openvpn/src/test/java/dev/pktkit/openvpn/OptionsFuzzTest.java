package dev.pktkit.openvpn;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of the option parsers: the server's {@code PUSH_REPLY} as our client reads it
 * ({@link OpenVpnPushReply#collect} over control messages, then {@link OpenVpnPushReply#parse}), the server
 * configuration reader ({@link OpenVpnServerConfig#parse}) and the client profile reader
 * ({@link OpenVpnClientConfig#parse}). The first byte picks the parser (even: push reply; low bits 11, e.g.
 * {@code 'C'}: server configuration; low bits 01, e.g. {@code 'A'}: client profile), the rest is the text. Bad input
 * may only be refused with the documented error: {@link IllegalArgumentException} for a push reply,
 * {@link OpenVpnConfigException} (with a line number inside the text) for either configuration; anything else
 * fails. A profile that parses must have remotes with ports 1..65535 in order of the file. The dictionary holds directive and option words (no quotes or
 * escapes: libFuzzer's dictionary syntax would need them escaped). Work is bounded: the joined push list never passes
 * {@link OpenVpnPushReply#MAX_OPTIONS}, and files named by the configuration resolve in a directory of five small
 * fixtures (a static key, a tls-crypt-v2 server key and a client key, a PEM-looking file, a password file) next to a file larger than
 * {@link OpenVpnServerConfig#MAX_FILE_BYTES}, which must be refused rather than read whole; devices such as
 * {@code /dev/zero} must be refused as not regular.
 *
 * <p>The module's POM runs this class in a JVM of its own ({@code fuzz-options}, {@code JAZZER_FUZZ=1}) so that it
 * really fuzzes (Jazzer fuzzes one {@code @FuzzTest} per JVM); without that only the seeds in
 * {@code OptionsFuzzTestInputs} run.
 */
class OptionsFuzzTest {
    static final String MAX_DURATION = "10s";
    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("ovpn-options-fuzz");
            DIR.toFile().deleteOnExit();
            byte[] k = new byte[dev.pktkit.openvpn.crypto.StaticKey.LENGTH];
            for (int i = 0; i < k.length; i++) {
                k[i] = (byte) (i * 7);
            }
            write("ta.key", dev.pktkit.openvpn.crypto.StaticKey.of(k).format());
            write("v2.key", dev.pktkit.openvpn.crypto.TlsCryptV2.ServerKey
                    .generate(new java.security.SecureRandom()).format());
            write("v2c.key", dev.pktkit.openvpn.crypto.TlsCryptV2.ServerKey
                    .generate(new java.security.SecureRandom()).newClientKey(new java.security.SecureRandom(), null));
            write("pass.txt", "alice\nsecret\n");
            write("ca.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
            Path big = DIR.resolve("big");
            Files.write(big, new byte[OpenVpnServerConfig.MAX_FILE_BYTES + 1]);
            big.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(String name, String text) throws IOException {
        Path p = DIR.resolve(name);
        Files.writeString(p, text);
        p.toFile().deleteOnExit();
    }

    @FuzzTest(maxDuration = MAX_DURATION)
    @DictionaryEntries({"PUSH_REPLY,", "push-continuation 2", "push-continuation 1", "ifconfig ", "ifconfig-ipv6 ",
        "route ", "route-ipv6 ", "dhcp-option DNS ", "redirect-gateway def1", "cipher AES-256-GCM", "peer-id ",
        "ping ", "ping-restart ", "key-derivation tls-ekm", "protocol-flags cc-exit tls-ekm", "compress stub-v2",
        "comp-lzo no", "10.8.0.2 255.255.255.0", "port ", "proto udp", "proto tcp6-server", "dev tap",
        "dev-type tun", "topology subnet", "mode server", "server 10.8.0.0 255.255.255.0", "server-ipv6 fd00::/64",
        "ca ca.crt", "cert ca.crt", "key ca.crt", "crl-verify big", "tls-auth ta.key 0", "key-direction 1",
        "tls-crypt ta.key", "tls-crypt-v2 v2.key", "<tls-auth>", "</tls-auth>", "<ca>", "</ca>", "<tls-crypt-v2>",
        "data-ciphers AES-128-GCM:CHACHA20-POLY1305", "auth SHA256", "push ",
        "keepalive 10 60", "reneg-sec 60", "reneg-bytes ", "hand-window ", "tran-window ", "max-clients ",
        "tls-version-min 1.3", "/dev/zero", "client", "remote 127.0.0.1 1194 udp", "remote vpn.example.com",
        "remote-random", "rport ", "proto tcp-client", "proto udp6", "nobind", "resolv-retry infinite", "persist-tun",
        "remote-cert-tls server", "verify-x509-name vpn name-prefix", "tls-crypt-v2 v2c.key", "<tls-crypt>",
        "</tls-crypt>", "<cert>", "</cert>", "<key>", "</key>", "<auth-user-pass>", "</auth-user-pass>",
        "auth-user-pass pass.txt", "[inline]", "ping 10", "ping-restart 60", "explicit-exit-notify 2", "pull"})
    void options(byte[] input) {
        if (input.length < 1) {
            return;
        }
        String text = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        if ((input[0] & 1) == 0) {
            pushReply(text);
        } else if ((input[0] & 2) != 0) {
            config(text);
        } else {
            profile(text);
        }
    }

    /** The client's path: control messages (split at NUL, as the control channel delivers them) joined, parsed. */
    private static void pushReply(String text) {
        List<String> joined = new ArrayList<>();
        try {
            for (String m : text.split("\0", -1)) {
                if (!OpenVpnPushReply.collect(m, joined)) {
                    OpenVpnPushReply r = OpenVpnPushReply.parse(joined);
                    assertTrue(r.options().size() <= OpenVpnPushReply.MAX_OPTIONS);
                    assertTrue(r.prefixLength() >= -1 && r.prefixLength() <= 32);
                    assertTrue(r.peerId() >= -1 && r.ping() >= 0 && r.pingRestart() >= 0);
                    joined.clear();
                }
                assertTrue(joined.size() <= OpenVpnPushReply.MAX_OPTIONS);
            }
        } catch (IllegalArgumentException refused) {
            // the documented refusal
        }
    }

    private static void config(String text) {
        OpenVpnServerConfig c;
        try {
            c = OpenVpnServerConfig.parse(text, DIR);
        } catch (OpenVpnConfigException refused) {
            int lines = text.split("\r?\n", -1).length;
            assertTrue(refused.line() >= 0 && refused.line() <= lines, refused.getMessage());
            assertEquals(OpenVpnConfigException.class, refused.getClass());
            return;
        }
        assertTrue(c.port() >= 0 && c.port() <= 65535);
        assertTrue(!c.transports().isEmpty());
    }

    private static void profile(String text) {
        OpenVpnClientConfig c;
        try {
            c = OpenVpnClientConfig.parse(text, DIR);
        } catch (OpenVpnConfigException refused) {
            int lines = text.split("\r?\n", -1).length;
            assertTrue(refused.line() >= 0 && refused.line() <= lines, refused.getMessage());
            assertEquals(OpenVpnConfigException.class, refused.getClass());
            return;
        }
        List<OpenVpnClientConfig.Remote> remotes = c.remotes();
        assertTrue(!remotes.isEmpty());
        for (OpenVpnClientConfig.Remote r : remotes) {
            assertTrue(r.port() >= 1 && r.port() <= 65535 && !r.host().isEmpty(), r.toString());
        }
    }
}

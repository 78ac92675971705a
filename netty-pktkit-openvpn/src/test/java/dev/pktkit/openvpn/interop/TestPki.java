package dev.pktkit.openvpn.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test certificates made at test time with {@code openssl} (EC P-256): a CA, a server certificate (serverAuth,
 * so {@code remote-cert-tls server} passes), a client certificate (clientAuth), and an OpenVPN static key made by
 * {@code openvpn --genkey secret}. Nothing is committed.
 */
final class TestPki {
    final Path dir;
    final Path ca;
    final Path serverCert;
    final Path serverKey;
    final Path clientCert;
    final Path clientKey;
    final Path staticKey;

    private TestPki(Path dir) {
        this.dir = dir;
        ca = dir.resolve("ca.pem");
        serverCert = dir.resolve("server.pem");
        serverKey = dir.resolve("server.key");
        clientCert = dir.resolve("client.pem");
        clientKey = dir.resolve("client.key");
        staticKey = dir.resolve("ta.key");
    }

    static TestPki create(Path dir) throws IOException, InterruptedException {
        TestPki p = new TestPki(dir);
        run(dir, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key");
        run(dir, "openssl", "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=pktkit test CA", "-days", "2",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", "ca.pem");
        p.issue("server", "serverAuth");
        p.issue("client", "clientAuth");
        run(dir, "openvpn", "--genkey", "secret", "ta.key");
        return p;
    }

    /** Another client certificate, {@code name.pem} / {@code name.key}, from the same CA. */
    Path[] issueClient(String name) throws IOException, InterruptedException {
        issue(name, "clientAuth");
        return new Path[] {dir.resolve(name + ".pem"), dir.resolve(name + ".key")};
    }

    /** Revokes {@code name.pem} with {@code openssl ca} and writes the CA's CRL; returns its path. */
    Path revoke(String name) throws IOException, InterruptedException {
        Files.writeString(dir.resolve("index.txt"), "");
        Files.writeString(dir.resolve("crlnumber"), "1000\n");
        Files.writeString(dir.resolve("ca.cnf"), "[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = index.txt\n"
                + "crlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\ncertificate = ca.pem\n"
                + "private_key = ca.key\n");
        run(dir, "openssl", "ca", "-config", "ca.cnf", "-revoke", name + ".pem");
        run(dir, "openssl", "ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem");
        return dir.resolve("crl.pem");
    }

    private void issue(String name, String eku) throws IOException, InterruptedException {
        Files.writeString(dir.resolve(name + ".ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                + "extendedKeyUsage=" + eku + "\n");
        run(dir, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + ".key");
        run(dir, "openssl", "req", "-new", "-key", name + ".key", "-subj", "/CN=" + name, "-out", name + ".csr");
        run(dir, "openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem");
    }

    static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process pr = new ProcessBuilder(new ArrayList<>(List.of(cmd))).directory(dir.toFile())
                .redirectErrorStream(true).start();
        pr.getOutputStream().close();
        String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!pr.waitFor(30, TimeUnit.SECONDS) || pr.exitValue() != 0) {
            pr.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}

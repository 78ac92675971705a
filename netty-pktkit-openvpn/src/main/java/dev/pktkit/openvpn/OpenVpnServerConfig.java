package dev.pktkit.openvpn;

import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsCryptV2;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The common server directives of an OpenVPN 2.6 configuration file, read into an {@link OpenVpnServer.Builder}
 * ({@link #builder()}) plus the listening side ({@link #port()}, {@link #transports()}, {@link #local()}).
 *
 * <p>Read: {@code port}/{@code lport}, {@code proto} (udp, udp4, udp6, tcp, tcp-server, tcp4-server,
 * tcp6-server), {@code local}, {@code dev tun*}/{@code tap*}, {@code dev-type}, {@code topology subnet},
 * {@code server NETWORK NETMASK}, {@code server-ipv6}, {@code ca}/{@code cert}/{@code key}/{@code crl-verify}
 * (files, or inline {@code <ca>...</ca>} blocks), {@code tls-auth FILE [0|1]}, {@code key-direction},
 * {@code tls-crypt}, {@code tls-crypt-v2}, {@code data-ciphers} (and {@code ncp-ciphers}), {@code cipher}
 * (appended to data-ciphers, as 2.6 does), {@code auth}, {@code push "..."}, {@code keepalive},
 * {@code reneg-sec}, {@code reneg-bytes}, {@code hand-window}, {@code tran-window}, {@code compress stub-v2} /
 * {@code stub}, {@code comp-lzo no}, {@code max-clients}, {@code tls-version-min 1.2|1.3}; {@code mode server},
 * {@code tls-server} and {@code client-to-client} are accepted (the last is {@link #clientToClient()}: whether
 * clients are put on one hub is the caller's choice). {@code dh} is accepted and has no effect (the JDK's TLS
 * uses ECDHE). Directives that concern the daemon process only (verb, mute, log, status, persist-*, user,
 * group, daemon, writepid, ifconfig-pool-persist, explicit-exit-notify) are accepted and ignored.
 *
 * <p>Everything else is an error with its line number ({@link OpenVpnConfigException}): directives this server
 * does not have (a script hook such as {@code auth-user-pass-verify}: use an {@link OpenVpnAuthenticator}),
 * client directives, and unknown words. A file path is relative to the configuration file's directory; it must
 * name a regular file of at most {@link #MAX_FILE_BYTES} bytes.
 */
public final class OpenVpnServerConfig {
    /** The transports a server listens on. */
    public enum Transport { UDP, TCP }

    private static final Set<String> IGNORED = Set.of("verb", "mute", "log", "log-append", "status",
            "status-version", "persist-key", "persist-tun", "user", "group", "daemon", "writepid",
            "ifconfig-pool-persist", "explicit-exit-notify", "suppress-timestamps", "mute-replay-warnings");
    private static final Map<String, String> UNSUPPORTED = Map.ofEntries(
            Map.entry("auth-user-pass-verify", "give the server a Java OpenVpnAuthenticator instead"),
            Map.entry("client-connect", "scripts are not run; use the client initializer"),
            Map.entry("client-disconnect", "scripts are not run; close futures of the client channels instead"),
            Map.entry("learn-address", "scripts are not run"),
            Map.entry("tls-verify", "scripts are not run; use the authenticator"),
            Map.entry("up", "scripts are not run"),
            Map.entry("down", "scripts are not run"),
            Map.entry("script-security", "scripts are not run"),
            Map.entry("plugin", "plugins are not loaded"),
            Map.entry("management", "no management interface"),
            Map.entry("client-config-dir", "per-client files are not read"),
            Map.entry("ccd-exclusive", "per-client files are not read"),
            Map.entry("duplicate-cn", "not done"),
            Map.entry("fragment", "not done"),
            Map.entry("tun-mtu", "the tunnel MTU is 1500"),
            Map.entry("ifconfig", "use server NETWORK NETMASK"),
            Map.entry("ifconfig-pool", "use server NETWORK NETMASK"),
            Map.entry("route", "routes on the server side are the hub's"),
            Map.entry("client", "this reads server configurations (OpenVpnClientConfig reads client profiles)"),
            Map.entry("remote", "this reads server configurations"),
            Map.entry("auth-user-pass", "this reads server configurations"),
            Map.entry("pkcs12", "use ca, cert and key"),
            Map.entry("data-ciphers-fallback", "not done"),
            Map.entry("tls-crypt-v2-verify", "not done"));

    /** Largest file a directive may name (a certificate chain, a key, a CRL): 1 MiB. */
    public static final int MAX_FILE_BYTES = ConfigText.MAX_FILE_BYTES;

    private int port = 1194;
    private final Set<Transport> transports = EnumSet.of(Transport.UDP);
    private boolean ipv6Transport;
    private String local;
    private boolean tap;
    private boolean clientToClient;
    private byte[] ca;
    private byte[] cert;
    private byte[] key;
    private byte[] crl;
    private StaticKey tlsAuth;
    private Integer tlsAuthDirection;
    private Integer keyDirection;
    private StaticKey tlsCrypt;
    private TlsCryptV2.ServerKey tlsCryptV2;
    private String dataCiphers = "AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305";
    private String cipher;
    private String auth = "SHA1";
    private String server;
    private String serverIpv6;
    private final List<String> push = new ArrayList<>();
    private int ping = 10;
    private int pingRestart = 60;
    private boolean keepalive;
    private Integer renegSec;
    private Long renegBytes;
    private Integer handWindow;
    private Integer mssfix;
    private Integer tranWindow;
    private Compression compression = Compression.NONE;
    private Integer maxClients;
    private String[] tlsProtocols;

    private OpenVpnServerConfig() {
    }

    /** Reads a configuration file; its relative paths are resolved against its directory. */
    public static OpenVpnServerConfig read(Path file) throws IOException {
        Path base = file.toAbsolutePath().getParent();
        return parse(Files.readString(file), base);
    }

    /**
     * Parses configuration text; relative file paths are resolved against {@code baseDir}.
     *
     * @throws OpenVpnConfigException on an unknown, unsupported or malformed directive, or an unreadable file
     */
    public static OpenVpnServerConfig parse(String text, Path baseDir) {
        OpenVpnServerConfig c = new OpenVpnServerConfig();
        ConfigText.read(text, c::inline, (lineNo, words) -> c.directive(lineNo, words, baseDir));
        c.check();
        return c;
    }

    /** OpenVPN's tokenizer: whitespace-separated words, "double" or 'single' quotes, backslash escapes. */
    static List<String> tokens(String line, int lineNo) {
        return ConfigText.tokens(line, lineNo);
    }

    private void inline(int lineNo, String tag, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        switch (tag) {
            case "ca" -> ca = b;
            case "cert" -> cert = b;
            case "key" -> key = b;
            case "crl-verify" -> crl = b;
            case "tls-auth" -> tlsAuth = StaticKey.parse(body);
            case "tls-crypt" -> tlsCrypt = StaticKey.parse(body);
            case "tls-crypt-v2" -> tlsCryptV2 = TlsCryptV2.ServerKey.parse(body);
            case "dh" -> { } // no effect (ECDHE)
            default -> throw new OpenVpnConfigException(lineNo, "unsupported inline block <" + tag + ">");
        }
    }

    private void directive(int lineNo, List<String> w, Path base) {
        String d = w.get(0);
        if (IGNORED.contains(d)) {
            return;
        }
        String why = UNSUPPORTED.get(d);
        if (why != null) {
            throw new OpenVpnConfigException(lineNo, "unsupported directive '" + d + "': " + why);
        }
        switch (d) {
            case "port", "lport" -> port = port(args(lineNo, w, 1, 1).get(0), lineNo);
            case "proto" -> proto(lineNo, args(lineNo, w, 1, 1).get(0));
            case "local" -> local = args(lineNo, w, 1, 1).get(0);
            case "dev" -> {
                String dev = args(lineNo, w, 1, 1).get(0);
                if (dev.startsWith("tun")) {
                    tap = false;
                } else if (dev.startsWith("tap")) {
                    tap = true;
                } else {
                    throw new OpenVpnConfigException(lineNo, "dev " + dev + ": name it tun* or tap*, or add dev-type");
                }
            }
            case "dev-type" -> {
                String t = args(lineNo, w, 1, 1).get(0);
                if (!t.equals("tun") && !t.equals("tap")) {
                    throw new OpenVpnConfigException(lineNo, "dev-type must be tun or tap");
                }
                tap = t.equals("tap");
            }
            case "topology" -> {
                if (!args(lineNo, w, 1, 1).get(0).equals("subnet")) {
                    throw new OpenVpnConfigException(lineNo, "only topology subnet is supported");
                }
            }
            case "mode" -> {
                if (!args(lineNo, w, 1, 1).get(0).equals("server")) {
                    throw new OpenVpnConfigException(lineNo, "only mode server is supported");
                }
            }
            case "tls-server" -> args(lineNo, w, 0, 0);
            case "client-to-client" -> {
                args(lineNo, w, 0, 0);
                clientToClient = true;
            }
            case "server" -> {
                List<String> a = args(lineNo, w, 2, 2);
                server = a.get(0) + " " + a.get(1);
                AddressPool.parse(server); // checked now, for the line number
            }
            case "server-ipv6" -> serverIpv6 = args(lineNo, w, 1, 1).get(0);
            case "ca" -> ca = file(lineNo, base, args(lineNo, w, 1, 1).get(0));
            case "cert" -> cert = file(lineNo, base, args(lineNo, w, 1, 1).get(0));
            case "key" -> key = file(lineNo, base, args(lineNo, w, 1, 1).get(0));
            case "crl-verify" -> crl = file(lineNo, base, args(lineNo, w, 1, 1).get(0));
            case "dh" -> args(lineNo, w, 1, 1); // no effect: the JDK's TLS uses ECDHE
            case "tls-auth" -> {
                List<String> a = args(lineNo, w, 1, 2);
                tlsAuth = StaticKey.parse(text(lineNo, base, a.get(0)));
                if (a.size() == 2) {
                    tlsAuthDirection = direction(lineNo, a.get(1));
                }
            }
            case "key-direction" -> keyDirection = direction(lineNo, args(lineNo, w, 1, 1).get(0));
            case "tls-crypt" -> tlsCrypt = StaticKey.parse(text(lineNo, base, args(lineNo, w, 1, 1).get(0)));
            case "tls-crypt-v2" -> tlsCryptV2 = TlsCryptV2.ServerKey.parse(
                    text(lineNo, base, args(lineNo, w, 1, 1).get(0)));
            case "data-ciphers", "ncp-ciphers" -> dataCiphers = ciphers(lineNo, args(lineNo, w, 1, 1).get(0));
            case "cipher" -> cipher = ciphers(lineNo, args(lineNo, w, 1, 1).get(0));
            case "auth" -> auth = ConfigText.digest(lineNo, args(lineNo, w, 1, 1).get(0));
            case "push" -> {
                String o = args(lineNo, w, 1, 1).get(0);
                if (o.indexOf(',') >= 0) {
                    throw new OpenVpnConfigException(lineNo, "a pushed option cannot contain ','");
                }
                push.add(o);
            }
            case "keepalive" -> {
                int[] k = ConfigText.keepalive(lineNo, w);
                ping = k[0];
                pingRestart = k[1];
                keepalive = true;
            }
            case "reneg-sec" -> renegSec = number(lineNo, args(lineNo, w, 1, 2).get(0));
            case "reneg-bytes" -> renegBytes = (long) number(lineNo, args(lineNo, w, 1, 1).get(0));
            case "hand-window" -> handWindow = number(lineNo, args(lineNo, w, 1, 1).get(0));
            case "mssfix" -> mssfix = ConfigText.mssfix(lineNo, w);
            case "tran-window" -> tranWindow = number(lineNo, args(lineNo, w, 1, 1).get(0));
            case "compress" -> {
                List<String> a = args(lineNo, w, 0, 1);
                String alg = a.isEmpty() ? "" : a.get(0);
                compression = switch (alg) {
                    case "stub-v2" -> Compression.STUB_V2;
                    case "stub" -> Compression.STUB;
                    default -> throw new OpenVpnConfigException(lineNo,
                            "compress " + alg + ": only the framing stubs (stub-v2, stub) are supported");
                };
            }
            case "comp-lzo" -> {
                List<String> a = args(lineNo, w, 0, 1);
                if (a.size() != 1 || !a.get(0).equals("no")) {
                    throw new OpenVpnConfigException(lineNo, "only comp-lzo no is supported (we never compress)");
                }
                compression = Compression.LZO_NO;
            }
            case "max-clients" -> {
                maxClients = number(lineNo, args(lineNo, w, 1, 1).get(0));
                if (maxClients < 1) {
                    throw new OpenVpnConfigException(lineNo, "max-clients must be at least 1");
                }
            }
            case "tls-version-min" -> {
                tlsProtocols = ConfigText.tlsVersionMin(lineNo, args(lineNo, w, 1, 2).get(0));
            }
            default -> throw new OpenVpnConfigException(lineNo, "unknown directive '" + d + "'");
        }
    }

    private void proto(int lineNo, String p) {
        transports.clear();
        switch (p) {
            case "udp", "udp4" -> transports.add(Transport.UDP);
            case "udp6" -> {
                transports.add(Transport.UDP);
                ipv6Transport = true;
            }
            case "tcp", "tcp-server", "tcp4", "tcp4-server" -> transports.add(Transport.TCP);
            case "tcp6", "tcp6-server" -> {
                transports.add(Transport.TCP);
                ipv6Transport = true;
            }
            default -> throw new OpenVpnConfigException(lineNo, "proto " + p + " is not a server transport");
        }
    }

    private void check() {
        if (ca == null || cert == null || key == null) {
            throw new OpenVpnConfigException(0, "ca, cert and key are required");
        }
        int prot = (tlsAuth != null ? 1 : 0) + (tlsCrypt != null ? 1 : 0) + (tlsCryptV2 != null ? 1 : 0);
        if (prot > 1) {
            throw new OpenVpnConfigException(0, "choose one of tls-auth, tls-crypt and tls-crypt-v2");
        }
        if (server == null) {
            throw new OpenVpnConfigException(0, "server NETWORK NETMASK is required (the address pool)");
        }
        if (cipher != null && !(":" + dataCiphers + ":").contains(":" + cipher + ":")) {
            dataCiphers = dataCiphers + ":" + cipher; // as OpenVPN 2.6 does with a cipher outside data-ciphers
        }
    }

    private static List<String> args(int lineNo, List<String> w, int min, int max) {
        return ConfigText.args(lineNo, w, min, max);
    }

    private static int number(int lineNo, String s) {
        return ConfigText.number(lineNo, s);
    }

    private static int port(String s, int lineNo) {
        return ConfigText.port(s, lineNo);
    }

    private static int direction(int lineNo, String s) {
        return ConfigText.direction(lineNo, s);
    }

    private static String ciphers(int lineNo, String list) {
        return ConfigText.ciphers(lineNo, list);
    }

    private static byte[] file(int lineNo, Path base, String name) {
        return ConfigText.file(lineNo, base, name);
    }

    private static String text(int lineNo, Path base, String name) {
        return ConfigText.text(lineNo, base, name);
    }

    // ---- results ----

    public int port() {
        return port;
    }

    /** The transports to listen on ({@code proto}). */
    public Set<Transport> transports() {
        return Collections.unmodifiableSet(transports);
    }

    /** Whether {@code proto} named the IPv6 transport (udp6, tcp6-server). */
    public boolean ipv6Transport() {
        return ipv6Transport;
    }

    /** {@code local}, or null for every address. */
    public String local() {
        return local;
    }

    public boolean tap() {
        return tap;
    }

    /** Whether {@code client-to-client} was given. */
    public boolean clientToClient() {
        return clientToClient;
    }

    /** The {@code push} options, in order. */
    public List<String> push() {
        return List.copyOf(push);
    }

    /** The data ciphers in the server's order ({@code data-ciphers}, plus {@code cipher}). */
    public String dataCiphers() {
        return dataCiphers;
    }

    /**
     * A server builder with every read directive applied (TLS context from ca/cert/key/crl-verify); add the
     * {@linkplain OpenVpnServer.Builder#authenticator authenticator} and the
     * {@linkplain OpenVpnServer.Builder#clientInitializer client initializer}, then build.
     */
    public OpenVpnServer.Builder builder() throws IOException, GeneralSecurityException {
        OpenVpnServer.Builder b = OpenVpnServer.builder()
                .ssl(OpenVpnTls.serverContext(cert, key, ca, crl, tlsProtocols))
                .server(server).serverIpv6(serverIpv6).tap(tap).dataCiphers(dataCiphers).auth(auth)
                .compression(compression);
        if (tlsAuth != null) {
            Integer dir = tlsAuthDirection != null ? tlsAuthDirection : keyDirection;
            b.tlsAuth(tlsAuth, dir == null ? KeyDirection.BIDIRECTIONAL
                    : dir == 0 ? KeyDirection.NORMAL : KeyDirection.INVERSE, auth);
        }
        if (tlsCrypt != null) {
            b.tlsCrypt(tlsCrypt);
        }
        if (tlsCryptV2 != null) {
            b.tlsCryptV2(tlsCryptV2);
        }
        for (String p : push) {
            b.push(p);
        }
        if (keepalive) {
            b.keepalive(ping, pingRestart);
        }
        if (renegSec != null) {
            b.renegSeconds(renegSec);
        }
        if (renegBytes != null) {
            b.renegBytes(renegBytes);
        }
        if (handWindow != null) {
            b.handWindow(handWindow);
        }
        if (mssfix != null) {
            b.mssfix(mssfix);
        }
        if (tranWindow != null) {
            b.transitionWindow(tranWindow);
        }
        if (maxClients != null) {
            b.maxClients(maxClients, Math.min(64, maxClients));
        }
        return b;
    }
}

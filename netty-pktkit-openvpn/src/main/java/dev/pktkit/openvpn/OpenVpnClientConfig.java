package dev.pktkit.openvpn;

import dev.pktkit.openvpn.crypto.KeyDirection;
import dev.pktkit.openvpn.crypto.StaticKey;
import dev.pktkit.openvpn.crypto.TlsCryptV2;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * An OpenVPN 2.6 client profile (a {@code .ovpn} file as {@code openvpn --client} reads it), read into an
 * {@link OpenVpnClient.Builder} ({@link #builder()}) plus the servers to dial ({@link #remotes()}). It shares
 * {@link OpenVpnServerConfig}'s line handling: comments, OpenVPN's quoting, inline blocks, files relative to the
 * profile's directory (regular files of at most {@link OpenVpnServerConfig#MAX_FILE_BYTES}).
 *
 * <pre>{@code
 * OpenVpnClientConfig profile = OpenVpnClientConfig.read(Path.of("client.ovpn"));
 * // one call: dial the remotes in order until one's tunnel is up
 * profile.connect(group, tunnelInitializer).addListener(f -> ...);   // a Connection: client, remote, failures
 * // or by hand
 * OpenVpnClient client = profile.builder().tunnelInitializer(init).build();
 * OpenVpnClientConfig.Remote r = profile.remotes().get(0);
 * new Bootstrap().group(group).channel(NioDatagramChannel.class).handler(client).connect(r.host(), r.port());
 * }</pre>
 *
 * <p>Read: {@code client} (= {@code pull} + {@code tls-client}, both also accepted alone), {@code dev tun*} /
 * {@code tap*}, {@code dev-type}, {@code proto} (udp, udp4, udp6, tcp, tcp4, tcp6, tcp-client, tcp4-client,
 * tcp6-client), {@code remote HOST [PORT] [PROTO]} (one or more, kept in order; the port defaults to
 * {@code port}/{@code rport} or 1194, the protocol to {@code proto}), {@code remote-random} (noted:
 * {@link #remoteRandom()}), {@code port}, {@code rport}, {@code nobind} (noted; our transport always binds an
 * ephemeral port), {@code resolv-retry}, {@code remote-cert-tls server} (the server's certificate needs key usage
 * and serverAuth extended key usage), {@code verify-x509-name NAME [subject|name|name-prefix]},
 * {@code data-ciphers} (and {@code ncp-ciphers}), {@code cipher} (appended to data-ciphers, as 2.6 does),
 * {@code auth}, {@code tls-version-min 1.2|1.3}, {@code key-direction}, {@code tls-auth FILE [0|1]},
 * {@code tls-crypt FILE}, {@code tls-crypt-v2 FILE}, {@code ca}/{@code cert}/{@code key} files, the inline
 * blocks {@code <ca>}, {@code <cert>}, {@code <key>}, {@code <tls-auth>}, {@code <tls-crypt>},
 * {@code <tls-crypt-v2>}, {@code <auth-user-pass>}, {@code auth-user-pass FILE} (user name on the first line,
 * password on the second), {@code ping}, {@code ping-restart}, {@code keepalive PING RESTART} (ours until the
 * server pushes its own), {@code explicit-exit-notify [N]} (our client always notifies once on close, with or
 * without it), {@code server-poll-timeout} / {@code connect-timeout} (how long {@link #connect} waits for one
 * remote). Accepted with no effect: {@code persist-key}, {@code persist-tun} (there is no process restart
 * to persist across), {@code auth-nocache}, {@code verb}, {@code mute}, {@code mute-replay-warnings},
 * {@code suppress-timestamps}.
 *
 * <p>Everything else is an {@link OpenVpnConfigException} with its line: unknown words, server directives,
 * {@code auth-user-pass} without a file (there is no prompt: give a file or use
 * {@link OpenVpnClient.Builder#credentials}), scripts, plugins, proxies. Two things are read but cannot be built
 * by this client yet, and {@link #builder()} refuses them naming their line: {@code dev tap} and tls-crypt-v2
 * client keys.
 */
public final class OpenVpnClientConfig {
    /** The transport of a {@link Remote}. */
    public enum Proto { UDP, TCP }

    /**
     * A {@code remote} entry, with its port and transport resolved against {@code port} and {@code proto}.
     *
     * @param ipv6 whether the protocol named IPv6 ({@code udp6}, {@code tcp6-client}): the host should be resolved
     *             to an IPv6 address
     */
    public record Remote(String host, int port, Proto proto, boolean ipv6) {
    }

    private static final Set<String> IGNORED = Set.of("persist-key", "persist-tun", "auth-nocache", "verb", "mute",
            "mute-replay-warnings", "suppress-timestamps");
    private static final Map<String, String> UNSUPPORTED = Map.ofEntries(
            Map.entry("up", "scripts are not run"),
            Map.entry("down", "scripts are not run"),
            Map.entry("route-up", "scripts are not run"),
            Map.entry("script-security", "scripts are not run"),
            Map.entry("tls-verify", "scripts are not run; use verify-x509-name or the TLS context"),
            Map.entry("plugin", "plugins are not loaded"),
            Map.entry("management", "no management interface"),
            Map.entry("http-proxy", "proxies are not done"),
            Map.entry("socks-proxy", "proxies are not done"),
            Map.entry("pkcs12", "use ca, cert and key"),
            Map.entry("fragment", "not done"),
            Map.entry("tun-mtu", "the tunnel MTU is 1500"),
            Map.entry("server", "this reads client profiles (OpenVpnServerConfig reads server files)"),
            Map.entry("mode", "this reads client profiles (OpenVpnServerConfig reads server files)"),
            Map.entry("tls-server", "this reads client profiles (OpenVpnServerConfig reads server files)"),
            Map.entry("push", "this reads client profiles (OpenVpnServerConfig reads server files)"),
            Map.entry("data-ciphers-fallback", "not done"),
            Map.entry("crl-verify", "not done on the client"));

    /** The default port of OpenVPN. */
    public static final int DEFAULT_PORT = 1194;
    /** OpenVPN 2.6's {@code server-poll-timeout} default, seconds. */
    public static final int DEFAULT_SERVER_POLL_TIMEOUT = 120;

    private boolean client;
    private boolean tap;
    private int devLine;
    private Proto proto = Proto.UDP;
    private boolean ipv6;
    private Integer port;
    private final List<PendingRemote> remotes = new ArrayList<>();
    private boolean remoteRandom;
    private boolean nobind;
    private String resolvRetry;
    private boolean remoteCertTlsServer;
    private String x509Name;
    private String x509NameType;
    private String dataCiphers;
    private String cipher;
    private String auth = "SHA1";
    private String[] tlsProtocols;
    private Integer keyDirection;
    private StaticKey tlsAuth;
    private Integer tlsAuthDirection;
    private StaticKey tlsCrypt;
    private TlsCryptV2.ClientKey tlsCryptV2;
    private int tlsCryptV2Line;
    private byte[] ca;
    private byte[] cert;
    private byte[] key;
    private String username;
    private String password;
    private int ping;
    private int pingRestart;
    private Integer explicitExitNotify;
    private Integer mssfix;
    private int serverPollTimeout = DEFAULT_SERVER_POLL_TIMEOUT;

    private record PendingRemote(String host, Integer port, String proto, int line) {
    }

    private OpenVpnClientConfig() {
    }

    /** Reads a profile; its relative paths are resolved against its directory. */
    public static OpenVpnClientConfig read(Path file) throws IOException {
        Path base = file.toAbsolutePath().getParent();
        return parse(Files.readString(file), base);
    }

    /**
     * Parses profile text; relative file paths are resolved against {@code baseDir}.
     *
     * @throws OpenVpnConfigException on an unknown, unsupported or malformed directive, an unreadable file, or a
     *                                profile without {@code remote} or {@code ca}
     */
    public static OpenVpnClientConfig parse(String text, Path baseDir) {
        OpenVpnClientConfig c = new OpenVpnClientConfig();
        ConfigText.read(text, c::inline, (lineNo, words) -> c.directive(lineNo, words, baseDir));
        c.check();
        return c;
    }

    private void inline(int lineNo, String tag, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        switch (tag) {
            case "ca" -> ca = b;
            case "cert" -> cert = b;
            case "key" -> key = b;
            case "tls-auth" -> tlsAuth = StaticKey.parse(body);
            case "tls-crypt" -> tlsCrypt = StaticKey.parse(body);
            case "tls-crypt-v2" -> {
                tlsCryptV2 = TlsCryptV2.ClientKey.parse(body);
                tlsCryptV2Line = lineNo;
            }
            case "auth-user-pass" -> credentials(lineNo, body);
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
            case "client" -> {
                ConfigText.args(lineNo, w, 0, 0);
                client = true;
            }
            case "pull", "tls-client" -> ConfigText.args(lineNo, w, 0, 0);
            case "dev" -> {
                String dev = ConfigText.args(lineNo, w, 1, 1).get(0);
                if (dev.startsWith("tun")) {
                    tap = false;
                } else if (dev.startsWith("tap")) {
                    tap = true;
                } else {
                    throw new OpenVpnConfigException(lineNo, "dev " + dev + ": name it tun* or tap*, or add dev-type");
                }
                devLine = lineNo;
            }
            case "dev-type" -> {
                String t = ConfigText.args(lineNo, w, 1, 1).get(0);
                if (!t.equals("tun") && !t.equals("tap")) {
                    throw new OpenVpnConfigException(lineNo, "dev-type must be tun or tap");
                }
                tap = t.equals("tap");
                devLine = lineNo;
            }
            case "proto" -> {
                String p = ConfigText.args(lineNo, w, 1, 1).get(0);
                proto = proto(lineNo, p);
                ipv6 = p.contains("6");
            }
            case "remote" -> {
                List<String> a = ConfigText.args(lineNo, w, 1, 3);
                Integer p = a.size() >= 2 ? ConfigText.port(a.get(1), lineNo) : null;
                String pr = a.size() == 3 ? a.get(2) : null;
                if (pr != null) {
                    proto(lineNo, pr); // checked now, for the line number
                }
                if (p != null && p == 0) {
                    throw new OpenVpnConfigException(lineNo, "remote port 0");
                }
                remotes.add(new PendingRemote(a.get(0), p, pr, lineNo));
            }
            case "remote-random" -> {
                ConfigText.args(lineNo, w, 0, 0);
                remoteRandom = true;
            }
            case "port", "rport" -> {
                int p = ConfigText.port(ConfigText.args(lineNo, w, 1, 1).get(0), lineNo);
                if (p == 0) {
                    throw new OpenVpnConfigException(lineNo, d + " 0");
                }
                port = p;
            }
            case "nobind" -> {
                ConfigText.args(lineNo, w, 0, 0);
                nobind = true;
            }
            case "resolv-retry" -> {
                String r = ConfigText.args(lineNo, w, 1, 1).get(0);
                if (!r.equals("infinite")) {
                    ConfigText.number(lineNo, r);
                }
                resolvRetry = r;
            }
            case "remote-cert-tls" -> {
                if (!ConfigText.args(lineNo, w, 1, 1).get(0).equals("server")) {
                    throw new OpenVpnConfigException(lineNo, "a client checks remote-cert-tls server");
                }
                remoteCertTlsServer = true;
            }
            case "verify-x509-name" -> {
                List<String> a = ConfigText.args(lineNo, w, 1, 2);
                String type = a.size() == 2 ? a.get(1) : "subject";
                if (!type.equals("subject") && !type.equals("name") && !type.equals("name-prefix")) {
                    throw new OpenVpnConfigException(lineNo,
                            "verify-x509-name type must be subject, name or name-prefix");
                }
                x509Name = a.get(0);
                x509NameType = type;
            }
            case "data-ciphers", "ncp-ciphers" ->
                    dataCiphers = ConfigText.ciphers(lineNo, ConfigText.args(lineNo, w, 1, 1).get(0));
            case "cipher" -> cipher = ConfigText.ciphers(lineNo, ConfigText.args(lineNo, w, 1, 1).get(0));
            case "auth" -> auth = ConfigText.digest(lineNo, ConfigText.args(lineNo, w, 1, 1).get(0));
            case "tls-version-min" ->
                    tlsProtocols = ConfigText.tlsVersionMin(lineNo, ConfigText.args(lineNo, w, 1, 2).get(0));
            case "key-direction" -> keyDirection = ConfigText.direction(lineNo, ConfigText.args(lineNo, w, 1, 1).get(0));
            case "tls-auth" -> {
                List<String> a = ConfigText.args(lineNo, w, 1, 2);
                if (!a.get(0).equals("[inline]")) {
                    tlsAuth = StaticKey.parse(ConfigText.text(lineNo, base, a.get(0)));
                }
                if (a.size() == 2) {
                    tlsAuthDirection = ConfigText.direction(lineNo, a.get(1));
                }
            }
            case "tls-crypt" -> {
                String f = ConfigText.args(lineNo, w, 1, 1).get(0);
                if (!f.equals("[inline]")) {
                    tlsCrypt = StaticKey.parse(ConfigText.text(lineNo, base, f));
                }
            }
            case "tls-crypt-v2" -> {
                String f = ConfigText.args(lineNo, w, 1, 1).get(0);
                if (!f.equals("[inline]")) {
                    tlsCryptV2 = TlsCryptV2.ClientKey.parse(ConfigText.text(lineNo, base, f));
                    tlsCryptV2Line = lineNo;
                }
            }
            case "ca" -> ca = fileOrInline(lineNo, base, ConfigText.args(lineNo, w, 1, 1).get(0), ca);
            case "cert" -> cert = fileOrInline(lineNo, base, ConfigText.args(lineNo, w, 1, 1).get(0), cert);
            case "key" -> key = fileOrInline(lineNo, base, ConfigText.args(lineNo, w, 1, 1).get(0), key);
            case "auth-user-pass" -> {
                List<String> a = ConfigText.args(lineNo, w, 0, 1);
                if (a.isEmpty()) {
                    throw new OpenVpnConfigException(lineNo, "auth-user-pass needs a file (there is no prompt; "
                            + "or give the credentials to OpenVpnClient.Builder.credentials)");
                }
                if (!a.get(0).equals("[inline]")) {
                    credentials(lineNo, ConfigText.text(lineNo, base, a.get(0)));
                }
            }
            case "ping" -> ping = ConfigText.number(lineNo, ConfigText.args(lineNo, w, 1, 1).get(0));
            case "mssfix" -> mssfix = ConfigText.mssfix(lineNo, w);
            case "ping-restart" -> pingRestart = ConfigText.number(lineNo, ConfigText.args(lineNo, w, 1, 1).get(0));
            case "keepalive" -> {
                int[] k = ConfigText.keepalive(lineNo, w);
                ping = k[0];
                pingRestart = k[1];
            }
            case "explicit-exit-notify" -> {
                List<String> a = ConfigText.args(lineNo, w, 0, 1);
                explicitExitNotify = a.isEmpty() ? 1 : ConfigText.number(lineNo, a.get(0));
            }
            case "server-poll-timeout", "connect-timeout" -> {
                serverPollTimeout = ConfigText.number(lineNo, ConfigText.args(lineNo, w, 1, 1).get(0));
                if (serverPollTimeout < 1) {
                    throw new OpenVpnConfigException(lineNo, d + " must be at least 1 second");
                }
            }
            default -> throw new OpenVpnConfigException(lineNo, "unknown directive '" + d + "'");
        }
    }

    /** A file, or (for {@code [inline]}) what an inline block already gave or will give. */
    private static byte[] fileOrInline(int lineNo, Path base, String name, byte[] current) {
        return name.equals("[inline]") ? current : ConfigText.file(lineNo, base, name);
    }

    private void credentials(int lineNo, String text) {
        // the user name on the first line, the password on the second (OpenVPN would prompt for a missing one)
        String[] l = text.replaceFirst("\r?\n$", "").split("\r?\n", -1);
        if (l.length < 2 || l[0].isEmpty()) {
            throw new OpenVpnConfigException(lineNo, "auth-user-pass: a user name line and a password line");
        }
        if (l[0].length() > 4096 || l[1].length() > 4096) {
            throw new OpenVpnConfigException(lineNo, "auth-user-pass: longer than 4096 characters");
        }
        username = l[0];
        password = l[1];
    }

    private static Proto proto(int lineNo, String p) {
        return switch (p) {
            case "udp", "udp4", "udp6" -> Proto.UDP;
            case "tcp", "tcp4", "tcp6", "tcp-client", "tcp4-client", "tcp6-client" -> Proto.TCP;
            default -> throw new OpenVpnConfigException(lineNo, "proto " + p + " is not a client transport");
        };
    }

    private void check() {
        if (remotes.isEmpty()) {
            throw new OpenVpnConfigException(0, "remote HOST [PORT] is required");
        }
        if (ca == null) {
            throw new OpenVpnConfigException(0, "ca is required (the CA the server's certificate chains to)");
        }
        if ((cert == null) != (key == null)) {
            throw new OpenVpnConfigException(0, "cert and key go together");
        }
        int prot = (tlsAuth != null ? 1 : 0) + (tlsCrypt != null ? 1 : 0) + (tlsCryptV2 != null ? 1 : 0);
        if (prot > 1) {
            throw new OpenVpnConfigException(0, "choose one of tls-auth, tls-crypt and tls-crypt-v2");
        }
        if (cipher != null) {
            String list = dataCiphers != null ? dataCiphers : "AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305";
            if (!(":" + list + ":").contains(":" + cipher + ":")) {
                dataCiphers = list + ":" + cipher; // as OpenVPN 2.6 does with a cipher outside data-ciphers
            }
        }
    }

    // ---- results ----

    /** Whether the profile said {@code client}. */
    public boolean client() {
        return client;
    }

    /** Whether the profile asked for {@code dev tap} (which {@link #builder()} refuses: not built). */
    public boolean tap() {
        return tap;
    }

    /** The {@code remote} entries in the profile's order, ports and transports resolved. */
    public List<Remote> remotes() {
        List<Remote> out = new ArrayList<>(remotes.size());
        int defPort = port != null ? port : DEFAULT_PORT;
        for (PendingRemote r : remotes) {
            Proto pr = r.proto() != null ? proto(r.line(), r.proto()) : proto;
            boolean v6 = r.proto() != null ? r.proto().contains("6") : ipv6;
            out.add(new Remote(r.host(), r.port() != null ? r.port() : defPort, pr, v6));
        }
        return List.copyOf(out);
    }

    /** {@code remote-random}: whether the remotes are to be tried in a random order. */
    public boolean remoteRandom() {
        return remoteRandom;
    }

    /** {@code nobind}: noted only (our transport channel binds an ephemeral port whatever this is). */
    public boolean nobind() {
        return nobind;
    }

    /** {@code resolv-retry} as written ({@code infinite} or seconds), or null. */
    public String resolvRetry() {
        return resolvRetry;
    }

    /** {@code remote-cert-tls server}. */
    public boolean remoteCertTlsServer() {
        return remoteCertTlsServer;
    }

    /** {@code verify-x509-name}'s name, or null. */
    public String verifyX509Name() {
        return x509Name;
    }

    /** {@code verify-x509-name}'s type ({@code subject}, {@code name}, {@code name-prefix}), or null. */
    public String verifyX509NameType() {
        return x509NameType;
    }

    /** The data ciphers we offer, in order ({@code data-ciphers} plus {@code cipher}), or null for the default. */
    public String dataCiphers() {
        return dataCiphers;
    }

    /** The {@code auth} digest (SHA1, SHA256 or SHA512). */
    public String auth() {
        return auth;
    }

    /** The user name from {@code auth-user-pass}, or null. */
    public String username() {
        return username;
    }

    String password() {
        return password;
    }

    byte[] caBytes() {
        return ca;
    }

    /** The profile's {@code ping} seconds (0: none; a pushed value wins). */
    public int ping() {
        return ping;
    }

    /** The profile's {@code ping-restart} seconds (0: none; a pushed value wins). */
    public int pingRestart() {
        return pingRestart;
    }

    /** {@code explicit-exit-notify}'s count, or null when absent (our client notifies once on close anyway). */
    public Integer explicitExitNotify() {
        return explicitExitNotify;
    }

    /**
     * {@code server-poll-timeout} (or {@code connect-timeout}) seconds: how long {@link #connect} waits for one
     * remote's tunnel before it tries the next (120 by default, as in OpenVPN 2.6).
     */
    public int serverPollTimeout() {
        return serverPollTimeout;
    }

    /** The tls-crypt-v2 client key, or null ({@link #builder()} refuses it: not built in the client). */
    public TlsCryptV2.ClientKey tlsCryptV2() {
        return tlsCryptV2;
    }

    /**
     * A client builder with every read directive applied (the TLS context from ca/cert/key with
     * {@code remote-cert-tls} and {@code verify-x509-name}, tls-auth or tls-crypt, data-ciphers, auth,
     * credentials, ping); add the {@linkplain OpenVpnClient.Builder#tunnelInitializer tunnel initializer}, then
     * build and dial one of the {@link #remotes()}.
     *
     * @throws OpenVpnConfigException for what the profile asks and this client does not do ({@code dev tap},
     *                                tls-crypt-v2), with the line
     * @throws GeneralSecurityException when the certificates or the key do not load
     */
    public OpenVpnClient.Builder builder() throws IOException, GeneralSecurityException {
        if (tap) {
            throw new OpenVpnConfigException(devLine, "dev tap: the client role carries IP packets only (not done)");
        }
        if (tlsCryptV2 != null) {
            throw new OpenVpnConfigException(tlsCryptV2Line, "tls-crypt-v2 client keys are not done in the client");
        }
        OpenVpnTls.ServerCheck check = remoteCertTlsServer || x509Name != null
                ? new OpenVpnTls.ServerCheck(remoteCertTlsServer, x509Name, x509NameType) : null;
        OpenVpnClient.Builder b = OpenVpnClient.builder()
                .ssl(OpenVpnTls.clientContext(cert, key, ca, tlsProtocols, check))
                .auth(auth).keepalive(ping, pingRestart);
        if (mssfix != null) {
            b.mssfix(mssfix);
        }
        if (dataCiphers != null) {
            b.dataCiphers(dataCiphers);
        }
        if (tlsAuth != null) {
            Integer dir = tlsAuthDirection != null ? tlsAuthDirection : keyDirection;
            b.tlsAuth(tlsAuth, dir == null ? KeyDirection.BIDIRECTIONAL
                    : dir == 0 ? KeyDirection.NORMAL : KeyDirection.INVERSE, auth);
        }
        if (tlsCrypt != null) {
            b.tlsCrypt(tlsCrypt);
        }
        if (username != null) {
            b.credentials(username, password);
        }
        return b;
    }

    /**
     * What {@link #connect} got: the client whose tunnel is up, the remote it reached, and why each remote before
     * it failed (one line per remote, in the order tried).
     */
    public record Connection(OpenVpnClient client, Remote remote, List<String> failed) {
    }

    /**
     * Dials the profile's remotes with NIO transports on {@code group} and a client from {@link #builder()} with
     * {@code tunnelInitializer}; see {@link #connect(EventLoopGroup, Class, Class, OpenVpnClient.Builder)}.
     */
    public Future<Connection> connect(EventLoopGroup group, ChannelHandler tunnelInitializer)
            throws IOException, GeneralSecurityException {
        return connect(group, NioDatagramChannel.class, NioSocketChannel.class,
                builder().tunnelInitializer(tunnelInitializer));
    }

    /**
     * Dials the {@link #remotes()} one after the other, in the profile's order ({@code remote-random}: shuffled
     * once), until one's tunnel is up: a new {@link OpenVpnClient} from {@code builder} per attempt, on a
     * {@code udp} channel for a UDP remote and a {@code tcp} channel (with {@link OpenVpnClient#tcpInitializer()})
     * for a TCP one. An attempt fails, and the next remote is tried, when the connect fails (a TCP port that
     * refuses), the tunnel fails (TLS refused, {@code AUTH_FAILED}, ICMP port unreachable on the UDP socket, the
     * hand-window), or no tunnel is up within {@link #serverPollTimeout()}. The future fails with an
     * {@link OpenVpnException} listing every remote's reason when none answers; it is one pass over the list (no
     * {@code connect-retry} loop), and a tunnel that ends later is not re-dialled.
     *
     * <p>Host names are resolved off the event loops (a virtual thread each), to an IPv6 address for
     * {@code udp6}/{@code tcp6} remotes and preferably IPv4 otherwise; an IP literal is used as it is.
     */
    public Future<Connection> connect(EventLoopGroup group, Class<? extends DatagramChannel> udp,
                                      Class<? extends SocketChannel> tcp, OpenVpnClient.Builder builder) {
        List<Remote> order = new ArrayList<>(remotes());
        if (remoteRandom) {
            java.util.Collections.shuffle(order, new java.security.SecureRandom());
        }
        Promise<Connection> promise = group.next().newPromise();
        new Dialer(group, udp, tcp, builder, order, promise).attempt(0);
        return promise;
    }

    /** One pass over the remotes; each step runs in a listener of the one before. */
    private final class Dialer {
        private final EventLoopGroup group;
        private final Class<? extends DatagramChannel> udp;
        private final Class<? extends SocketChannel> tcp;
        private final OpenVpnClient.Builder builder;
        private final List<Remote> order;
        private final Promise<Connection> promise;
        private final List<String> failed = new java.util.concurrent.CopyOnWriteArrayList<>();

        Dialer(EventLoopGroup group, Class<? extends DatagramChannel> udp, Class<? extends SocketChannel> tcp,
               OpenVpnClient.Builder builder, List<Remote> order, Promise<Connection> promise) {
            this.group = group;
            this.udp = udp;
            this.tcp = tcp;
            this.builder = builder;
            this.order = order;
            this.promise = promise;
        }

        void attempt(int i) {
            if (promise.isDone()) {
                return; // cancelled by the caller
            }
            if (i == order.size()) {
                promise.tryFailure(new OpenVpnException("no remote answered: " + String.join("; ", failed)));
                return;
            }
            Remote r = order.get(i);
            resolve(r, (address, error) -> {
                if (error != null) {
                    next(i, r, "cannot resolve: " + error);
                } else {
                    dial(i, r, address);
                }
            });
        }

        private void next(int i, Remote r, String why) {
            failed.add(r.host() + " " + r.port() + " " + r.proto().name().toLowerCase(java.util.Locale.ROOT)
                    + ": " + why);
            attempt(i + 1);
        }

        private void dial(int i, Remote r, java.net.InetAddress address) {
            OpenVpnClient client;
            try {
                client = builder.build();
            } catch (RuntimeException e) {
                promise.tryFailure(e);
                return;
            }
            Bootstrap b = new Bootstrap().group(group);
            if (r.proto() == Proto.UDP) {
                b.channel(udp).handler(client);
            } else {
                b.channel(tcp).handler(client.tcpInitializer())
                        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                                TimeUnit.SECONDS.toMillis(serverPollTimeout)));
            }
            b.connect(new java.net.InetSocketAddress(address, r.port())).addListener((ChannelFuture cf) -> {
                if (!cf.isSuccess()) {
                    cf.channel().close();
                    next(i, r, "connect failed: " + cf.cause().getMessage());
                    return;
                }
                Channel ch = cf.channel();
                boolean[] timedOut = new boolean[1];
                io.netty.util.concurrent.ScheduledFuture<?> timer = ch.eventLoop().schedule(() -> {
                    if (!client.tunnel().isDone()) {
                        timedOut[0] = true;
                        ch.close();
                    }
                }, serverPollTimeout, TimeUnit.SECONDS);
                client.tunnel().addListener(tf -> {
                    timer.cancel(false);
                    if (tf.isSuccess()) {
                        if (!promise.trySuccess(new Connection(client, r, List.copyOf(failed)))) {
                            ch.close(); // the caller cancelled meanwhile
                        }
                        return;
                    }
                    ch.close();
                    next(i, r, timedOut[0] ? "no tunnel within server-poll-timeout " + serverPollTimeout + " s"
                            : String.valueOf(tf.cause().getMessage()));
                });
            });
        }

        /** The remote's address: an IP literal at once, a name on a virtual thread (a lookup may block). */
        private void resolve(Remote r, java.util.function.BiConsumer<java.net.InetAddress, String> then) {
            byte[] literal = io.netty.util.NetUtil.createByteArrayFromIpAddressString(r.host());
            if (literal != null) {
                try {
                    then.accept(java.net.InetAddress.getByAddress(literal), null);
                } catch (java.net.UnknownHostException e) {
                    then.accept(null, e.getMessage());
                }
                return;
            }
            io.netty.util.concurrent.EventExecutor loop = group.next();
            Thread.startVirtualThread(() -> {
                java.net.InetAddress chosen = null;
                String error = null;
                try {
                    java.net.InetAddress[] all = java.net.InetAddress.getAllByName(r.host());
                    for (java.net.InetAddress a : all) {
                        if ((a instanceof java.net.Inet6Address) == r.ipv6()) {
                            chosen = a;
                            break;
                        }
                    }
                    if (chosen == null && !r.ipv6()) {
                        chosen = all[0];
                    }
                    if (chosen == null) {
                        error = "no IPv6 address for " + r.host();
                    }
                } catch (java.net.UnknownHostException e) {
                    error = e.getMessage();
                }
                java.net.InetAddress a = chosen;
                String err = error;
                loop.execute(() -> then.accept(a, err));
            });
        }
    }
}

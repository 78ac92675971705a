package dev.pktkit.wireguard;

import dev.pktkit.switching.lpm.Prefix;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A wg(8) / wg-quick(8) configuration file: {@code [Interface]} with PrivateKey, ListenPort and (wg-quick)
 * Address, DNS, MTU; {@code [Peer]} sections with PublicKey, PresharedKey, AllowedIPs, Endpoint,
 * PersistentKeepalive. Keys are case-insensitive, {@code #} starts a comment, list values are comma-separated and
 * repeated lines add up, as in wg(8). wg-quick's hook and routing keys (PreUp, PostUp, PreDown, PostDown, Table,
 * SaveConfig) and FwMark are accepted and kept as text but have no effect here.
 *
 * <p>Endpoints with a host name stay unresolved ({@link InetSocketAddress#createUnresolved}); the endpoint
 * resolves them off its event loop, and again while handshakes fail. Immutable.
 *
 * @param privateKey the interface key
 * @param listenPort the UDP port, or 0 for any
 * @param addresses  wg-quick {@code Address} values (CIDR)
 * @param dns        wg-quick {@code DNS} values
 * @param mtu        wg-quick {@code MTU}, or 0 for the default
 * @param ignored    wg-quick-only lines kept as {@code Key = value}
 * @param peers      the peers
 */
public record WireGuardConfig(WireGuardKey privateKey, int listenPort, List<String> addresses, List<String> dns,
                              int mtu, List<String> ignored, List<WireGuardPeerConfig> peers) {
    private static final List<String> IGNORED_KEYS = List.of("preup", "postup", "predown", "postdown", "table",
            "saveconfig", "fwmark");

    public WireGuardConfig {
        addresses = List.copyOf(addresses);
        dns = List.copyOf(dns);
        ignored = List.copyOf(ignored);
        peers = List.copyOf(peers);
    }

    /**
     * Parses a configuration.
     *
     * @throws IllegalArgumentException with the line number, on any malformed line, unknown key or bad value
     */
    public static WireGuardConfig parse(String text) {
        WireGuardKey priv = null;
        int port = 0;
        int mtu = 0;
        List<String> addresses = new ArrayList<>();
        List<String> dns = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        List<WireGuardPeerConfig> peers = new ArrayList<>();
        PeerBuilder peer = null;
        String section = null;
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            int lineNo = i + 1;
            String line = lines[i];
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            try {
                if (line.startsWith("[")) {
                    String s = line.toLowerCase(Locale.ROOT);
                    if (s.equals("[interface]")) {
                        section = "interface";
                    } else if (s.equals("[peer]")) {
                        if (peer != null) {
                            peers.add(peer.build());
                        }
                        peer = new PeerBuilder();
                        section = "peer";
                    } else {
                        throw new IllegalArgumentException("unknown section " + line);
                    }
                    continue;
                }
                int eq = line.indexOf('=');
                if (eq <= 0 || section == null) {
                    throw new IllegalArgumentException(section == null ? "key outside a section" : "expected Key = value");
                }
                String key = line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                String value = line.substring(eq + 1).strip();
                if (section.equals("interface")) {
                    switch (key) {
                        case "privatekey" -> priv = WireGuardKey.parse(value);
                        case "listenport" -> port = parsePort(value);
                        case "address" -> list(value).forEach(a -> addresses.add(checkCidr(a)));
                        case "dns" -> dns.addAll(list(value));
                        case "mtu" -> mtu = Integer.parseInt(value);
                        default -> {
                            if (!IGNORED_KEYS.contains(key)) {
                                throw new IllegalArgumentException("unknown key " + key);
                            }
                            ignored.add(line.substring(0, eq).strip() + " = " + value);
                        }
                    }
                } else {
                    switch (key) {
                        case "publickey" -> peer.publicKey = WireGuardKey.parse(value);
                        case "presharedkey" -> peer.psk = WireGuardKey.parse(value);
                        case "allowedips" -> {
                            for (String a : list(value)) {
                                peer.allowed.add(Prefix.parse(a));
                            }
                        }
                        case "endpoint" -> peer.endpoint = parseEndpoint(value);
                        case "persistentkeepalive" -> peer.keepalive = value.equalsIgnoreCase("off") ? 0
                                : Integer.parseInt(value);
                        default -> throw new IllegalArgumentException("unknown key " + key);
                    }
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("line " + lineNo + ": " + e.getMessage(), e);
            }
        }
        if (peer != null) {
            peers.add(peer.build());
        }
        if (priv == null) {
            throw new IllegalArgumentException("[Interface] has no PrivateKey");
        }
        return new WireGuardConfig(priv, port, addresses, dns, mtu, ignored, peers);
    }

    private static String checkCidr(String a) {
        Prefix.parse(a); // validates
        return a;
    }

    private static List<String> list(String v) {
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) {
            s = s.strip();
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    private static int parsePort(String v) {
        int p = Integer.parseInt(v);
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("port out of range: " + v);
        }
        return p;
    }

    /** Parses {@code host:port}, {@code a.b.c.d:port} or {@code [v6]:port}; literals are resolved, names not. */
    public static InetSocketAddress parseEndpoint(String v) {
        String host;
        String port;
        if (v.startsWith("[")) {
            int close = v.indexOf(']');
            if (close < 0 || close + 1 >= v.length() || v.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("bad endpoint " + v);
            }
            host = v.substring(1, close);
            port = v.substring(close + 2);
        } else {
            int colon = v.lastIndexOf(':');
            if (colon <= 0 || v.indexOf(':') != colon) {
                throw new IllegalArgumentException("bad endpoint " + v + " (IPv6 needs [brackets])");
            }
            host = v.substring(0, colon);
            port = v.substring(colon + 1);
        }
        int p = parsePort(port);
        boolean literal = host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || Character.isDigit(c));
        if (!literal) {
            return InetSocketAddress.createUnresolved(host, p);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), p); // a literal: no lookup happens
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad address " + host, e);
        }
    }

    private static final class PeerBuilder {
        WireGuardKey publicKey;
        WireGuardKey psk;
        final List<Prefix> allowed = new ArrayList<>();
        InetSocketAddress endpoint;
        int keepalive;

        WireGuardPeerConfig build() {
            if (publicKey == null) {
                throw new IllegalArgumentException("[Peer] has no PublicKey");
            }
            return new WireGuardPeerConfig(publicKey, psk, allowed, endpoint, keepalive);
        }
    }

    /** The wg-quick form (with Address, DNS, MTU and the kept wg-quick lines). */
    public String toWgQuick() {
        return format(true);
    }

    /** The wg(8) {@code setconf} form: only the keys wg(8) itself accepts. */
    public String toWgSetconf() {
        return format(false);
    }

    private String format(boolean quick) {
        StringBuilder sb = new StringBuilder("[Interface]\n");
        sb.append("PrivateKey = ").append(privateKey.toBase64()).append('\n');
        if (listenPort != 0) {
            sb.append("ListenPort = ").append(listenPort).append('\n');
        }
        if (quick) {
            if (!addresses.isEmpty()) {
                sb.append("Address = ").append(String.join(", ", addresses)).append('\n');
            }
            if (!dns.isEmpty()) {
                sb.append("DNS = ").append(String.join(", ", dns)).append('\n');
            }
            if (mtu != 0) {
                sb.append("MTU = ").append(mtu).append('\n');
            }
            ignored.forEach(l -> sb.append(l).append('\n'));
        }
        for (WireGuardPeerConfig p : peers) {
            sb.append("\n[Peer]\nPublicKey = ").append(p.publicKey().toBase64()).append('\n');
            if (p.presharedKey() != null) {
                sb.append("PresharedKey = ").append(p.presharedKey().toBase64()).append('\n');
            }
            if (!p.allowedIps().isEmpty()) {
                sb.append("AllowedIPs = ").append(String.join(", ",
                        p.allowedIps().stream().map(Prefix::toString).toList())).append('\n');
            }
            if (p.endpoint() != null) {
                sb.append("Endpoint = ").append(WireGuardEndpoint.formatEndpoint(p.endpoint())).append('\n');
            }
            if (p.persistentKeepalive() != 0) {
                sb.append("PersistentKeepalive = ").append(p.persistentKeepalive()).append('\n');
            }
        }
        return sb.toString();
    }

    /** A builder for an endpoint with this configuration's private key and peers. */
    public WireGuardEndpoint.Builder toEndpointBuilder() {
        WireGuardEndpoint.Builder b = WireGuardEndpoint.builder().privateKey(privateKey);
        if (mtu != 0) {
            b.mtu(mtu);
        }
        peers.forEach(b::peer);
        return b;
    }
}

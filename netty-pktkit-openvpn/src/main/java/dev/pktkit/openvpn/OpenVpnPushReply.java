package dev.pktkit.openvpn;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The options a server pushed to {@link OpenVpnClient} ({@code PUSH_REPLY}, all continuations joined), parsed
 * into the parts a gateway needs: its tunnel addresses, routes, DNS and redirect-gateway, the data cipher, peer-id
 * and keepalive. Every option is also kept as it came ({@link #options()}), so a caller can read the ones this
 * class does not interpret.
 *
 * @param options every pushed option, in order, without {@code push-continuation}
 * @param address {@code ifconfig} local address (topology subnet), or null when none was pushed
 * @param netmask {@code ifconfig}'s netmask, or null
 * @param address6 {@code ifconfig-ipv6} address with its prefix length ({@code fd00::1000/64}), or null
 * @param routes {@code route NETWORK [MASK]} options as pushed (the text after {@code route })
 * @param routes6 {@code route-ipv6} options as pushed
 * @param dhcpOptions {@code dhcp-option} options as pushed ({@code DNS 10.8.0.53})
 * @param redirectGateway the flags of {@code redirect-gateway} ({@code "def1"}, "" with none), or null when not pushed
 * @param cipher the pushed {@code cipher}, or null
 * @param peerId the pushed {@code peer-id}, or -1 (then data packets go out as P_DATA_V1)
 * @param ping {@code ping} seconds (0: none)
 * @param pingRestart {@code ping-restart} seconds (0: none)
 * @param tlsEkm whether {@code key-derivation tls-ekm} or {@code protocol-flags ... tls-ekm} was pushed
 * @param compression the pushed compression framing
 */
public record OpenVpnPushReply(List<String> options, Inet4Address address, Inet4Address netmask, String address6,
                               List<String> routes, List<String> routes6, List<String> dhcpOptions,
                               String redirectGateway, String cipher, int peerId, int ping, int pingRestart,
                               boolean tlsEkm, Compression compression) {
    public OpenVpnPushReply {
        options = List.copyOf(options);
        routes = List.copyOf(routes);
        routes6 = List.copyOf(routes6);
        dhcpOptions = List.copyOf(dhcpOptions);
    }

    /** Most options a joined {@code PUSH_REPLY} may have (bounds the continuation buffer). */
    static final int MAX_OPTIONS = 1024;

    /**
     * Adds the options of one {@code PUSH_REPLY} control message (the text from {@code PUSH_REPLY} on,
     * comma-separated) to {@code into}, blank ones left out.
     *
     * @return whether a continuation follows ({@code push-continuation 2}); parse {@code into} once it is false
     * @throws IllegalArgumentException when {@code into} would pass {@link #MAX_OPTIONS} options
     */
    static boolean collect(String message, List<String> into) {
        boolean more = false;
        String body = message.startsWith("PUSH_REPLY") ? message.substring("PUSH_REPLY".length()) : message;
        for (String o : body.split(",")) {
            if (o.isBlank()) {
                continue;
            }
            if (o.trim().equals("push-continuation 2")) {
                more = true;
            }
            if (into.size() >= MAX_OPTIONS) {
                throw new IllegalArgumentException("more than " + MAX_OPTIONS + " pushed options");
            }
            into.add(o);
        }
        return more;
    }

    /** The prefix length of {@link #netmask()} (e.g. 24), or -1 without {@code ifconfig}. */
    public int prefixLength() {
        return netmask == null ? -1 : Integer.bitCount(AddressPool.toInt(netmask));
    }

    /**
     * Parses the option list of one or more {@code PUSH_REPLY} messages (without the {@code PUSH_REPLY,} prefix,
     * comma-separated).
     *
     * @throws IllegalArgumentException when an option this class interprets is malformed
     */
    public static OpenVpnPushReply parse(List<String> opts) {
        List<String> options = new ArrayList<>();
        List<String> routes = new ArrayList<>();
        List<String> routes6 = new ArrayList<>();
        List<String> dhcp = new ArrayList<>();
        Inet4Address address = null;
        Inet4Address netmask = null;
        String address6 = null;
        String redirect = null;
        String cipher = null;
        int peerId = -1;
        int ping = 0;
        int pingRestart = 0;
        boolean ekm = false;
        Compression compression = Compression.NONE;
        for (String raw : opts) {
            String o = raw.trim();
            if (o.isEmpty() || o.startsWith("push-continuation")) {
                continue;
            }
            options.add(o);
            String[] w = o.split("\\s+");
            String rest = o.length() > w[0].length() ? o.substring(w[0].length()).trim() : "";
            switch (w[0]) {
                case "ifconfig" -> {
                    need(w, 3, o);
                    address = v4(w[1], o);
                    netmask = v4(w[2], o);
                }
                case "ifconfig-ipv6" -> {
                    need(w, 2, o);
                    address6 = w[1];
                }
                case "route" -> routes.add(rest);
                case "route-ipv6" -> routes6.add(rest);
                case "dhcp-option" -> dhcp.add(rest);
                case "redirect-gateway" -> redirect = rest;
                case "cipher" -> {
                    need(w, 2, o);
                    cipher = w[1];
                }
                case "peer-id" -> peerId = number(w, o);
                case "ping" -> ping = number(w, o);
                case "ping-restart" -> pingRestart = number(w, o);
                case "key-derivation" -> ekm |= rest.equals("tls-ekm");
                case "protocol-flags" -> {
                    for (int i = 1; i < w.length; i++) {
                        ekm |= w[i].equals("tls-ekm");
                    }
                }
                case "compress" -> compression = switch (rest) {
                    case "stub-v2" -> Compression.STUB_V2;
                    case "stub" -> Compression.STUB;
                    default -> throw new IllegalArgumentException("unsupported pushed compression: " + o);
                };
                case "comp-lzo" -> {
                    if (!rest.equals("no")) {
                        throw new IllegalArgumentException("unsupported pushed compression: " + o);
                    }
                    compression = Compression.LZO_NO;
                }
                default -> { } // kept in options() only
            }
        }
        return new OpenVpnPushReply(options, address, netmask, address6, routes, routes6, dhcp, redirect, cipher,
                peerId, ping, pingRestart, ekm, compression);
    }

    private static void need(String[] w, int n, String o) {
        if (w.length < n) {
            throw new IllegalArgumentException("pushed option too short: " + o);
        }
    }

    private static int number(String[] w, String o) {
        need(w, 2, o);
        try {
            int v = Integer.parseInt(w[1]);
            if (v < 0) {
                throw new IllegalArgumentException("negative number in pushed option: " + o);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number in pushed option: " + o, e);
        }
    }

    private static Inet4Address v4(String s, String o) {
        if (!s.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("not an IPv4 address in pushed option: " + o);
        }
        try {
            return (Inet4Address) InetAddress.getByName(s); // a literal: no lookup
        } catch (UnknownHostException | ClassCastException e) {
            throw new IllegalArgumentException("not an IPv4 address in pushed option: " + o, e);
        }
    }
}

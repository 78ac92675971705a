package dev.pktkit.benchmarks;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.tuntap.OffloadMode;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import dev.pktkit.tuntap.TunTapChannelOption;
import dev.pktkit.tuntap.VirtioNetCodec;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * End-to-end iperf3 TCP throughput through the packet NAT, next to its anchors in the same run (issue 12):
 *
 * <pre>
 *   veth       ns a ──veth──▶ ns b                                  (no NAT at all)
 *   kernel     ns a ──veth──▶ router: nft masquerade ──veth──▶ ns b (Linux conntrack NAT)
 *   hub        ns a ──TUN──▶ L3Hub ──TUN──▶ ns b                    (the same Java path without NAT)
 *   nat        ns a ──TUN──▶ Nat ──TUN──▶ ns b
 *   hub-fwd    hub, both TUNs with VirtioNetCodec.forwarding(): segments keep their offload state (partial
 *              checksums stay partial, nothing summed in Java)
 *   nat-fwd    nat, likewise (the NAT updates a partial checksum for the address only)
 *   nat64      ns a (IPv6 only) ──TUN──▶ Nat with NAT64 ──TUN──▶ ns b (IPv4)
 *   tayga      ns a (IPv6 only) ──veth──▶ router: tayga ──veth──▶ ns b (Debian's userspace NAT64, stateless SIIT;
 *              prefix 2001:db8:64::/96, since tayga 0.9.2 refuses 64:ff9b::/96 with private IPv4 addresses)
 * </pre>
 *
 * The TUN paths run with offloads ({@link OffloadMode#LARGE} and {@link VirtioNetCodec}: large TCP segments
 * cross the Java path in one piece and the kernel cuts them at the egress TUN), both TUN channels on one epoll
 * loop. The NAT's own MTUs are set to 65535 there so that it passes large segments (the egress codec cuts them to
 * the TUN's 1500). iperf3 -c in ns a, -s in ns b, one stream.
 *
 * <p>Needs root, iproute2, iperf3, nftables and tayga; creates namespaces {@code pktnat-*-PID} and removes them.
 * Not part of {@code mvn verify}. Run:
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp netty-pktkit-benchmarks/target/benchmarks.jar \
 *     dev.pktkit.benchmarks.NatThroughput [--seconds 10] [--modes veth,kernel,hub,nat,hub-fwd,nat-fwd,nat64,tayga]
 *     [--rounds 1]
 * </pre>
 */
public final class NatThroughput {
    private static final Pattern RECEIVED = Pattern.compile(
            "\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)", Pattern.DOTALL);
    private static final Pattern RETRANSMITS = Pattern.compile(
            "\"sum_sent\"\\s*:\\s*\\{[^}]*?\"retransmits\"\\s*:\\s*(\\d+)", Pattern.DOTALL);

    private static final String TAYGA_PREFIX = "2001:db8:64::/96";
    private final int seconds;
    private final String a;
    private final String b;
    private final String r;

    private NatThroughput(int seconds) {
        this.seconds = seconds;
        long pid = ProcessHandle.current().pid();
        a = "pktnat-a-" + pid;
        b = "pktnat-b-" + pid;
        r = "pktnat-r-" + pid;
    }

    public static void main(String[] args) throws Exception {
        int seconds = 10;
        int rounds = 1;
        List<String> modes = List.of("veth", "kernel", "hub", "nat", "hub-fwd", "nat-fwd", "nat64", "tayga");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--modes" -> modes = List.of(args[++i].split(","));
                default -> {
                    System.err.println("usage: NatThroughput [--seconds N] [--rounds N] [--modes m1,m2,...]");
                    System.exit(2);
                }
            }
        }
        NatThroughput bench = new NatThroughput(seconds);
        Map<String, List<Double>> all = new LinkedHashMap<>();
        System.out.printf("| path | round | Gbit/s | retransmits |%n|---|---|---|---|%n");
        for (int round = 1; round <= rounds; round++) {
            for (String mode : modes) {
                double[] res;
                try {
                    res = bench.run(mode);
                } catch (Exception e) {
                    System.out.printf("| %s | %d | failed: %s | |%n", mode, round, e.toString().replace('\n', ' '));
                    continue;
                }
                all.computeIfAbsent(mode, k -> new ArrayList<>()).add(res[0]);
                System.out.printf(Locale.ROOT, "| %s | %d | %.2f | %d |%n", mode, round, res[0], (long) res[1]);
            }
        }
        Map<String, Double> median = new LinkedHashMap<>();
        all.forEach((m, l) -> median.put(m, l.stream().sorted().toList().get(l.size() / 2)));
        System.out.println();
        median.forEach((m, v) -> System.out.printf(Locale.ROOT, "median %s %.2f Gbit/s%n", m, v));
        ratio(median, "nat", "hub");
        ratio(median, "nat-fwd", "hub-fwd");
        ratio(median, "nat-fwd", "kernel");
        ratio(median, "nat", "kernel");
        ratio(median, "kernel", "veth");
        ratio(median, "nat64", "tayga");
        ratio(median, "nat64", "nat");
    }

    private static void ratio(Map<String, Double> m, String x, String y) {
        if (m.containsKey(x) && m.containsKey(y)) {
            System.out.printf(Locale.ROOT, "%s / %s = %.2f%n", x, y, m.get(x) / m.get(y));
        }
    }

    /** Gbit/s and retransmits of one iperf3 run in {@code mode}. */
    private double[] run(String mode) throws Exception {
        for (String ns : List.of(a, b, r)) {
            sh("ip netns add " + ns + " && ip -n " + ns + " link set lo up");
        }
        MultiThreadIoEventLoopGroup group = null;
        List<TunChannel> tuns = new ArrayList<>();
        AutoCloseable device = null;
        Process daemon = null;
        try (NetNamespace nsA = NetNamespace.named(a); NetNamespace nsB = NetNamespace.named(b)) {
            String server = "10.81.2.1";
            switch (mode) {
                case "veth" -> {
                    veth(a, "eth0", b, "eth0");
                    in(a, "ip addr add 10.81.1.1/24 dev eth0 && ip link set eth0 up && ip route add 10.81.2.0/24 dev eth0");
                    in(b, "ip addr add 10.81.2.1/24 dev eth0 && ip link set eth0 up && ip route add 10.81.1.0/24 dev eth0");
                }
                case "kernel" -> {
                    routed(false);
                    Path rules = Files.createTempFile("masquerade", ".nft");
                    Files.writeString(rules, "table ip pktbench {\n  chain post {\n"
                            + "    type nat hook postrouting priority srcnat; policy accept;\n"
                            + "    oifname \"rb\" masquerade\n  }\n}\n");
                    in(r, "nft -f " + rules);
                    Files.deleteIfExists(rules);
                }
                case "tayga" -> {
                    routed(true);
                    Path dir = Files.createTempDirectory("tayga");
                    Path conf = dir.resolve("tayga.conf");
                    // Debian's tayga (0.9.2) refuses the well-known prefix with private IPv4 addresses (RFC 6052
                    // §3.1), so it gets a network-specific one; the translation work is the same
                    Files.writeString(conf, "tun-device nat64\nipv4-addr 10.81.3.1\nprefix " + TAYGA_PREFIX
                            + "\ndynamic-pool 10.81.3.0/24\ndata-dir " + dir + "\n");
                    in(r, "tayga -c " + conf + " --mktun && ip link set nat64 up"
                            + " && ip route add 10.81.3.0/24 dev nat64 && ip route add " + TAYGA_PREFIX + " dev nat64");
                    daemon = new ProcessBuilder("ip", "netns", "exec", r, "tayga", "-c", conf.toString(), "-n")
                            .redirectErrorStream(true).redirectOutput(dir.resolve("tayga.log").toFile()).start();
                    in(b, "ip route add 10.81.3.0/24 via 10.81.2.254");
                    server = TAYGA_PREFIX.replace("/96", "") + "10.81.2.1";
                }
                case "hub", "nat", "hub-fwd", "nat-fwd", "nat64" -> {
                    group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
                    boolean keep = mode.endsWith("-fwd");
                    TunChannel tunA = tun(group, nsA, "pkta", keep);
                    TunChannel tunB = tun(group, nsB, "pktb", keep);
                    tuns.add(tunA);
                    tuns.add(tunB);
                    if (mode.startsWith("hub")) {
                        L3Hub hub = L3Hub.builder().name("bench").build();
                        hub.attach(tunA, L3PortOptions.prefixes("10.81.1.0/24"));
                        hub.attach(tunB, L3PortOptions.prefixes("10.81.2.0/24"));
                        device = () -> hub.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
                    } else {
                        NatConfig.Builder c = NatConfig.builder().outsideAddresses("10.81.2.254")
                                .insideAddress("10.81.1.254").outsideMtu(65535).insideMtu(65535);
                        Nat nat = Nat.create(group.next(), mode.equals("nat64") ? c.nat64().build() : c.build());
                        nat.attach(tunA);
                        nat.attachOutside(tunB);
                        device = nat;
                    }
                    if (mode.equals("nat64")) {
                        tunA.link().addAddress("fd81::1/64").up().addRoute("64:ff9b::/96");
                        server = "64:ff9b::10.81.2.1";
                    } else {
                        tunA.link().addAddress("10.81.1.1/24").up().addRoute("10.81.2.0/24");
                    }
                    if (mode.startsWith("hub")) {
                        // no NAT: the server's replies go back to ns a's own address
                        tunB.link().addAddress("10.81.2.1/24").up().addRoute("10.81.1.0/24");
                    } else {
                        tunB.link().addAddress("10.81.2.1/24").up();
                    }
                }
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            }
            return iperf(server);
        } finally {
            if (daemon != null) {
                daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            if (device != null) {
                device.close();
            }
            for (TunChannel t : tuns) {
                t.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
            if (group != null) {
                group.shutdownGracefully(0, 10, TimeUnit.SECONDS).syncUninterruptibly();
            }
            for (String ns : List.of(a, b, r)) {
                sh("ip netns pids " + ns + " | xargs -r kill -9; ip netns del " + ns);
            }
        }
    }

    /**
     * ns a (10.81.1.1 / fd81::1) ── veth ── router r (10.81.1.254, fd81::254 | 10.81.2.254) ── veth ── ns b
     * (10.81.2.1); {@code v6Inside}: ns a is IPv6 only.
     */
    private void routed(boolean v6Inside) throws IOException, InterruptedException {
        veth(a, "eth0", r, "ra");
        veth(b, "eth0", r, "rb");
        // the router's side first, so that the hosts' links have carrier when their routes are added
        if (v6Inside) {
            in(r, "ip addr add fd81::254/64 dev ra nodad && sysctl -q -w net.ipv6.conf.all.forwarding=1");
        } else {
            in(r, "ip addr add 10.81.1.254/24 dev ra");
        }
        in(r, "ip addr add 10.81.2.254/24 dev rb && ip link set ra up && ip link set rb up"
                + " && sysctl -q -w net.ipv4.ip_forward=1");
        if (v6Inside) {
            in(a, "ip addr add fd81::1/64 dev eth0 nodad && ip link set eth0 up"
                    + " && ip route add " + TAYGA_PREFIX + " via fd81::254 dev eth0 onlink");
        } else {
            in(a, "ip addr add 10.81.1.1/24 dev eth0 && ip link set eth0 up && ip route add default via 10.81.1.254");
        }
        in(b, "ip addr add 10.81.2.1/24 dev eth0 && ip link set eth0 up");
    }

    private static TunChannel tun(MultiThreadIoEventLoopGroup group, NetNamespace ns, String name, boolean keep)
            throws InterruptedException {
        return (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(ns))
                .option(TunTapChannelOption.OFFLOAD, OffloadMode.LARGE)
                .handler(keep ? VirtioNetCodec.forwarding() : new VirtioNetCodec())
                .bind(TunTapAddress.of(name)).sync().channel();
    }

    private double[] iperf(String server) throws IOException, InterruptedException {
        Path log = Files.createTempFile("iperf3-server", ".log");
        Process srv = new ProcessBuilder("ip", "netns", "exec", b, "iperf3", "-s", "-1")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (sh("ip netns exec " + b + " ss -Hltn 'sport = :5201'").isBlank()) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("iperf3 server did not start");
                }
            }
            Path out = Files.createTempFile("iperf3-client", ".json");
            Process client = new ProcessBuilder("ip", "netns", "exec", a, "iperf3", "-c", server, "-t",
                    Integer.toString(seconds), "-J").redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!client.waitFor(seconds + 30L, TimeUnit.SECONDS)) {
                client.destroyForcibly();
                throw new IOException("iperf3 client did not finish");
            }
            String json = Files.readString(out, StandardCharsets.UTF_8);
            Files.deleteIfExists(out);
            Matcher m = RECEIVED.matcher(json);
            if (!m.find()) {
                throw new IOException("no result from iperf3: " + json);
            }
            Matcher rt = RETRANSMITS.matcher(json);
            return new double[]{Double.parseDouble(m.group(1)) / 1e9, rt.find() ? Long.parseLong(rt.group(1)) : -1};
        } finally {
            srv.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(log);
        }
    }

    private static void veth(String ns1, String if1, String ns2, String if2) throws IOException,
            InterruptedException {
        in(ns1, "ip link add " + if1 + " type veth peer name " + if2 + " netns " + ns2);
    }

    private static void in(String ns, String script) throws IOException, InterruptedException {
        String out = sh("ip netns exec " + ns + " sh -c '" + script + "' && echo ok");
        if (!out.strip().endsWith("ok")) {
            throw new IOException("in " + ns + ": " + script + ": " + out);
        }
    }

    private static String sh(String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + script);
        }
        return out;
    }
}

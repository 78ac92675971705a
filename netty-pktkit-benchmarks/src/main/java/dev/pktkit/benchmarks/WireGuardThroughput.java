package dev.pktkit.benchmarks;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.switching.lpm.Prefix;
import dev.pktkit.tuntap.OffloadMode;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import dev.pktkit.tuntap.TunTapChannelOption;
import dev.pktkit.wireguard.L3HubPeerAttacher;
import dev.pktkit.wireguard.WireGuardConfig;
import dev.pktkit.wireguard.WireGuardEndpoint;
import dev.pktkit.wireguard.WireGuardKey;
import dev.pktkit.wireguard.WireGuardPeerConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutorGroup;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * End-to-end WireGuard throughput, iperf3 TCP between two network namespaces joined by a veth pair, with the
 * tunnel's CPU cost, for three pairs in one run (issue 14's comparison):
 *
 * <pre>
 *   ns a: iperf3 -c ─▶ tunnel side a ──UDP over veth──▶ tunnel side b ─▶ iperf3 -s :ns b
 *   go-go:     wireguard-go (kernel TUN)      ↔ wireguard-go            (the anchor)
 *   ours-ours: WireGuardEndpoint + TunChannel ↔ WireGuardEndpoint + TunChannel (one JVM, one loop per side)
 *   go-ours:   wireguard-go                   ↔ WireGuardEndpoint       (wireguard-go sends, we receive)
 * </pre>
 *
 * CPU seconds are the tunnel processes' user + system time over the iperf3 run ({@code /proc/PID/stat} for
 * wireguard-go, the JVM's process CPU time for ours: both endpoints, the JIT and the GC included), divided by the
 * Gbit moved. Each pair first pings (handshake) and runs a warm-up transfer (the JIT for ours), then a ping ({@code --pings}
 * N, default 20, every 50 ms) gives the latency and the measured iperf3 run follows.
 *
 * <p>Needs root, iproute2, iperf3, wireguard-go and wireguard-tools; creates namespaces {@code pkwg-a-PID} /
 * {@code pkwg-b-PID} and removes them. Not part of {@code mvn verify}. Run (module README):
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp netty-pktkit-benchmarks/target/benchmarks.jar \
 *     dev.pktkit.benchmarks.WireGuardThroughput [--seconds 10] [--warmup 5] [--modes go-go,ours-ours,go-ours]
 *     [--workers 0] [--tun none|segment] [--reverse] [--pings 20]
 * </pre>
 */
public final class WireGuardThroughput {
    private static final Pattern RECEIVED = Pattern.compile(
            "\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)", Pattern.DOTALL);
    private static final Pattern RETRANSMITS = Pattern.compile(
            "\"sum_sent\"\\s*:\\s*\\{[^}]*?\"retransmits\"\\s*:\\s*(\\d+)", Pattern.DOTALL);
    private static final Pattern RTT = Pattern.compile("= ([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+) ms");
    private static final String OUTER_A = "10.83.0.1";
    private static final String OUTER_B = "10.83.0.2";
    private static final String INNER_A = "10.82.0.1";
    private static final String INNER_B = "10.82.0.2";
    private static final int PORT_A = 51001;
    private static final int PORT_B = 51002;
    private static final long CLOCK_TICKS = 100; // USER_HZ on Linux

    private final int seconds;
    private final int warmup;
    private final int workers;
    private final OffloadMode tunOffload;
    private final boolean reverse;
    private final long pid = ProcessHandle.current().pid();
    private final String a = "pkwg-a-" + pid;
    private final String b = "pkwg-b-" + pid;

    private int pings = 20;

    private WireGuardThroughput(int seconds, int warmup, int workers, OffloadMode tunOffload, boolean reverse) {
        this.seconds = seconds;
        this.warmup = warmup;
        this.workers = workers;
        this.tunOffload = tunOffload;
        this.reverse = reverse;
    }

    public static void main(String[] args) throws Exception {
        int seconds = 10;
        int warmup = 5;
        int workers = 0;
        OffloadMode tun = OffloadMode.NONE;
        boolean reverse = false;
        List<String> modes = List.of("go-go", "ours-ours", "go-ours");
        int pings = 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--workers" -> workers = Integer.parseInt(args[++i]);
                case "--tun" -> tun = OffloadMode.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--reverse" -> reverse = true;
                case "--modes" -> modes = List.of(args[++i].split(","));
                case "--pings" -> pings = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: WireGuardThroughput [--seconds N] [--warmup N] [--workers N] "
                            + "[--tun none|segment] [--reverse] [--modes go-go,ours-ours,go-ours] [--pings N]");
                    System.exit(2);
                }
            }
        }
        WireGuardThroughput bench = new WireGuardThroughput(seconds, warmup, workers, tun, reverse);
        bench.pings = pings;
        System.out.printf(Locale.ROOT, "workers %d, TUN offload %s, %s, %d s per run%n", workers, tun,
                reverse ? "iperf3 -R (b sends)" : "a sends", seconds);
        System.out.println("| pair | Gbit/s | retransmits | CPU s (a + b) | CPU s per Gbit | ping avg ms |");
        System.out.println("|---|---|---|---|---|---|");
        List<Result> results = new ArrayList<>();
        for (String mode : modes) {
            Result r = bench.run(mode);
            results.add(r);
            System.out.printf(Locale.ROOT, "| %s | %.3f | %d | %.2f + %.2f | %.2f | %.3f |%n", mode, r.gbps,
                    r.retransmits, r.cpuA, r.cpuB, r.cpuPerGbit(), r.pingMs);
        }
        Result anchor = results.stream().filter(r -> r.mode.equals("go-go")).findFirst().orElse(null);
        if (anchor != null) {
            for (Result r : results) {
                if (r != anchor) {
                    System.out.printf(Locale.ROOT, "%s / go-go: throughput %.2f x, CPU s per Gbit %.2f x, ping %.2f x%n",
                            r.mode, r.gbps / anchor.gbps, r.cpuPerGbit() / anchor.cpuPerGbit(),
                            r.pingMs / anchor.pingMs);
                }
            }
        }
    }

    record Result(String mode, double gbps, long retransmits, double cpuA, double cpuB, double seconds,
                  double pingMs) {
        double cpuPerGbit() {
            return (cpuA + cpuB) / (gbps * seconds);
        }
    }

    /** One side of the tunnel: how to read the CPU it used so far. */
    private interface Side extends AutoCloseable {
        double cpuSeconds() throws IOException;

        @Override
        void close() throws Exception;
    }

    private Result run(String mode) throws Exception {
        ip("netns", "add", a);
        ip("netns", "add", b);
        WireGuardKey keyA = WireGuardKey.generatePrivate();
        WireGuardKey keyB = WireGuardKey.generatePrivate();
        List<Side> sides = new ArrayList<>();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        EventExecutorGroup crypto = workers > 0 ? new DefaultEventExecutorGroup(workers) : null;
        try (NetNamespace nsA = NetNamespace.named(a); NetNamespace nsB = NetNamespace.named(b)) {
            String va = "pkwva" + pid % 10000;
            String vb = "pkwvb" + pid % 10000;
            ip("link", "add", va, "type", "veth", "peer", "name", vb);
            ip("link", "set", va, "netns", a);
            ip("link", "set", vb, "netns", b);
            for (String[] s : new String[][] {{a, va, OUTER_A}, {b, vb, OUTER_B}}) {
                ip("-n", s[0], "link", "set", "lo", "up");
                ip("-n", s[0], "addr", "add", s[2] + "/24", "dev", s[1]);
                ip("-n", s[0], "link", "set", s[1], "up");
            }
            boolean goA = mode.startsWith("go-");
            boolean goB = mode.endsWith("-go");
            WireGuardPeerConfig peerOfA = new WireGuardPeerConfig(keyB.publicKey(), null,
                    List.of(Prefix.parse(INNER_B + "/32")), new InetSocketAddress(OUTER_B, PORT_B), 0);
            WireGuardPeerConfig peerOfB = new WireGuardPeerConfig(keyA.publicKey(), null,
                    List.of(Prefix.parse(INNER_A + "/32")), new InetSocketAddress(OUTER_A, PORT_A), 0);
            EventLoop loopA = group.next();
            EventLoop loopB = group.next();
            sides.add(goA ? wireguardGo(a, "pkwga" + pid % 10000, keyA, PORT_A, peerOfA, INNER_A)
                    : ours(nsA, loopA, crypto, "pkwta" + pid % 10000, keyA, OUTER_A, PORT_A, peerOfA, INNER_A));
            sides.add(goB ? wireguardGo(b, "pkwgb" + pid % 10000, keyB, PORT_B, peerOfB, INNER_B)
                    : ours(nsB, loopB, crypto, "pkwtb" + pid % 10000, keyB, OUTER_B, PORT_B, peerOfB, INNER_B));
            ping(); // the handshake (both implementations handshake on the first packet)
            if (warmup > 0) {
                iperf(warmup); // for ours the JIT; the same for every pair so the runs compare
            }
            double pingMs = ping();
            double cpuA0 = sides.get(0).cpuSeconds();
            double cpuB0 = sides.get(1).cpuSeconds();
            long[] r = iperf(seconds);
            double cpuA = sides.get(0).cpuSeconds() - cpuA0;
            double cpuB = sides.get(1).cpuSeconds() - cpuB0;
            if (!goA && !goB) {
                cpuB = cpuA / 2; // one JVM holds both sides: split its CPU time evenly for the table
                cpuA = cpuB;
            }
            return new Result(mode, r[0] / 1e9, r[1], cpuA, cpuB, seconds, pingMs);
        } finally {
            for (Side s : sides) {
                try {
                    s.close();
                } catch (Exception e) {
                    System.err.println("cleanup: " + e);
                }
            }
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
            if (crypto != null) {
                crypto.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
            }
            ip("netns", "del", a);
            ip("netns", "del", b);
        }
    }

    private Side wireguardGo(String ns, String ifName, WireGuardKey key, int port, WireGuardPeerConfig peer,
                             String inner) throws Exception {
        Path dir = Files.createTempDirectory("wgbench");
        Process go = new ProcessBuilder("ip", "netns", "exec", ns, "wireguard-go", "-f", ifName)
                .redirectErrorStream(true).redirectOutput(dir.resolve("wireguard-go.log").toFile()).start();
        Path sock = Path.of("/var/run/wireguard", ifName + ".sock");
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(sock)) {
            if (System.nanoTime() > end || !go.isAlive()) {
                throw new IOException("wireguard-go did not start: "
                        + Files.readString(dir.resolve("wireguard-go.log")));
            }
            Thread.sleep(20); // polling for the control socket with a deadline
        }
        Path conf = dir.resolve("wg.conf");
        Files.writeString(conf, new WireGuardConfig(key, port, List.of(), List.of(), 0, List.of(), List.of(peer))
                .toWgSetconf());
        run("wg", "setconf", ifName, conf.toString());
        ip("-n", ns, "link", "set", ifName, "mtu", "1420");
        ip("-n", ns, "addr", "add", inner + "/24", "dev", ifName);
        ip("-n", ns, "link", "set", ifName, "up");
        long goPid = go.pid();
        return new Side() {
            @Override
            public double cpuSeconds() throws IOException {
                return procCpuSeconds(goPid);
            }

            @Override
            public void close() throws Exception {
                go.destroy();
                if (!go.waitFor(5, TimeUnit.SECONDS)) {
                    go.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
                try (var s = Files.walk(dir)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        };
    }

    private Side ours(NetNamespace ns, EventLoop loop, EventExecutorGroup crypto, String tunName, WireGuardKey key,
                      String outer, int port, WireGuardPeerConfig peer, String inner) throws Exception {
        L3Hub hub = L3Hub.builder().name("wg-" + tunName).build();
        WireGuardEndpoint endpoint = WireGuardEndpoint.builder().privateKey(key).peer(peer)
                .cryptoWorkers(crypto).peerInitializer(new L3HubPeerAttacher(hub)).build();
        Channel udp = new Bootstrap().group(loop)
                .channelFactory(() -> {
                    try {
                        return ns.call(EpollDatagramChannel::new);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                })
                .handler(endpoint)
                .bind(outer, port).sync().channel();
        TunChannel tun = (TunChannel) new Bootstrap().group(loop).channelFactory(() -> new TunChannel(ns))
                .option(TunTapChannelOption.OFFLOAD, tunOffload)
                .handler(new ChannelInboundHandlerAdapter())
                .bind(TunTapAddress.of(tunName)).sync().channel();
        tun.link().mtu(1420).addAddress(inner + "/24").up();
        hub.attach(tun, L3PortOptions.prefixes(inner + "/32"));
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return new Side() {
            @Override
            public double cpuSeconds() {
                return os.getProcessCpuTime() / 1e9;
            }

            @Override
            public void close() throws Exception {
                System.err.println("  " + tunName + ": drops " + endpoint.drops() + ", offloaded "
                        + endpoint.offloadedPackets() + ", GSO datagrams " + endpoint.gsoDatagrams() + ", GRO "
                        + endpoint.isGroEnabled());
                hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
                tun.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
                udp.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        };
    }

    private static double procCpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields 14 (utime) and 15 (stime), counted from 1, are 11 and 12 after "pid (comm) "
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) CLOCK_TICKS;
    }

    private double ping() throws IOException, InterruptedException {
        String out = run("ip", "netns", "exec", a, "ping", "-q", "-c", Integer.toString(pings), "-i", "0.05",
                "-W", "5", INNER_B);
        Matcher m = RTT.matcher(out);
        if (!m.find()) {
            throw new IOException("no ping result: " + out);
        }
        return Double.parseDouble(m.group(2));
    }

    /** Runs iperf3 for {@code secs} seconds: bits per second received and retransmits. */
    private long[] iperf(int secs) throws Exception {
        Path log = Files.createTempFile("iperf3-server", ".log");
        Process server = new ProcessBuilder("ip", "netns", "exec", b, "iperf3", "-s", "-1", "-B", INNER_B)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            awaitListening(b, 5201);
            Path out = Files.createTempFile("iperf3-client", ".json");
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", a, "iperf3", "-c", INNER_B, "-t",
                    Integer.toString(secs), "-J"));
            if (reverse) {
                cmd.add("-R");
            }
            Process client = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!client.waitFor(secs + 30L, TimeUnit.SECONDS)) {
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
            return new long[] {(long) Double.parseDouble(m.group(1)), rt.find() ? Long.parseLong(rt.group(1)) : -1};
        } finally {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(log);
        }
    }

    private static void awaitListening(String ns, int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!run("ip", "netns", "exec", ns, "ss", "-Hltn", "sport = :" + port).isBlank()) {
                return;
            }
        }
        throw new IOException("iperf3 server did not start listening in " + ns);
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        cmd.addAll(List.of(args));
        run(cmd.toArray(new String[0]));
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}

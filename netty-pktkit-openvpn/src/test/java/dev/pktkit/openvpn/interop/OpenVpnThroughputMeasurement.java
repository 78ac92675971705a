package dev.pktkit.openvpn.interop;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.openvpn.OpenVpnClient;
import dev.pktkit.openvpn.OpenVpnTls;
import dev.pktkit.openvpn.OpenVpnTunnelChannel;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A documented measurement run, not a pass/fail test (enabled only with {@code -Dpktkit.measure=true}): iperf3 TCP
 * for 10 s from the client namespace through the tunnel to the server namespace, for AES-256-GCM and
 * CHACHA20-POLY1305, in one run: our client against our server, the stock client against our server, and the
 * stock client against the stock {@code openvpn} server. Both servers listen on the same veth address in the server namespace. Prints Mbit/s, the server's
 * CPU-seconds (our whole JVM; the openvpn process) per Gbit, and the ratios. Figures go in the module README.
 */
@EnabledIfSystemProperty(named = "pktkit.measure", matches = "true")
class OpenVpnThroughputMeasurement {
    static final Pattern RECEIVED = Pattern.compile(
            "\"sum_received\"\\s*:\\s*\\{[^}]*?\"seconds\"\\s*:\\s*([\\d.]+)[^}]*?\"bytes\"\\s*:\\s*(\\d+)");
    static final int SECONDS = 10;
    /** Seconds of unmeasured transfer before each measured one ({@code -Dpktkit.measure.warmup}, 0 for none). */
    static final int WARMUP = Integer.getInteger("pktkit.measure.warmup", 3);
    /** The ciphers to measure ({@code -Dpktkit.measure.ciphers}, comma-separated; default both). */
    static final String[] CIPHERS = System.getProperty("pktkit.measure.ciphers", "AES-256-GCM,CHACHA20-POLY1305")
            .split(",");
    /**
     * The pairs to measure ({@code -Dpktkit.measure.pairs}, comma-separated of {@code pair} (ours ↔ ours),
     * {@code ours} (stock client → our server), {@code stock} (openvpn ↔ openvpn); default all three). A pair left
     * out prints as 0 and its ratios as NaN or infinity.
     */
    /**
     * The offload mode of the client-side TUN in the ours ↔ ours pair ({@code -Dpktkit.measure.clientTunOffload},
     * default {@code NONE}): with {@code SEGMENT} the kernel's TCP sends 64 KiB segments into the TUN and the
     * channel cuts them in Java before they are sealed.
     */
    static final dev.pktkit.tuntap.OffloadMode CLIENT_TUN_OFFLOAD = dev.pktkit.tuntap.OffloadMode.valueOf(
            System.getProperty("pktkit.measure.clientTunOffload", "NONE"));
    static final java.util.Set<String> PAIRS = java.util.Set.of(
            System.getProperty("pktkit.measure.pairs", "pair,ours,stock").split(","));

    @TempDir
    Path dir;

    record Result(double mbits, double cpuSecondsPerGbit) {
    }

    @Test
    void measure() throws Exception {
        TunnelFixture.assumeUsable();
        dev.pktkit.testkit.Tools.assumeCommand("iperf3", "iperf3");
        StringBuilder report = new StringBuilder();
        Result none = new Result(0, 0);
        for (String cipher : CIPHERS) {
            Result pair = PAIRS.contains("pair") ? oursOurs(cipher) : none;
            Result ours = PAIRS.contains("ours") ? ours(cipher) : none;
            Result stock = PAIRS.contains("stock") ? stock(cipher) : none;
            report.append(String.format("%-18s openvpn client -> our server %7.0f Mbit/s %5.2f CPU-s/Gbit (our JVM)"
                    + " | openvpn <-> openvpn %7.0f Mbit/s %5.2f CPU-s/Gbit (openvpn server)"
                    + " | ratio %.2f, CPU ratio (ours/openvpn) %.2f%n", cipher, ours.mbits,
                    ours.cpuSecondsPerGbit, stock.mbits, stock.cpuSecondsPerGbit, ours.mbits / stock.mbits,
                    ours.cpuSecondsPerGbit / stock.cpuSecondsPerGbit));
            report.append(String.format("%-18s our client <-> our server %7.0f Mbit/s %5.2f CPU-s/Gbit (one JVM, both"
                    + " ends) | ratio to the openvpn pair %.2f%n", cipher, pair.mbits, pair.cpuSecondsPerGbit,
                    pair.mbits / stock.mbits));
        }
        System.out.println("OPENVPN-THROUGHPUT\n" + report);
        Files.writeString(Path.of("target", "openvpn-throughput.txt"), report);
    }

    /**
     * The multi-core data channel: two stock clients at once (each in a namespace of its own, each over its own
     * veth to the server's namespace) against our server whose channels sit on a 2-loop group, then the same with a
     * 1-loop group; iperf3 from both clients at the same time for {@link #SECONDS} s, to two iperf3 servers behind
     * the server's TUN. Prints the aggregate Mbit/s, our JVM's CPU-seconds per Gbit, and the ratio 2-loop/1-loop.
     * Run alone with {@code -Dtest=OpenVpnThroughputMeasurement#twoClients}.
     */
    @Test
    void twoClients() throws Exception {
        TunnelFixture.assumeUsable();
        dev.pktkit.testkit.Tools.assumeCommand("iperf3", "iperf3");
        String cipher = "AES-256-GCM";
        Result two = twoClients(cipher, 2); // two loops, an SO_REUSEPORT socket on each
        Result one = twoClients(cipher, 1);
        String report = String.format("%s two stock clients at once -> our server: 2 loops %7.0f Mbit/s %5.2f"
                + " CPU-s/Gbit | 1 loop %7.0f Mbit/s %5.2f CPU-s/Gbit | throughput ratio 2/1 %.2f, CPU ratio %.2f%n",
                cipher, two.mbits, two.cpuSecondsPerGbit, one.mbits, one.cpuSecondsPerGbit, two.mbits / one.mbits,
                two.cpuSecondsPerGbit / one.cpuSecondsPerGbit);
        System.out.println("OPENVPN-MULTICORE\n" + report);
        Files.writeString(Path.of("target", "openvpn-multicore.txt"), report);
    }

    private Result twoClients(String cipher, int loops) throws Exception {
        Path d = Files.createDirectories(dir.resolve("two-" + loops + "-" + cipher));
        try (TunnelFixture f = new TunnelFixture(d, loops);
             dev.pktkit.testkit.netns.Netns second = dev.pktkit.testkit.netns.Netns.create()) {
            veth(f);
            f.reusePort = loops > 1; // one socket per loop: the kernel spreads the clients' datagrams
            second.veth("ovc2", f.inner, "ovs2").addresses("10.201.0.1/24", "10.201.0.2/24").up();
            f.startServer(b -> b.dataCiphers(cipher), f.inner, "0.0.0.0");
            f.startClient(f.profile("udp", "10.200.0.2", f.port(), ""));
            Path log2 = d.resolve("client2.log");
            Path conf2 = d.resolve("client2.ovpn");
            Files.writeString(conf2, f.profile("udp", "10.201.0.2", f.port(), ""));
            Process client2 = second.start(log2, "openvpn", "--config", conf2.toString());
            try {
                f.awaitClientLog("Initialization Sequence Completed", 30);
                f.waitFor(() -> {
                    try {
                        return Files.readString(log2).contains("Initialization Sequence Completed");
                    } catch (java.io.IOException e) {
                        return false;
                    }
                }, 30, "the second client");
                java.util.List<dev.pktkit.openvpn.OpenVpnClientChannel> chs =
                        f.udp.eventLoop().submit(f.server::clientChannels).get();
                System.out.println("OPENVPN-MULTICORE loops " + loops + ": sessions on " + chs.stream()
                        .map(c -> c.eventLoop().toString()).toList());
                Process s1 = f.inner.start(d.resolve("iperf-s1.log"), "iperf3", "-s", "-1", "-B",
                        TunnelFixture.SERVER_V4, "-p", "5201");
                Process s2 = f.inner.start(d.resolve("iperf-s2.log"), "iperf3", "-s", "-1", "-B",
                        TunnelFixture.SERVER_V4, "-p", "5202");
                f.waitFor(() -> {
                    try {
                        String ss = f.inner.exec("ss", "-ltn").output();
                        return ss.contains(":5201") && ss.contains(":5202");
                    } catch (Exception e) {
                        return false;
                    }
                }, 10, "the iperf3 servers");
                var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
                long handoffs0 = f.server.handoffs();
                long cpu0 = os.getProcessCpuTime();
                java.util.concurrent.CompletableFuture<CommandResult> r1 =
                        java.util.concurrent.CompletableFuture.supplyAsync(() -> iperfClient(f.outer, "5201"));
                java.util.concurrent.CompletableFuture<CommandResult> r2 =
                        java.util.concurrent.CompletableFuture.supplyAsync(() -> iperfClient(second, "5202"));
                CommandResult a = r1.get(SECONDS + 60, TimeUnit.SECONDS);
                CommandResult b = r2.get(SECONDS + 60, TimeUnit.SECONDS);
                long cpu = os.getProcessCpuTime() - cpu0;
                s1.waitFor(5, TimeUnit.SECONDS);
                s2.waitFor(5, TimeUnit.SECONDS);
                double bits = 0;
                double secs = 0;
                StringBuilder each = new StringBuilder();
                for (CommandResult r : new CommandResult[] {a, b}) {
                    Matcher m = RECEIVED.matcher(r.output());
                    if (!r.ok() || !m.find()) {
                        throw new AssertionError("iperf3 failed: " + r.output());
                    }
                    double s = Double.parseDouble(m.group(1));
                    double bb = Long.parseLong(m.group(2)) * 8.0;
                    each.append(String.format(" %.0f", bb / s / 1e6));
                    bits += bb;
                    secs = Math.max(secs, s);
                }
                System.out.println("OPENVPN-MULTICORE loops " + loops + ": per client Mbit/s" + each
                        + ", handed over " + (f.server.handoffs() - handoffs0) + ", drops " + f.server.drops());
                return new Result(bits / secs / 1e6, cpu / 1e9 / (bits / 1e9));
            } finally {
                client2.destroy();
                if (!client2.waitFor(5, TimeUnit.SECONDS)) {
                    client2.destroyForcibly();
                }
            }
        }
    }

    private static CommandResult iperfClient(dev.pktkit.testkit.netns.Netns ns, String port) {
        try {
            return ns.exec(Duration.ofSeconds(SECONDS + 30), "iperf3", "-J", "-c", TunnelFixture.SERVER_V4, "-p",
                    port, "-t", Integer.toString(SECONDS));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void veth(TunnelFixture f) throws Exception {
        f.outer.veth("ovc", f.inner, "ovs").addresses("10.200.0.1/24", "10.200.0.2/24").up();
    }

    private Result ours(String cipher) throws Exception {
        Path d = Files.createDirectories(dir.resolve("ours-" + cipher));
        try (TunnelFixture f = new TunnelFixture(d)) {
            veth(f);
            f.startServer(b -> b.dataCiphers(cipher), f.inner, "10.200.0.2");
            f.startClient(f.profile(""));
            f.awaitClientLog("Initialization Sequence Completed", 30);
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            return iperf(f, TunnelFixture.SERVER_V4, os::getProcessCpuTime);
        }
    }

    /**
     * Our client (its UDP socket in the client namespace, its tunnel channel on an {@link L3Hub} with a kernel TUN
     * there at the pushed address) against our server; the client on a loop of its own.
     */
    private Result oursOurs(String cipher) throws Exception {
        Path d = Files.createDirectories(dir.resolve("pair-" + cipher));
        try (TunnelFixture f = new TunnelFixture(d)) {
            veth(f);
            f.startServer(b -> b.dataCiphers(cipher), f.inner, "10.200.0.2");
            MultiThreadIoEventLoopGroup cg = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            TunChannel tun = null;
            try {
                L3Hub chub = L3Hub.builder().name("openvpn-client-side").build();
                OpenVpnClient client = OpenVpnClient.builder()
                        .ssl(OpenVpnTls.clientContext(f.pki.clientCert, f.pki.clientKey, f.pki.ca))
                        .dataCiphers(cipher)
                        .tunnelInitializer(new ChannelInitializer<OpenVpnTunnelChannel>() {
                            @Override
                            protected void initChannel(OpenVpnTunnelChannel ch) {
                                chub.attach(ch, L3PortOptions.prefixes("10.8.0.0/24"));
                            }
                        }).build();
                NetNamespace outerNs = f.outer.closeWith(NetNamespace.named(f.outer.name()));
                Bootstrap cb = new Bootstrap().group(cg).channelFactory(() -> {
                    try {
                        return outerNs.call(EpollDatagramChannel::new);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                if (f.batchUdpReads) {
                    TunnelFixture.batchReads(cb);
                }
                cb.handler(client).connect("10.200.0.2", f.port()).sync();
                OpenVpnTunnelChannel tunnel = client.tunnel().get(30, TimeUnit.SECONDS);
                String addr = tunnel.tunnelAddress().getHostAddress();
                tun = (TunChannel) new Bootstrap().group(cg).channelFactory(() -> new TunChannel(outerNs))
                        .option(dev.pktkit.tuntap.TunTapChannelOption.OFFLOAD, CLIENT_TUN_OFFLOAD)
                        .handler(new ChannelInboundHandlerAdapter()).bind(TunTapAddress.of("ovcl0")).sync().channel();
                tun.link().mtu(1500).addAddress(addr + "/24").up();
                chub.attach(tun, L3PortOptions.prefixes(addr + "/32"));
                var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
                return iperf(f, TunnelFixture.SERVER_V4, os::getProcessCpuTime);
            } finally {
                if (tun != null) {
                    tun.close().sync();
                }
                cg.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
            }
        }
    }

    private Result stock(String cipher) throws Exception {
        Path d = Files.createDirectories(dir.resolve("stock-" + cipher));
        try (TunnelFixture f = new TunnelFixture(d)) {
            veth(f);
            int port = 21000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(1000);
            Path conf = d.resolve("server.conf");
            Files.writeString(conf, """
                    port %d
                    proto udp
                    local 10.200.0.2
                    dev tun
                    ca %s
                    cert %s
                    key %s
                    dh none
                    server 10.9.0.0 255.255.255.0
                    topology subnet
                    data-ciphers %s
                    keepalive 10 60
                    verb 3
                    """.formatted(port, f.pki.ca, f.pki.serverCert, f.pki.serverKey, cipher));
            Process server = f.inner.start(d.resolve("server.log"), "openvpn", "--config", conf.toString());
            f.startClient(f.profile("udp", "10.200.0.2", port, ""));
            try {
                f.awaitClientLog("Initialization Sequence Completed", 30);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\nserver log:\n" + Files.readString(d.resolve("server.log")));
            }
            long pid = server.pid(); // ip netns exec execs openvpn in place
            return iperf(f, "10.9.0.1", () -> procCpuNanos(pid));
        }
    }

    private static long procCpuNanos(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
            return ticks * 10_000_000L; // USER_HZ 100
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Result iperf(TunnelFixture f, String serverAddress, java.util.function.LongSupplier cpuNanos)
            throws Exception {
        if (WARMUP > 0) {
            // unmeasured: the JIT compiles the data path here (openvpn is compiled ahead of time; a server runs warm)
            transfer(f, serverAddress, WARMUP, () -> { });
        }
        long[] cpu = new long[2];
        CommandResult r = transfer(f, serverAddress, SECONDS, () -> {
            cpu[0] = cpuNanos.getAsLong();
            cpu[1] = System.nanoTime();
        });
        long used = cpuNanos.getAsLong() - cpu[0];
        // CLOCK_MONOTONIC, as System.nanoTime on Linux: a profile recorded with `perf record -k CLOCK_MONOTONIC`
        // can be cut to this transfer with `perf report --time START,END` (seconds)
        System.out.printf("OPENVPN-TRANSFER %s %s monotonic %.6f,%.6f%n", f.dir.getFileName(), serverAddress,
                cpu[1] / 1e9, System.nanoTime() / 1e9);
        Matcher m = RECEIVED.matcher(r.output());
        if (!r.ok() || !m.find()) {
            throw new AssertionError("iperf3 failed: " + r.output());
        }
        double secs = Double.parseDouble(m.group(1));
        double bits = Long.parseLong(m.group(2)) * 8.0;
        double gbit = bits / 1e9;
        return new Result(bits / secs / 1e6, used / 1e9 / gbit);
    }

    /** One iperf3 transfer of {@code seconds} into the server namespace; {@code beforeEach} runs before each try. */
    private static CommandResult transfer(TunnelFixture f, String serverAddress, int seconds,
            Runnable beforeEach) throws Exception {
        Process srv = f.inner.start(f.dir.resolve("iperf-s.log"), "iperf3", "-s", "-1", "-B", serverAddress);
        CommandResult r = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            if (!srv.isAlive()) {
                // it did not bind (the previous transfer's one-off server still held the port): start it again
                srv = f.inner.start(f.dir.resolve("iperf-s.log"), "iperf3", "-s", "-1", "-B", serverAddress);
            }
            beforeEach.run();
            r = f.outer.exec(Duration.ofSeconds(seconds + 30), "iperf3", "-J", "-c", serverAddress, "-t",
                    Integer.toString(seconds));
            if (r.ok()) {
                break;
            }
            Thread.sleep(100); // the iperf3 server may not listen yet: retry with a bound, not a synchronising sleep
        }
        if (!srv.waitFor(5, TimeUnit.SECONDS)) {
            srv.destroy(); // the next transfer's server needs the port
            srv.waitFor(5, TimeUnit.SECONDS);
        }
        return r;
    }
}

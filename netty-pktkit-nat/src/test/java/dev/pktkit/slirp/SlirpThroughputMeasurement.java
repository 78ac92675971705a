package dev.pktkit.slirp;

import dev.pktkit.codec.transport.TransportKind;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.tuntap.TapChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A documented measurement run, not a pass/fail test (enabled only with {@code -Dpktkit.measure=true}): iperf3 TCP
 * from a namespace to an {@code iperf3 -s} on the host's loopback ("up") and back ({@code -R}, "down"), at MTU
 * 1500 and 65520, one and four streams, through {@code slirp4netns}, {@code pasta} (passt) and this slirp
 * (namespace → TAP → {@link SlirpGateway} tenant: segment, L2Adapter gateway → {@link Slirp} → host socket), in
 * one run (this slirp four times: host sockets on the tenant's loop; on a loop of their own; the default layout of
 * {@code Slirp.builder().build()} and {@code SlirpGateway.builder(slirp).build()}; and the second with the TAP in
 * {@code OffloadMode.LARGE} behind {@code VirtioNetCodec.forwarding()}, so that the gateway sends large frames);
 * each translator's
 * CPU-seconds per Gbit from {@code /proc/PID/stat} (for this slirp: the whole JVM's).
 * Prints a table with the ratios to slirp4netns and pasta, and writes it to
 * {@code target/slirp-throughput.txt}. Seconds per run: {@code -Dpktkit.measure.seconds} (default 5). Netty's leak
 * detection is off while it runs (the module's tests run it paranoid, which costs a stack trace per buffer touch);
 * {@code -Dpktkit.measure.paranoid=true} keeps it paranoid and measures this slirp alone at MTU 1500, one stream,
 * to show what the tests' transfers see.
 *
 * <pre>{@code
 * flock /tmp/pktkit-maven.lock mvn -B -o -pl netty-pktkit-nat -am verify -Dpktkit.measure=true \
 *     -Dtest=SlirpThroughputMeasurement -Dsurefire.failIfNoSpecifiedTests=false
 * }</pre>
 */
@EnabledIfSystemProperty(named = "pktkit.measure", matches = "true")
@org.junit.jupiter.api.Timeout(value = 30, unit = TimeUnit.MINUTES) // a run of many iperf3 cells, not a test
class SlirpThroughputMeasurement {
    private static final Pattern SUM = Pattern.compile(
            "\"sum_(sent|received)\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)");
    private static final int SECONDS = Integer.getInteger("pktkit.measure.seconds", 5);
    private static final long CLOCK_TICKS = 100; // USER_HZ
    /** Optional filters for a partial run (diagnosis): comma lists of translators, MTUs, streams, "up"/"down". */
    private static final String ONLY = System.getProperty("pktkit.measure.only", "");
    private static final String MTUS = System.getProperty("pktkit.measure.mtus", "1500,65520");
    private static final String STREAMS = System.getProperty("pktkit.measure.streams", "1,4");
    private static final String DIRS = System.getProperty("pktkit.measure.dirs", "up,down");
    /** Prints {@code ss -tin} from the namespace and this slirp's counters halfway through each run of this slirp. */
    private static final boolean DIAG = Boolean.getBoolean("pktkit.measure.diag");
    /** A folder: each run of this slirp is recorded with JFR's "profile" settings into a file of its own there. */
    private static final String JFR = System.getProperty("pktkit.measure.jfr", "");

    /** One translator set up for a namespace at an MTU. */
    private interface Translator extends AutoCloseable {
        /** The translator's CPU seconds so far. */
        double cpuSeconds() throws IOException;

        @Override
        void close() throws Exception;
    }

    private record Cell(double gbits, double cpuPerGbit, String note) {
        String show() {
            return note != null ? note : String.format(Locale.ROOT, "%.2f (%.2f s/Gbit)", gbits, cpuPerGbit);
        }
    }

    @Test
    void measure() throws Exception {
        Netns.assumeTunUsable();
        Tools.assumeCommand("iperf3", "iperf3");
        Tools.assumeCommand("slirp4netns", "slirp4netns");
        Tools.assumeCommand("pasta", "passt");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        // a measurement: the module's paranoid leak detection (a stack trace per buffer touch) would be measured too
        io.netty.util.ResourceLeakDetector.Level leaks = io.netty.util.ResourceLeakDetector.getLevel();
        if (!Boolean.getBoolean("pktkit.measure.paranoid")) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        Process server = new ProcessBuilder("iperf3", "-s", "-B", "127.0.0.1", "-p", Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "%-6s %-2s %-4s | %-22s | %-22s | %-22s | %-22s | %-22s | %-22s | %s%n",
                "MTU", "P", "dir", "slirp4netns Gbit/s", "pasta Gbit/s", "pktkit slirp Gbit/s", "pktkit, 2 loops",
                "pktkit, default layout", "pktkit, 2 loops, TAP offload",
                "ratio to slirp4netns (1 loop, 2 loops, default, offload) / pasta (same)"));
        try {
            Thread.sleep(300); // iperf3 -s binding; a measurement run, not a test
            boolean quick = Boolean.getBoolean("pktkit.measure.paranoid"); // this slirp only, MTU 1500, one stream
            for (int mtu : quick ? new int[] {1500} : ints(MTUS)) {
                for (int streams : quick ? new int[] {1} : ints(STREAMS)) {
                    for (boolean down : new boolean[] {false, true}) {
                        if (!List.of(DIRS.split(",")).contains(down ? "down" : "up")) {
                            continue;
                        }
                        Cell s4 = quick ? new Cell(0, 0, "-") : runIf("slirp4netns", mtu, streams, down, port);
                        Cell pa = quick ? new Cell(0, 0, "-") : runIf("pasta", mtu, streams, down, port);
                        Cell us = runIf("pktkit", mtu, streams, down, port);
                        Cell two = runIf("pktkit-2loops", mtu, streams, down, port);
                        Cell def = runIf("pktkit-default", mtu, streams, down, port);
                        Cell large = runIf("pktkit-offload", mtu, streams, down, port);
                        String line = String.format(Locale.ROOT,
                                "%-6d %-2d %-4s | %-22s | %-22s | %-22s | %-22s | %-22s | %-22s | %s %s %s %s / %s %s %s %s%n",
                                mtu, streams, down ? "down" : "up", s4.show(), pa.show(), us.show(), two.show(),
                                def.show(), large.show(), ratio(us, s4), ratio(two, s4), ratio(def, s4),
                                ratio(large, s4), ratio(us, pa), ratio(two, pa), ratio(def, pa), ratio(large, pa));
                        table.append(line);
                        System.out.print("SLIRP-THROUGHPUT " + line);
                    }
                }
            }
        } finally {
            io.netty.util.ResourceLeakDetector.setLevel(leaks);
            server.destroy();
            server.waitFor(5, TimeUnit.SECONDS);
        }
        System.out.println("SLIRP-THROUGHPUT (iperf3 -t " + SECONDS + ", namespace -> host loopback)\n" + table);
        Files.writeString(Path.of("target", Boolean.getBoolean("pktkit.measure.paranoid")
                ? "slirp-throughput-paranoid.txt" : "slirp-throughput.txt"), table);
    }

    private static int[] ints(String list) {
        return java.util.Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private Cell runIf(String which, int mtu, int streams, boolean down, int port) throws Exception {
        if (!ONLY.isEmpty() && !List.of(ONLY.split(",")).contains(which)) {
            return new Cell(0, 0, "-");
        }
        return run(which, mtu, streams, down, port);
    }

    private static String ratio(Cell a, Cell b) {
        if (a.note() != null || b.note() != null || b.gbits() == 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.2f×", a.gbits() / b.gbits());
    }

    private Cell run(String which, int mtu, int streams, boolean down, int port) throws Exception {
        try (Netns ns = Netns.create(); Translator t = start(which, ns, mtu)) {
            jdk.jfr.Recording rec = null;
            if (!JFR.isEmpty() && which.startsWith("pktkit")) {
                rec = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
                rec.start();
            }
            double cpu0 = t.cpuSeconds();
            List<String> cmd = new ArrayList<>(List.of("iperf3", "-c", "10.0.2.2", "-p", Integer.toString(port),
                    "-t", Integer.toString(SECONDS), "-P", Integer.toString(streams), "-J"));
            if (down) {
                cmd.add("-R");
            }
            java.util.concurrent.CompletableFuture<CommandResult> run = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        try {
                            return ns.exec(Duration.ofSeconds(SECONDS + 15), cmd.toArray(String[]::new));
                        } catch (Exception e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    });
            if (DIAG && t instanceof Diagnosable d) {
                Thread.sleep(SECONDS * 500L); // halfway; a measurement run
                System.out.println("SLIRP-DIAG " + which + " mtu " + mtu + " P" + streams + (down ? " down" : " up")
                        + "\n" + ns.exec("ss", "-tin").output() + "\n" + d.diag());
                System.out.println("SLIRP-DIAG link\n" + ns.exec("ip", "-s", "link").output()
                        + ns.exec("nstat", "-az", "TcpRetransSegs", "TcpExtTCPLostRetransmit", "TcpExtTCPSackRecovery",
                                "TcpExtTCPTimeouts", "TcpExtTCPSpuriousRTOs", "TcpExtTCPDSACKRecv",
                                "TcpExtTCPLossProbes").output());
            }
            CommandResult r = run.get(SECONDS + 20, TimeUnit.SECONDS);
            if (DIAG && t instanceof Diagnosable d) {
                System.out.println("SLIRP-DIAG end " + which + "\n" + d.diag());
            }
            double cpu = t.cpuSeconds() - cpu0;
            if (rec != null) {
                Files.createDirectories(Path.of(JFR));
                rec.dump(Path.of(JFR, which + "-" + mtu + "-P" + streams + (down ? "-down" : "-up") + ".jfr"));
                rec.close();
            }
            Matcher m = SUM.matcher(r.output());
            double bps = -1;
            while (m.find()) {
                if (m.group(1).equals("received")) {
                    bps = Double.parseDouble(m.group(2));
                }
            }
            if (r.exit() != 0 || bps <= 0) {
                String why = r.output().contains("\"error\"") ? r.output().replaceAll("(?s).*\"error\"\\s*:\\s*\"([^\"]*)\".*", "$1")
                        : "exit " + r.exit();
                return new Cell(0, 0, "failed: " + why.substring(0, Math.min(40, why.length())));
            }
            double gbits = bps / 1e9;
            double transferredGbit = gbits * SECONDS;
            return new Cell(gbits, cpu / transferredGbit, null);
        }
    }

    private Translator start(String which, Netns ns, int mtu) throws Exception {
        return switch (which) {
            case "slirp4netns" -> process(ns, mtu, List.of("slirp4netns", "--configure", "--mtu=" + mtu,
                    "--netns-type=path", ns.path().toString(), "tap0"), "tap0");
            case "pasta" -> process(ns, mtu, List.of("pasta", "-f", "-q", "-4", "--runas", "0:0", "--config-net",
                    "-a", "10.0.2.100", "-n", "24", "-g", "10.0.2.2", "-m", Integer.toString(mtu), "-t", "none", "-u",
                    "none", "-T", "none", "-U", "none", "--netns", ns.path().toString()), null);
            case "pktkit-2loops" -> ours(ns, mtu, Layout.TWO_LOOPS);
            case "pktkit-default" -> ours(ns, mtu, Layout.DEFAULT);
            case "pktkit-offload" -> ours(ns, mtu, Layout.OFFLOAD);
            default -> ours(ns, mtu, Layout.ONE_LOOP);
        };
    }

    /** A translator that can describe its state (this slirp's counters). */
    private interface Diagnosable {
        String diag();
    }

    /** The tenants' virtual hosts: counters, and the TCP engine's drops by reason (read reflectively: diagnosis). */
    private static String hostDiag(SlirpGateway gateway) {
        StringBuilder sb = new StringBuilder();
        for (SlirpGateway.Tenant t : gateway.tenants()) {
            dev.pktkit.vtcp.host.VirtualHost h = t.namespace().virtualHost();
            for (var port : t.segment().ports()) {
                sb.append("port ").append(port.port()).append(' ').append(port.counters()).append('\n');
            }
            sb.append("adapter ").append(t.adapter().counters()).append('\n');
            sb.append("host ").append(h.counters()).append("\nengine drops");
            try {
                java.lang.reflect.Method m = h.getClass().getDeclaredMethod("tcpLayer");
                m.setAccessible(true);
                Object layer = m.invoke(h);
                java.lang.reflect.Field f = layer.getClass().getDeclaredField("engine");
                f.setAccessible(true);
                dev.pktkit.vtcp.engine.TcpEngine e = (dev.pktkit.vtcp.engine.TcpEngine) f.get(layer);
                for (dev.pktkit.vtcp.engine.DropReason r : dev.pktkit.vtcp.engine.DropReason.values()) {
                    if (e.drops(r) != 0) {
                        sb.append(' ').append(r).append('=').append(e.drops(r));
                    }
                }
            } catch (ReflectiveOperationException e) {
                sb.append(" unavailable: ").append(e);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static double procCpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after the command: state(0) ... utime is field 14 of the whole line, index 11 here; stime 12
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) CLOCK_TICKS;
    }

    private Translator process(Netns ns, int mtu, List<String> cmd, String tap) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            String routes = ns.exec("ip", "-4", "route", "show", "default").output();
            if (routes.contains("default")) {
                break;
            }
            Thread.sleep(50); // the translator configuring the namespace; a measurement run
        }
        if (mtu != 1500 && tap != null) {
            ns.exec("ip", "link", "set", tap, "mtu", Integer.toString(mtu));
        }
        return new Translator() {
            @Override
            public double cpuSeconds() throws IOException {
                return procCpuSeconds(p.pid());
            }

            @Override
            public void close() throws Exception {
                p.destroy();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        };
    }

    /** How this slirp's loops are laid out for a run. */
    private enum Layout {
        /** TAP, tenant and host sockets on one loop of a two-loop group ({@code hostSocketsOnDeviceLoop(true)}). */
        ONE_LOOP,
        /** TAP and tenant on one group, host sockets on a one-loop group of their own. */
        TWO_LOOPS,
        /**
         * What {@code Slirp.builder().build()} and {@code SlirpGateway.builder(slirp).build()} give without options:
         * slirp makes its own one-loop host group of {@code Transports.chosen()}, the gateway's tenants run on it,
         * host sockets take its (only) loop; the TAP is on a one-loop group of the same transport of the user's.
         */
        DEFAULT,
        /** {@link #TWO_LOOPS} with the TAP in {@code OffloadMode.LARGE} and {@code VirtioNetCodec.forwarding()}. */
        OFFLOAD
    }

    /** This slirp in one of the {@link Layout}s. */
    private Translator ours(Netns ns, int mtu, Layout layout) throws Exception {
        MultiThreadIoEventLoopGroup group;
        MultiThreadIoEventLoopGroup hostGroup;
        Slirp slirp;
        SlirpGateway gateway;
        int batch = Integer.getInteger("pktkit.measure.batchFrames", SlirpGateway.DEFAULT_BATCH_FRAMES);
        if (layout == Layout.DEFAULT) {
            TransportKind kind = dev.pktkit.codec.transport.Transports.chosen();
            group = TestLoops.group(kind == TransportKind.IO_URING ? TestLoops.IO_URING : TestLoops.EPOLL, 1);
            hostGroup = null;
            slirp = Slirp.builder().hostLoopback(true).mtu(mtu).build();
            gateway = SlirpGateway.builder(slirp).build();
        } else {
            boolean hostElsewhere = layout != Layout.ONE_LOOP;
            group = TestLoops.group(TestLoops.EPOLL, 2);
            hostGroup = hostElsewhere ? TestLoops.group(TestLoops.EPOLL, 1) : group;
            slirp = Slirp.builder().hostLoopback(true).mtu(mtu).hostTransport(hostGroup, TransportKind.EPOLL)
                    .hostSocketsOnDeviceLoop(!hostElsewhere).build();
            gateway = SlirpGateway.builder(slirp).group(group).batchFrames(batch).build();
        }
        NetNamespace handle = ns.closeWith(NetNamespace.open(ns.path()));
        boolean offload = layout == Layout.OFFLOAD;
        Bootstrap tb = new Bootstrap().group(group).channelFactory(() -> new TapChannel(handle));
        if (offload) {
            tb.option(dev.pktkit.tuntap.TunTapChannelOption.OFFLOAD, dev.pktkit.tuntap.OffloadMode.LARGE)
                    .handler(dev.pktkit.tuntap.VirtioNetCodec.forwarding());
        } else {
            tb.handler(new ChannelInboundHandlerAdapter());
        }
        TapChannel tap = (TapChannel) tb.bind(TunTapAddress.of("st0")).sync().channel();
        SlirpGateway.Tenant tenant = gateway.attach(tap).get(10, TimeUnit.SECONDS);
        ns.exec("ip", "link", "set", "st0", "mtu", Integer.toString(mtu), "up").check();
        ns.exec("ip", "addr", "add", "10.0.2.15/24", "dev", "st0").check();
        ns.exec("ip", "route", "add", "default", "via", "10.0.2.2", "dev", "st0").check();
        abstract class Ours implements Translator, Diagnosable {
        }
        return new Ours() {
            @Override
            public String diag() {
                return "tap in " + tap.counters().packetsIn() + " pkts " + tap.counters().bytesIn() + " B, out "
                        + tap.counters().packetsOut() + " pkts " + tap.counters().bytesOut() + " B, drops "
                        + tap.counters().dropCounters() + "\nslirp " + slirp.counters() + "\nlarge frames "
                        + tenant.largeFrames() + " " + largeCounts() + "\n" + hostDiag(gateway);
            }

            private String largeCounts() {
                try {
                    return "framed " + tenant.largeFramesSent() + " cut " + tenant.largeSegmentsCut();
                } catch (Exception e) {
                    return "counts unavailable: " + e;
                }
            }

            @Override
            public double cpuSeconds() throws IOException {
                return procCpuSeconds(ProcessHandle.current().pid());
            }

            @Override
            public void close() throws Exception {
                gateway.close();
                tap.close().sync();
                slirp.close();
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
                if (hostGroup != null && hostGroup != group) {
                    hostGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
                }
            }
        };
    }
}

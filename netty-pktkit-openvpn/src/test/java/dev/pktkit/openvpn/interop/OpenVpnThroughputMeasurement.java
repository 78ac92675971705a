package dev.pktkit.openvpn.interop;

import dev.pktkit.testkit.netns.CommandResult;
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
 * CHACHA20-POLY1305, with the stock client against (a) our server and (b) the stock {@code openvpn} server, in
 * one run. Both servers listen on the same veth address in the server namespace. Prints Mbit/s, the server's
 * CPU-seconds (our whole JVM; the openvpn process) per Gbit, and the ratios. Figures go in the module README.
 */
@EnabledIfSystemProperty(named = "pktkit.measure", matches = "true")
class OpenVpnThroughputMeasurement {
    static final Pattern RECEIVED = Pattern.compile(
            "\"sum_received\"\\s*:\\s*\\{[^}]*?\"seconds\"\\s*:\\s*([\\d.]+)[^}]*?\"bytes\"\\s*:\\s*(\\d+)");
    static final int SECONDS = 10;

    @TempDir
    Path dir;

    record Result(double mbits, double cpuSecondsPerGbit) {
    }

    @Test
    void measure() throws Exception {
        TunnelFixture.assumeUsable();
        dev.pktkit.testkit.Tools.assumeCommand("iperf3", "iperf3");
        StringBuilder report = new StringBuilder();
        for (String cipher : new String[] {"AES-256-GCM", "CHACHA20-POLY1305"}) {
            Result ours = ours(cipher);
            Result stock = stock(cipher);
            report.append(String.format("%-18s ours %7.0f Mbit/s %5.2f CPU-s/Gbit | openvpn %7.0f Mbit/s %5.2f CPU-s/Gbit"
                    + " | throughput ratio %.2f, CPU ratio (ours/openvpn) %.2f%n", cipher, ours.mbits,
                    ours.cpuSecondsPerGbit, stock.mbits, stock.cpuSecondsPerGbit, ours.mbits / stock.mbits,
                    ours.cpuSecondsPerGbit / stock.cpuSecondsPerGbit));
        }
        System.out.println("OPENVPN-THROUGHPUT (stock client in both rows)\n" + report);
        Files.writeString(Path.of("target", "openvpn-throughput.txt"), report);
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
        Process srv = f.inner.start(f.dir.resolve("iperf-s.log"), "iperf3", "-s", "-1", "-B", serverAddress);
        CommandResult r = null;
        long cpu0 = 0;
        for (int attempt = 0; attempt < 50; attempt++) {
            cpu0 = cpuNanos.getAsLong();
            r = f.outer.exec(Duration.ofSeconds(SECONDS + 30), "iperf3", "-J", "-c", serverAddress, "-t",
                    Integer.toString(SECONDS));
            if (r.ok()) {
                break;
            }
            Thread.sleep(100); // the iperf3 server may not listen yet: retry with a bound, not a synchronising sleep
        }
        long cpu = cpuNanos.getAsLong() - cpu0;
        srv.waitFor(5, TimeUnit.SECONDS);
        Matcher m = RECEIVED.matcher(r.output());
        if (!r.ok() || !m.find()) {
            throw new AssertionError("iperf3 failed: " + r.output());
        }
        double secs = Double.parseDouble(m.group(1));
        double bits = Long.parseLong(m.group(2)) * 8.0;
        double gbit = bits / 1e9;
        return new Result(bits / secs / 1e6, cpu / 1e9 / gbit);
    }
}

package dev.pktkit.benchmarks;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.vxlan.Vxlan;
import dev.pktkit.switching.vxlan.VxlanTunnel;
import dev.pktkit.tuntap.OffloadMode;
import dev.pktkit.tuntap.TapChannel;
import dev.pktkit.tuntap.TunTapAddress;
import dev.pktkit.tuntap.TunTapChannelOption;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.SocketProtocolFamily;

import java.io.IOException;
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
 * TCP throughput (iperf3) through our VXLAN next to the kernel's, in one run:
 *
 * <pre>
 *   kernel: ns a: iperf3 -c ─▶ vx0 (kernel VXLAN) ─veth─▶ vx0 (kernel VXLAN) ─▶ iperf3 -s :ns b
 *   ours:   ns a: iperf3 -c ─▶ vx0 (kernel VXLAN) ─veth─▶ VxlanTunnel ─▶ L2Hub ─▶ TapChannel ─▶ iperf3 -s :ns b
 * </pre>
 *
 * Inner MTU 1450 on both (the kernel device's default over a 1500-byte IPv4 underlay); our side runs on one
 * epoll loop. The sending veth has TX checksum offload off in both setups (a veth passes partial checksums on,
 * which our socket would receive unfilled). Needs root, iproute2, ethtool and iperf3; makes namespaces
 * {@code pktvx-*-PID} and removes them. Not part of {@code mvn verify}. Run (see the module README):
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp netty-pktkit-benchmarks/target/benchmarks.jar \
 *     dev.pktkit.benchmarks.VxlanThroughput [--seconds 10] [--modes kernel,ours] [--reverse] [--rcvbuf BYTES]
 * </pre>
 */
public final class VxlanThroughput {
    private static final Pattern RECEIVED = Pattern.compile(
            "\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)", Pattern.DOTALL);
    private static final Pattern RETRANSMITS = Pattern.compile(
            "\"sum_sent\"\\s*:\\s*\\{[^}]*?\"retransmits\"\\s*:\\s*(\\d+)", Pattern.DOTALL);

    private final int seconds;
    private final boolean reverse;
    private final String a;
    private final String b;
    private int rcvbuf = 4 << 20;

    private VxlanThroughput(int seconds, boolean reverse) {
        this.seconds = seconds;
        this.reverse = reverse;
        long pid = ProcessHandle.current().pid();
        this.a = "pktvx-a-" + pid;
        this.b = "pktvx-b-" + pid;
    }

    public static void main(String[] args) throws Exception {
        int seconds = 10;
        boolean reverse = false;
        int rcvbufArg = 4 << 20;
        List<String> modes = List.of("kernel", "ours");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--modes" -> modes = List.of(args[++i].split(","));
                case "--reverse" -> reverse = true;
                case "--rcvbuf" -> rcvbufArg = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: VxlanThroughput [--seconds N] [--modes kernel,ours] [--reverse]");
                    System.exit(2);
                }
            }
        }
        VxlanThroughput bench = new VxlanThroughput(seconds, reverse);
        bench.rcvbuf = rcvbufArg;
        System.out.printf("| path | direction | Gbit/s | retransmits | notes |%n|---|---|---|---|---|%n");
        for (String mode : modes) {
            Result r = bench.run(mode);
            System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %d | %s |%n",
                    mode.equals("kernel") ? "kernel vxlan ↔ kernel vxlan" : "kernel vxlan ↔ VxlanTunnel ↔ L2Hub ↔ TAP",
                    reverse ? "b → a" : "a → b", r.gbps, r.retransmits, r.notes);
        }
    }

    record Result(double gbps, long retransmits, String notes) {
    }

    private Result run(String mode) throws Exception {
        ip("netns", "add", a);
        ip("netns", "add", b);
        MultiThreadIoEventLoopGroup group = null;
        List<Channel> channels = new ArrayList<>();
        L2Hub hub = null;
        VxlanTunnel tunnel = null;
        try (NetNamespace nsB = NetNamespace.named(b)) {
            ip("-n", a, "link", "set", "lo", "up");
            ip("-n", b, "link", "set", "lo", "up");
            ip("-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b);
            ip("-n", a, "addr", "add", "10.82.1.1/24", "dev", "eth0");
            ip("-n", b, "addr", "add", "10.82.1.2/24", "dev", "eth0");
            ip("-n", a, "link", "set", "eth0", "up");
            ip("-n", b, "link", "set", "eth0", "up");
            run("ip", "netns", "exec", a, "ethtool", "-K", "eth0", "tx", "off");
            run("ip", "netns", "exec", b, "ethtool", "-K", "eth0", "tx", "off");
            kernelVtep(a, "10.82.1.1", "10.82.1.2", "192.168.82.1/24");
            if (mode.equals("kernel")) {
                kernelVtep(b, "10.82.1.2", "10.82.1.1", "192.168.82.2/24");
            } else if (mode.equals("ours")) {
                group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
                hub = L2Hub.builder().name("vxbench").build();
                tunnel = VxlanTunnel.builder().vni(42, hub).peer(42, "10.82.1.1").build();
                Channel udp = new Bootstrap().group(group).channelFactory(() -> {
                    try {
                        return nsB.call(() -> new EpollDatagramChannel(SocketProtocolFamily.INET));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }).option(io.netty.channel.ChannelOption.SO_RCVBUF, rcvbuf)
                        .option(io.netty.channel.ChannelOption.SO_SNDBUF, rcvbuf)
                        .handler(tunnel).bind("10.82.1.2", Vxlan.DEFAULT_PORT).sync().channel();
                channels.add(udp);
                tunnel.ready().get(5, TimeUnit.SECONDS);
                TapChannel tap = (TapChannel) new Bootstrap().group(group).channelFactory(() -> new TapChannel(nsB))
                        .option(TunTapChannelOption.OFFLOAD, OffloadMode.NONE)
                        .handler(new ChannelInboundHandlerAdapter())
                        .bind(TunTapAddress.of("pkvx0")).sync().channel();
                channels.add(tap);
                hub.add(tap);
                tap.link().mtu(1450).addAddress("192.168.82.2/24").up();
            } else {
                throw new IllegalArgumentException("unknown mode " + mode);
            }
            String serverNs = reverse ? a : b;
            String clientNs = reverse ? b : a;
            String serverIp = reverse ? "192.168.82.1" : "192.168.82.2";
            Path log = Files.createTempFile("iperf3-server", ".log");
            Process server = new ProcessBuilder("ip", "netns", "exec", serverNs, "iperf3", "-s", "-1", "-B", serverIp)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                awaitListening(serverNs, 5201);
                Path out = Files.createTempFile("iperf3-client", ".json");
                Process client = new ProcessBuilder("ip", "netns", "exec", clientNs, "iperf3", "-c", serverIp, "-t",
                        Integer.toString(seconds), "-J")
                        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
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
                long retransmits = rt.find() ? Long.parseLong(rt.group(1)) : -1;
                String notes = "";
                if (tunnel != null) {
                    long hubDrops = 0;
                    for (var p : hub.ports()) {
                        hubDrops += p.counters().drops();
                    }
                    int effective = ((io.netty.channel.socket.DatagramChannel) channels.get(0)).config()
                            .getReceiveBufferSize();
                    notes = "SO_RCVBUF asked " + (rcvbuf >> 10) + " KiB, got " + (effective >> 10) + " KiB; tunnel drops " + tunnel.drops().sum()
                            + ", hub drops " + hubDrops + ", UDP receive-buffer errors " + udpRcvbufErrors(b);
                }
                return new Result(Double.parseDouble(m.group(1)) / 1e9, retransmits, notes);
            } finally {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                Files.deleteIfExists(log);
            }
        } finally {
            if (hub != null) {
                hub.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
            for (Channel c : channels) {
                c.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
            if (group != null) {
                group.shutdownGracefully(0, 10, TimeUnit.SECONDS).syncUninterruptibly();
            }
            ip("netns", "del", a);
            ip("netns", "del", b);
        }
    }

    /** {@code RcvbufErrors} of the UDP line in {@code /proc/net/snmp} of namespace {@code ns}. */
    private static String udpRcvbufErrors(String ns) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "cat", "/proc/net/snmp").redirectErrorStream(true)
                .start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("Udp:")).toList();
        p.waitFor(10, TimeUnit.SECONDS);
        if (lines.size() < 2) {
            return "?";
        }
        List<String> names = List.of(lines.get(0).split("\\s+"));
        String[] values = lines.get(1).split("\\s+");
        int i = names.indexOf("RcvbufErrors");
        return i < 0 ? "?" : values[i];
    }

    private void kernelVtep(String ns, String local, String remote, String inner) throws Exception {
        ip("-n", ns, "link", "add", "vx0", "type", "vxlan", "id", "42", "local", local, "dstport",
                Integer.toString(Vxlan.DEFAULT_PORT), "dev", "eth0");
        run("ip", "netns", "exec", ns, "bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst", remote);
        ip("-n", ns, "addr", "add", inner, "dev", "vx0");
        ip("-n", ns, "link", "set", "vx0", "up");
    }

    private static void awaitListening(String ns, int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Process p = new ProcessBuilder("ip", "netns", "exec", ns, "ss", "-Hltn", "sport = :" + port)
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            if (!out.isBlank()) {
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

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}

package dev.pktkit.benchmarks;

import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.tuntap.OffloadMode;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import dev.pktkit.tuntap.TunTapChannelOption;
import dev.pktkit.tuntap.VirtioNetCodec;
import dev.pktkit.linux.NetNamespace;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.util.ReferenceCountUtil;

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
 * End-to-end TCP throughput through TUN channels, measured with iperf3 between two network namespaces:
 *
 * <pre>
 *   ns a: iperf3 -c ──kernel──▶ TUN pkta ──▶ Java forwarder ──▶ TUN pktb ──kernel──▶ iperf3 -s :ns b
 * </pre>
 *
 * next to the same transfer over a plain veth pair (no Java in the path). Modes: {@code veth}; {@code none}
 * (TUN without offloads, {@code L3Hub}); {@code segment} (offloads on, large segments cut in Java,
 * {@code L3Hub}); {@code large-codec} (offloads on, large segments cross an {@code L3Hub} as oversized packets
 * through {@code VirtioNetCodec}, checksums completed in Java); {@code large-forward} (the same with
 * {@code VirtioNetCodec.forwarding()}: segments cross the {@code L3Hub} with their offload state, partial checksums
 * left partial); {@code large-pass} (offloads on, segments cross-connected with their
 * virtio-net header untouched). Each on an epoll and an io_uring loop; {@code --threads 2} puts the two TUN
 * channels on two loops (the forwarder then hands packets between threads).
 *
 * <p>Needs root, iproute2 and iperf3; creates namespaces {@code pktbench-a-PID} / {@code -b-PID} and removes them.
 * Not part of {@code mvn verify}. Run (see the module README):
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp netty-pktkit-benchmarks/target/benchmarks.jar \
 *     dev.pktkit.benchmarks.TunThroughput [--seconds 10] [--modes veth,none,segment,large-codec,large-forward,large-pass]
 *     [--loops epoll,io_uring] [--streams 1] [--threads 1]
 * </pre>
 */
public final class TunThroughput {
    private static final Pattern RECEIVED = Pattern.compile(
            "\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)", Pattern.DOTALL);
    private static final Pattern RETRANSMITS = Pattern.compile(
            "\"sum_sent\"\\s*:\\s*\\{[^}]*?\"retransmits\"\\s*:\\s*(\\d+)", Pattern.DOTALL);

    private final int seconds;
    private final int streams;
    private final int threads;
    private final String a;
    private final String b;

    private TunThroughput(int seconds, int streams, int threads) {
        this.seconds = seconds;
        this.streams = streams;
        this.threads = threads;
        long pid = ProcessHandle.current().pid();
        this.a = "pktbench-a-" + pid;
        this.b = "pktbench-b-" + pid;
    }

    public static void main(String[] args) throws Exception {
        int seconds = 10;
        int streams = 1;
        int threads = 1;
        List<String> modes = List.of("veth", "none", "segment", "large-codec", "large-forward", "large-pass");
        List<String> loops = List.of("epoll", "io_uring");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--streams" -> streams = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--modes" -> modes = List.of(args[++i].split(","));
                case "--loops" -> loops = List.of(args[++i].split(","));
                default -> {
                    System.err.println("usage: TunThroughput [--seconds N] [--streams N] [--threads N] [--modes m1,m2,...] "
                            + "[--loops epoll,io_uring]");
                    System.exit(2);
                }
            }
        }
        TunThroughput bench = new TunThroughput(seconds, streams, threads);
        System.out.printf("| path | loop | Gbit/s | retransmits | notes |%n|---|---|---|---|---|%n");
        for (String mode : modes) {
            for (String loop : mode.equals("veth") ? List.of("-") : loops) {
                Result r = bench.run(mode, loop);
                System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %d | %s |%n", mode, loop, r.gbps, r.retransmits,
                        r.notes);
            }
        }
    }

    record Result(double gbps, long retransmits, String notes) {
    }

    private Result run(String mode, String loop) throws Exception {
        ip("netns", "add", a);
        ip("netns", "add", b);
        MultiThreadIoEventLoopGroup group = null;
        List<Channel> channels = new ArrayList<>();
        L3Hub hub = null;
        try (NetNamespace nsA = NetNamespace.named(a); NetNamespace nsB = NetNamespace.named(b)) {
            ip("-n", a, "link", "set", "lo", "up");
            ip("-n", b, "link", "set", "lo", "up");
            String notes = "";
            if (mode.equals("veth")) {
                ip("link", "add", "pkva" + ProcessHandle.current().pid() % 10000, "type", "veth", "peer", "name",
                        "pkvb" + ProcessHandle.current().pid() % 10000);
                String va = "pkva" + ProcessHandle.current().pid() % 10000;
                String vb = "pkvb" + ProcessHandle.current().pid() % 10000;
                ip("link", "set", va, "netns", a);
                ip("link", "set", vb, "netns", b);
                ip("-n", a, "addr", "add", "10.81.1.1/24", "dev", va);
                ip("-n", b, "addr", "add", "10.81.2.1/24", "dev", vb);
                ip("-n", a, "link", "set", va, "up");
                ip("-n", b, "link", "set", vb, "up");
                ip("-n", a, "route", "add", "10.81.2.0/24", "dev", va);
                ip("-n", b, "route", "add", "10.81.1.0/24", "dev", vb);
            } else {
                group = new MultiThreadIoEventLoopGroup(threads, factory(loop));
                OffloadMode offload = switch (mode) {
                    case "none" -> OffloadMode.NONE;
                    case "segment" -> OffloadMode.SEGMENT;
                    case "large-codec", "large-forward", "large-pass" -> OffloadMode.LARGE;
                    default -> throw new IllegalArgumentException("unknown mode " + mode);
                };
                Forwarder aToB = new Forwarder();
                Forwarder bToA = new Forwarder();
                boolean pass = mode.equals("large-pass");
                boolean codec = mode.equals("large-codec");
                boolean forward = mode.equals("large-forward");
                TunChannel tunA = open(group, nsA, "pkta", offload, pass ? aToB : codec ? new VirtioNetCodec()
                        : forward ? VirtioNetCodec.forwarding() : new ChannelInboundHandlerAdapter());
                channels.add(tunA);
                TunChannel tunB = open(group, nsB, "pktb", offload, pass ? bToA : codec ? new VirtioNetCodec()
                        : forward ? VirtioNetCodec.forwarding() : new ChannelInboundHandlerAdapter());
                channels.add(tunB);
                if (pass) {
                    aToB.peer = tunB;
                    bToA.peer = tunA;
                } else {
                    hub = L3Hub.builder().name("bench").build();
                    hub.attach(tunA, L3PortOptions.prefixes("10.81.1.0/24"));
                    hub.attach(tunB, L3PortOptions.prefixes("10.81.2.0/24"));
                }
                tunA.link().addAddress("10.81.1.1/24").up().addRoute("10.81.2.0/24");
                tunB.link().addAddress("10.81.2.1/24").up().addRoute("10.81.1.0/24");
                notes = "drops " + (tunA.counters().drops() + tunB.counters().drops())
                        + (pass ? ", forwarder drops " + (aToB.dropped + bToA.dropped) : "");
            }
            Path log = Files.createTempFile("iperf3-server", ".log");
            Process server = new ProcessBuilder("ip", "netns", "exec", b, "iperf3", "-s", "-1", "-B", "10.81.2.1")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                awaitListening(b, 5201);
                Path out = Files.createTempFile("iperf3-client", ".json");
                Process client = new ProcessBuilder("ip", "netns", "exec", a, "iperf3", "-c", "10.81.2.1", "-t",
                        Integer.toString(seconds), "-P", Integer.toString(streams), "-J")
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
                double gbps = Double.parseDouble(m.group(1)) / 1e9;
                Matcher rt = RETRANSMITS.matcher(json);
                long retransmits = rt.find() ? Long.parseLong(rt.group(1)) : -1;
                if (!channels.isEmpty()) {
                    TunChannel ta = (TunChannel) channels.get(0);
                    TunChannel tb = (TunChannel) channels.get(1);
                    notes = "large segments in " + (ta.counters().largeSegmentsIn() + tb.counters().largeSegmentsIn())
                            + ", drops " + (ta.counters().drops() + tb.counters().drops())
                            + (hub != null ? ", hub drops " + hubDrops(hub) : "");
                }
                return new Result(gbps, retransmits, notes);
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

    private static long hubDrops(L3Hub hub) {
        long n = 0;
        for (var p : hub.ports()) {
            n += p.counters().drops();
        }
        return n;
    }

    private static TunChannel open(MultiThreadIoEventLoopGroup group, NetNamespace ns, String name,
                                   OffloadMode offload, ChannelHandler handler) throws InterruptedException {
        return (TunChannel) new Bootstrap().group(group)
                .channelFactory(() -> new TunChannel(ns))
                .option(TunTapChannelOption.OFFLOAD, offload)
                .handler(handler)
                .bind(TunTapAddress.of(name)).sync().channel();
    }

    private static IoHandlerFactory factory(String loop) {
        return switch (loop) {
            case "epoll" -> EpollIoHandler.newFactory();
            case "io_uring" -> IoUringIoHandler.newFactory();
            default -> throw new IllegalArgumentException("unknown loop " + loop);
        };
    }

    /** Writes what one TUN channel reads to the other, as it is; one flush per read batch. */
    static final class Forwarder extends ChannelInboundHandlerAdapter {
        volatile Channel peer;
        long dropped;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel p = peer;
            if (p == null || !p.isWritable()) {
                dropped++;
                ReferenceCountUtil.release(msg);
                return;
            }
            p.write(msg, p.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            Channel p = peer;
            if (p != null) {
                p.flush();
            }
        }
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
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}

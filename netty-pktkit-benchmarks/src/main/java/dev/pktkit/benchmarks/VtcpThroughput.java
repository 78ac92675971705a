package dev.pktkit.benchmarks;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.tuntap.OffloadMode;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import dev.pktkit.tuntap.TunTapChannelOption;
import dev.pktkit.tuntap.VirtioNetCodec;
import dev.pktkit.vtcp.engine.TcpEngineConfig;
import dev.pktkit.vtcp.host.VirtualHost;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * End-to-end TCP throughput through the virtual host's channels (not the engine alone: {@code VtcpBenchmark}),
 * each next to its Linux anchor in the same run:
 *
 * <ul>
 *   <li>{@code pipe}: two {@link VirtualHost}s on a {@link PacketPipe}, both on one event loop, a
 *       {@code Bootstrap} client writing to a {@code ServerBootstrap} child that discards, IP and TCP checksums
 *       computed and verified, at MTU 1500 and 65520; anchor {@code veth}: iperf3 between two namespaces over a
 *       veth pair at the same MTUs.</li>
 *   <li>{@code tun}: Linux ({@code socat}) in a namespace → TUN with {@link OffloadMode#LARGE} offloads and
 *       {@link VirtioNetCodec} (default, or {@code forwarding()}, which keeps inbound offload state; both mark
 *       the channel {@code OffloadPacket.ACCEPTS}) → a {@code VirtualHost} discard server, and back (the default
 *       config, whose segmentation offload turns on by itself on the marked channel, and
 *       {@code TcpEngineConfig.LARGE_SEGMENTS_OFF}); anchor {@code veth-socat}: the
 *       same socat pair over a veth between two namespaces.</li>
 *   <li>{@code conns}: 1, 100 and 10,000 established connections on one host pair: setup rate, heap per
 *       connection, and the bulk rate of one more connection while they exist.</li>
 * </ul>
 *
 * <p>Needs root, iproute2, iperf3 and socat for the Linux parts; creates namespaces {@code vtcpbench-*-PID} and
 * removes them. Not part of {@code mvn verify}. Run (see the vtcp README):
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp netty-pktkit-benchmarks/target/benchmarks.jar \
 *     dev.pktkit.benchmarks.VtcpThroughput [--bytes 2147483648] [--runs 3] [--parts pipe,veth,tun,tun-out,veth-socat,conns]
 * </pre>
 */
public final class VtcpThroughput {
    private static final Pattern RECEIVED = Pattern.compile(
            "\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)", Pattern.DOTALL);

    private final long bytes;
    private final int runs;
    private final long pid = ProcessHandle.current().pid();

    private VtcpThroughput(long bytes, int runs) {
        this.bytes = bytes;
        this.runs = runs;
    }

    public static void main(String[] args) throws Exception {
        long bytes = 2L << 30;
        int runs = 3;
        List<String> parts = List.of("pipe", "veth", "tun", "veth-socat", "conns");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--bytes" -> bytes = Long.parseLong(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--parts" -> parts = List.of(args[++i].split(","));
                default -> {
                    System.err.println("usage: VtcpThroughput [--bytes N] [--runs N] [--parts pipe,veth,tun,tun-out,veth-socat,conns]");
                    System.exit(2);
                }
            }
        }
        VtcpThroughput b = new VtcpThroughput(bytes, runs);
        System.out.printf("| path | MTU | Gbit/s (best of %d) | all runs |%n|---|---|---|---|%n", runs);
        for (String part : parts) {
            switch (part) {
                case "pipe" -> {
                    b.report("vtcp ↔ vtcp, PacketPipe, one loop", 1500, () -> b.pipe(1500, 0));
                    b.report("vtcp ↔ vtcp, PacketPipe, one loop", 65520, () -> b.pipe(65520, 0));
                }
                case "veth" -> {
                    b.report("Linux ↔ Linux, veth, iperf3", 1500, () -> b.vethIperf(1500));
                    b.report("Linux ↔ Linux, veth, iperf3", 65520, () -> b.vethIperf(65520));
                }
                case "tun" -> {
                    b.report("Linux socat → TUN LARGE (VirtioNetCodec) → vtcp", 1500, () -> b.tun(true, 0, false));
                    b.report("Linux socat → TUN LARGE (VirtioNetCodec.forwarding) → vtcp", 1500,
                            () -> b.tun(true, 0, true));
                    b.report("vtcp default → TUN LARGE (VirtioNetCodec, marks the channel: offload on) → Linux socat", 1500,
                            () -> b.tun(false, 0, false));
                    b.report("vtcp default → TUN LARGE (VirtioNetCodec.forwarding, marked: offload on) → Linux socat",
                            1500, () -> b.tun(false, 0, true));
                    b.report("vtcp LARGE_SEGMENTS_OFF → TUN LARGE (VirtioNetCodec.forwarding) → Linux socat", 1500,
                            () -> b.tun(false, TcpEngineConfig.LARGE_SEGMENTS_OFF, true));
                }
                case "tun-out" -> b.report("vtcp default → TUN LARGE (VirtioNetCodec.forwarding) → Linux socat", 1500,
                        () -> b.tun(false, 0, true));
                case "veth-socat" -> b.report("Linux socat → veth → Linux socat", 1500, () -> b.vethSocat());
                case "conns" -> b.connections();
                default -> throw new IllegalArgumentException("unknown part " + part);
            }
        }
    }

    interface Run {
        double gbps() throws Exception;
    }

    private void report(String path, int mtu, Run r) throws Exception {
        double[] g = new double[runs];
        for (int i = 0; i < runs; i++) {
            g[i] = r.gbps();
        }
        double best = Arrays.stream(g).max().orElse(0);
        StringBuilder all = new StringBuilder();
        for (double x : g) {
            all.append(String.format(Locale.ROOT, "%.2f ", x));
        }
        System.out.printf(Locale.ROOT, "| %s | %d | %.2f | %s|%n", path, mtu, best, all);
    }

    // ------------------------------------------------------------------------------------------------ pipe

    /** Counts and releases what arrives; completes when the peer's FIN closes the child. */
    static final class Discard extends ChannelInboundHandlerAdapter {
        final CompletableFuture<long[]> done;
        long n;
        long first;

        Discard(CompletableFuture<long[]> done) {
            this.done = done;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (first == 0) {
                first = System.nanoTime();
            }
            n += ((ByteBuf) msg).readableBytes();
            ((ByteBuf) msg).release();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.complete(new long[] {n, first, System.nanoTime()});
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // an idle child aborted when its host goes away at the end of a run
        }
    }

    /** Writes {@code total} bytes (slices of one pre-filled buffer) following writability, then closes. */
    static final class Source extends ChannelInboundHandlerAdapter {
        final long total;
        final ByteBuf block;
        long sent;

        Source(long total, ByteBuf block) {
            this.total = total;
            this.block = block;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            pump(ctx);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump(ctx);
        }

        private void pump(ChannelHandlerContext ctx) {
            while (sent < total && ctx.channel().isWritable()) {
                int n = (int) Math.min(block.readableBytes(), total - sent);
                ctx.write(block.retainedSlice(block.readerIndex(), n), ctx.voidPromise());
                sent += n;
            }
            ctx.flush();
            if (sent >= total && ctx.channel().isOpen()) {
                ((SocketChannel) ctx.channel()).shutdownOutput();
            }
        }
    }

    private static ByteBuf block() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(256 * 1024);
        for (int i = 0; i < 256 * 1024 / 8; i++) {
            b.writeLong(0x9E37_79B9_7F4A_7C15L * i);
        }
        return b;
    }

    /** Two hosts on one loop over a pipe; {@code idle} extra connections established first. */
    private double pipe(int mtu, int idle) throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        VirtualHost a = VirtualHost.builder().address("10.0.0.1").mtu(mtu).build();
        VirtualHost b = VirtualHost.builder().address("10.0.0.2").mtu(mtu).build();
        PacketPipe pipe = new PacketPipe();
        pipe.a().pipeline().addLast(a);
        pipe.b().pipeline().addLast(b);
        EventLoop loop = group.next();
        pipe.register(loop, loop).sync();
        ByteBuf block = block();
        try {
            CompletableFuture<long[]> done = new CompletableFuture<>();
            Channel server = new ServerBootstrap().group(group).channelFactory(b.serverSocketChannels())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new Discard(done));
                        }
                    }).bind(9).sync().channel();
            long t0 = System.nanoTime();
            Channel c = new Bootstrap().group(group).channelFactory(a.socketChannels())
                    .handler(new Source(bytes, block)).connect(new InetSocketAddress("10.0.0.2", 9)).sync().channel();
            long[] r = done.get(300, TimeUnit.SECONDS);
            if (r[0] != bytes) {
                throw new IOException("received " + r[0] + " of " + bytes);
            }
            c.close().sync();
            server.close().sync();
            return bytes * 8.0 / (r[2] - t0);
        } finally {
            block.release();
            pipe.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    // ------------------------------------------------------------------------------------------------ conns

    private void connections() throws Exception {
        System.out.printf("%n| connections | setup, connections/s | heap per connection (both ends) | bulk MTU 1500 "
                + "beside them, Gbit/s |%n|---|---|---|---|%n");
        for (int k : new int[] {1, 100, 10_000}) {
            MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            VirtualHost a = VirtualHost.builder().address("10.0.0.1").build();
            VirtualHost b = VirtualHost.builder().address("10.0.0.2").build();
            PacketPipe pipe = new PacketPipe();
            pipe.a().pipeline().addLast(a);
            pipe.b().pipeline().addLast(b);
            EventLoop loop = group.next();
            pipe.register(loop, loop).sync();
            ByteBuf block = block();
            List<Channel> open = new ArrayList<>(k);
            try {
                CompletableFuture<long[]> done = new CompletableFuture<>();
                Channel server = new ServerBootstrap().group(group).channelFactory(b.serverSocketChannels())
                        .option(ChannelOption.SO_BACKLOG, 16_384)
                        .childHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new Discard(done));
                            }
                        }).bind(9).sync().channel();
                long heap0 = usedHeap();
                Bootstrap boot = new Bootstrap().group(group).channelFactory(a.socketChannels())
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                // idle connections: nothing to do
                            }
                        });
                long t0 = System.nanoTime();
                List<io.netty.channel.ChannelFuture> fs = new ArrayList<>(k);
                for (int i = 0; i < k; i++) {
                    fs.add(boot.connect(new InetSocketAddress("10.0.0.2", 9)));
                    if (fs.size() >= 256) {
                        for (var f : fs) {
                            open.add(f.sync().channel());
                        }
                        fs.clear();
                    }
                }
                for (var f : fs) {
                    open.add(f.sync().channel());
                }
                long setup = System.nanoTime() - t0;
                long heap1 = usedHeap();
                CompletableFuture<long[]> bulkDone = new CompletableFuture<>();
                Channel bulkServer = new ServerBootstrap().group(group).channelFactory(b.serverSocketChannels())
                        .childHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new Discard(bulkDone));
                            }
                        }).bind(10).sync().channel();
                long t1 = System.nanoTime();
                long n = Math.min(bytes, 1L << 30);
                Channel c = new Bootstrap().group(group).channelFactory(a.socketChannels())
                        .handler(new Source(n, block)).connect(new InetSocketAddress("10.0.0.2", 10)).sync()
                        .channel();
                long[] r = bulkDone.get(300, TimeUnit.SECONDS);
                double gbps = n * 8.0 / (r[2] - t1);
                c.close().sync();
                bulkServer.close().sync();
                System.out.printf(Locale.ROOT, "| %d | %.0f | %d B | %.2f |%n", k, k * 1e9 / setup,
                        (heap1 - heap0) / k, gbps);
                for (Channel ch : open) {
                    ch.close();
                }
                for (Channel ch : open) {
                    ch.closeFuture().sync();
                }
                server.close().sync();
            } finally {
                block.release();
                pipe.close();
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
        }
    }

    private static long usedHeap() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    // ------------------------------------------------------------------------------------------------ Linux

    private double vethIperf(int mtu) throws Exception {
        String a = "vtcpbench-a-" + pid;
        String b = "vtcpbench-b-" + pid;
        veth(a, b, mtu);
        try {
            Path log = Files.createTempFile("iperf3-server", ".log");
            Process server = new ProcessBuilder("ip", "netns", "exec", b, "iperf3", "-s", "-1", "-B", "10.82.0.2")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                awaitListening(b, 5201);
                long seconds = Math.max(3, Math.min(10, bytes / (1L << 30) * 2));
                Process client = new ProcessBuilder("ip", "netns", "exec", a, "iperf3", "-c", "10.82.0.2", "-t",
                        Long.toString(seconds), "-J").redirectErrorStream(true).start();
                String json = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                client.waitFor(seconds + 30, TimeUnit.SECONDS);
                Matcher m = RECEIVED.matcher(json);
                if (!m.find()) {
                    throw new IOException("no result from iperf3: " + json);
                }
                return Double.parseDouble(m.group(1)) / 1e9;
            } finally {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                Files.deleteIfExists(log);
            }
        } finally {
            ip("netns", "del", a);
            ip("netns", "del", b);
        }
    }

    private double vethSocat() throws Exception {
        String a = "vtcpbench-a-" + pid;
        String b = "vtcpbench-b-" + pid;
        veth(a, b, 1500);
        try {
            Process server = new ProcessBuilder("ip", "netns", "exec", b, "socat", "-u", "-b", "262144",
                    "TCP4-LISTEN:5001,bind=10.82.0.2", "OPEN:/dev/null").redirectErrorStream(true).start();
            try {
                awaitListening(b, 5001);
                long t0 = System.nanoTime();
                Process client = new ProcessBuilder("ip", "netns", "exec", a, "socat", "-u", "-b", "262144",
                        "OPEN:/dev/zero,readbytes=" + bytes, "TCP4:10.82.0.2:5001").redirectErrorStream(true).start();
                if (!client.waitFor(300, TimeUnit.SECONDS) || !server.waitFor(30, TimeUnit.SECONDS)) {
                    throw new IOException("socat did not finish");
                }
                return bytes * 8.0 / (System.nanoTime() - t0);
            } finally {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            ip("netns", "del", a);
            ip("netns", "del", b);
        }
    }

    /** Linux in a namespace behind a TUN (LARGE offloads, VirtioNetCodec) with a VirtualHost on the channel. */
    private double tun(boolean linuxSends, int largeSegmentBytes, boolean forwardingCodec) throws Exception {
        String ns = "vtcpbench-t-" + pid;
        ip("netns", "add", ns);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        TunChannel tun = null;
        ByteBuf block = block();
        try (NetNamespace handle = NetNamespace.named(ns)) {
            ip("-n", ns, "link", "set", "lo", "up");
            VirtualHost host = VirtualHost.builder().address("10.83.0.2")
                    .tcp(new TcpEngineConfig().largeSegmentBytes(largeSegmentBytes)).build();
            // either codec marks the LARGE channel OffloadPacket.ACCEPTS, so the host turns its segmentation
            // offload on by itself; forwarding() also keeps inbound offload state
            ChannelHandler codec = forwardingCodec ? VirtioNetCodec.forwarding() : new VirtioNetCodec();
            tun = (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(handle))
                    .option(TunTapChannelOption.OFFLOAD, OffloadMode.LARGE)
                    .handler(new ChannelInitializer<TunChannel>() {
                        @Override
                        protected void initChannel(TunChannel ch) {
                            ch.pipeline().addLast(codec, host);
                        }
                    }).bind(TunTapAddress.of("vtb0")).sync().channel();
            tun.link().addAddress("10.83.0.1/24").up();
            if (linuxSends) {
                CompletableFuture<long[]> done = new CompletableFuture<>();
                Channel server = new ServerBootstrap().group(group).channelFactory(host.serverSocketChannels())
                        .childOption(ChannelOption.SO_RCVBUF, 4 << 20)
                        .childHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new Discard(done));
                            }
                        }).bind(5001).sync().channel();
                long t0 = System.nanoTime();
                Process client = new ProcessBuilder("ip", "netns", "exec", ns, "socat", "-u", "-b", "262144",
                        "OPEN:/dev/zero,readbytes=" + bytes, "TCP4:10.83.0.2:5001").redirectErrorStream(true).start();
                long[] r = done.get(300, TimeUnit.SECONDS);
                client.waitFor(30, TimeUnit.SECONDS);
                server.close().sync();
                if (r[0] != bytes) {
                    throw new IOException("received " + r[0]);
                }
                return bytes * 8.0 / (r[2] - t0);
            }
            Process server = new ProcessBuilder("ip", "netns", "exec", ns, "socat", "-u", "-b", "262144",
                    "TCP4-LISTEN:5002,bind=10.83.0.1", "OPEN:/dev/null").redirectErrorStream(true).start();
            try {
                awaitListening(ns, 5002);
                long t0 = System.nanoTime();
                Channel c = new Bootstrap().group(group).channelFactory(host.socketChannels())
                        .option(ChannelOption.SO_SNDBUF, 4 << 20)
                        .handler(new Source(bytes, block)).connect(new InetSocketAddress("10.83.0.1", 5002)).sync()
                        .channel();
                if (!server.waitFor(300, TimeUnit.SECONDS)) {
                    throw new IOException("socat did not see the end");
                }
                long t1 = System.nanoTime();
                c.close().sync();
                return bytes * 8.0 / (t1 - t0);
            } finally {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            block.release();
            if (tun != null) {
                tun.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            ip("netns", "del", ns);
        }
    }

    private void veth(String a, String b, int mtu) throws Exception {
        ip("netns", "add", a);
        ip("netns", "add", b);
        String va = "vtba" + pid % 10000;
        String vb = "vtbb" + pid % 10000;
        ip("link", "add", va, "mtu", Integer.toString(mtu), "type", "veth", "peer", "name", vb, "mtu",
                Integer.toString(mtu));
        ip("link", "set", va, "netns", a);
        ip("link", "set", vb, "netns", b);
        ip("-n", a, "link", "set", "lo", "up");
        ip("-n", b, "link", "set", "lo", "up");
        ip("-n", a, "addr", "add", "10.82.0.1/24", "dev", va);
        ip("-n", b, "addr", "add", "10.82.0.2/24", "dev", vb);
        ip("-n", a, "link", "set", va, "up");
        ip("-n", b, "link", "set", vb, "up");
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
            Thread.sleep(20);
        }
        throw new IOException("nothing listens on " + port + " in " + ns);
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

package dev.pktkit.afxdp;

import dev.pktkit.linux.LibC;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.linux.netlink.RtNetlink;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.tuntap.TapChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A documented measurement run, not part of {@code mvn verify} (its name does not match surefire's patterns):
 * received frames per second of an {@link XdpChannel}, a {@link TapChannel} and an AF_PACKET reader, side by side
 * in one run, for 60-byte (64 with the FCS) and 1514-byte frames that {@code trafgen} (netsniff-ng) sends as fast
 * as it can from another namespace. Each receiver counts and releases every frame in its pipeline. Reports the
 * offered rate (frames trafgen sent over its wall time), the received rate, and the drops.
 *
 * <pre>flock /tmp/pktkit-maven.lock mvn -o -q verify -pl netty-pktkit-afxdp -am -Dtest=XdpRateMeasurement \
 *     -Dsurefire.failIfNoSpecifiedTests=false [-Dpktkit.rate.cpus=2] [-Dpktkit.rate.frames=1000000]</pre>
 */
class XdpRateMeasurement {
    static final int FRAMES = Integer.getInteger("pktkit.rate.frames", 1_000_000);
    /** trafgen processes ({@code --cpus}); each sends its share of {@link #FRAMES}. */
    static final int SENDER_CPUS = Integer.getInteger("pktkit.rate.cpus", 1);

    record Row(String receiver, int size, long sent, long received, double seconds) {
        double offered() {
            return sent / seconds;
        }

        double rate() {
            return received / seconds;
        }
    }

    @ChannelHandler.Sharable
    static final class Counter extends ChannelInboundHandlerAdapter {
        final LongAdder frames = new LongAdder();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            frames.increment();
            ((ByteBuf) msg).release();
        }
    }

    @Test
    void receiveRates() throws Exception {
        Netns.assumeTunUsable();
        Tools.assumeCommand("trafgen", "netsniff-ng");
        List<Row> rows = new ArrayList<>();
        for (int size : new int[] {60, 1514}) {
            for (String loop : XdpFixture.loops()) {
                rows.add(xdp(loop, size, XdpMode.NATIVE));
            }
            rows.add(xdp(TestLoops.EPOLL, size, XdpMode.GENERIC));
            for (String loop : XdpFixture.loops()) {
                rows.add(tap(loop, size));
            }
            rows.add(afPacket(size));
        }
        StringBuilder out = new StringBuilder("\nsender: trafgen --cpus " + SENDER_CPUS + ", " + FRAMES
                + " frames per row\n\n| receiver | frame | offered kpps | received kpps | drops |\n"
                + "|---|---|---|---|---|\n");
        for (Row r : rows) {
            out.append(String.format("| %s | %d B | %.0f | %.0f | %.1f %% |%n", r.receiver(), r.size(),
                    r.offered() / 1e3, r.rate() / 1e3, 100.0 * (r.sent() - r.received()) / r.sent()));
        }
        for (int size : new int[] {60, 1514}) {
            double tap = rows.stream().filter(r -> r.size() == size && r.receiver().startsWith("TapChannel epoll"))
                    .findFirst().orElseThrow().rate();
            double xdp = rows.stream().filter(r -> r.size() == size && r.receiver().startsWith("XdpChannel epoll native"))
                    .findFirst().orElseThrow().rate();
            out.append(String.format("%d B: XdpChannel (epoll, native) / TapChannel (epoll) = %.2f×%n", size,
                    xdp / tap));
        }
        System.out.println(out);
        Files.writeString(Path.of("target", "xdp-rates.md"), out);
    }

    private static Path config(int size) throws IOException {
        StringBuilder c = new StringBuilder("{ 0x02,0x00,0x5e,0x00,0x00,0x02, 0x02,0x00,0x5e,0x00,0x00,0x01, "
                + "0x08,0x00, fill(0x00, " + (size - 14) + ") }\n");
        Path p = Files.createTempFile("trafgen", ".cfg");
        Files.writeString(p, c);
        return p;
    }

    /** Runs trafgen on {@code dev} in {@code ns}; the receiver counts into {@code counter}. */
    private static Row send(String receiver, int size, Netns ns, String dev, LongAdder counter) throws Exception {
        Path cfg = config(size);
        // through a qdisc (trafgen -q) with room for a burst: without one, trafgen's TX ring gives up on the first
        // EAGAIN a busy veth returns; sent frames are what left the qdisc
        ns.exec("tc", "qdisc", "replace", "dev", dev, "root", "pfifo", "limit", "10000").check();
        long before = counter.sum();
        long t0 = System.nanoTime();
        CommandResult r = ns.exec(java.time.Duration.ofSeconds(120), "trafgen", "--dev", dev, "--conf",
                cfg.toString(), "--cpus", Integer.toString(SENDER_CPUS), "-q", "-n", Integer.toString(FRAMES));
        long exited = System.nanoTime();
        if (!r.ok() && !r.output().contains("Resource temporarily unavailable")) {
            throw new IllegalStateException(r.describe());
        }
        // trafgen stops at an EAGAIN from its TX ring on a busy veth; what it sent until then still counts, from the
        // qdisc's statistics below
        // the window ends with the last frame received, or trafgen's exit if later: with --cpus > 1 trafgen's
        // parent can return while its workers still send, so its wall time alone would overstate both rates. The
        // count is polled every millisecond (no cost on the receiver) until it has been still for 200 ms.
        long last = counter.sum();
        long lastChange = System.nanoTime();
        while (System.nanoTime() - lastChange < 200_000_000L) {
            Thread.sleep(1);
            long now = counter.sum();
            if (now != last) {
                last = now;
                lastChange = System.nanoTime();
            }
        }
        double seconds = (Math.max(exited, lastChange) - t0) / 1e9;
        Files.deleteIfExists(cfg);
        CommandResult q = ns.exec("tc", "-s", "qdisc", "show", "dev", dev);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Sent \\d+ bytes (\\d+) pkt \\(dropped (\\d+)")
                .matcher(q.output());
        long sent = m.find() ? Long.parseLong(m.group(1)) : FRAMES;
        return new Row(receiver, size, sent, last - before, seconds);
    }

    private Row xdp(String loop, int size, XdpMode mode) throws Exception {
        try (Netns a = Netns.create(); Netns b = Netns.create()) {
            XdpTapInteropTest.singleQueueVeth(a, "va", b, "vx");
            MultiThreadIoEventLoopGroup group = TestLoops.group(loop, 1);
            NetNamespace nb = NetNamespace.open(b.path());
            try {
                Counter counter = new Counter();
                XdpChannel ch = XdpChannel.open(XdpSocketConfig.builder("vx").namespace(nb).attach(mode).build());
                ch.pipeline().addLast(counter);
                group.register(ch).sync();
                Row row = send("XdpChannel " + loop + " " + mode.name().toLowerCase(), size, a, "va",
                        counter.frames);
                ch.close().sync();
                return row;
            } finally {
                group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
                nb.close();
            }
        }
    }

    private Row tap(String loop, int size) throws Exception {
        try (Netns a = Netns.create()) {
            MultiThreadIoEventLoopGroup group = TestLoops.group(loop, 1);
            NetNamespace na = NetNamespace.open(a.path());
            try {
                Counter counter = new Counter();
                TapChannel tap = (TapChannel) new Bootstrap().group(group).channelFactory(() -> new TapChannel(na))
                        .handler(counter).bind(TunTapAddress.of("pktap0")).sync().channel();
                tap.link().up();
                Row row = send("TapChannel " + loop, size, a, "pktap0", counter.frames);
                tap.close().sync();
                return row;
            } finally {
                group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
                na.close();
            }
        }
    }

    /**
     * An AF_PACKET socket on {@code vx}, read on an epoll loop the way the TAP channel reads its device: on
     * {@code EPOLLIN}, up to 16 reads, each into a pooled direct buffer that goes to the counter and is released.
     */
    private Row afPacket(int size) throws Exception {
        try (Netns a = Netns.create(); Netns b = Netns.create()) {
            XdpTapInteropTest.singleQueueVeth(a, "va", b, "vx");
            MultiThreadIoEventLoopGroup group = TestLoops.group(TestLoops.EPOLL, 1);
            NetNamespace nb = NetNamespace.open(b.path());
            try {
                int fd = nb.call(() -> {
                    int s = LibC.socket(17, LibC.SOCK_RAW | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0x0300);
                    int ifindex;
                    try (RtNetlink nl = RtNetlink.open()) {
                        ifindex = nl.link("vx").index();
                    }
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment sll = arena.allocate(20, 4);
                        sll.set(ValueLayout.JAVA_SHORT, 0, (short) 17);
                        sll.set(ValueLayout.JAVA_SHORT, 2, (short) 0x0300); // htons(ETH_P_ALL)
                        sll.set(ValueLayout.JAVA_INT, 4, ifindex);
                        if (LibC.bind(s, sll) < 0) {
                            throw new IllegalStateException("bind AF_PACKET");
                        }
                    }
                    return s;
                });
                Counter counter = new Counter();
                IoEventLoop loop = (IoEventLoop) group.next();
                FileDescriptor desc = new FileDescriptor(fd);
                ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
                EpollIoHandle handle = new EpollIoHandle() {
                    @Override
                    public FileDescriptor fd() {
                        return desc;
                    }

                    @Override
                    public void handle(IoRegistration registration, IoEvent event) {
                        for (int i = 0; i < 16; i++) {
                            ByteBuf buf = alloc.directBuffer(2048);
                            int n;
                            try {
                                n = desc.readAddress(buf.memoryAddress(), 0, 2048);
                            } catch (IOException e) {
                                n = 0;
                            }
                            if (n <= 0) {
                                buf.release();
                                return;
                            }
                            buf.writerIndex(n);
                            counter.channelRead(null, buf);
                        }
                    }

                    @Override
                    public void close() {
                    }
                };
                IoRegistration reg = loop.register(handle).sync().getNow();
                loop.execute(() -> reg.submit(EpollIoOps.EPOLLIN));
                Row row = send("AF_PACKET reader epoll", size, a, "va", counter.frames);
                loop.submit(() -> reg.cancel()).sync();
                LibC.close(fd);
                return row;
            } finally {
                group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
                nb.close();
            }
        }
    }

}

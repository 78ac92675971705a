package dev.pktkit.tuntap;

import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.testkit.TestLoops;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandler;
import io.netty.channel.MultiThreadIoEventLoopGroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Two namespaces, each with a TUN device whose channel lives in this JVM, for traffic the kernel sends from one
 * namespace to the other through Java:
 *
 * <pre>
 *   ns a: pkta 10.81.1.1/24 fd81:1::1/64, routes 10.81.2.0/24 and fd81:2::/64 onto pkta
 *   ns b: pktb 10.81.2.1/24 fd81:2::1/64, routes 10.81.1.0/24 and fd81:1::/64 onto pktb
 * </pre>
 *
 * What joins the two channels (an L3Hub, a cross-connect) is the test's choice. {@link #close()} closes the
 * channels, the loop group and both namespaces.
 */
final class TunPair implements AutoCloseable {
    static final String A_V4 = "10.81.1.1";
    static final String B_V4 = "10.81.2.1";
    static final String A_V6 = "fd81:1::1";
    static final String B_V6 = "fd81:2::1";

    final Netns a;
    final Netns b;
    final MultiThreadIoEventLoopGroup group;
    AbstractTunTapChannel tunA;
    AbstractTunTapChannel tunB;

    private TunPair(Netns a, Netns b, MultiThreadIoEventLoopGroup group) {
        this.a = a;
        this.b = b;
        this.group = group;
    }

    /** Namespaces and a group of {@code threads} loops of {@code loop}'s kind; no channels yet. */
    static TunPair create(String loop, int threads) throws Exception {
        Netns a = Netns.create();
        Netns b;
        try {
            b = Netns.create();
        } catch (Exception e) {
            a.close();
            throw e;
        }
        return new TunPair(a, b, TestLoops.group(loop, threads));
    }

    /** Opens both devices with {@code offload}, each channel with its own {@code handler}, and configures them. */
    void open(OffloadMode offload, ChannelHandler handlerA, ChannelHandler handlerB) throws Exception {
        tunA = bind(a, "pkta", offload, handlerA);
        tunB = bind(b, "pktb", offload, handlerB);
        tunA.link().addAddress(A_V4 + "/24").addAddress(A_V6 + "/64").up()
                .addRoute("10.81.2.0/24").addRoute("fd81:2::/64");
        tunB.link().addAddress(B_V4 + "/24").addAddress(B_V6 + "/64").up()
                .addRoute("10.81.1.0/24").addRoute("fd81:1::/64");
    }

    /**
     * Opens two TAP devices on one subnet instead: {@code pktapa} 10.82.0.1/24 in a, {@code pktapb} 10.82.0.2/24
     * in b; whatever joins the channels carries Ethernet frames (ARP included) between the two kernels.
     */
    void openTap(OffloadMode offload, ChannelHandler handlerA, ChannelHandler handlerB) throws Exception {
        tunA = bind(a, "pktapa", offload, handlerA, true);
        tunB = bind(b, "pktapb", offload, handlerB, true);
        tunA.link().addAddress(TAP_A_V4 + "/24").up();
        tunB.link().addAddress(TAP_B_V4 + "/24").up();
    }

    static final String TAP_A_V4 = "10.82.0.1";
    static final String TAP_B_V4 = "10.82.0.2";

    private AbstractTunTapChannel bind(Netns ns, String name, OffloadMode offload, ChannelHandler handler)
            throws InterruptedException {
        return bind(ns, name, offload, handler, false);
    }

    private AbstractTunTapChannel bind(Netns ns, String name, OffloadMode offload, ChannelHandler handler,
                                       boolean tap) throws InterruptedException {
        return (AbstractTunTapChannel) new Bootstrap().group(group)
                .channelFactory(() -> tap ? new TapChannel(Namespaces.handle(ns)) : new TunChannel(Namespaces.handle(ns)))
                .option(TunTapChannelOption.OFFLOAD, offload)
                .handler(handler)
                .bind(TunTapAddress.of(name)).sync().channel();
    }

    /**
     * Sends {@code bytes} random bytes from namespace a to an echo server ({@code socat ... EXEC:cat}) at
     * {@code serverAddress} in namespace b and back, and asserts the echo is identical: a kernel TCP connection
     * crossing the Java path both ways. Returns the client's wall time in nanoseconds.
     */
    long echoThrough(Path dir, String serverAddress, boolean v6, int bytes, long seed) throws Exception {
        Path in = dir.resolve("in-" + seed + ".bin");
        Path out = dir.resolve("out-" + seed + ".bin");
        byte[] data = new byte[bytes];
        new Random(seed).nextBytes(data);
        Files.write(in, data);
        int port = 5000 + (int) (seed % 1000);
        String listen = (v6 ? "TCP6-LISTEN:" : "TCP4-LISTEN:") + port + ",reuseaddr,bind="
                + (v6 ? "[" + serverAddress + "]" : serverAddress);
        b.start(dir.resolve("server-" + seed + ".log"), "socat", listen, "EXEC:cat");
        awaitListening(b, port);
        String target = (v6 ? "TCP6:[" + serverAddress + "]:" : "TCP4:" + serverAddress + ":") + port;
        long t0 = System.nanoTime();
        CommandResult r = a.exec("sh", "-c", "socat -t 30 -T 60 STDIO " + target + " < " + in + " > " + out);
        long elapsed = System.nanoTime() - t0;
        if (r.exit() != 0) {
            throw new AssertionError("socat client failed (" + r.exit() + "): " + r.output());
        }
        byte[] echoed = Files.readAllBytes(out);
        if (echoed.length != data.length || !sha256(echoed).equals(sha256(data))) {
            throw new AssertionError("echo differs: sent " + data.length + " B, got " + echoed.length + " B");
        }
        return elapsed;
    }

    /** Polls {@code ss} until something listens on TCP {@code port} in {@code ns}; fails after 20 s. */
    static void awaitListening(Netns ns, int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            CommandResult r = ns.exec("ss", "-Hltn", "sport = :" + port);
            if (r.exit() == 0 && !r.output().isBlank()) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("nothing listens on port " + port + " in " + ns);
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    @Override
    public void close() throws Exception {
        try {
            if (tunA != null) {
                tunA.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
            if (tunB != null) {
                tunB.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 10, TimeUnit.SECONDS).syncUninterruptibly();
        } finally {
            try {
                a.close();
            } finally {
                b.close();
            }
        }
    }
}

package dev.pktkit.codec.linux;

import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The Linux kernel as a peer: a network namespace holding a TAP device whose frames reach a Netty channel.
 * {@code socat} opens the TAP in the namespace and relays each frame as one datagram to a Unix datagram socket
 * that {@link #channel()} is bound to, and back; the channel's messages are plain Ethernet frames.
 *
 * <p>Needs root, {@code ip}, {@code socat} and epoll (Unix datagram sockets); skips otherwise. {@link #close}
 * kills every process started here, deletes the namespace and the socket files.
 */
public final class KernelTap implements AutoCloseable {
    public static final String TAP = "tap0";

    public final String namespace = "pktkit-" + UUID.randomUUID().toString().substring(0, 8);
    private final Path dir;
    private final List<Process> processes = new ArrayList<>();
    private Channel channel;

    /** A result of a command run in the namespace. */
    public record Result(int exit, String output) {
    }

    private KernelTap() throws IOException {
        dir = Files.createTempDirectory("pktkit-tap");
    }

    /**
     * Creates the namespace, binds our socket, starts socat with a TAP whose kernel side has {@code cidr}
     * ("none" for no address), waits until the TAP is up, and puts {@code device} on the channel.
     */
    public static KernelTap open(EventLoopGroup epollGroup, String cidr, ChannelHandler device) throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
        Assumptions.assumeTrue(Epoll.isAvailable(), "needs epoll for Unix datagram sockets");
        Tools.assumeCommand("ip", "iproute2");
        Tools.assumeCommand("socat", "socat");
        KernelTap t = new KernelTap();
        try {
            t.start(epollGroup, cidr, device);
            return t;
        } catch (Throwable e) {
            t.close();
            throw e;
        }
    }

    private void start(EventLoopGroup group, String cidr, ChannelHandler device) throws Exception {
        run(10, "ip", "netns", "add", namespace);
        Path ours = dir.resolve("java.sock");
        Path theirs = dir.resolve("socat.sock");
        DomainSocketAddress peer = new DomainSocketAddress(theirs.toString());
        channel = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Frames(peer), device);
                    }
                }).bind(new DomainSocketAddress(ours.toString())).sync().channel();
        String tun = "TUN" + ("none".equals(cidr) ? "" : ":" + cidr) + ",tun-type=tap,tun-name=" + TAP
                + ",iff-up,iff-no-pi";
        start("socat", tun, "UNIX-SENDTO:" + ours + ",bind=" + theirs);
        await(() -> exec("ip", "link", "show", TAP).output().contains("UP"), "TAP up");
    }

    /** The channel carrying the TAP's frames. */
    public Channel channel() {
        return channel;
    }

    /** Runs {@code cmd} in the namespace, waiting at most {@code seconds}. */
    public Result exec(int seconds, String... cmd) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(cmd));
        return run(seconds, full.toArray(String[]::new));
    }

    public Result exec(String... cmd) throws IOException, InterruptedException {
        return exec(10, cmd);
    }

    /** Starts {@code cmd} in the namespace in the background; it is killed on {@link #close}. */
    public Process start(String... cmd) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(cmd));
        Process p = new ProcessBuilder(full).redirectErrorStream(true)
                .redirectOutput(dir.resolve("proc" + processes.size() + ".log").toFile()).start();
        processes.add(p);
        return p;
    }

    /** Output of background process {@code p} (started by {@link #start}) so far. */
    public String log(Process p) throws IOException {
        return log(processes.indexOf(p));
    }

    /** Output of the {@code i}-th background process so far (0 is socat). */
    public String log(int i) throws IOException {
        Path p = dir.resolve("proc" + i + ".log");
        return Files.exists(p) ? Files.readString(p) : "";
    }

    public Path dir() {
        return dir;
    }

    /** Polls {@code condition} every 100 ms until it holds; fails after 20 s. */
    public static void await(Check condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.holds()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100); // polling interval of a condition with a deadline, not synchronisation
        }
    }

    /** {@link #await(Check, String)}, with the output of every background process in the failure message. */
    public void awaitWithLogs(Check condition, String what) throws Exception {
        try {
            await(condition, what);
        } catch (AssertionError e) {
            StringBuilder sb = new StringBuilder(e.getMessage());
            for (int i = 0; i < processes.size(); i++) {
                sb.append("\n--- process ").append(i).append(" ---\n").append(log(i));
            }
            throw new AssertionError(sb.toString(), e);
        }
    }

    /** A condition that may do I/O. */
    public interface Check {
        boolean holds() throws Exception;
    }

    private static Result run(int seconds, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            return new Result(-1, "timed out: " + String.join(" ", cmd));
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        for (Process p : processes) {
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            run(10, "ip", "netns", "del", namespace);
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Datagrams from socat become frames; frames become datagrams to socat. */
    private static final class Frames extends ChannelDuplexHandler {
        private final DomainSocketAddress peer;

        Frames(DomainSocketAddress peer) {
            this.peer = peer;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg instanceof ByteBuf frame ? new DomainDatagramPacket(frame, peer) : msg, promise);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.fireChannelRead(msg instanceof DomainDatagramPacket p ? p.content() : msg);
        }
    }
}

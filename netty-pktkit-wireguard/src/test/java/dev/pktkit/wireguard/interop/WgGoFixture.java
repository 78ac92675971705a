package dev.pktkit.wireguard.interop;

import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.testkit.Tools;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.wireguard.L3HubPeerAttacher;
import dev.pktkit.wireguard.WireGuardConfig;
import dev.pktkit.wireguard.WireGuardEndpoint;
import dev.pktkit.wireguard.WireGuardKey;
import dev.pktkit.wireguard.WireGuardPeerConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * Two namespaces: {@code outer} holds wireguard-go (its kernel TUN and UDP socket) and our endpoint's UDP socket
 * (created on a thread inside it), so the WireGuard datagrams cross that namespace's loopback only; {@code inner}
 * holds the kernel TUN device behind our endpoint (a {@link TunChannel} on an {@link L3Hub} with the peer). TCP
 * between the namespaces can only flow through both WireGuard implementations.
 */
final class WgGoFixture implements AutoCloseable {
    static final String OUR_V4 = "10.99.0.1";
    static final String GO_V4 = "10.99.0.2";
    static final String OUR_V6 = "fd99::1";
    static final String GO_V6 = "fd99::2";

    final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
    final String outerName = "wireguard-o" + id;
    final String innerName = "wireguard-i" + id;
    final String goIf = "wgg" + id;
    final String tunIf = "wgt" + id;
    final Path dir;
    final Sh sh = new Sh();
    final WireGuardKey ourKey = WireGuardKey.generatePrivate();
    final WireGuardKey goKey = WireGuardKey.generatePrivate();
    NetNamespace outer;
    NetNamespace inner;
    MultiThreadIoEventLoopGroup group;
    L3Hub hub;
    WireGuardEndpoint endpoint;
    Channel udp;
    TunChannel tun;
    Process wireguardGo;
    int goPort;

    static void assumeUsable() {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root (namespaces, TUN)");
        Assumptions.assumeTrue(new File("/dev/net/tun").exists(), "no /dev/net/tun");
        Tools.assumeCommand("ip", "iproute2");
        Tools.assumeCommand("wireguard-go", "wireguard-go");
        Tools.assumeCommand("wg", "wireguard-tools");
        Tools.assumeCommand("socat", "socat");
        Tools.assumeCommand("ping", "iputils-ping");
        Assumptions.assumeTrue(io.netty.channel.epoll.Epoll.isAvailable(), "epoll unavailable");
    }

    WgGoFixture() throws Exception {
        dir = Files.createTempDirectory("wgjava");
        for (String ns : List.of(outerName, innerName)) {
            Sh.run("ip", "netns", "add", ns).check();
            Sh.run("ip", "-n", ns, "link", "set", "lo", "up").check();
        }
        outer = NetNamespace.named(outerName);
        inner = NetNamespace.named(innerName);
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    Sh.Result inOuter(long timeout, String... cmd) throws IOException, InterruptedException {
        return Sh.run(timeout, concat(List.of("ip", "netns", "exec", outerName), cmd));
    }

    Sh.Result inInner(long timeout, String... cmd) throws IOException, InterruptedException {
        return Sh.run(timeout, concat(List.of("ip", "netns", "exec", innerName), cmd));
    }

    static String[] concat(List<String> head, String... tail) {
        String[] out = new String[head.size() + tail.length];
        for (int i = 0; i < head.size(); i++) {
            out[i] = head.get(i);
        }
        System.arraycopy(tail, 0, out, head.size(), tail.length);
        return out;
    }

    /**
     * Starts our endpoint: UDP in the outer namespace on {@code bindHost}, the TUN in the inner one with our
     * tunnel addresses, wireguard-go's key as the peer owning {@code GO_V4}/{@code GO_V6}.
     */
    void startOurs(String bindHost, UnaryOperator<WireGuardEndpoint.Builder> custom,
                   UnaryOperator<WireGuardPeerConfig> peer) throws Exception {
        hub = L3Hub.builder().name("wg-interop").build();
        WireGuardPeerConfig pc = peer.apply(WireGuardPeerConfig.of(goKey.publicKey(), GO_V4 + "/32", GO_V6 + "/128"));
        endpoint = custom.apply(WireGuardEndpoint.builder().privateKey(ourKey).peer(pc)
                .peerInitializer(new L3HubPeerAttacher(hub))).build();
        udp = new Bootstrap().group(group)
                .channelFactory(() -> {
                    try {
                        return outer.call(EpollDatagramChannel::new);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                })
                .handler(endpoint)
                .bind(bindHost, 0).sync().channel();
        tun = (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(inner))
                .handler(new ChannelInboundHandlerAdapter())
                .bind(TunTapAddress.of(tunIf)).sync().channel();
        tun.link().mtu(1420).addAddress(OUR_V4 + "/24").addAddress(OUR_V6 + "/64").up();
        hub.attach(tun, L3PortOptions.prefixes(OUR_V4 + "/32", OUR_V6 + "/128"));
    }

    int ourPort() {
        return ((InetSocketAddress) udp.localAddress()).getPort();
    }

    /** Starts wireguard-go in the outer namespace and configures it with {@code config} (wg setconf). */
    void startWireguardGo(WireGuardConfig config) throws Exception {
        wireguardGo = sh.start(dir.resolve("wireguard-go.log"), "ip", "netns", "exec", outerName,
                "env", "LOG_LEVEL=debug", "wireguard-go", "-f", goIf);
        Path sock = Path.of("/var/run/wireguard", goIf + ".sock");
        waitFor(() -> Files.exists(sock), 10, "wireguard-go's control socket " + sock);
        Path conf = dir.resolve("wg.conf");
        Files.writeString(conf, config.toWgSetconf());
        Sh.run("wg", "setconf", goIf, conf.toString()).check();
        Sh.run("ip", "-n", outerName, "addr", "add", GO_V4 + "/24", "dev", goIf).check();
        Sh.run("ip", "-n", outerName, "-6", "addr", "add", GO_V6 + "/64", "dev", goIf, "nodad").check();
        Sh.run("ip", "-n", outerName, "link", "set", goIf, "up").check();
    }

    /** A wireguard-go configuration whose only peer is our endpoint. */
    WireGuardConfig goConfig(int listenPort, WireGuardPeerConfig ourPeer) {
        return new WireGuardConfig(goKey, listenPort, List.of(), List.of(), 0, List.of(), List.of(ourPeer));
    }

    WireGuardPeerConfig ourPeerForGo(InetSocketAddress ourEndpoint) {
        return new WireGuardPeerConfig(ourKey.publicKey(), null,
                List.of(dev.pktkit.switching.lpm.Prefix.parse(OUR_V4 + "/32"),
                        dev.pktkit.switching.lpm.Prefix.parse(OUR_V6 + "/128")), ourEndpoint, 0);
    }

    String wgShow(String field) throws IOException, InterruptedException {
        return Sh.run("wg", "show", goIf, field).check().output();
    }

    static void waitFor(BooleanSupplier cond, long seconds, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20); // polling a condition with a deadline, not synchronising on time
        }
    }

    /** A file of {@code mib} MiB of seeded random bytes and its SHA-256. */
    record Payload(Path file, String sha256) {
    }

    Payload payload(int mib) throws Exception {
        Path f = dir.resolve("payload-" + mib + ".bin");
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Random r = new Random(mib * 7919L);
        byte[] chunk = new byte[1 << 20];
        try (var out = Files.newOutputStream(f)) {
            for (int i = 0; i < mib; i++) {
                r.nextBytes(chunk);
                md.update(chunk);
                out.write(chunk);
            }
        }
        return new Payload(f, HexFormat.of().formatHex(md.digest()));
    }

    /**
     * Sends {@code payload} over TCP from {@code fromOuter ? outer : inner} to {@code host} in the other namespace
     * and returns the SHA-256 the receiver computed.
     */
    String transfer(Payload payload, boolean fromOuter, String host, boolean v6, Runnable midway) throws Exception {
        int port = 5000 + ThreadLocalRandom.current().nextInt(1000);
        String listen = v6 ? "TCP6-LISTEN:" + port + ",reuseaddr,ipv6only=1" : "TCP4-LISTEN:" + port + ",reuseaddr";
        String connect = (v6 ? "TCP6:[" + host + "]:" : "TCP4:" + host + ":") + port + ",retry=100,interval=0.1";
        String recvNs = fromOuter ? innerName : outerName;
        String sendNs = fromOuter ? outerName : innerName;
        Path sum = dir.resolve("sum-" + port);
        Process receiver = sh.start(sum, "ip", "netns", "exec", recvNs, "sh", "-c",
                "socat -u " + listen + " STDOUT | sha256sum");
        Process sender = sh.start(dir.resolve("send-" + port + ".log"), "ip", "netns", "exec", sendNs,
                "socat", "-u", "OPEN:" + payload.file(), connect);
        if (midway != null) {
            midway.run();
        }
        if (!sender.waitFor(120, TimeUnit.SECONDS) || !receiver.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("transfer did not finish; sender log: "
                    + Files.readString(dir.resolve("send-" + port + ".log")));
        }
        return Files.readString(sum).split("\\s+")[0];
    }

    @Override
    public void close() throws Exception {
        sh.close();
        if (udp != null) {
            udp.close().sync();
        }
        if (tun != null) {
            tun.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
        }
        if (outer != null) {
            outer.close();
        }
        if (inner != null) {
            inner.close();
        }
        Sh.run("ip", "netns", "del", outerName);
        Sh.run("ip", "netns", "del", innerName);
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    String goLog() throws IOException {
        Path p = dir.resolve("wireguard-go.log");
        return Files.exists(p) ? Files.readString(p) : "";
    }
}

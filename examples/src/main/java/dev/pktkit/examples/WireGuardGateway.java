package dev.pktkit.examples;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.transport.Transports;
import dev.pktkit.slirp.Slirp;
import dev.pktkit.slirp.SlirpNamespace;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.wireguard.L3HubPeerAttacher;
import dev.pktkit.wireguard.WireGuardConfig;
import dev.pktkit.wireguard.WireGuardEndpoint;
import dev.pktkit.wireguard.WireGuardKey;
import dev.pktkit.wireguard.WireGuardPeerChannel;
import dev.pktkit.wireguard.WireGuardPeerConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A WireGuard server configured from a wg-quick file, whose peers reach each other and the host's network.
 *
 * <ul>
 * <li><b>Shared</b> (the default): every peer is a port of an {@link L3Hub} routing its {@code AllowedIPs}
 * ({@link L3HubPeerAttacher}), so peers reach each other; the hub's default routes ({@code 0.0.0.0/0},
 * {@code ::/0}) lead through a {@link PacketPipe} to one {@link Slirp} namespace, so peers reach the world through
 * the host's own sockets (no TUN, no root, no iptables). The slirp addresses are libslirp's: DNS at
 * {@code 10.0.2.3}, and with {@code --host-loopback} the host's {@code 127.0.0.1} at {@code 10.0.2.2}.</li>
 * <li><b>Isolated</b> ({@code --isolated}): no hub; every peer gets its own slirp namespace, with its own flow
 * tables and bounds, so peers never see each other or each other's flows.</li>
 * </ul>
 *
 * Peers come from the file's {@code [Peer]} sections; give them {@code AllowedIPs} of their tunnel addresses. A
 * client connects with stock {@code wg-quick} or {@code wireguard-go}: see {@link #clientConfig} and the
 * wireguard module's README.
 *
 * <p>Run: {@code mvn -B -q install -DskipTests && mvn -B -q -pl examples validate exec:exec
 * -Dexample.main=dev.pktkit.examples.WireGuardGateway -Dexample.args="--config=wg0.conf"}; arguments:
 * {@code --config=FILE} (without it a server key and one client are generated and the client's wg-quick file is
 * printed), {@code --bind=ADDRESS} (default {@code 0.0.0.0}), {@code --isolated}, {@code --host-loopback},
 * {@code --seconds=N}.
 */
public final class WireGuardGateway implements AutoCloseable {
    private final MultiThreadIoEventLoopGroup group;
    private final Slirp slirp;
    private final L3Hub hub;
    private final PacketPipe uplink;
    private final Set<SlirpNamespace> namespaces = ConcurrentHashMap.newKeySet();
    private final WireGuardEndpoint endpoint;
    private final Channel udp;

    /**
     * What {@link #start} needs.
     *
     * @param config       the server's wg-quick configuration (its key, ListenPort and peers)
     * @param bind         the address the UDP socket binds to (the port is the config's ListenPort, 0 for any)
     * @param isolated     one slirp namespace per peer instead of a shared hub
     * @param hostLoopback whether 10.0.2.2 reaches the host's loopback
     * @param egress       which destinations on the host's network peers may reach through slirp
     */
    public record Options(WireGuardConfig config, String bind, boolean isolated, boolean hostLoopback,
                          Predicate<InetSocketAddress> egress) {
    }

    private WireGuardGateway(Options o) throws Exception {
        group = Transports.newEventLoopGroup(2);
        slirp = Slirp.builder().hostLoopback(o.hostLoopback()).egress(o.egress())
                .hostTransport(group, Transports.chosen()).build();
        ChannelHandler peers;
        if (o.isolated()) {
            hub = null;
            uplink = null;
            peers = new IsolatedPeerAttacher();
        } else {
            hub = L3Hub.builder().name("wireguard").build();
            uplink = new PacketPipe();
            uplink.register(group.next(), group.next()).sync();
            hub.attach(uplink.a(), L3PortOptions.prefixes("0.0.0.0/0", "::/0"));
            namespaces.add(slirp.attach(uplink.b()).get(5, TimeUnit.SECONDS));
            peers = new L3HubPeerAttacher(hub);
        }
        endpoint = o.config().toEndpointBuilder().peerInitializer(peers).build();
        udp = new Bootstrap().group(group).channel(Transports.datagramChannelClass()).handler(endpoint)
                .bind(o.bind(), o.config().listenPort()).sync().channel();
    }

    /** Makes every peer the only device of its own slirp namespace. */
    @ChannelHandler.Sharable
    private final class IsolatedPeerAttacher extends ChannelInitializer<WireGuardPeerChannel> {
        @Override
        protected void initChannel(WireGuardPeerChannel ch) {
            slirp.attach(ch).addListener(f -> {
                if (f.isSuccess()) {
                    SlirpNamespace ns = (SlirpNamespace) f.getNow();
                    namespaces.add(ns);
                    ch.closeFuture().addListener(c -> namespaces.remove(ns));
                } else {
                    System.out.println("peer " + ch + ": no slirp namespace: " + f.cause());
                    ch.close();
                }
            });
        }
    }

    /** Binds the UDP socket and starts the hub (or the per-peer namespaces) and slirp. */
    public static WireGuardGateway start(Options options) throws Exception {
        return new WireGuardGateway(options);
    }

    /** The UDP port the endpoint listens on. */
    public int port() {
        return ((InetSocketAddress) udp.localAddress()).getPort();
    }

    /** The endpoint: its peers, {@link WireGuardEndpoint#show()}, peers added or removed while running. */
    public WireGuardEndpoint endpoint() {
        return endpoint;
    }

    /** The slirp namespaces: one in shared mode, one per connected peer in isolated mode. */
    public Set<SlirpNamespace> namespaces() {
        return Set.copyOf(namespaces);
    }

    /** The slirp: its counters. */
    public Slirp slirp() {
        return slirp;
    }

    /**
     * A wg-quick file for the client owning {@code clientKey} and {@code clientAddress} that reaches this server at
     * {@code serverEndpoint}: its traffic to the peers' network and to slirp's {@code 10.0.2.0/24} goes through the
     * tunnel ({@code AllowedIPs = 0.0.0.0/0} would send all of it).
     */
    public static String clientConfig(WireGuardKey clientKey, String clientAddress, WireGuardKey serverPublic,
                                      String serverEndpoint, String peersNetwork) {
        WireGuardPeerConfig server = WireGuardPeerConfig.of(serverPublic, peersNetwork, "10.0.2.0/24")
                .withEndpoint(WireGuardConfig.parseEndpoint(serverEndpoint)).withPersistentKeepalive(25);
        return new WireGuardConfig(clientKey, 0, List.of(clientAddress), List.of(Slirp.DEFAULT_DNS_IPV4), 0,
                List.of(), List.of(server)).toWgQuick();
    }

    @Override
    public void close() throws Exception {
        udp.close().syncUninterruptibly();
        namespaces.forEach(SlirpNamespace::close);
        if (uplink != null) {
            uplink.close();
        }
        slirp.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    public static void main(String[] args) throws Exception {
        Path config = null;
        String bind = "0.0.0.0";
        boolean isolated = false;
        boolean loopback = false;
        long seconds = 0;
        for (String a : args) {
            for (String arg : a.trim().split("\\s+")) {
                if (arg.startsWith("--config=")) {
                    config = Path.of(arg.substring("--config=".length()));
                } else if (arg.startsWith("--bind=")) {
                    bind = arg.substring("--bind=".length());
                } else if (arg.equals("--isolated")) {
                    isolated = true;
                } else if (arg.equals("--host-loopback")) {
                    loopback = true;
                } else if (arg.startsWith("--seconds=")) {
                    seconds = Long.parseLong(arg.substring("--seconds=".length()));
                } else if (!arg.isEmpty()) {
                    throw new IllegalArgumentException("unknown argument " + arg + " (use --config=FILE, --bind=ADDRESS,"
                            + " --isolated, --host-loopback, --seconds=N)");
                }
            }
        }
        WireGuardConfig conf;
        WireGuardKey demoClient = null;
        if (config != null) {
            conf = WireGuardConfig.parse(Files.readString(config));
        } else {
            demoClient = WireGuardKey.generatePrivate();
            conf = new WireGuardConfig(WireGuardKey.generatePrivate(), 51820, List.of("10.8.0.1/24"), List.of(), 0,
                    List.of(), List.of(WireGuardPeerConfig.of(demoClient.publicKey(), "10.8.0.7/32")));
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        try (WireGuardGateway gw = start(new Options(conf, bind, isolated, loopback, a -> true))) {
            System.out.println("WireGuard on UDP " + gw.port() + ", public key " + conf.privateKey().publicKey().toBase64()
                    + (isolated ? ", one slirp namespace per peer" : ", peers on one L3Hub, slirp as default route"));
            if (demoClient != null) {
                System.out.println("A client's wg-quick file (wg-quick up ./wg-demo.conf); replace SERVER:");
                System.out.println(clientConfig(demoClient, "10.8.0.7/24", conf.privateKey().publicKey(),
                        "SERVER:" + gw.port(), "10.8.0.0/24"));
            }
            long deadline = seconds > 0 ? System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds) : Long.MAX_VALUE;
            while (!stop.await(10, TimeUnit.SECONDS) && System.nanoTime() - deadline < 0) {
                System.out.print(gw.endpoint().show());
            }
            System.out.println("slirp: " + gw.slirp().counters());
        }
    }
}

package dev.pktkit.examples;

import com.sun.net.httpserver.HttpServer;
import dev.pktkit.testkit.Tools;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.wireguard.WireGuardConfig;
import dev.pktkit.wireguard.WireGuardKey;
import dev.pktkit.wireguard.WireGuardPeerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WireGuard example with real clients: two wireguard-go interfaces, each in its own namespace reaching the
 * JVM's namespace over a veth, connect to {@link WireGuardGateway}. Shared mode: the clients ping each other
 * through the hub and fetch a page from an HTTP server on the host's loopback through slirp. Isolated mode: they
 * cannot reach each other, each still reaches the host through its own slirp namespace.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WireGuardGatewayTest {
    private final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xFFFF));
    private final List<Netns> clients = new ArrayList<>();
    private final List<String> interfaces = new ArrayList<>();
    private HttpServer http;
    private WireGuardGateway gateway;
    private Path dir;

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeUsable();
        Netns.assumeTunUsable();
        Tools.assumeCommand("wireguard-go", "wireguard-go");
        Tools.assumeCommand("wg", "wireguard-tools");
        Tools.assumeCommand("curl", "curl");
        Tools.assumeCommand("ping", "iputils-ping");
        dir = Files.createTempDirectory("pktkit-wg-example");
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        http.createContext("/", ex -> {
            byte[] body = ("hello " + ex.getRemoteAddress().getAddress().getHostAddress())
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Netns ns : clients) {
            ns.close(); // kills wireguard-go, removes its TUN and the veth
        }
        for (String wg : interfaces) {
            Files.deleteIfExists(Path.of("/var/run/wireguard", wg + ".sock"));
        }
        if (gateway != null) {
            gateway.close();
        }
        if (http != null) {
            http.stop(0);
        }
        if (dir != null) {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void sharedModePeersReachEachOtherAndTheHost() throws Exception {
        Netns a = start(false, 7, 8);
        Netns b = clients.get(1);
        assertEquals("hello 127.0.0.1", fetch(b), "peer to the host's loopback through slirp");
        CommandResult ping = a.exec(Duration.ofSeconds(30), "ping", "-c", "3", "-W", "5", "10.8.0.8");
        assertTrue(ping.ok(), "peer to peer through the hub: " + ping.describe());
        assertEquals(1, gateway.namespaces().size(), "one shared slirp namespace");
        assertEquals(0, gateway.slirp().counters().tcpRefusedByPolicy());
    }

    @Test
    void isolatedModePeersOnlyReachTheHost() throws Exception {
        Netns a = start(true, 7, 8);
        Netns b = clients.get(1);
        assertEquals("hello 127.0.0.1", fetch(a));
        assertEquals("hello 127.0.0.1", fetch(b));
        assertEquals(2, gateway.namespaces().size(), "a slirp namespace per peer");
        // the other peer's address is not on the hub (there is none): it is a host destination, and the egress
        // policy of this test allows only loopback, so the connect is refused by slirp and counted
        CommandResult r = a.exec(Duration.ofSeconds(30), "curl", "-sS", "--max-time", "10", "http://10.8.0.8:80/");
        assertFalse(r.ok(), "isolated peers must not reach each other: " + r.describe());
        assertEquals(1, gateway.slirp().counters().tcpRefusedByPolicy(), r.describe());
    }

    private String fetch(Netns ns) throws Exception {
        CommandResult r = ns.exec(Duration.ofSeconds(30), "curl", "-sS", "--max-time", "20", "--retry", "3",
                "--retry-connrefused", "http://10.0.2.2:" + http.getAddress().getPort() + "/");
        assertTrue(r.ok(), r.describe());
        return r.output().trim();
    }

    /** Starts the gateway (bound to the host side of the veths) and one wireguard-go client per host number. */
    private Netns start(boolean isolated, int... hosts) throws Exception {
        WireGuardKey server = WireGuardKey.generatePrivate();
        List<WireGuardKey> keys = new ArrayList<>();
        List<WireGuardPeerConfig> peers = new ArrayList<>();
        for (int h : hosts) {
            WireGuardKey k = WireGuardKey.generatePrivate();
            keys.add(k);
            peers.add(WireGuardPeerConfig.of(k.publicKey(), "10.8.0." + h + "/32"));
        }
        WireGuardConfig conf = new WireGuardConfig(server, 0, List.of("10.8.0.1/24"), List.of(), 0, List.of(), peers);
        for (int i = 0; i < hosts.length; i++) {
            Netns ns = Netns.create();
            clients.add(ns);
            String subnet = "10.254." + (hosts[i] * 4);
            ns.veth("wgc" + id + i, null, "wgh" + id + i).addresses(subnet + ".2/30", subnet + ".1/30").up();
        }
        // one socket for every client (bound to any address; each client uses its veth's far end); egress only to
        // loopback, so nothing a peer sends leaves this machine
        gateway = WireGuardGateway.start(new WireGuardGateway.Options(conf, "0.0.0.0", isolated, true,
                dst -> dst.getAddress().isLoopbackAddress()));
        for (int i = 0; i < hosts.length; i++) {
            Netns ns = clients.get(i);
            String wg = "wgx" + id + i;
            interfaces.add(wg);
            ns.start(dir.resolve(wg + ".log"), "wireguard-go", "-f", wg);
            Path sock = Path.of("/var/run/wireguard", wg + ".sock");
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!Files.exists(sock)) {
                assertTrue(System.nanoTime() < end, "wireguard-go's control socket " + sock);
                Thread.sleep(20); // polling for a file with a deadline
            }
            String quick = WireGuardGateway.clientConfig(keys.get(i), "10.8.0." + hosts[i] + "/24", server.publicKey(),
                    "10.254." + (hosts[i] * 4) + ".1:" + gateway.port(), "10.8.0.0/24");
            WireGuardConfig client = WireGuardConfig.parse(quick);
            Path setconf = dir.resolve(wg + ".conf");
            Files.writeString(setconf, client.toWgSetconf());
            ns.exec("wg", "setconf", wg, setconf.toString()).check();
            ns.exec("ip", "addr", "add", "10.8.0." + hosts[i] + "/24", "dev", wg).check();
            ns.exec("ip", "link", "set", wg, "up").check();
            ns.exec("ip", "route", "add", "10.0.2.0/24", "dev", wg).check();
        }
        return clients.get(0);
    }
}

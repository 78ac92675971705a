package dev.pktkit.wireguard.interop;

import dev.pktkit.wireguard.WireGuardDropReason;
import dev.pktkit.wireguard.WireGuardPeerConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our endpoint as server, wireguard-go (Debian's package, kernel TUN in a namespace) as client. */
class WireGuardGoInteropTest {
    @BeforeAll
    static void tools() {
        WgGoFixture.assumeUsable();
    }

    @Test
    void wireguardGoClientPingsAndTransfersOverIpv4Outer() throws Exception {
        try (WgGoFixture f = new WgGoFixture()) {
            f.startOurs("127.0.0.1", b -> b, p -> p);
            f.startWireguardGo(f.goConfig(0, f.ourPeerForGo(new InetSocketAddress("127.0.0.1", f.ourPort()))));
            Sh.Result ping = f.inOuter(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", WgGoFixture.OUR_V4);
            assertEquals(0, ping.exit(), ping.output() + f.goLog());
            Sh.Result ping6 = f.inOuter(30, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "5", WgGoFixture.OUR_V6);
            assertEquals(0, ping6.exit(), ping6.output());
            WgGoFixture.Payload data = f.payload(64);
            assertEquals(data.sha256(), f.transfer(data, true, WgGoFixture.OUR_V4, false, null), "64 MiB over IPv4");
            assertEquals(data.sha256(), f.transfer(data, true, WgGoFixture.OUR_V6, true, null), "64 MiB over IPv6");
            assertTrue(f.endpoint.status().get(0).rxBytes() > 128L << 20);
            assertTrue(f.endpoint.show().contains("latest handshake"), f.endpoint.show());
        }
    }

    @Test
    void overIpv6OuterTransportWithPresharedKeyAndPersistentKeepalive() throws Exception {
        try (WgGoFixture f = new WgGoFixture()) {
            dev.pktkit.wireguard.WireGuardKey psk = dev.pktkit.wireguard.WireGuardKey.generatePreshared();
            f.startOurs("::1", b -> b, p -> p.withPresharedKey(psk));
            WireGuardPeerConfig ours = f.ourPeerForGo(new InetSocketAddress("::1", f.ourPort()))
                    .withPresharedKey(psk).withPersistentKeepalive(1);
            f.startWireguardGo(f.goConfig(0, ours));
            // persistent keepalive: wireguard-go handshakes and keeps sending with no traffic at all
            WgGoFixture.waitFor(() -> f.endpoint.status().get(0).handshakes() > 0, 20, "a handshake");
            long rx = f.endpoint.status().get(0).rxBytes();
            WgGoFixture.waitFor(() -> f.endpoint.status().get(0).rxBytes() >= rx + 3 * 32, 10, "3 keepalives");
            assertTrue(f.endpoint.peerChannels().get(0).status().endpoint().getAddress() instanceof java.net.Inet6Address);
            Sh.Result ping = f.inOuter(30, "ping", "-c", "3", "-i", "0.2", "-W", "5", WgGoFixture.OUR_V4);
            assertEquals(0, ping.exit(), ping.output());
            WgGoFixture.Payload data = f.payload(64);
            assertEquals(data.sha256(), f.transfer(data, true, WgGoFixture.OUR_V4, false, null));
        }
    }

    @Test
    void roamingWhenWireguardGoChangesItsListenPortMidTransfer() throws Exception {
        try (WgGoFixture f = new WgGoFixture()) {
            f.startOurs("127.0.0.1", b -> b, p -> p);
            int port1 = 20000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(10000);
            int port2 = port1 + 1;
            f.startWireguardGo(f.goConfig(port1, f.ourPeerForGo(new InetSocketAddress("127.0.0.1", f.ourPort()))));
            assertEquals(0, f.inOuter(30, "ping", "-c", "1", "-W", "5", WgGoFixture.OUR_V4).exit());
            assertEquals(port1, f.endpoint.status().get(0).endpoint().getPort());
            WgGoFixture.Payload data = f.payload(64);
            long before = f.endpoint.status().get(0).rxBytes();
            String sum = f.transfer(data, true, WgGoFixture.OUR_V4, false, () -> {
                try {
                    WgGoFixture.waitFor(() -> f.endpoint.status().get(0).rxBytes() > before + (8 << 20), 60,
                            "8 MiB of the transfer");
                    Sh.run("wg", "set", f.goIf, "listen-port", Integer.toString(port2)).check();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(data.sha256(), sum, "the transfer continued across the port change");
            assertEquals(port2, f.endpoint.status().get(0).endpoint().getPort(), "we followed the new port");
        }
    }

    @Test
    void wrongServerKeyGetsNoAnswer() throws Exception {
        try (WgGoFixture f = new WgGoFixture()) {
            f.startOurs("127.0.0.1", b -> b, p -> p);
            WireGuardPeerConfig wrong = new WireGuardPeerConfig(
                    dev.pktkit.wireguard.WireGuardKey.generatePrivate().publicKey(), null,
                    f.ourPeerForGo(null).allowedIps(), new InetSocketAddress("127.0.0.1", f.ourPort()), 0);
            f.startWireguardGo(f.goConfig(0, wrong));
            Sh.Result ping = f.inOuter(10, "ping", "-c", "2", "-W", "2", WgGoFixture.OUR_V4);
            assertTrue(ping.exit() != 0, ping.output());
            assertTrue(f.endpoint.drops(WireGuardDropReason.BAD_MAC1) >= 1, f.endpoint.drops().toString());
            assertEquals(0, f.endpoint.status().get(0).txBytes(), "nothing was sent back");
            assertTrue(f.wgShow("latest-handshakes").trim().endsWith("\t0"), f.wgShow("latest-handshakes"));
        }
    }

    @Test
    void cookiesUnderAHandshakeFloodAndTheRealPeerStillConnects() throws Exception {
        try (WgGoFixture f = new WgGoFixture()) {
            f.startOurs("127.0.0.1", b -> b.underLoadThreshold(20), p -> p);
            f.startWireguardGo(f.goConfig(0, f.ourPeerForGo(new InetSocketAddress("127.0.0.1", f.ourPort()))));
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.net.DatagramSocket flood = f.outer.call(java.net.DatagramSocket::new);
            dev.pktkit.wireguard.noise.StaticIdentity junk = new dev.pktkit.wireguard.noise.StaticIdentity(
                    dev.pktkit.wireguard.crypto.Curve25519.generatePrivateKey());
            byte[] target = f.ourKey.publicKey().bytes();
            dev.pktkit.wireguard.noise.Handshake hs = new dev.pktkit.wireguard.noise.Handshake(junk, target, null);
            dev.pktkit.wireguard.noise.CookieGenerator mac = new dev.pktkit.wireguard.noise.CookieGenerator(target, 1);
            byte[] msg = hs.createInitiation(1, System.currentTimeMillis() * 1_000_000L);
            mac.addMacs(msg, 0); // valid mac1, no cookie: what a flood that knows our public key can send
            java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
            Thread flooder = Thread.ofPlatform().start(() -> {
                java.net.DatagramPacket dp = new java.net.DatagramPacket(msg, msg.length,
                        new InetSocketAddress("127.0.0.1", f.ourPort()));
                try {
                    // bounded: at most 100,000 datagrams, about 2,000 per second
                    while (!stop.get() && sent.get() < 100_000) {
                        for (int i = 0; i < 20; i++) {
                            flood.send(dp);
                            sent.incrementAndGet();
                        }
                        Thread.sleep(10);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                WgGoFixture.waitFor(() -> f.endpoint.drops(WireGuardDropReason.COOKIE_REQUIRED) > 100, 10,
                        "the endpoint to be under load");
                Sh.Result ping = f.inOuter(40, "ping", "-c", "1", "-W", "30", WgGoFixture.OUR_V4);
                assertEquals(0, ping.exit(), ping.output() + f.endpoint.drops());
                assertTrue(f.endpoint.cookieVerifiedHandshakes() >= 1, "wireguard-go's retry carried a valid mac2");
            } finally {
                stop.set(true);
                flooder.join(5000);
                flood.close();
            }
            assertEquals(1, f.endpoint.peerCount(), "the flood admitted nobody");
            assertTrue(f.endpoint.rateLimiterEntries() <= 1);
            assertTrue(f.endpoint.drops(WireGuardDropReason.COOKIE_REQUIRED) > 100);
        }
    }

    /** wireguard-go's own REKEY_AFTER_TIME (120 s, not configurable there): it rekeys as initiator, we answer. */
    @Test
    @org.junit.jupiter.api.Timeout(value = 200, unit = java.util.concurrent.TimeUnit.SECONDS) // beyond the 120 s default
    void wireguardGoRekeysOnItsOwn120SecondTimer() throws Exception {
        try (WgGoFixture f = new WgGoFixture()) {
            f.startOurs("127.0.0.1", b -> b, p -> p);
            f.startWireguardGo(f.goConfig(0, f.ourPeerForGo(new InetSocketAddress("127.0.0.1", f.ourPort()))));
            // 250 pings over 125 s: wireguard-go sends under a 120 s old keypair and starts a new handshake
            Sh.Result ping = f.inOuter(140, "ping", "-c", "250", "-i", "0.5", "-W", "2", WgGoFixture.OUR_V4);
            assertEquals(0, ping.exit(), ping.output());
            assertTrue(ping.output().contains("250 received"), ping.output());
            assertTrue(f.endpoint.status().get(0).handshakes() >= 2, f.endpoint.show());
        }
    }
}

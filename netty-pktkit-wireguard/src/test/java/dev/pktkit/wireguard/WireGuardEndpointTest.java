package dev.pktkit.wireguard;

import dev.pktkit.wireguard.wire.MessageType;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WireGuardEndpointTest {

    @Test
    void handshakeOnFirstPacketThenDataBothWays() {
        try (Harness h = new Harness().standard()) {
            Harness.Collector atB = h.collect(h.peerOfB());
            Harness.Collector atA = h.collect(h.peerOfA());
            byte[] sent = Harness.bytes(Harness.ipv4("10.0.0.1", "10.0.0.2", 100));
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 100));
            h.pump();
            assertEquals(1, h.count(h.sentByA, MessageType.INITIATION, false));
            assertEquals(1, h.count(h.sentByB, MessageType.RESPONSE, false));
            assertEquals(1, atB.packets.size());
            assertArrayEquals(sent, atB.packets.get(0), "padding removed, bytes intact");
            h.peerOfB().writeAndFlush(Harness.ipv6("fd00::2", "fd00::1", 1000));
            h.pump();
            assertEquals(1, atA.packets.size());
            assertEquals(1040, atA.packets.get(0).length);
            // transport messages are padded to 16
            h.sentByA.stream().filter(d -> d[0] == MessageType.TRANSPORT)
                    .forEach(d -> assertEquals(0, (d.length - 32) % 16));
            assertEquals(1, h.a.status().get(0).handshakes());
            assertTrue(h.b.status().get(0).rxBytes() > 0);
            assertTrue(h.a.show().contains("peer: " + h.keyB.publicKey().toBase64()));
            assertTrue(h.a.show().contains("endpoint: 192.0.2.2:51820"));
            assertTrue(h.b.drops().isEmpty(), h.b.drops().toString());
        }
    }

    @Test
    void presharedKeyMustMatch() {
        WireGuardKey psk = WireGuardKey.generatePreshared();
        Harness h = new Harness();
        h.build(x -> x.peer(WireGuardPeerConfig.of(h.keyB.publicKey(), "10.0.0.2/32").withEndpoint(Harness.ADDR_B)
                        .withPresharedKey(psk)),
                x -> x.peer(WireGuardPeerConfig.of(h.keyA.publicKey(), "10.0.0.1/32")
                        .withPresharedKey(WireGuardKey.generatePreshared())));
        try (h) {
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            assertEquals(1, h.a.drops(WireGuardDropReason.BAD_RESPONSE), "response under another psk refused");
        }
        Harness ok = new Harness();
        ok.build(x -> x.peer(WireGuardPeerConfig.of(ok.keyB.publicKey(), "10.0.0.2/32").withEndpoint(Harness.ADDR_B)
                        .withPresharedKey(psk)),
                x -> x.peer(WireGuardPeerConfig.of(ok.keyA.publicKey(), "10.0.0.1/32").withPresharedKey(psk)));
        try (ok) {
            Harness.Collector atB = ok.collect(ok.peerOfB());
            ok.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            ok.pump();
            assertEquals(1, atB.packets.size());
        }
    }

    @Test
    void cryptokeyRoutingDropsForeignSources() {
        try (Harness h = new Harness().standard()) {
            Harness.Collector atB = h.collect(h.peerOfB());
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.9", "10.0.0.2", 10));
            h.pump();
            assertEquals(0, atB.packets.size());
            assertEquals(1, h.b.drops(WireGuardDropReason.NOT_ALLOWED_SOURCE));
            assertEquals(h.peerOfB(), h.b.route(Harness.ip("10.0.0.1")));
            assertNull(h.b.route(Harness.ip("10.0.0.3")));
        }
    }

    @Test
    void retransmitsEveryRekeyTimeoutThenGivesUp() {
        try (Harness h = new Harness().standard()) {
            h.dropAtoB = d -> true;
            Future<Void> connected = h.a.connect(h.keyB.publicKey());
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            assertEquals(1, h.count(h.sentByA, MessageType.INITIATION, false));
            h.advance(4900, TimeUnit.MILLISECONDS);
            assertEquals(1, h.count(h.sentByA, MessageType.INITIATION, false), "not before REKEY_TIMEOUT");
            h.advance(500, TimeUnit.MILLISECONDS);
            assertEquals(2, h.count(h.sentByA, MessageType.INITIATION, false), "retried after 5 s + jitter");
            h.advance(100, TimeUnit.SECONDS);
            long n = h.count(h.sentByA, MessageType.INITIATION, false);
            assertEquals(1 + WireGuardTimers.DEFAULTS.maxHandshakeAttempts(), n, "18 retries over 90 s, then stop");
            assertTrue(connected.isDone() && !connected.isSuccess());
            h.advance(60, TimeUnit.SECONDS);
            assertEquals(n, h.count(h.sentByA, MessageType.INITIATION, false));
        }
    }

    @Test
    void responderSendsKeepaliveAfterKeepaliveTimeout() {
        try (Harness h = new Harness().standard()) {
            h.collect(h.peerOfB());
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            long before = h.count(h.sentByB, MessageType.TRANSPORT, true);
            h.advance(9900, TimeUnit.MILLISECONDS);
            assertEquals(before, h.count(h.sentByB, MessageType.TRANSPORT, true));
            h.advance(200, TimeUnit.MILLISECONDS);
            assertEquals(before + 1, h.count(h.sentByB, MessageType.TRANSPORT, true));
        }
    }

    @Test
    void initiatorRehandshakesWhenNotHearingBack() {
        try (Harness h = new Harness().standard()) {
            h.collect(h.peerOfB());
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            h.dropBtoA = d -> true; // B's keepalives never arrive
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            long init = h.count(h.sentByA, MessageType.INITIATION, false);
            h.advance(15_400, TimeUnit.MILLISECONDS); // KEEPALIVE + REKEY_TIMEOUT + jitter
            assertEquals(init + 1, h.count(h.sentByA, MessageType.INITIATION, false));
        }
    }

    @Test
    void persistentKeepalive() {
        Harness h = new Harness();
        h.build(x -> x.peer(WireGuardPeerConfig.of(h.keyB.publicKey(), "10.0.0.2/32").withEndpoint(Harness.ADDR_B)
                        .withPersistentKeepalive(25)),
                x -> x.peer(WireGuardPeerConfig.of(h.keyA.publicKey(), "10.0.0.1/32")));
        try (h) {
            h.pump();
            assertEquals(1, h.count(h.sentByA, MessageType.INITIATION, false), "a handshake at once");
            long ka = h.count(h.sentByA, MessageType.TRANSPORT, true);
            assertEquals(1, ka, "the keepalive that confirms the session");
            h.advance(24_900, TimeUnit.MILLISECONDS);
            assertEquals(ka, h.count(h.sentByA, MessageType.TRANSPORT, true));
            h.advance(200, TimeUnit.MILLISECONDS);
            assertEquals(ka + 1, h.count(h.sentByA, MessageType.TRANSPORT, true));
            h.advance(25, TimeUnit.SECONDS);
            assertEquals(ka + 2, h.count(h.sentByA, MessageType.TRANSPORT, true));
        }
    }

    @Test
    void rekeyAfterTimeRotatesAndPreviousKeypairStillOpens() {
        WireGuardTimers t = WireGuardTimers.builder().rekeyAfterTime(Duration.ofSeconds(10)).build();
        try (Harness h = new Harness().standard(x -> x.timers(t), x -> x.timers(t))) {
            Harness.Collector atB = h.collect(h.peerOfB());
            h.collect(h.peerOfA());
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            // capture one packet under the first keypair, held "in flight"
            List<byte[]> held = new ArrayList<>();
            h.dropAtoB = d -> {
                held.add(Harness.bytes(d.content()));
                return true;
            };
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 20));
            h.pump();
            h.dropAtoB = d -> false;
            assertEquals(1, held.size());
            h.advance(10_100, TimeUnit.MILLISECONDS);
            h.peerOfB().writeAndFlush(Harness.ipv4("10.0.0.2", "10.0.0.1", 10)); // B talks: A not rekeying on time as responder? A is initiator
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 30));
            h.pump();
            assertEquals(2, h.count(h.sentByA, MessageType.INITIATION, false), "initiator rekeys after 10 s");
            assertEquals(2, h.a.status().get(0).handshakes());
            int before = atB.packets.size();
            h.injectToB(held.get(0));
            assertEquals(before + 1, atB.packets.size(), "previous keypair still opens a late packet");
            h.injectToB(held.get(0));
            assertEquals(1, h.b.drops(WireGuardDropReason.REPLAYED_COUNTER));
        }
    }

    @Test
    void cookieUnderLoadThenValidMac2() {
        try (Harness h = new Harness().standard(x -> x, x -> x.underLoadThreshold(0))) {
            Harness.Collector atB = h.collect(h.peerOfB());
            Future<Void> c = h.a.connect(h.keyB.publicKey());
            h.pump();
            assertEquals(1, h.count(h.sentByB, MessageType.COOKIE_REPLY, false));
            assertEquals(1, h.b.drops(WireGuardDropReason.COOKIE_REQUIRED));
            assertFalse(c.isDone());
            h.advance(5400, TimeUnit.MILLISECONDS);
            assertTrue(c.isSuccess(), "retried initiation carries mac2 and is answered");
            assertEquals(1, h.count(h.sentByB, MessageType.RESPONSE, false));
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            assertEquals(1, atB.packets.size());
        }
    }

    @Test
    void perSourceRateLimitUnderLoad() {
        try (Harness h = new Harness().standard(x -> x, x -> x.underLoadThreshold(0).handshakeRatePerSource(1, 2))) {
            h.a.connect(h.keyB.publicKey());
            h.pump(); // cookie
            h.advance(5400, TimeUnit.MILLISECONDS); // handshake with mac2
            // replays of a fresh-looking initiation burst: new initiations from A via endpoint changes
            for (int i = 0; i < 5; i++) {
                h.a.setEndpoint(h.keyB.publicKey(), Harness.ADDR_B);
                h.advance(30, TimeUnit.MILLISECONDS);
            }
            assertTrue(h.b.drops(WireGuardDropReason.RATE_LIMITED) >= 2, h.b.drops().toString());
        }
    }

    @Test
    void replayedInitiationIsRefused() {
        try (Harness h = new Harness().standard()) {
            h.a.connect(h.keyB.publicKey());
            h.pump();
            byte[] init = h.sentByA.stream().filter(d -> d[0] == MessageType.INITIATION).findFirst().orElseThrow();
            h.injectToB(init);
            assertEquals(1, h.b.drops(WireGuardDropReason.INITIATION_FLOOD), "within 20 ms");
            h.advance(1, TimeUnit.SECONDS);
            h.injectToB(init);
            assertEquals(1, h.b.drops(WireGuardDropReason.REPLAYED_INITIATION));
            assertEquals(1, h.count(h.sentByB, MessageType.RESPONSE, false));
        }
    }

    @Test
    void roamingFollowsTheLastAuthenticatedSource() {
        try (Harness h = new Harness().standard()) {
            Harness.Collector atA = h.collect(h.peerOfA());
            h.collect(h.peerOfB());
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            InetSocketAddress moved = new InetSocketAddress("192.0.2.77", 40999);
            h.sourceOfA = moved;
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            assertEquals(moved, h.peerOfB().status().endpoint());
            h.peerOfB().writeAndFlush(Harness.ipv4("10.0.0.2", "10.0.0.1", 10));
            h.pump();
            assertEquals(1, atA.packets.size(), "B answers at the new address");
        }
    }

    @Test
    void endpointChangeHandshakesAtOnce() {
        try (Harness h = new Harness().standard()) {
            h.a.connect(h.keyB.publicKey());
            h.pump();
            assertEquals(1, h.count(h.sentByA, MessageType.INITIATION, false));
            h.advance(100, TimeUnit.MILLISECONDS);
            h.a.setEndpoint(h.keyB.publicKey(), Harness.ADDR_B);
            h.pump();
            assertEquals(2, h.count(h.sentByA, MessageType.INITIATION, false), "no REKEY_TIMEOUT wait");
        }
    }

    @Test
    void unknownPeerCallbackAdmits() {
        Harness h = new Harness();
        List<WireGuardKey> asked = new ArrayList<>();
        h.build(x -> x.peer(WireGuardPeerConfig.of(h.keyB.publicKey(), "10.0.0.0/24").withEndpoint(Harness.ADDR_B)),
                x -> x.unknownPeerHandler((k, src) -> {
                    asked.add(k);
                    return WireGuardPeerConfig.of(k, "10.0.0.1/32");
                }));
        try (h) {
            assertEquals(0, h.b.peerCount());
            Future<Void> c = h.a.connect(h.keyB.publicKey());
            h.pump();
            assertTrue(c.isSuccess());
            assertEquals(List.of(h.keyA.publicKey()), asked);
            assertNotNull(h.peerOfB());
            assertEquals(Harness.ADDR_A, h.peerOfB().status().endpoint());
        }
    }

    @Test
    void unknownKeyWithoutCallbackGetsNoAnswer() {
        Harness h = new Harness();
        h.build(x -> x.peer(WireGuardPeerConfig.of(h.keyB.publicKey(), "10.0.0.0/24").withEndpoint(Harness.ADDR_B)),
                x -> x);
        try (h) {
            h.a.connect(h.keyB.publicKey());
            h.pump();
            assertEquals(0, h.sentByB.size());
            assertEquals(1, h.b.drops(WireGuardDropReason.BAD_INITIATION));
        }
    }

    @Test
    void closingThePeerChannelRemovesThePeerAndBack() {
        try (Harness h = new Harness().standard()) {
            h.a.connect(h.keyB.publicKey());
            h.pump();
            WireGuardPeerChannel ch = h.peerOfB();
            ch.close();
            h.chB.runPendingTasks();
            assertEquals(0, h.b.peerCount());
            assertNull(h.b.route(Harness.ip("10.0.0.1")));
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            assertEquals(1, h.b.drops(WireGuardDropReason.UNKNOWN_INDEX), "its keys are gone");
            WireGuardPeerChannel chA = h.peerOfA();
            assertTrue(h.a.removePeer(h.keyB.publicKey()).getNow());
            assertFalse(chA.isOpen());
            // added back while running
            assertTrue(h.b.addPeer(WireGuardPeerConfig.of(h.keyA.publicKey(), "10.0.0.1/32")).isSuccess());
            assertEquals(1, h.b.peerCount());
        }
    }

    @Test
    void boundsOnQueueAndPeers() {
        try (Harness h = new Harness().standard(x -> x.maxQueuedPerPeer(4), x -> x.maxPeers(1))) {
            h.dropAtoB = d -> true;
            for (int i = 0; i < 10; i++) {
                h.peerOfA().write(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            }
            h.peerOfA().flush();
            h.pump();
            assertEquals(6, h.a.drops(WireGuardDropReason.QUEUE_FULL));
            assertFalse(h.b.addPeer(WireGuardPeerConfig.of(WireGuardKey.generatePrivate().publicKey())).isSuccess());
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 1500));
            assertEquals(1, h.a.drops(WireGuardDropReason.OVERSIZED));
        }
    }

    @Test
    void keysZeroedAfterThreeRejectAfterTime() {
        try (Harness h = new Harness().standard()) {
            h.collect(h.peerOfB());
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            List<byte[]> held = new ArrayList<>();
            h.dropAtoB = d -> held.add(Harness.bytes(d.content()));
            h.dropBtoA = d -> true;
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            h.dropAtoB = d -> true;
            h.advance(181, TimeUnit.SECONDS);
            h.injectToB(held.get(0));
            assertEquals(1, h.b.drops(WireGuardDropReason.EXPIRED_KEYPAIR));
            h.advance(360, TimeUnit.SECONDS);
            h.injectToB(held.get(0));
            assertEquals(1, h.b.drops(WireGuardDropReason.UNKNOWN_INDEX), "keys zeroed and forgotten");
        }
    }
}

package dev.pktkit.wireguard;

import dev.pktkit.wireguard.wire.MessageType;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every message kind truncated at every length, oversized, with a wrong type or reserved byte, a wrong counter,
 * replayed: each is dropped and counted under its reason, nothing leaks (LeakGuard), and the session still works.
 */
class HostileInputTest {
    private static long total(WireGuardEndpoint e) {
        return e.drops().values().stream().mapToLong(Long::longValue).sum();
    }

    private static byte[] first(java.util.List<byte[]> sent, int type) {
        return sent.stream().filter(d -> d[0] == type).findFirst().orElseThrow();
    }

    @Test
    void everyKindTruncatedOversizedMistypedAndReplayed() {
        try (Harness h = new Harness().standard(x -> x, x -> x)) {
            Harness.Collector atB = h.collect(h.peerOfB());
            // a cookie reply to capture: B under load once
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 64));
            h.pump();
            byte[] init = first(h.sentByA, MessageType.INITIATION);
            byte[] resp = first(h.sentByB, MessageType.RESPONSE);
            byte[] data = first(h.sentByA, MessageType.TRANSPORT);
            assertEquals(1, atB.packets.size());

            for (byte[] msg : new byte[][] {init, resp, data}) {
                for (int len = 0; len < msg.length; len++) {
                    long before = total(h.b) + total(h.a);
                    byte[] cut = Arrays.copyOf(msg, len);
                    h.injectToB(cut);
                    h.injectToA(cut);
                    assertEquals(before + 2, total(h.b) + total(h.a), "truncated to " + len + ": " + h.b.drops());
                }
                long before = total(h.b);
                h.injectToB(Arrays.copyOf(msg, msg.length + 1));
                assertEquals(before + 1, total(h.b), "oversized");
                for (int type : new int[] {0, 5, 255}) {
                    byte[] t = msg.clone();
                    t[0] = (byte) type;
                    h.injectToB(t);
                }
                byte[] reserved = msg.clone();
                reserved[2] = 1;
                h.injectToB(reserved);
                assertEquals(before + 5, total(h.b));
            }
            assertTrue(h.b.drops(WireGuardDropReason.MALFORMED) > 0);
            assertTrue(h.b.drops(WireGuardDropReason.BAD_AUTH) > 0, "transport truncated past its header");

            long auth = h.b.drops(WireGuardDropReason.BAD_AUTH);
            byte[] wrongCounter = data.clone();
            wrongCounter[8] ^= 1;
            h.injectToB(wrongCounter);
            assertEquals(auth + 1, h.b.drops(WireGuardDropReason.BAD_AUTH), "wrong counter fails authentication");

            h.injectToB(data);
            assertEquals(1, h.b.drops(WireGuardDropReason.REPLAYED_COUNTER));
            h.advance(1, TimeUnit.SECONDS);
            h.injectToB(init);
            assertEquals(1, h.b.drops(WireGuardDropReason.REPLAYED_INITIATION));
            h.injectToA(resp);
            assertEquals(1, h.a.drops(WireGuardDropReason.BAD_RESPONSE), "no initiation in flight any more");
            byte[] junkMac = init.clone();
            junkMac[120] ^= 1;
            h.injectToB(junkMac);
            assertEquals(1, h.b.drops(WireGuardDropReason.BAD_MAC1));
            byte[] cookie = new byte[MessageType.COOKIE_REPLY_LEN];
            cookie[0] = MessageType.COOKIE_REPLY;
            h.injectToA(cookie);
            assertEquals(1, h.a.drops(WireGuardDropReason.BAD_COOKIE_REPLY));
            assertEquals(0, h.b.drops(WireGuardDropReason.INTERNAL_ERROR));
            assertEquals(0, h.a.drops(WireGuardDropReason.INTERNAL_ERROR));

            // survived: the session still carries data both ways
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 64));
            h.pump();
            assertEquals(2, atB.packets.size());
        }
    }

    @Test
    void garbageInsideAValidTransportIsDropped() {
        try (Harness h = new Harness().standard()) {
            Harness.Collector atB = h.collect(h.peerOfB());
            h.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            h.pump();
            // an authenticated packet that is not IP, and one whose length field lies
            io.netty.buffer.ByteBuf notIp = io.netty.buffer.Unpooled.buffer(40).writeZero(40);
            h.peerOfA().writeAndFlush(notIp);
            io.netty.buffer.ByteBuf lying = Harness.ipv4("10.0.0.1", "10.0.0.2", 10);
            lying.setShort(2, 1000);
            h.peerOfA().writeAndFlush(lying);
            h.pump();
            assertEquals(2, h.b.drops(WireGuardDropReason.BAD_INNER_PACKET));
            assertEquals(1, atB.packets.size());
        }
    }
}

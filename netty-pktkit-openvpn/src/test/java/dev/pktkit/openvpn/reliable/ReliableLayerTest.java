package dev.pktkit.openvpn.reliable;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reliability layer under a virtual clock (nanoseconds passed in by the test). */
class ReliableLayerTest {
    static final long S = 1_000_000_000L;
    final List<ByteBuf> held = new ArrayList<>();
    ReliableLayer layer;

    @AfterEach
    void release() {
        if (layer != null) {
            layer.release();
        }
        held.forEach(ByteBuf::release);
    }

    static ByteBuf msg(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    List<Long> due(long now) {
        List<Long> ids = new ArrayList<>();
        layer.pollRetransmissions(now, (id, b) -> ids.add(id));
        return ids;
    }

    @Test
    void messageIdsStartAtZeroWithoutGapsAndWindowIsSix() {
        layer = new ReliableLayer(ReliableConfig.DEFAULT, 0);
        for (int i = 0; i < 6; i++) {
            assertTrue(layer.canSend());
            assertEquals(i, layer.send(msg("m" + i), 0));
        }
        assertFalse(layer.canSend());
        assertThrows(IllegalStateException.class, () -> layer.send(msg("x"), 0));
        // Acking message 3 alone does not open the window (acks are not cumulative, the window starts at 0).
        assertTrue(layer.acknowledge(3, 0));
        assertFalse(layer.canSend());
        assertEquals(5, layer.unacknowledged());
        assertTrue(layer.acknowledge(0, 0));
        assertTrue(layer.canSend());
        assertEquals(6, layer.send(msg("m6"), 0));
        assertFalse(layer.canSend());
        // An ack for a message already acknowledged, or never sent, is counted and ignored.
        assertFalse(layer.acknowledge(3, 0));
        assertFalse(layer.acknowledge(99, 0));
        assertEquals(2, layer.unknownAcks());
    }

    @Test
    void retransmitsAfterTlsTimeoutWithExponentialBackoff() {
        layer = new ReliableLayer(ReliableConfig.DEFAULT, 0);
        layer.send(msg("hello"), 0);
        assertEquals(2 * S, layer.nextDeadline());
        assertEquals(List.of(), due(2 * S - 1));
        assertEquals(List.of(0L), due(2 * S));
        // Next try 4 s later, then 8 s, then 16 s.
        assertEquals(6 * S, layer.nextDeadline());
        assertEquals(List.of(), due(6 * S - 1));
        assertEquals(List.of(0L), due(6 * S));
        assertEquals(14 * S, layer.nextDeadline());
        assertEquals(List.of(0L), due(14 * S));
        assertEquals(30 * S, layer.nextDeadline());
        assertEquals(3, layer.retransmissions());
        layer.acknowledge(0, 15 * S);
        assertEquals(Long.MAX_VALUE, layer.nextDeadline());
        assertEquals(List.of(), due(100 * S));
    }

    @Test
    void retransmissionHandsOutTheBufferedPayload() {
        layer = new ReliableLayer(ReliableConfig.DEFAULT, 0);
        layer.send(msg("first"), 0);
        layer.send(msg("second"), S);
        List<String> seen = new ArrayList<>();
        layer.pollRetransmissions(3 * S, (id, b) -> seen.add(id + ":" + b.toString(StandardCharsets.US_ASCII)));
        assertEquals(List.of("0:first", "1:second"), seen);
    }

    @Test
    void threeLaterAcksTriggerFastRetransmission() {
        layer = new ReliableLayer(ReliableConfig.DEFAULT, 0);
        for (int i = 0; i < 4; i++) {
            layer.send(msg("m" + i), 0);
        }
        layer.acknowledge(1, S / 10);
        layer.acknowledge(2, S / 10);
        assertEquals(List.of(), due(S / 10));
        layer.acknowledge(3, S / 10);
        assertEquals(List.of(0L), due(S / 10));
    }

    @Test
    void handWindowBoundsTheHandshake() {
        layer = new ReliableLayer(ReliableConfig.DEFAULT, 5 * S);
        assertFalse(layer.handWindowExpired(64 * S));
        assertTrue(layer.handWindowExpired(65 * S));
        ReliableLayer shortOne = new ReliableLayer(ReliableConfig.DEFAULT.withHandWindow(Duration.ofSeconds(10)), 0);
        assertTrue(shortOne.handWindowExpired(10 * S));
        shortOne.release();
    }

    @Test
    void receiveDeliversInOrderAndAcksEveryMessageIncludingDuplicates() {
        layer = new ReliableLayer(ReliableConfig.DEFAULT, 0);
        assertEquals(ReliableLayer.Received.ACCEPTED, layer.receive(1, msg("b")));
        assertNull(layer.poll(), "message 0 is missing, so 1 is held back");
        assertEquals(ReliableLayer.Received.ACCEPTED, layer.receive(0, msg("a")));
        assertEquals(ReliableLayer.Received.DUPLICATE, layer.receive(1, msg("b again")));
        ByteBuf a = layer.poll();
        held.add(a);
        ByteBuf b = layer.poll();
        held.add(b);
        assertEquals("a", a.toString(StandardCharsets.US_ASCII));
        assertEquals("b", b.toString(StandardCharsets.US_ASCII));
        assertNull(layer.poll());
        // A retransmission of an already delivered message is acknowledged again (its ack was lost).
        assertEquals(ReliableLayer.Received.DUPLICATE, layer.receive(0, msg("a again")));
        long[] out = new long[8];
        assertEquals(2, layer.drainAcks(out, 8));
        assertEquals(1, out[0]);
        assertEquals(0, out[1]);
        assertEquals(2, layer.duplicates());
        assertEquals(2, layer.expectedMessageId());
    }

    @Test
    void twelveReceiveSlotsAndMessagesBeyondAreNotAcknowledged() {
        layer = new ReliableLayer(ReliableConfig.DEFAULT, 0);
        assertEquals(ReliableLayer.Received.OUT_OF_WINDOW, layer.receive(12, msg("too far")));
        assertEquals(0, layer.pendingAcks());
        assertEquals(ReliableLayer.Received.ACCEPTED, layer.receive(11, msg("last slot")));
        assertEquals(1, layer.pendingAcks());
        assertEquals(1, layer.outOfWindow());
    }

    @Test
    void atMostFourAcksRideOnOnePacketAndTheAckQueueIsBounded() {
        layer = new ReliableLayer(ReliableConfig.DEFAULT, 0);
        for (int i = 0; i < 8; i++) {
            assertEquals(ReliableLayer.Received.ACCEPTED, layer.receive(i, msg("m" + i)));
        }
        assertEquals(ReliableLayer.Received.ACK_QUEUE_FULL, layer.receive(8, msg("m8")));
        long[] out = new long[8];
        assertEquals(4, layer.drainAcks(out, layer.config().piggybackAcks()));
        assertEquals(List.of(0L, 1L, 2L, 3L), List.of(out[0], out[1], out[2], out[3]));
        assertEquals(4, layer.pendingAcks());
        assertEquals(ReliableLayer.Received.ACCEPTED, layer.receive(8, msg("m8")));
        assertEquals(4, layer.drainAcks(out, 4));
        assertEquals(List.of(4L, 5L, 6L, 7L), List.of(out[0], out[1], out[2], out[3]));
        assertEquals(1, layer.drainAcks(out, 4));
        assertEquals(8, out[0]);
    }

    @Test
    void configRejectsNonsense() {
        assertThrows(IllegalArgumentException.class,
                () -> new ReliableConfig(0, 12, 8, 4, Duration.ofSeconds(2), Duration.ofSeconds(60), 3));
        assertThrows(IllegalArgumentException.class,
                () -> new ReliableConfig(6, 12, 8, 9, Duration.ofSeconds(2), Duration.ofSeconds(60), 3));
        assertThrows(IllegalArgumentException.class,
                () -> ReliableConfig.DEFAULT.withHandWindow(Duration.ofSeconds(1)));
    }
}

package dev.pktkit.wireguard;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.pktkit.wireguard.wire.MessageDecoder;
import dev.pktkit.wireguard.wire.MessageType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Coverage-guided fuzzing of the message decoder and the endpoint's receive path: each input is classified
 * (heap buffer at offset 0 and direct buffer at an odd offset) and then delivered as a datagram to an endpoint
 * with an established session. The first byte steers: its low 3 bits may stamp a message type and zero reserved
 * bytes, bit 3 may put the live session's receiver index in, so inputs reach mac checks, decryption and the
 * replay filter rather than stopping at the type byte. Nothing may throw, nothing may count as an internal error,
 * nothing may leak. {@code JAZZER_FUZZ=1} (this module's surefire configuration) fuzzes for {@code maxDuration}.
 */
class WireGuardFuzzTest {
    private static Harness harness;
    private static int liveIndexOfB;

    private static synchronized Harness harness() {
        if (harness == null) {
            harness = new Harness().standard();
            harness.collect(harness.peerOfB());
            harness.peerOfA().writeAndFlush(Harness.ipv4("10.0.0.1", "10.0.0.2", 10));
            harness.pump();
            byte[] data = harness.sentByA.stream().filter(d -> d[0] == MessageType.TRANSPORT).findFirst()
                    .orElseThrow();
            liveIndexOfB = Unpooled.wrappedBuffer(data).getIntLE(4);
        }
        return harness;
    }

    @AfterAll
    static void close() {
        if (harness != null) {
            harness.close();
            harness = null;
        }
    }

    @FuzzTest(maxDuration = "10s")
    void receive(byte[] input) {
        if (input.length == 0) {
            return;
        }
        Harness h = harness();
        int steer = input[0] & 0xFF;
        byte[] msg = java.util.Arrays.copyOfRange(input, 1, input.length);
        if ((steer & 7) >= 1 && (steer & 7) <= 4 && msg.length >= 4) {
            msg[0] = (byte) (steer & 7);
            msg[1] = msg[2] = msg[3] = 0;
        }
        if ((steer & 8) != 0 && msg.length >= 8) {
            msg[4] = (byte) liveIndexOfB;
            msg[5] = (byte) (liveIndexOfB >>> 8);
            msg[6] = (byte) (liveIndexOfB >>> 16);
            msg[7] = (byte) (liveIndexOfB >>> 24);
        }
        ByteBuf heap = Unpooled.wrappedBuffer(msg);
        ByteBuf direct = Unpooled.directBuffer(msg.length + 7).writeZero(7).writeBytes(msg);
        try {
            assertEquals(MessageDecoder.classify(heap, 0, msg.length), MessageDecoder.classify(direct, 7, msg.length));
        } finally {
            heap.release();
            direct.release();
        }
        h.injectToB(msg);
        assertEquals(0, h.b.drops(WireGuardDropReason.INTERNAL_ERROR));
    }
}

package dev.pktkit.vtcp.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 6528 §3 initial sequence numbers: {@code ISN = M + F(4-tuple, secret)}, M a 4 µs clock. The same tuple
 * and secret give the same offset, so ISNs of one tuple advance with the clock (1 per 4 µs, which keeps old
 * duplicates of an earlier incarnation out of the window); another secret or another tuple gives an unrelated
 * one, so an off-path attacker cannot predict a connection's ISN from its own connections.
 */
class IsnTest {
    private static TcpEngine engine(byte[] secret) {
        return new TcpEngine(new TcpEngineConfig().secret(secret), System::nanoTime, d -> { }, new SegmentSink() {
            @Override
            public void send(TcpFlow flow, ByteBuf header, ByteBuf payload, int ecn) {
                header.release();
                if (payload != null) {
                    payload.release();
                }
            }
        }, PooledByteBufAllocator.DEFAULT);
    }

    private static FlowKey v4(int remotePort) {
        return new FlowKey().set(false, 0, 0x0A00_0001L, 0, 0x0A00_0002L, 40000, remotePort);
    }

    @Test
    void isnIsAClockPlusAKeyedHashOfTheFourTuple() {
        byte[] k1 = new byte[32];
        byte[] k2 = new byte[32];
        k2[0] = 1;
        TcpEngine a = engine(k1);
        TcpEngine sameKey = engine(k1.clone());
        TcpEngine otherKey = engine(k2);
        long t = 123_456_788_000L; // a multiple of 4 µs
        FlowKey f = v4(80);
        assertEquals(a.isn(f, t), sameKey.isn(f, t), "same tuple, secret and time: same ISN");
        assertNotEquals(a.isn(f, t), otherKey.isn(f, t), "another secret: another ISN");
        // M: one per 4 µs
        assertEquals(1000, a.isn(f, t + 4_000_000L) - a.isn(f, t));
        assertEquals(a.isn(f, t), a.isn(f, t + 3_999L), "within one 4 µs tick");
        // F: unrelated offsets for neighbouring tuples (not a counter or a linear function of the port)
        Set<Integer> isns = new HashSet<>();
        Set<Integer> steps = new HashSet<>();
        for (int port = 1; port <= 1000; port++) {
            isns.add(a.isn(v4(port), t));
            steps.add(a.isn(v4(port + 1), t) - a.isn(v4(port), t));
        }
        assertEquals(1000, isns.size(), "distinct ISNs for 1000 tuples");
        assertTrue(steps.size() > 990, "steps between neighbouring tuples vary: " + steps.size() + " distinct");
    }
}

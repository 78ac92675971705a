package dev.pktkit.vtcp.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retransmission without copying: the send queue holds the application's buffer, and every segment the engine
 * hands to its sink, first transmissions and retransmissions alike, is a slice of that buffer's memory (here the
 * same {@code byte[]}), not a copy.
 */
class NoCopyRetransmitTest {
    static final long S = 1_000_000_000L;

    @Test
    void segmentsAndRetransmissionsAreSlicesOfTheWrittenBuffer() {
        try (TestNet net = new TestNet(3)) {
            TestNet.Node a = net.node(new TcpEngineConfig().secret(new byte[32]));
            TestNet.Node b = net.node();
            Recorder client = new Recorder();
            Recorder server = new Recorder();
            b.engine.listen(TestNet.inet(b.address), 80, 16, new TcpSocketOptions(), server);
            TcpConnection c = a.engine.connect(a.sock(40001), b.sock(80), new TcpSocketOptions(), client);
            assertTrue(net.runUntil(() -> client.established && server.established, 10 * S));

            byte[] data = StateMachineTest.bytes(200_000, 9);
            ByteBuf user = Unpooled.wrappedBuffer(data); // heap: a slice of it has the same array
            int[] payloads = new int[2]; // all, and those not backed by the written array
            a.payloadTap = p -> {
                payloads[0]++;
                if (!p.hasArray() || p.array() != data) {
                    payloads[1]++;
                }
            };
            // lose every tenth data segment once: each is sent again from the same memory
            Set<Integer> dropped = new HashSet<>();
            int[] n = new int[1];
            net.filter = (from, tcp, seq, len, flags) -> from == 0 && len > 0 && n[0]++ % 10 == 5 && dropped.add(seq);
            c.write(user);
            c.flush();
            assertTrue(net.runUntil(() -> server.receivedBytes == data.length, 60 * S));
            assertArrayEquals(data, server.received.toByteArray());
            assertTrue(dropped.size() > 5, "segments lost: " + dropped.size());
            assertTrue(c.stats().retransmits() >= dropped.size(),
                    "retransmits " + c.stats().retransmits() + " for " + dropped.size() + " losses");
            assertEquals(0, payloads[1], "payloads that were copies rather than slices of the written buffer");
            assertTrue(payloads[0] >= data.length / c.stats().mss() + dropped.size(), "payloads " + payloads[0]);
        }
    }
}

package dev.pktkit.vtcp.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Segmentation offload ({@link TcpEngineConfig#largeSegmentBytes}): runs of full-sized segments leave the engine
 * as one large segment for the device to cut (the test net cuts them as a NIC does), while the scoreboard, SACK
 * and retransmissions stay per MSS.
 */
class LargeSegmentTest {
    static final long S = 1_000_000_000L;

    private record Run(TestNet net, TestNet.Node a, TestNet.Node b, Recorder client, Recorder server,
                       TcpConnection c) {
    }

    private static Run connect(long seed, int largeBytes) {
        TestNet net = new TestNet(seed);
        TestNet.Node a = net.node(new TcpEngineConfig().secret(new byte[32]).largeSegmentBytes(largeBytes));
        TestNet.Node b = net.node();
        Recorder client = new Recorder();
        Recorder server = new Recorder();
        b.engine.listen(TestNet.inet(b.address), 80, 16, new TcpSocketOptions(), server);
        TcpConnection c = a.engine.connect(a.sock(40000), b.sock(80),
                new TcpSocketOptions().sendBuffer(4 << 20), client);
        assertTrue(net.runUntil(() -> client.established && server.established, 10 * S));
        return new Run(net, a, b, client, server, c);
    }

    @Test
    void fullSizedRunsLeaveAsLargeSegmentsCutAtTheMss() {
        Run r = connect(1, 64_000);
        try (TestNet net = r.net()) {
            int[] maxPiece = new int[1];
            net.tap = (from, seg) -> {
                if (from == 0) {
                    int hl = (seg.getUnsignedByte(seg.readerIndex() + 12) >>> 4) << 2;
                    maxPiece[0] = Math.max(maxPiece[0], seg.readableBytes() - hl);
                }
            };
            byte[] data = StateMachineTest.bytes(3_000_000, 5);
            r.c().write(StateMachineTest.buf(data));
            r.c().flush();
            assertTrue(net.runUntil(() -> r.server().receivedBytes == data.length, 30 * S));
            assertArrayEquals(data, r.server().received.toByteArray());
            int mss = r.c().stats().mss();
            assertTrue(r.a().large.size() > 10, "large segments: " + r.a().large.size());
            for (int[] l : r.a().large) {
                assertEquals(mss, l[1], "cut size is the connection's MSS");
                assertTrue(l[0] > mss && l[0] <= 64_000, "length " + l[0]);
            }
            assertTrue(maxPiece[0] <= mss, "every piece on the wire fits the MSS: " + maxPiece[0]);
            // far fewer emissions than segments: the per-segment work of the sink is what this saves
            long segments = data.length / mss;
            assertTrue(r.c().stats().segmentsSent() < segments / 4,
                    r.c().stats().segmentsSent() + " emissions for " + segments + " segments");
        }
    }

    @Test
    void lossIsRepairedPerSegment() {
        Run r = connect(2, 64_000);
        try (TestNet net = r.net()) {
            net.loss = 0.02;
            byte[] data = StateMachineTest.bytes(2_000_000, 6);
            r.c().write(StateMachineTest.buf(data));
            r.c().flush();
            assertTrue(net.runUntil(() -> r.server().receivedBytes == data.length, 120 * S));
            assertArrayEquals(data, r.server().received.toByteArray());
            TcpConnectionStats st = r.c().stats();
            assertTrue(st.retransmits() > 0, st.toString());
            assertTrue(!r.a().large.isEmpty());
            // a retransmission is one MSS at most, never a whole large segment: retransmitted bytes stay close to
            // what the link lost (2 %), far below what resending large segments would cost
            assertTrue(st.retransmits() * (long) st.mss() < data.length / 10, st.toString());
        }
    }

    @Test
    void offByDefault() {
        Run r = connect(3, 0);
        try (TestNet net = r.net()) {
            byte[] data = StateMachineTest.bytes(500_000, 7);
            r.c().write(StateMachineTest.buf(data));
            r.c().flush();
            assertTrue(net.runUntil(() -> r.server().receivedBytes == data.length, 30 * S));
            assertTrue(r.a().large.isEmpty());
        }
    }
}

package dev.pktkit.vtcp.engine;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.pktkit.vtcp.engine.StateMachineTest.S;
import static dev.pktkit.vtcp.engine.StateMachineTest.buf;
import static dev.pktkit.vtcp.engine.StateMachineTest.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two engines whose sinks deliver inside {@link SegmentSink#send} (as two virtual hosts on one event loop over a
 * {@code PacketPipe} do): the peer's ACK comes back while the sender is still in its output loop. Before the engine
 * deferred such input, the nested ACK moved SND.UNA and SND.NXT under the caller: SND.NXT ran one MSS past the
 * send queue (bytesInFlight = sendBufferBytes + MSS), the scoreboard got an out-of-order record that triggered
 * spurious fast retransmits, and the handshake's RTT sample was taken against an unset timer (srtt of hours, RTO
 * 60 s) — the virtual host's "RTT grows after a zero-window phase" problem.
 */
class SynchronousSinkTest {

    @Test
    void synchronousDeliveryKeepsTheSenderConsistent() {
        try (TestNet net = new TestNet(5)) {
            net.synchronous = true;
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            Recorder client = new Recorder();
            Recorder server = new Recorder();
            TcpSocketOptions co = new TcpSocketOptions().sendBuffer(64 * 1024);
            b.engine.listen(TestNet.inet(b.address), 80, 16, new TcpSocketOptions(), server);
            TcpConnection c = a.engine.connect(a.sock(40000), b.sock(80), co, client);
            assertTrue(net.runUntil(() -> client.established && server.established, S));
            TcpConnectionStats hs = c.stats();
            assertTrue(hs.srttNanos() < S && hs.rtoNanos() < 2 * S, "handshake RTT sample: " + hs);
            byte[] d = bytes(2_000_000, 9);
            int off = 0;
            while (off < d.length) {
                while (off < d.length && c.sendBufferFree() > 0) {
                    int n = Math.min(16 * 1024, d.length - off);
                    c.write(buf(Arrays.copyOfRange(d, off, off + n)));
                    off += n;
                }
                c.flush();
                TcpConnectionStats st = c.stats();
                assertTrue(st.bytesInFlight() <= st.sendBufferBytes(), "in flight within the send queue: " + st);
                assertTrue(net.runUntil(() -> c.sendBufferFree() > 0, S));
            }
            c.close();
            assertTrue(net.runUntil(() -> server.peerFin && c.state() == TcpState.FIN_WAIT_2, S),
                    "FIN acknowledged: " + c.stats());
            assertArrayEquals(d, server.received.toByteArray());
            TcpConnectionStats st = c.stats();
            assertEquals(0, st.retransmits(), "nothing retransmitted on a lossless link: " + st);
            assertEquals(0, st.fastRetransmits(), st.toString());
            assertEquals(0, st.bytesInFlight(), st.toString());
            assertTrue(st.srttNanos() < S / 10, "srtt: " + st);
            assertEquals(0, a.engine.drops(DropReason.DEFERRED_INPUT_FULL));
        }
    }
}

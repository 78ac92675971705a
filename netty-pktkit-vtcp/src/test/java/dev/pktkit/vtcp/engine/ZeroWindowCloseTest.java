package dev.pktkit.vtcp.engine;

import org.junit.jupiter.api.Test;

import static dev.pktkit.vtcp.engine.StateMachineTest.MS;
import static dev.pktkit.vtcp.engine.StateMachineTest.S;
import static dev.pktkit.vtcp.engine.StateMachineTest.buf;
import static dev.pktkit.vtcp.engine.StateMachineTest.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reader that stops consuming (the window closes, the sender probes), then resumes, then the sender closes: on a
 * lossless link nothing is retransmitted, the RTT estimate stays near the link's and the FIN is acknowledged within
 * a few RTTs (found by the virtual host: the estimate grew to seconds and the FIN waited for a 60 s RTO).
 */
class ZeroWindowCloseTest {

    @Test
    void closeAfterAZeroWindowPhaseIsPromptAndNothingIsRetransmitted() {
        // 1024-byte segments fill the 256 KiB window exactly, so that it closes to zero and the persist timer probes
        TcpSocketOptions co = new TcpSocketOptions().sendBuffer(64 * 1024).mssClamp(1036);
        TcpSocketOptions so = new TcpSocketOptions().receiveBuffer(256 * 1024);
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(41, co, so)) {
            p.server.consume = false;
            assertTrue(p.connect());
            byte[] d = bytes(1_000_000, 3);
            int[] off = {0};
            Runnable fill = () -> {
                while (off[0] < d.length && p.c.sendBufferFree() > 0) {
                    int n = Math.min(16 * 1024, d.length - off[0]);
                    p.c.write(buf(java.util.Arrays.copyOfRange(d, off[0], off[0] + n)));
                    off[0] += n;
                }
                p.c.flush();
            };
            fill.run();
            // the reader does not consume for 20 s: the window closes and the sender's persist timer probes
            for (int i = 0; i < 200; i++) {
                p.net.runFor(100 * MS);
                fill.run();
            }
            assertEquals(0, p.c.stats().sendWindow(), "the window closed: " + p.c.stats());
            long probes = p.net.log.stream().filter(s -> s.from() == 0 && s.len() == 0 && s.seq() == p.c.sndUna - 1)
                    .count();
            assertTrue(probes >= 2, "persist probes: " + probes);
            long unread = p.server.receivedBytes;
            // the reader resumes
            p.server.consume = true;
            p.s().consumed((int) unread);
            while (off[0] < d.length) {
                assertTrue(p.net.runUntil(() -> p.c.sendBufferFree() > 0, 10 * S));
                fill.run();
            }
            long closeAt = p.net.now;
            p.c.close();
            boolean fin = p.net.runUntil(() -> p.server.peerFin && p.c.state() == TcpState.FIN_WAIT_2, 60 * S);
            TcpConnectionStats st = p.c.stats();
            String why = st + " server drops " + drops(p.b.engine) + " client drops "
                    + drops(p.a.engine);
            assertTrue(fin, "the FIN arrives and is acknowledged: " + why);
            long rtt = 2 * p.net.delayNanos;
            assertTrue(p.net.now - closeAt < 20 * rtt, "close took " + (p.net.now - closeAt) / MS + " ms, " + why);
            assertArrayEquals(d, p.server.received.toByteArray());
            assertEquals(0, st.retransmits(), "no retransmission on a lossless link: " + why);
            assertEquals(0, st.fastRetransmits(), why);
            assertEquals(0, st.rtoExpiries(), why);
            assertTrue(st.srttNanos() < 5 * rtt, "srtt near the link RTT: " + why);
            assertEquals(0, st.bytesInFlight(), "in flight after everything is acknowledged: " + why);
        }
    }

    private static String drops(TcpEngine e) {
        StringBuilder b = new StringBuilder("{");
        for (DropReason r : DropReason.values()) {
            if (e.drops(r) != 0) {
                b.append(r).append('=').append(e.drops(r)).append(' ');
            }
        }
        return b.append('}').toString();
    }
}

package dev.pktkit.vtcp.engine;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.pktkit.vtcp.engine.AlgorithmTest.dropFirstTransmissionOf;
import static dev.pktkit.vtcp.engine.AlgorithmTest.times;
import static dev.pktkit.vtcp.engine.AlgorithmTest.warmUp;
import static dev.pktkit.vtcp.engine.StateMachineTest.MS;
import static dev.pktkit.vtcp.engine.StateMachineTest.S;
import static dev.pktkit.vtcp.engine.StateMachineTest.buf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 6675 NextSeg rules 3 and 4 (rescue retransmission), RFC 2883 D-SACK sent and used, RFC 8985 §6.2 step 4
 * (the reordering window grown by D-SACKs) and §7.4 (TLP loss detection and its congestion response), under the
 * virtual clock. Link: 5 ms each way, no loss except the segments a test drops or delays. Each test fails on the
 * engine without the behaviour (named in its comments).
 */
class LossRecoveryRulesTest {

    private static final long ONE_WAY = 5 * MS;

    /** Delays the first transmission of data segments from node 0 at the given sequence numbers. */
    private static void delayFirstTransmissionOf(TestNet net, Set<Integer> seqs, long extra) {
        Set<Integer> seen = new HashSet<>();
        net.extraDelay = (from, seq, len, flags) -> from == 0 && len > 0 && seqs.contains(seq) && seen.add(seq)
                ? extra : 0;
    }

    private static void send(StateMachineTest.Pair p, int bytes) {
        long target = p.server.receivedBytes + bytes;
        p.c.write(buf(new byte[bytes]));
        p.c.flush();
        assertTrue(p.net.runUntil(() -> p.server.receivedBytes == target && p.c.sendBufferBytes() == 0, 10 * S));
        p.net.runFor(4 * ONE_WAY); // two more round trips of virtual time: late duplicates and their D-SACKs
    }

    @Test
    void rescueRetransmissionRepairsALostTailWithinTheFirstRound() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(61, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            warmUp(p, 400_000);
            int mss = p.c.stats().mss();
            int base = p.c.sndNxt;
            int hole = base + 2 * mss;
            int nineth = base + 8 * mss;
            int last = base + 9 * mss;
            // a hole, and the last two segments: nothing above the tail can be SACKed, so neither DupThresh nor
            // RACK can mark it before the hole's retransmission is acknowledged, one round later
            Set<Integer> dropped = dropFirstTransmissionOf(p.net, Set.of(hole, nineth, last));
            send(p, 10 * mss);
            assertEquals(3, dropped.size());
            List<Long> holeTimes = times(p.net, hole);
            List<Long> lastTimes = times(p.net, last);
            assertEquals(2, holeTimes.size());
            assertEquals(2, lastTimes.size(), "the tail is sent exactly twice");
            // RFC 6675 rule 4: the segment with the highest outstanding unSACKed octet goes out in the same round
            // as the hole's retransmission (before its ACK could return); without the rule it waits for that ACK
            assertTrue(lastTimes.get(1) - holeTimes.get(1) < 2 * ONE_WAY,
                    "rescue within the round: " + (lastTimes.get(1) - holeTimes.get(1)) / MS + " ms");
            TcpConnectionStats st = p.c.stats();
            assertEquals(1, st.rescueRetransmits(), "one rescue per recovery episode");
            assertEquals(3, st.retransmits(), "the hole, the rescue and the ninth: nothing sent needlessly");
            assertEquals(0, st.rtoExpiries());
            assertEquals(1, st.fastRetransmits());
        }
    }

    @Test
    void rule3RetransmitsAnUnsackedSegmentBelowTheHighestSackWithoutWaitingForRack() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(62, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            warmUp(p, 400_000);
            int mss = p.c.stats().mss();
            // first the network reorders one segment by 1 ms: RACK has seen reordering from now on, so its
            // window (RFC 8985 §6.2 step 4) is above zero even in recovery and DupThresh no longer decides
            delayFirstTransmissionOf(p.net, Set.of(p.c.sndNxt + 4 * mss), MS);
            send(p, 12 * mss);
            p.net.extraDelay = null;
            assertTrue(p.c.sb.reorderingSeen);
            long reoWnd = p.c.reoWnd();
            assertTrue(reoWnd >= 2 * MS, "reordering window " + reoWnd);
            // burst A (hole at its third segment) starts a recovery; burst B, sent on A's first ACK, is inside it
            int a = p.c.sndNxt;
            int holeA = a + 2 * mss;
            int b = a + 10 * mss;
            int holeB = b + 5 * mss;
            dropFirstTransmissionOf(p.net, Set.of(holeA, holeB));
            long target = p.server.receivedBytes + 20 * mss;
            p.c.write(buf(new byte[10 * mss]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> Seq.gt(p.c.sndUna, a), S));
            p.c.write(buf(new byte[10 * mss]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.server.receivedBytes == target && p.c.sendBufferBytes() == 0, 10 * S));
            List<Long> tB = times(p.net, holeB);
            assertEquals(2, tB.size());
            // RFC 6675 rule 3: when B's later segments are SACKed (one RTT after B left), the unSACKed hole
            // below them is resent at once; RACK alone would wait RTT + reo_wnd
            long waited = tB.get(1) - tB.get(0);
            assertTrue(waited < 2 * ONE_WAY + reoWnd / 2, "resent after " + waited / 1000 + " µs, reo_wnd "
                    + reoWnd / 1000 + " µs");
            assertTrue(p.c.rule3Retransmits >= 1);
            assertEquals(0, p.c.stats().rtoExpiries());
        }
    }

    @Test
    void dsackGrowsTheReorderingWindowSoTheSameReorderingIsNotResentAgain() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(63, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            warmUp(p, 400_000);
            int mss = p.c.stats().mss();
            assertEquals(1, p.c.stats().reorderingWindowMultiplier());
            // round 1: one segment 4 ms late, behind 4 later ones: DupThresh (no reordering seen yet) resends it;
            // the receiver gets it twice and reports the duplicate in a D-SACK (RFC 2883)
            int r1 = p.c.sndNxt + 5 * mss;
            delayFirstTransmissionOf(p.net, Set.of(r1), 4 * MS);
            send(p, 10 * mss);
            assertEquals(2, times(p.net, r1).size(), "round 1: resent needlessly");
            assertTrue(p.s().stats().dsacksSent() >= 1, "receiver sent a D-SACK: " + p.s().stats());
            assertTrue(p.c.stats().dsacksReceived() >= 1);
            // RFC 8985 §6.2 step 4: reo_wnd_mult + 1 per round with a D-SACK (here 2 or 3: the recovery's rescue
            // of the tail, NextSeg rule 4, is D-SACKed too, after SND.UNA passed the first round), so reo_wnd =
            // min(mult · min_RTT / 4, SRTT) ≥ 5 ms
            assertTrue(p.c.stats().reorderingWindowMultiplier() >= 2, p.c.stats().toString());
            assertTrue(p.c.reoWnd() > 4 * MS, "reo_wnd " + p.c.reoWnd());
            long rtx = p.c.stats().retransmits();
            // round 2: the same 4 ms reordering is now inside the window: not resent (with a fixed min_RTT / 4
            // window, 2.5 ms, RACK marks it lost 1.5 ms before its ACK arrives)
            int r2 = p.c.sndNxt + 5 * mss;
            delayFirstTransmissionOf(p.net, Set.of(r2), 4 * MS);
            send(p, 10 * mss);
            assertEquals(1, times(p.net, r2).size(), "round 2: sent once");
            assertEquals(rtx, p.c.stats().retransmits());
        }
    }

    @Test
    void tailLossProbeThatRepairsALossReducesTheWindow() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(64, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            warmUp(p, 100_000);
            int mss = p.c.stats().mss();
            int ssthresh = p.c.stats().ssthresh();
            int last = p.c.sndNxt + 3 * mss;
            dropFirstTransmissionOf(p.net, Set.of(last));
            send(p, 4 * mss);
            assertEquals(1, p.c.stats().tailLossProbes());
            assertEquals(2, times(p.net, last).size(), "the probe resent the lost tail");
            // the probe's ACK reaches TLP.end_seq without a D-SACK; the next ACK beyond it ends the episode:
            // RFC 8985 §7.4.2, the probe repaired a loss, so congestion control reacts as to a loss
            send(p, 4 * mss);
            TcpConnectionStats st = p.c.stats();
            assertEquals(1, st.tailLossRepairs(), st.toString());
            assertTrue(st.ssthresh() < ssthresh, "ssthresh reduced: " + ssthresh + " -> " + st.ssthresh());
            assertEquals(0, st.rtoExpiries());
            assertEquals(0, st.fastRetransmits());
        }
    }

    @Test
    void spuriousTailLossProbeIsReportedByDsackAndLeavesTheWindow() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(65, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            warmUp(p, 100_000);
            int mss = p.c.stats().mss();
            int ssthresh = p.c.stats().ssthresh();
            long pto = 2 * p.c.stats().srttNanos();
            int last = p.c.sndNxt + 3 * mss;
            // the last segment arrives late but before the probe, and its ACK returns after the probe left:
            // the probe is a duplicate, which the receiver reports by D-SACK
            delayFirstTransmissionOf(p.net, Set.of(last), pto + ONE_WAY);
            send(p, 4 * mss);
            assertEquals(1, p.c.stats().tailLossProbes());
            assertEquals(2, times(p.net, last).size());
            assertTrue(p.net.runUntil(() -> p.c.stats().dsacksReceived() > 0, S), "the D-SACK arrived");
            assertFalse(p.c.tlpEpisode, "the D-SACK ended the probe episode");
            send(p, 4 * mss);
            TcpConnectionStats st = p.c.stats();
            assertEquals(0, st.tailLossRepairs(), st.toString());
            assertEquals(ssthresh, st.ssthresh(), "no congestion response to a spurious probe");
        }
    }
}

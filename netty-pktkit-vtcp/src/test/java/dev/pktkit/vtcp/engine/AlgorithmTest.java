package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.vtcp.engine.cc.Cubic;
import dev.pktkit.vtcp.engine.cc.NewReno;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.pktkit.vtcp.engine.StateMachineTest.MS;
import static dev.pktkit.vtcp.engine.StateMachineTest.S;
import static dev.pktkit.vtcp.engine.StateMachineTest.buf;
import static dev.pktkit.vtcp.engine.StateMachineTest.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The algorithms, observed on the wire and in the control variables under virtual time. */
class AlgorithmTest {

    // ------------------------------------------------------------------------------------------ congestion control

    @Test
    void cubicWindowFollowsRfc9438Wt() {
        int mss = 1000;
        int wMax = 1000;
        Cubic cubic = new Cubic(mss, wMax * mss);
        long t0 = 10 * S;
        cubic.onCongestion(wMax * mss, t0);
        // §4.6: cwnd = β × W_max; §4.2 eq. 2: K = cbrt(W_max (1 − β) / C)
        assertEquals(700 * mss, cubic.cwnd());
        assertEquals(700 * mss, cubic.ssthresh());
        double k = Math.cbrt(wMax * (1 - Cubic.BETA) / Cubic.C);
        assertEquals(k, cubic.k(), 1e-9);
        long rtt = 100 * MS;
        long now = t0;
        double maxErr = 0;
        boolean sawK = false;
        // 15 s: concave up to K (≈ 9.1 s), plateau at W_max, then convex; with W_max = 1000 segments the
        // Reno-friendly estimate (§4.3) stays far below W_cubic, so the cubic alone must explain the window
        for (int round = 0; round < 150; round++) {
            int acks = cubic.cwnd() / mss;
            for (int i = 0; i < acks; i++) {
                cubic.onAck(mss, cubic.cwnd(), now + i * rtt / acks, rtt);
            }
            now += rtt;
            double t = (now - t0) / 1e9;
            double expected = cubic.wCubic(t);
            double actual = cubic.cwnd() / (double) mss;
            maxErr = Math.max(maxErr, Math.abs(actual - expected) / expected);
            if (Math.abs(t - k) < 0.05) {
                assertEquals(wMax, actual, wMax * 0.01, "at t = K the window is back at W_max");
                sawK = true;
            }
            if (t < k - 1) {
                assertTrue(actual < wMax, "concave region below W_max at " + t);
            }
        }
        assertTrue(sawK);
        assertTrue(maxErr < 0.01, "cwnd follows W_cubic(t) within 1 %: " + maxErr);
        double t = (now - t0) / 1e9;
        assertEquals(cubic.wCubic(t), cubic.cwnd() / (double) mss, 10);
        assertTrue(cubic.cwnd() > 1070 * mss, "convex growth beyond W_max: " + cubic.cwnd());
        // §4.3 Reno-friendly region: with a small W_max the linear estimate overtakes the cubic
        Cubic small = new Cubic(mss, 100 * mss);
        small.onCongestion(100 * mss, 0);
        long n = 0;
        for (int round = 0; round < 70; round++) {
            int acks = small.cwnd() / mss;
            for (int i = 0; i < acks; i++) {
                small.onAck(mss, small.cwnd(), n, rtt);
            }
            n += rtt;
        }
        assertTrue(small.cwnd() / (double) mss > small.wCubic(n / 1e9) + 2, "W_est above W_cubic");
        // §4.7 fast convergence: a loss below the previous W_max lowers W_max to cwnd (1 + β) / 2
        Cubic c2 = new Cubic(mss, 100 * mss);
        c2.onCongestion(100 * mss, 0);
        c2.onCongestion(70 * mss, 1);
        assertEquals(70 * (1 + Cubic.BETA) / 2, c2.wMax(), 1e-9);
        assertEquals(49 * mss, c2.cwnd());
    }

    @Test
    void newRenoHalvesAndGrowsOneSegmentPerWindow() {
        int mss = 1000;
        NewReno r = new NewReno(mss, 10 * mss);
        // slow start: +1 MSS per ACK
        r.onAck(mss, 10 * mss, 0, 0);
        assertEquals(11 * mss, r.cwnd());
        r.onCongestion(40 * mss, 0);
        assertEquals(20 * mss, r.ssthresh());
        assertEquals(20 * mss, r.cwnd());
        // congestion avoidance: one MSS per cwnd of ACKed bytes
        for (int i = 0; i < 20; i++) {
            r.onAck(mss, r.cwnd(), 0, 0);
        }
        assertEquals(21 * mss, r.cwnd());
        r.onRetransmissionTimeout(21 * mss, 0);
        assertEquals(mss, r.cwnd());
        assertEquals(10 * mss + mss / 2, r.ssthresh());
    }

    @Test
    void cubicConnectionReducesByBetaOnLoss() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(20, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            warmUp(p, 300_000);
            int before = p.c.stats().cwnd();
            int mss = p.c.stats().mss();
            dropFirstTransmissionOf(p.net, Set.of(p.c.sndNxt + 5 * mss));
            p.c.write(buf(new byte[30 * mss]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.c.sendBufferBytes() == 0, 5 * S));
            TcpConnectionStats st = p.c.stats();
            assertEquals(1, st.fastRetransmits());
            assertEquals(0, st.rtoExpiries());
            // ssthresh = β × cwnd at the loss (cwnd grew a little between the snapshot and the loss)
            assertTrue(st.ssthresh() >= (int) (before * Cubic.BETA) - mss && st.ssthresh() < before, st + " " + before);
        }
    }

    // ------------------------------------------------------------------------------------------ loss recovery

    static void warmUp(StateMachineTest.Pair p, int n) {
        long target = p.server.receivedBytes + n;
        p.c.write(buf(new byte[n]));
        p.c.flush();
        assertTrue(p.net.runUntil(() -> p.server.receivedBytes == target && p.c.sendBufferBytes() == 0, 10 * S));
    }

    /** Drops the first transmission of data segments from node 0 starting at the given sequence numbers. */
    static Set<Integer> dropFirstTransmissionOf(TestNet net, Set<Integer> seqs) {
        Set<Integer> dropped = new HashSet<>();
        net.filter = (from, tcp, seq, len, flags) -> from == 0 && len > 0 && seqs.contains(seq) && dropped.add(seq);
        return dropped;
    }

    static Map<Integer, Integer> dataTransmissions(TestNet net, int from, long since) {
        Map<Integer, Integer> m = new HashMap<>();
        for (TestNet.Sent s : net.log) {
            if (s.from() == from && s.len() > 0 && s.time() >= since) {
                m.merge(s.seq(), 1, Integer::sum);
            }
        }
        return m;
    }

    @Test
    void sackRecoveryRetransmitsOnlyTheHoles() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(21, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            warmUp(p, 400_000);
            int mss = p.c.stats().mss();
            assertTrue(p.c.stats().cwnd() >= 40 * mss, "window large enough for the burst");
            int base = p.c.sndNxt;
            Set<Integer> holes = Set.of(base + 3 * mss, base + 10 * mss, base + 11 * mss, base + 25 * mss);
            Set<Integer> dropped = dropFirstTransmissionOf(p.net, holes);
            long start = p.net.now;
            byte[] d = bytes(35 * mss, 5);
            long target = p.server.receivedBytes + d.length;
            p.c.write(buf(d));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.server.receivedBytes == target && p.c.sendBufferBytes() == 0, 5 * S));
            assertEquals(holes, dropped);
            Map<Integer, Integer> tx = dataTransmissions(p.net, 0, start);
            Set<Integer> retransmitted = new HashSet<>();
            tx.forEach((seq, n) -> {
                if (n > 1) {
                    retransmitted.add(seq);
                }
            });
            // RFC 6675: the holes are sent again, and beside them at most the one rescue retransmission (NextSeg
            // rule 4) of the tail, which was in flight when nothing else could be sent
            TcpConnectionStats st = p.c.stats();
            Set<Integer> others = new HashSet<>(retransmitted);
            others.removeAll(holes);
            assertTrue(retransmitted.containsAll(holes), retransmitted.toString());
            assertEquals(st.rescueRetransmits(), others.size(), "only the rescue besides the holes: " + others);
            assertTrue(others.isEmpty() || others.equals(Set.of(base + 34 * mss)), others.toString());
            assertEquals(0, st.rtoExpiries());
            assertEquals(4 + st.rescueRetransmits(), st.retransmits());
            assertEquals(1, st.fastRetransmits(), "one recovery episode");
        }
    }

    @Test
    void newRenoWithoutSackFastRetransmitsOnThreeDupAcks() {
        TcpSocketOptions o = new TcpSocketOptions().noDelay(true).sack(false).congestion(CongestionAlgorithm.NEW_RENO);
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(22, o)) {
            assertTrue(p.connect());
            warmUp(p, 200_000);
            int mss = p.c.stats().mss();
            int hole = p.c.sndNxt + 4 * mss;
            dropFirstTransmissionOf(p.net, Set.of(hole));
            long start = p.net.now;
            p.c.write(buf(new byte[20 * mss]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.c.sendBufferBytes() == 0, 5 * S));
            Map<Integer, Integer> tx = dataTransmissions(p.net, 0, start);
            assertEquals(2, tx.get(hole));
            assertEquals(1, p.c.stats().retransmits());
            assertEquals(0, p.c.stats().rtoExpiries());
            assertEquals(1, p.c.stats().fastRetransmits());
        }
    }

    @Test
    void tailLossProbeFiresBeforeTheRto() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(23, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            warmUp(p, 100_000);
            int mss = p.c.stats().mss();
            long srtt = p.c.stats().srttNanos();
            long rto = p.c.stats().rtoNanos();
            // the last two segments of a burst are lost: no later segment can produce a duplicate ACK or SACK
            int fifth = p.c.sndNxt + 4 * mss;
            int last = p.c.sndNxt + 5 * mss;
            dropFirstTransmissionOf(p.net, Set.of(fifth, last));
            p.c.write(buf(new byte[6 * mss]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.c.sendBufferBytes() == 0, 5 * S));
            TcpConnectionStats st = p.c.stats();
            assertEquals(1, st.tailLossProbes());
            assertEquals(0, st.rtoExpiries(), "recovered without an RTO");
            List<Long> lastTimes = times(p.net, last);
            List<Long> fifthTimes = times(p.net, fifth);
            assertEquals(2, lastTimes.size());
            assertEquals(2, fifthTimes.size());
            // RFC 8985 §7.2-7.3: the probe retransmits the last segment PTO = 2 × SRTT after the last ACK
            TestNet.Sent ackBefore = null;
            for (TestNet.Sent s : p.net.log) {
                if (s.from() == 1 && s.time() < lastTimes.get(1)) {
                    ackBefore = s;
                }
            }
            long pto = lastTimes.get(1) - (ackBefore.time() + p.net.delayNanos);
            assertEquals(2 * srtt, pto, srtt / 4.0);
            assertTrue(pto < rto, pto + " < " + rto);
            // its SACK then marks the fifth lost (RACK / RFC 6675), repaired by fast retransmit
            assertTrue(fifthTimes.get(1) > lastTimes.get(1));
            assertTrue(fifthTimes.get(1) - lastTimes.get(1) < rto);
        }
    }

    static List<Long> times(TestNet net, int seq) {
        List<Long> t = new ArrayList<>();
        for (TestNet.Sent s : net.log) {
            if (s.from() == 0 && s.seq() == seq && s.len() > 0) {
                t.add(s.time());
            }
        }
        return t;
    }

    @Test
    void rtoBacksOffExponentiallyThenTimesOut() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(24, new TcpSocketOptions().dataRetries(5))) {
            assertTrue(p.connect());
            long rto = p.c.stats().rtoNanos();
            p.net.filter = (from, tcp, seq, len, flags) -> true; // black hole
            int seq = p.c.sndNxt;
            p.c.write(buf(new byte[100]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.client.closed, 600 * S));
            assertInstanceOf(IOException.class, p.client.cause);
            assertEquals("Connection timed out", p.client.cause.getMessage());
            List<Long> t = new ArrayList<>();
            for (TestNet.Sent s : p.net.log) {
                if (s.from() == 0 && s.seq() == seq && s.len() == 100) {
                    t.add(s.time());
                }
            }
            assertEquals(6, t.size(), "original plus 5 retransmissions");
            // no TLP here: the connection had no RTT sample beyond the handshake... the RTO doubles each time
            long first = t.get(1) - t.get(0);
            for (int i = 2; i < t.size(); i++) {
                assertEquals(2 * (t.get(i - 1) - t.get(i - 2)), t.get(i) - t.get(i - 1), "RFC 6298 §5.5 at " + i);
            }
            assertTrue(first <= rto, first + " <= " + rto);
            assertEquals(5, p.c.stats().rtoExpiries());
        }
    }

    // ------------------------------------------------------------------------------------------ windows

    @Test
    void autoTuningGrowsTheReceiveWindowWithTheBdp() {
        long[] elapsed = new long[2];
        int[] maxWindow = new int[2];
        for (int run = 0; run < 2; run++) {
            boolean tune = run == 0;
            TcpSocketOptions so = new TcpSocketOptions().receiveBuffer(16 * 1024).receiveBufferMax(4 << 20)
                    .autoTuning(tune);
            try (StateMachineTest.Pair p = new StateMachineTest.Pair(25, new TcpSocketOptions(), so)) {
                p.net.delayNanos = 25 * MS; // RTT 50 ms
                p.net.rateBytesPerSec = 100_000_000L; // 800 Mbit/s: BDP 5 MB
                p.net.queueLimitBytes = 4 << 20;
                p.net.logging = true;
                assertTrue(p.connect());
                int n = 8 << 20;
                long start = p.net.now;
                p.c.write(buf(new byte[n]));
                p.c.flush();
                p.server.keepBytes = false;
                assertTrue(p.net.runUntil(() -> p.server.receivedBytes == n, 600 * S));
                elapsed[run] = p.net.now - start;
                int ws = p.s().stats().receiveWindowScale();
                for (TestNet.Sent s : p.net.log) {
                    if (s.from() == 1 && !s.has(Tcp.SYN)) {
                        maxWindow[run] = Math.max(maxWindow[run], s.window() << ws);
                    }
                }
                if (tune) {
                    assertTrue(p.s().stats().receiveBuffer() >= 1 << 20, "grew: " + p.s().stats());
                } else {
                    assertEquals(16 * 1024, p.s().stats().receiveBuffer());
                }
                p.net.log.clear();
            }
        }
        assertTrue(maxWindow[0] >= 1 << 20, "advertised window grew beyond 1 MiB: " + maxWindow[0]);
        assertTrue(maxWindow[1] <= 16 * 1024, "fixed window stays: " + maxWindow[1]);
        assertTrue(elapsed[1] > 5 * elapsed[0], "the fixed window is window-limited: " + elapsed[1] + " vs "
                + elapsed[0]);
    }

    @Test
    void zeroWindowPersistProbesRecoverALostWindowUpdate() {
        TcpSocketOptions so = new TcpSocketOptions().receiveBuffer(4096).autoTuning(false);
        // 1024-byte segments fill the 4096-byte window exactly (the sender's SWS avoidance would otherwise hold a
        // small remainder back and the window would never reach zero)
        TcpSocketOptions co = new TcpSocketOptions().noDelay(true).mssClamp(1036);
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(26, co, so)) {
            p.server.consume = false;
            assertTrue(p.connect());
            byte[] d = bytes(20_000, 9);
            p.c.write(buf(d));
            p.c.flush();
            p.net.runFor(2 * S);
            assertEquals(4096, p.server.receivedBytes, "the window closed at the receive buffer");
            assertEquals(0, p.c.stats().sendWindow());
            // the window update is lost: only persist probes can discover the reopened window
            p.net.filter = (from, tcp, seq, len, flags) -> from == 1;
            p.server.consume = true;
            p.s().consumed(4096);
            p.net.filter = null;
            long probesBefore = probes(p);
            p.net.runFor(100 * MS);
            assertTrue(p.net.runUntil(() -> p.server.receivedBytes == d.length, 60 * S));
            assertArrayEquals(d, p.server.received.toByteArray());
            assertTrue(probesBefore >= 2, "probes while the window was zero: " + probesBefore);
        }
    }

    private static long probes(StateMachineTest.Pair p) {
        return p.net.log.stream().filter(s -> s.from() == 0 && s.len() == 0 && s.seq() == p.c.sndUna - 1).count();
    }

    @Test
    void delayedAcksAndQuickAck() {
        TcpSocketOptions so = new TcpSocketOptions().quickAck(false);
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(27, new TcpSocketOptions().noDelay(true), so)) {
            assertTrue(p.connect());
            // the server's first segment after the SYN-ACK advertises its full (scaled) window
            p.s().write(buf(new byte[1]));
            p.s().flush();
            p.net.runFor(S);
            p.c.write(buf(new byte[100]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.c.sndUna == p.c.sndNxt, S));
            TestNet.Sent ack = last(p.net, 1);
            TestNet.Sent data = last(p.net, 0);
            // RFC 1122 §4.2.3.2: one small segment is ACKed after the delayed-ACK timeout (40 ms)
            assertEquals(40 * MS, ack.time() - (data.time() + p.net.delayNanos));
            // two full segments are ACKed at once
            int mss = p.c.stats().mss();
            p.c.write(buf(new byte[2 * mss]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.c.sndUna == p.c.sndNxt, S));
            ack = last(p.net, 1);
            data = last(p.net, 0);
            assertEquals(data.time() + p.net.delayNanos, ack.time());
        }
        // with quick-ack (the default) the first segments are ACKed at once
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(27, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            p.c.write(buf(new byte[100]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.c.sndUna == p.c.sndNxt, S));
            assertEquals(last(p.net, 0).time() + p.net.delayNanos, last(p.net, 1).time());
        }
    }

    static TestNet.Sent last(TestNet net, int from) {
        TestNet.Sent r = null;
        for (TestNet.Sent s : net.log) {
            if (s.from() == from) {
                r = s;
            }
        }
        return r;
    }

    @Test
    void nagleCoalescesSmallWritesUnlessNoDelay() {
        for (boolean noDelay : new boolean[]{false, true}) {
            try (StateMachineTest.Pair p = new StateMachineTest.Pair(28, new TcpSocketOptions().noDelay(noDelay))) {
                assertTrue(p.connect());
                long start = p.net.now;
                for (int i = 0; i < 10; i++) {
                    p.c.write(buf(new byte[10]));
                    p.c.flush();
                }
                assertTrue(p.net.runUntil(() -> p.server.receivedBytes == 100, S));
                long segs = p.net.log.stream().filter(s -> s.from() == 0 && s.len() > 0 && s.time() >= start).count();
                // RFC 1122 §4.2.3.4: one small segment in flight at a time
                assertEquals(noDelay ? 10 : 2, segs);
            }
        }
    }

    @Test
    void keepaliveProbesThenTimesOut() {
        TcpSocketOptions o = new TcpSocketOptions().keepAlive(true).keepAlive(10 * S, S, 3);
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(29, o, new TcpSocketOptions())) {
            assertTrue(p.connect());
            // a live peer answers the probes: still open after a minute
            p.net.runFor(60 * S);
            assertEquals(TcpState.ESTABLISHED, p.c.state());
            long probes = p.net.log.stream().filter(s -> s.from() == 0 && s.len() == 0
                    && s.seq() == p.c.sndNxt - 1).count();
            assertTrue(probes >= 5, "probes every idle period: " + probes);
            p.net.filter = (from, tcp, seq, len, flags) -> true;
            long t = p.net.now;
            assertTrue(p.net.runUntil(() -> p.client.closed, 60 * S));
            assertEquals("Connection timed out", p.client.cause.getMessage());
            assertTrue(p.net.now - t <= 14 * S, "idle 10 s + 3 probes 1 s apart");
        }
    }

    @Test
    void pmtuFromIcmpTooBigShrinksSegments() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(30, new TcpSocketOptions().noDelay(true))) {
            assertTrue(p.connect());
            int[] icmps = new int[1];
            // a router with a 1000-byte MTU: drops larger packets and answers ICMP too-big (deferred, not re-entrant)
            p.net.filter = (from, tcp, seq, len, flags) -> {
                if (from == 0 && tcp.readableBytes() + 20 > 1000) {
                    ByteBuf quote = tcp.copy(tcp.readerIndex(), 28);
                    icmps[0]++;
                    p.net.at(p.net.now + MS, () -> {
                        p.a.engine.icmpError4(p.a.address, p.b.address, quote, IcmpError.PACKET_TOO_BIG, 1000);
                        quote.release();
                    }, null);
                    return true;
                }
                return false;
            };
            byte[] d = bytes(100_000, 11);
            p.c.write(buf(d));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.server.receivedBytes == d.length, 10 * S));
            assertArrayEquals(d, p.server.received.toByteArray());
            assertEquals(1000 - 40 - 12, p.c.stats().mss());
            assertTrue(icmps[0] >= 1);
            assertEquals(0, p.c.stats().rtoExpiries(), "retransmitted at once, not after an RTO");
            // an ICMP quoting a sequence number not in flight is ignored (RFC 5927 §4.1)
            ByteBuf q = Segments.build(p.a.address, p.b.address, 40000, 80, p.c.sndUna - 100_000, 0, Tcp.ACK, 0,
                    null, null);
            p.a.engine.icmpError4(p.a.address, p.b.address, q, IcmpError.PACKET_TOO_BIG, 600);
            q.release();
            assertEquals(1, p.a.engine.drops(DropReason.ICMP_UNMATCHED));
            assertEquals(1000 - 40 - 12, p.c.stats().mss());
        }
    }

    @Test
    void ecnMarksReduceTheWindowWithoutLoss() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(31, new TcpSocketOptions().noDelay(true))) {
            p.net.rateBytesPerSec = 10_000_000L;
            p.net.queueLimitBytes = 10 << 20;
            p.net.ceMarkAboveBytes = 30_000;
            assertTrue(p.connect());
            p.server.keepBytes = false;
            p.c.write(buf(new byte[2 << 20]));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.server.receivedBytes == 2 << 20, 60 * S));
            TcpConnectionStats st = p.c.stats();
            assertTrue(st.ecn());
            assertTrue(st.ecnCongestionEvents() >= 1, st.toString());
            assertEquals(0, st.retransmits(), "no loss: the queue never overflowed");
            assertTrue(st.ssthresh() < Integer.MAX_VALUE);
            assertTrue(p.net.log.stream().anyMatch(s -> s.from() == 0 && s.has(Tcp.CWR)), "CWR sent");
            assertTrue(p.net.log.stream().anyMatch(s -> s.from() == 1 && s.has(Tcp.ECE) && !s.has(Tcp.SYN)),
                    "ECE echoed");
            assertTrue(p.net.log.stream().filter(s -> s.from() == 0 && s.len() > 0).allMatch(s -> s.ecn() == 2),
                    "new data is ECT(0)");
        }
    }

    @Test
    void mssClampAndWindowScaleNegotiation() {
        TcpSocketOptions co = new TcpSocketOptions().mssClamp(500);
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(32, co, new TcpSocketOptions())) {
            assertTrue(p.connect());
            p.s().write(buf(new byte[10_000]));
            p.s().flush();
            assertTrue(p.net.runUntil(() -> p.client.receivedBytes == 10_000, S));
            assertTrue(p.net.log.stream().filter(s -> s.from() == 1).allMatch(s -> s.len() <= 500 - 12));
            assertEquals(500 - 12, p.c.stats().mss());
            // 4 MiB auto-tuning cap: shift 7 (65535 << 6 is just below 4 MiB)
            assertEquals(7, p.c.stats().receiveWindowScale());
            assertEquals(7, p.s().stats().sendWindowScale());
        }
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(33, new TcpSocketOptions().windowScaling(false)
                .timestamps(false).sack(false).ecn(false), new TcpSocketOptions())) {
            assertTrue(p.connect());
            TcpConnectionStats st = p.s().stats();
            assertEquals(0, st.sendWindowScale());
            assertEquals(0, st.receiveWindowScale());
            assertTrue(!st.timestamps() && !st.sack() && !st.ecn());
            assertEquals(1460, st.mss());
        }
    }
}

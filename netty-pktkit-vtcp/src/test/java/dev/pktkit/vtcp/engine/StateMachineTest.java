package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ConnectTimeoutException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 9293 state transitions between two engines under virtual time. */
class StateMachineTest {
    static final long MS = 1_000_000L;
    static final long S = 1_000_000_000L;

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static ByteBuf buf(byte[] b) {
        return TestNet.ALLOC.buffer(b.length).writeBytes(b);
    }

    /** A connected pair: client on node 0 port 40000, server on node 1 port 80. */
    static final class Pair implements AutoCloseable {
        final TestNet net;
        final TestNet.Node a;
        final TestNet.Node b;
        final Recorder client = new Recorder();
        final Recorder server = new Recorder();
        TcpConnection c;
        TcpListenHandle listen;

        Pair(long seed, TcpSocketOptions opts) {
            this(seed, opts, opts);
        }

        Pair(long seed, TcpSocketOptions copts, TcpSocketOptions sopts) {
            net = new TestNet(seed);
            a = net.node();
            b = net.node();
            listen = b.engine.listen(TestNet.inet(b.address), 80, 16, sopts, server);
            c = a.engine.connect(a.sock(40000), b.sock(80), copts, client);
        }

        boolean connect() {
            return net.runUntil(() -> client.established && server.established, 10 * S);
        }

        TcpConnection s() {
            return server.connection;
        }

        @Override
        public void close() {
            net.close();
        }
    }

    @Test
    void handshakeTransferAndOrderlyClose() {
        try (Pair p = new Pair(1, new TcpSocketOptions())) {
            assertEquals(TcpState.SYN_SENT, p.c.state());
            assertTrue(p.connect());
            assertEquals(TcpState.ESTABLISHED, p.c.state());
            assertEquals(TcpState.ESTABLISHED, p.s().state());
            TcpConnectionStats st = p.c.stats();
            assertTrue(st.timestamps() && st.sack() && st.ecn(), st.toString());
            assertEquals(1460 - 12, st.mss());
            byte[] data = bytes(200_000, 7);
            p.c.write(buf(data));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.server.receivedBytes == data.length, 10 * S));
            assertArrayEquals(data, p.server.received.toByteArray());
            // active close: client FIN_WAIT_1 -> FIN_WAIT_2 -> (server closes) TIME_WAIT; server CLOSE_WAIT -> LAST_ACK
            p.c.close();
            assertEquals(TcpState.FIN_WAIT_1, p.c.state());
            assertTrue(p.net.runUntil(() -> p.server.peerFin, S));
            assertEquals(TcpState.CLOSE_WAIT, p.s().state());
            assertTrue(p.net.runUntil(() -> p.c.state() == TcpState.FIN_WAIT_2, S));
            p.s().close();
            assertEquals(TcpState.LAST_ACK, p.s().state());
            assertTrue(p.net.runUntil(() -> p.server.closed && p.client.closed, S));
            assertNull(p.server.cause);
            assertNull(p.client.cause);
            assertEquals(TcpState.TIME_WAIT, p.c.state());
            assertEquals(TcpState.CLOSED, p.s().state());
            assertEquals(1, p.a.engine.timeWaitCount());
            // TIME-WAIT lasts 2 MSL (60 s by default) and then goes away
            p.net.runFor(59 * S);
            assertEquals(1, p.a.engine.timeWaitCount());
            p.net.runFor(2 * S);
            assertEquals(0, p.a.engine.timeWaitCount());
            assertEquals(TcpState.CLOSED, p.c.state());
            assertEquals(0, p.a.engine.connectionCount());
            assertEquals(0, p.b.engine.connectionCount());
        }
    }
    @Test
    void simultaneousOpen() {
        try (TestNet net = new TestNet(2)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            Recorder ra = new Recorder();
            Recorder rb = new Recorder();
            TcpConnection ca = a.engine.connect(a.sock(1000), b.sock(2000), null, ra);
            TcpConnection cb = b.engine.connect(b.sock(2000), a.sock(1000), null, rb);
            // both SYNs cross: each side answers the other's SYN with a SYN-ACK in SYN-RECEIVED
            assertTrue(net.runUntil(() -> ca.state() == TcpState.SYN_RECEIVED && cb.state() == TcpState.SYN_RECEIVED,
                    S));
            assertTrue(net.runUntil(() -> ra.established && rb.established, 5 * S));
            assertEquals(TcpState.ESTABLISHED, ca.state());
            assertEquals(TcpState.ESTABLISHED, cb.state());
            byte[] d = bytes(5000, 3);
            cb.write(buf(d));
            cb.flush();
            assertTrue(net.runUntil(() -> ra.receivedBytes == d.length, 5 * S));
            assertArrayEquals(d, ra.received.toByteArray());
            // simultaneous close: FIN-WAIT-1 -> CLOSING -> TIME-WAIT on both sides
            ca.close();
            cb.close();
            assertEquals(TcpState.FIN_WAIT_1, ca.state());
            assertTrue(net.runUntil(() -> ca.state() == TcpState.CLOSING && cb.state() == TcpState.CLOSING, S));
            assertTrue(net.runUntil(() -> ca.state() == TcpState.TIME_WAIT && cb.state() == TcpState.TIME_WAIT, S));
            assertTrue(ra.closed && rb.closed);
            assertNull(ra.cause);
            assertEquals(1, a.engine.timeWaitCount());
            assertEquals(1, b.engine.timeWaitCount());
        }
    }

    @Test
    void halfCloseKeepsTheOtherDirection() {
        try (Pair p = new Pair(3, new TcpSocketOptions())) {
            assertTrue(p.connect());
            p.c.shutdownOutput();
            assertTrue(p.c.isOutputShutdown());
            assertTrue(p.net.runUntil(() -> p.server.peerFin, S));
            assertEquals(TcpState.CLOSE_WAIT, p.s().state());
            assertTrue(p.net.runUntil(() -> p.c.state() == TcpState.FIN_WAIT_2, S));
            assertFalse(p.c.write(buf(new byte[10])), "writing after shutdownOutput is refused");
            byte[] d = bytes(100_000, 4);
            p.s().write(buf(d));
            p.s().flush();
            assertTrue(p.net.runUntil(() -> p.client.receivedBytes == d.length, 5 * S));
            assertArrayEquals(d, p.client.received.toByteArray());
            assertEquals(TcpState.FIN_WAIT_2, p.c.state());
            p.s().shutdownOutput();
            assertEquals(TcpState.LAST_ACK, p.s().state());
            assertTrue(p.net.runUntil(() -> p.server.closed && p.client.closed, S));
            assertEquals(TcpState.TIME_WAIT, p.c.state());
            // the half-closed side hears of the peer's FIN before the close (its input ends, then it is gone)
            assertTrue(p.client.events.indexOf("fin") >= 0, p.client.events.toString());
            assertTrue(p.client.events.indexOf("fin") < p.client.events.indexOf("closed"), p.client.events.toString());
        }
    }

    @Test
    void rstAnswersSynWithoutListener() {
        try (TestNet net = new TestNet(4)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            Recorder r = new Recorder();
            a.engine.connect(a.sock(40000), b.sock(81), null, r);
            assertTrue(net.runUntil(() -> r.closed, S));
            assertInstanceOf(ConnectException.class, r.cause);
            assertEquals(1, b.engine.drops(DropReason.NO_CONNECTION));
            TestNet.Sent rst = net.sentBy(1).get(0);
            assertTrue(rst.has(Tcp.RST) && rst.has(Tcp.ACK), "RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+1><RST,ACK>");
            assertEquals(0, rst.seq());
            assertEquals(net.sentBy(0).get(0).seq() + 1, rst.ack());
            assertEquals(0, a.engine.connectionCount());
        }
    }

    @Test
    void connectTimesOutAfterSynRetriesWithBackoff() {
        try (TestNet net = new TestNet(5)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            net.filter = (from, tcp, seq, len, flags) -> true; // black hole
            Recorder r = new Recorder();
            a.engine.connect(a.sock(40000), b.sock(80), new TcpSocketOptions().synRetries(3), r);
            assertTrue(net.runUntil(() -> r.closed, 60 * S));
            assertInstanceOf(ConnectTimeoutException.class, r.cause);
            long[] t = net.sentBy(0).stream().mapToLong(TestNet.Sent::time).toArray();
            assertEquals(4, t.length, "SYN plus 3 retransmissions");
            // RFC 6298 §5.5: the RTO doubles: 1 s, 2 s, 4 s, then 8 s until giving up
            assertEquals(1 * S, t[1] - t[0]);
            assertEquals(2 * S, t[2] - t[1]);
            assertEquals(4 * S, t[3] - t[2]);
            assertEquals(15 * S, net.now - t[0]);
            // RFC 3168 §6.1.1.1: only the first SYN offers ECN
            assertTrue(net.sentBy(0).get(0).has(Tcp.ECE) && !net.sentBy(0).get(1).has(Tcp.ECE));
        }
    }

    @Test
    void resetByPeerAndAbort() {
        try (Pair p = new Pair(6, new TcpSocketOptions())) {
            assertTrue(p.connect());
            p.s().abort();
            assertEquals(TcpState.CLOSED, p.s().state());
            assertTrue(p.net.runUntil(() -> p.client.closed, S));
            assertInstanceOf(IOException.class, p.client.cause);
            assertEquals("Connection reset by peer", p.client.cause.getMessage());
            assertEquals(0, p.a.engine.connectionCount());
            assertEquals(0, p.b.engine.connectionCount());
        }
    }

    @Test
    void lingerZeroCloseSendsRst() {
        try (Pair p = new Pair(7, new TcpSocketOptions().lingerSeconds(0))) {
            assertTrue(p.connect());
            p.c.write(buf(new byte[100]));
            p.c.close();
            assertTrue(p.net.runUntil(() -> p.server.closed, S));
            assertEquals("Connection reset by peer", p.server.cause.getMessage());
            assertTrue(p.net.sentBy(0).stream().anyMatch(s -> s.has(Tcp.RST)));
            assertEquals(0, p.a.engine.timeWaitCount());
        }
    }

    @Test
    void dataAfterCloseIsAnsweredWithRst() {
        try (Pair p = new Pair(8, new TcpSocketOptions())) {
            assertTrue(p.connect());
            p.c.close();
            assertTrue(p.net.runUntil(() -> p.c.state() == TcpState.FIN_WAIT_2, S));
            p.s().write(buf(new byte[500]));
            p.s().flush();
            assertTrue(p.net.runUntil(() -> p.server.closed, S));
            assertEquals(1, p.a.engine.drops(DropReason.DATA_AFTER_CLOSE));
            assertEquals("Connection reset by peer", p.server.cause.getMessage());
        }
    }

    @Test
    void timeWaitTableIsBounded() {
        TcpEngineConfig cfg = new TcpEngineConfig().maxTimeWait(3).secret(new byte[32]);
        try (TestNet net = new TestNet(9)) {
            TestNet.Node a = net.node(cfg);
            TestNet.Node b = net.node();
            Recorder server = new Recorder();
            b.engine.listen(null, 80, 16, null, server);
            for (int i = 0; i < 5; i++) {
                Recorder r = new Recorder();
                TcpConnection c = a.engine.connect(a.sock(40000 + i), b.sock(80), null, r);
                assertTrue(net.runUntil(() -> r.established, S));
                c.close();
                assertTrue(net.runUntil(() -> c.state() == TcpState.FIN_WAIT_2, S));
                TcpConnection s = server.accepted.get(i);
                assertTrue(net.runUntil(() -> s.state() == TcpState.CLOSE_WAIT, S));
                s.close();
                assertTrue(net.runUntil(() -> r.closed && s.state() == TcpState.CLOSED, S));
            }
            assertEquals(3, a.engine.timeWaitCount());
            assertEquals(2, a.engine.drops(DropReason.TIME_WAIT_TABLE_FULL));
            assertEquals(0, a.engine.connectionCount());
            // the oldest were recycled: the 4-tuple of the first is free again, the last is not
            assertFalse(a.engine.isInUse(a.sock(40000), b.sock(80)));
            assertTrue(a.engine.isInUse(a.sock(40004), b.sock(80)));
        }
    }

    @Test
    void deferredAcceptSendsNoSynAckUntilAccepted() {
        try (TestNet net = new TestNet(10)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            TcpConnection[] pending = new TcpConnection[1];
            Recorder server = new Recorder() {
                @Override
                public SynVerdict onSyn(TcpFlow syn) {
                    return SynVerdict.DEFER;
                }

                @Override
                public void onDeferred(TcpConnection c) {
                    pending[0] = c;
                }
            };
            // any-address, any-port listener: a gateway accepts TCP to any destination
            b.engine.listen(null, TcpEngine.ANY_PORT, 8, null, server);
            Recorder r = new Recorder();
            TcpConnection c = a.engine.connect(a.sock(40000), new java.net.InetSocketAddress(
                    TestNet.inet(b.address), 8443), null, r);
            net.runFor(500 * MS);
            assertNotNull(pending[0]);
            assertTrue(pending[0].isDeferred());
            assertEquals(8443, pending[0].localPort());
            assertEquals(0, net.sentBy(1).size(), "no SYN-ACK while deferred");
            net.runFor(1200 * MS); // the client's SYN retransmission is absorbed
            assertEquals(0, net.sentBy(1).size());
            assertEquals(1, b.engine.halfOpenCount());
            pending[0].acceptDeferred();
            assertTrue(net.runUntil(() -> r.established && server.established, S));
            assertEquals(0, b.engine.halfOpenCount());
            assertEquals(TcpState.ESTABLISHED, c.state());
        }
    }

    @Test
    void deferredRefusals() {
        for (SynVerdict how : new SynVerdict[]{SynVerdict.REJECT_RST, SynVerdict.REJECT_ICMP}) {
            try (TestNet net = new TestNet(11)) {
                TestNet.Node a = net.node();
                TestNet.Node b = net.node();
                TcpConnection[] pending = new TcpConnection[1];
                Recorder server = new Recorder() {
                    @Override
                    public SynVerdict onSyn(TcpFlow syn) {
                        return SynVerdict.DEFER;
                    }

                    @Override
                    public void onDeferred(TcpConnection c) {
                        pending[0] = c;
                    }
                };
                b.engine.listen(TestNet.inet(b.address), 80, 8, null, server);
                Recorder r = new Recorder();
                a.engine.connect(a.sock(40000), b.sock(80), null, r);
                net.runFor(100 * MS);
                pending[0].refuseDeferred(how);
                assertEquals(TcpState.CLOSED, pending[0].state());
                assertEquals(0, b.engine.connectionCount());
                assertEquals(0, b.engine.halfOpenCount());
                if (how == SynVerdict.REJECT_RST) {
                    assertTrue(net.runUntil(() -> r.closed, S));
                    assertInstanceOf(ConnectException.class, r.cause);
                } else {
                    assertEquals(1, b.unreachables.size());
                    ByteBuf q = b.unreachables.get(0);
                    assertEquals(40000, q.getUnsignedShort(0), "the quoted SYN header for the ICMP error");
                    assertEquals(Tcp.SYN, q.getUnsignedByte(13) & Tcp.SYN);
                    assertFalse(r.closed);
                }
            }
        }
    }

    @Test
    void listenerVerdicts() {
        try (TestNet net = new TestNet(12)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            Recorder server = new Recorder() {
                @Override
                public SynVerdict onSyn(TcpFlow syn) {
                    return syn.remotePort() == 1 ? SynVerdict.REJECT_RST : SynVerdict.DROP;
                }
            };
            b.engine.listen(null, 80, 8, null, server);
            Recorder r1 = new Recorder();
            Recorder r2 = new Recorder();
            a.engine.connect(a.sock(1), b.sock(80), null, r1);
            a.engine.connect(a.sock(2), b.sock(80), new TcpSocketOptions().synRetries(1), r2);
            assertTrue(net.runUntil(() -> r1.closed && r2.closed, 10 * S));
            assertInstanceOf(ConnectException.class, r1.cause);
            assertInstanceOf(ConnectTimeoutException.class, r2.cause);
            assertEquals(3, b.engine.drops(DropReason.LISTENER_REFUSED));
        }
    }

    @Test
    void rfc5961ChallengeAcks() {
        try (Pair p = new Pair(13, new TcpSocketOptions().timestamps(false))) {
            assertTrue(p.connect());
            TcpConnection s = p.s();
            int rcvNxt = s.rcvNxt;
            int sndNxt = s.sndNxt;
            int before = p.net.sentBy(1).size();
            // RST in the window but not at RCV.NXT: challenge ACK, connection kept (RFC 5961 §3.2)
            p.net.inject(p.b, p.a.address, Segments.build(p.a.address, p.b.address, 40000, 80, rcvNxt + 100, 0,
                    Tcp.RST, 0, null, null));
            // SYN on an established connection: challenge ACK (§4.2)
            p.net.inject(p.b, p.a.address, Segments.build(p.a.address, p.b.address, 40000, 80, rcvNxt + 5, 0,
                    Tcp.SYN, 1000, null, null));
            // ACK of data never sent (§5.2)
            p.net.inject(p.b, p.a.address, Segments.build(p.a.address, p.b.address, 40000, 80, rcvNxt,
                    sndNxt + 100_000, Tcp.ACK, 1000, null, null));
            // data outside the window (RFC 9293 §3.10.7.4 first check): dropped, ACKed
            p.net.inject(p.b, p.a.address, Segments.build(p.a.address, p.b.address, 40000, 80, rcvNxt + 100_000_000,
                    sndNxt, Tcp.ACK, 1000, null, new byte[10]));
            // RST outside the window: dropped silently
            p.net.inject(p.b, p.a.address, Segments.build(p.a.address, p.b.address, 40000, 80, rcvNxt - 100_000_000,
                    0, Tcp.RST, 0, null, null));
            p.net.runFor(10 * MS);
            assertEquals(TcpState.ESTABLISHED, s.state());
            assertEquals(1, p.b.engine.drops(DropReason.RST_CHALLENGED));
            assertEquals(1, p.b.engine.drops(DropReason.SYN_CHALLENGED));
            assertEquals(1, p.b.engine.drops(DropReason.ACK_UNSENT));
            assertEquals(1, p.b.engine.drops(DropReason.OUT_OF_WINDOW));
            assertEquals(1, p.b.engine.drops(DropReason.RST_OUT_OF_WINDOW));
            long acks = p.net.sentBy(1).stream().skip(before).filter(x -> x.has(Tcp.ACK) && x.len() == 0
                    && x.ack() == rcvNxt).count();
            assertEquals(4, acks, "challenge ACKs for RST, SYN and bad ACK, plus the out-of-window ACK");
            // the exact RST resets
            p.net.inject(p.b, p.a.address, Segments.build(p.a.address, p.b.address, 40000, 80, rcvNxt, 0,
                    Tcp.RST, 0, null, null));
            p.net.runFor(10 * MS);
            assertEquals(TcpState.CLOSED, s.state());
        }
    }

    @Test
    void listenerCloseResetsHalfOpen() {
        try (TestNet net = new TestNet(14)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            Recorder server = new Recorder();
            TcpListenHandle l = b.engine.listen(null, 80, 8, null, server);
            net.filter = (from, tcp, seq, len, flags) -> from == 1; // SYN-ACKs lost
            Recorder r = new Recorder();
            a.engine.connect(a.sock(40000), b.sock(80), null, r);
            net.runFor(100 * MS);
            assertEquals(1, l.halfOpen());
            l.close();
            assertEquals(0, b.engine.halfOpenCount());
            assertEquals(0, b.engine.connectionCount());
            assertFalse(l.isOpen());
        }
    }
    @Test
    void ipv6TransferAndClose() {
        try (TestNet net = new TestNet(15)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            Recorder server = new Recorder();
            Recorder client = new Recorder();
            b.engine.listen(b.sock6(443).getAddress(), 443, 8, null, server);
            TcpConnection c = a.engine.connect(a.sock6(50000), b.sock6(443), null, client);
            assertTrue(net.runUntil(() -> client.established && server.established, S));
            assertTrue(c.isIpv6());
            assertEquals(1500 - 60 - 12, c.stats().mss(), "RFC 6691: IPv6 header is 40 bytes");
            byte[] d = bytes(300_000, 15);
            c.write(buf(d));
            c.flush();
            c.shutdownOutput();
            assertTrue(net.runUntil(() -> server.peerFin, 5 * S));
            assertArrayEquals(d, server.received.toByteArray());
            server.connection.close();
            assertTrue(net.runUntil(() -> client.closed && server.closed, S));
            assertEquals(b.sock6(443), c.remoteAddress());
        }
    }

    @Test
    void icmpErrors() {
        // a hard error (port unreachable) in SYN-SENT fails the connect (RFC 1122 §4.2.3.9)
        try (TestNet net = new TestNet(16)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            net.filter = (from, tcp, seq, len, flags) -> true;
            Recorder r = new Recorder();
            TcpConnection c = a.engine.connect(a.sock(40000), b.sock(80), null, r);
            ByteBuf q = Segments.build(a.address, b.address, 40000, 80, c.iss, 0, Tcp.SYN, 0, null, null);
            // a soft error does not
            a.engine.icmpError4(a.address, b.address, q, IcmpError.HOST_UNREACHABLE, 0);
            assertEquals(TcpState.SYN_SENT, c.state());
            a.engine.icmpError4(a.address, b.address, q, IcmpError.PORT_UNREACHABLE, 0);
            q.release();
            assertTrue(r.closed);
            assertInstanceOf(ConnectException.class, r.cause);
        }
        // in a synchronized state every error is soft (RFC 5927 §4.1); it names the cause of a later timeout
        try (Pair p = new Pair(17, new TcpSocketOptions().dataRetries(3))) {
            assertTrue(p.connect());
            p.net.filter = (from, tcp, seq, len, flags) -> true;
            p.c.write(buf(new byte[100]));
            p.c.flush();
            ByteBuf q = Segments.build(p.a.address, p.b.address, 40000, 80, p.c.sndUna, 0, Tcp.ACK, 0, null, null);
            p.a.engine.icmpError4(p.a.address, p.b.address, q, IcmpError.PORT_UNREACHABLE, 0);
            q.release();
            assertEquals(TcpState.ESTABLISHED, p.c.state());
            assertTrue(p.net.runUntil(() -> p.client.closed, 60 * S));
            assertEquals("Connection timed out: port unreachable", p.client.cause.getMessage());
        }
    }

    @Test
    void writabilityFollowsTheSendBuffer() {
        TcpSocketOptions o = new TcpSocketOptions().sendBuffer(64 * 1024).sendBufferWaterMarks(16 * 1024, 64 * 1024);
        try (Pair p = new Pair(18, o)) {
            assertTrue(p.connect());
            assertTrue(p.c.isWritable());
            p.c.write(buf(new byte[40 * 1024]));
            assertTrue(p.c.isWritable());
            p.c.write(buf(new byte[40 * 1024]));
            assertFalse(p.c.isWritable(), "above the high water mark");
            assertEquals(80 * 1024, p.c.sendBufferBytes());
            assertEquals(64 * 1024 - 80 * 1024, p.c.sendBufferFree());
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.c.isWritable(), 5 * S));
            assertTrue(p.c.sendBufferBytes() <= 16 * 1024);
            assertEquals(java.util.List.of("established", "unwritable", "writable"), p.client.events);
        }
    }

    @Test
    void receiveWindowFollowsConsumption() {
        TcpSocketOptions so = new TcpSocketOptions().receiveBuffer(8192).autoTuning(false);
        try (Pair p = new Pair(19, new TcpSocketOptions().noDelay(true), so)) {
            p.server.consume = false;
            assertTrue(p.connect());
            p.c.write(buf(new byte[50_000]));
            p.c.flush();
            p.net.runFor(2 * S);
            long got = p.server.receivedBytes;
            assertTrue(got <= 8192 && got > 4096, "the unconsumed bytes fill the window: " + got);
            p.s().consumed((int) got);
            assertTrue(p.net.runUntil(() -> p.server.receivedBytes > got, S), "window reopened by consumption");
        }
    }
}

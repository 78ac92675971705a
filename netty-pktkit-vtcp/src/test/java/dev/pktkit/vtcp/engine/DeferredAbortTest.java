package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Tcp;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;

import static dev.pktkit.vtcp.engine.StateMachineTest.MS;
import static dev.pktkit.vtcp.engine.StateMachineTest.S;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A deferred SYN that dies before the application decides is reported to the listener (once). */
class DeferredAbortTest {

    /** Defers every SYN and records pending connections and aborts. */
    static final class Deferring extends Recorder {
        final List<TcpConnection> pending = new ArrayList<>();
        final List<TcpConnection> aborted = new ArrayList<>();
        final List<Throwable> causes = new ArrayList<>();

        @Override
        public SynVerdict onSyn(TcpFlow syn) {
            return SynVerdict.DEFER;
        }

        @Override
        public void onDeferred(TcpConnection c) {
            pending.add(c);
        }

        @Override
        public void onDeferredAborted(TcpConnection c, Throwable cause) {
            assertEquals(TcpState.CLOSED, c.state());
            aborted.add(c);
            causes.add(cause);
        }
    }

    @Test
    void peerResetOfADeferredSynIsReported() {
        try (TestNet net = new TestNet(51)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            Deferring server = new Deferring();
            b.engine.listen(TestNet.inet(b.address), 80, 8, null, server);
            a.engine.connect(a.sock(40000), b.sock(80), null, new Recorder());
            net.runFor(100 * MS);
            assertEquals(1, server.pending.size());
            TcpConnection p = server.pending.get(0);
            assertEquals(1, b.engine.halfOpenCount());
            // an out-of-window RST changes nothing (RFC 5961 §3)
            net.inject(b, a.address, Segments.build(a.address, b.address, 40000, 80, p.rcvNxt + 100_000, 0, Tcp.RST,
                    0, null, null));
            net.runFor(10 * MS);
            assertTrue(server.aborted.isEmpty());
            assertTrue(p.isDeferred());
            // the client gives up: RST at RCV.NXT
            net.filter = (from, tcp, seq, len, flags) -> from == 0; // no further SYN from the client
            net.inject(b, a.address, Segments.build(a.address, b.address, 40000, 80, p.rcvNxt, 0, Tcp.RST, 0, null,
                    null));
            net.runFor(10 * MS);
            assertEquals(List.of(p), server.aborted);
            assertInstanceOf(ConnectException.class, server.causes.get(0));
            assertEquals(TcpState.CLOSED, p.state());
            assertFalse(p.isDeferred());
            assertEquals(0, b.engine.halfOpenCount());
            assertEquals(0, b.engine.connectionCount());
            p.acceptDeferred(); // too late: nothing happens
            net.runFor(10 * S);
            assertEquals(0, net.sentBy(1).size(), "no SYN-ACK for the dead entry");
            assertEquals(1, server.aborted.size(), "reported once");
        }
    }

    @Test
    void expiryOfADeferredSynIsReported() {
        TcpEngineConfig cfg = new TcpEngineConfig().secret(new byte[32]).deferredTimeoutNanos(5 * S);
        try (TestNet net = new TestNet(52)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node(cfg);
            Deferring server = new Deferring();
            b.engine.listen(TestNet.inet(b.address), 80, 8, null, server);
            a.engine.connect(a.sock(40000), b.sock(80), null, new Recorder());
            net.runFor(100 * MS);
            net.filter = (from, tcp, seq, len, flags) -> from == 0; // the client's SYN retransmissions are lost
            assertEquals(1, server.pending.size());
            TcpConnection p = server.pending.get(0);
            net.runFor(4800 * MS);
            assertTrue(server.aborted.isEmpty(), "still waiting within the timeout");
            assertTrue(p.isDeferred());
            net.runFor(300 * MS);
            assertEquals(List.of(p), server.aborted);
            assertInstanceOf(IOException.class, server.causes.get(0));
            assertEquals(TcpState.CLOSED, p.state());
            assertEquals(0, b.engine.halfOpenCount());
            assertEquals(0, net.sentBy(1).size(), "an expired deferred SYN is forgotten silently");
        }
    }

    @Test
    void acceptingOrRefusingOrClosingTheListenerReportsNoAbort() {
        try (TestNet net = new TestNet(53)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node(new TcpEngineConfig().secret(new byte[32]).deferredTimeoutNanos(2 * S));
            Deferring server = new Deferring();
            TcpListenHandle l = b.engine.listen(TestNet.inet(b.address), 80, 8, null, server);
            Recorder r1 = new Recorder();
            a.engine.connect(a.sock(40001), b.sock(80), null, r1);
            a.engine.connect(a.sock(40002), b.sock(80), null, new Recorder());
            a.engine.connect(a.sock(40003), b.sock(80), null, new Recorder());
            net.runFor(100 * MS);
            assertEquals(3, server.pending.size());
            server.pending.get(0).acceptDeferred();
            server.pending.get(1).refuseDeferred(SynVerdict.REJECT_RST);
            assertTrue(net.runUntil(() -> r1.established && server.established, S));
            TcpConnection accepted = server.pending.get(0);
            assertSame(accepted, server.connection);
            l.close();
            net.runFor(10 * S); // past the deferral timeout: the accepted one's timer was replaced
            assertTrue(server.aborted.isEmpty(), "aborted: " + server.aborted);
            assertEquals(TcpState.ESTABLISHED, accepted.state());
        }
    }
}

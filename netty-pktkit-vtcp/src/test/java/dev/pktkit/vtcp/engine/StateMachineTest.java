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
}

package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.TcpOptions;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.pktkit.vtcp.engine.StateMachineTest.MS;
import static dev.pktkit.vtcp.engine.StateMachineTest.S;
import static dev.pktkit.vtcp.engine.StateMachineTest.buf;
import static dev.pktkit.vtcp.engine.StateMachineTest.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Malformed and hostile segments are dropped, counted and released; a SYN flood leaves memory bounded. */
class HostileInputTest {

    private static ByteBuf options(int... bytes) {
        ByteBuf o = TestNet.ALLOC.buffer(bytes.length);
        for (int b : bytes) {
            o.writeByte(b);
        }
        return o;
    }

    private static ByteBuf seg(int src, int dst, int sport, int dport, int seq, int ack, int flags, int[] opts,
                               byte[] payload) {
        ByteBuf o = opts == null ? null : options(opts);
        try {
            return Segments.build(src, dst, sport, dport, seq, ack, flags, 1000, o, payload);
        } finally {
            if (o != null) {
                o.release();
            }
        }
    }

    /**
     * Direct segments of 256 bytes and more are summed in the engine's scratch array, 4 KiB at a time: a correct
     * one passes, one flipped bit anywhere (also past the first 4 KiB, also at an odd reader index) is a
     * {@code BAD_CHECKSUM} drop.
     */
    @Test
    void largeDirectSegmentsAreCheckedWhole() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(41, new TcpSocketOptions())) {
            assertTrue(p.connect());
            TcpEngine e = p.b.engine;
            int a = p.a.address;
            int b = p.b.address;
            TcpConnection s = p.s();
            long expected = 0;
            for (int len : new int[] {300, 1449, 4096, 5001, 9000}) {
                for (int prefix : new int[] {0, 3}) {
                    for (int flip : new int[] {-1, 20, len / 2, len + 19}) {
                        byte[] payload = new byte[len];
                        new java.util.Random(len * 31L + prefix).nextBytes(payload);
                        ByteBuf built = seg(a, b, 40000, 80, s.rcvNxt + 100_000, s.sndNxt, Tcp.ACK, null, payload);
                        ByteBuf d = TestNet.ALLOC.directBuffer(prefix + built.readableBytes());
                        d.writeZero(prefix).writeBytes(built).readerIndex(prefix);
                        built.release();
                        if (flip >= 0) {
                            d.setByte(prefix + flip, d.getByte(prefix + flip) ^ 0x10);
                            expected++;
                        }
                        e.input4(d, a, b, 0, false);
                        assertEquals(expected, e.drops(DropReason.BAD_CHECKSUM),
                                "len " + len + " prefix " + prefix + " flip " + flip);
                    }
                }
            }
        }
    }

    @Test
    void everyMalformedClassIsDroppedAndCounted() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(40, new TcpSocketOptions())) {
            assertTrue(p.connect());
            TcpEngine e = p.b.engine;
            int a = p.a.address;
            int b = p.b.address;
            TcpConnection s = p.s();
            int rn = s.rcvNxt;
            int sn = s.sndNxt;
            // truncated: shorter than a header
            ByteBuf shortSeg = TestNet.ALLOC.buffer(10).writeZero(10);
            e.input4(shortSeg, a, b, 0, true);
            assertEquals(1, e.drops(DropReason.MALFORMED_HEADER));
            // data offset below 5 words, and beyond the segment
            ByteBuf lowOff = seg(a, b, 40000, 80, rn, sn, Tcp.ACK, null, null);
            lowOff.setByte(12, 0x40);
            e.input4(lowOff, a, b, 0, true);
            ByteBuf highOff = seg(a, b, 40000, 80, rn, sn, Tcp.ACK, null, null);
            highOff.setByte(12, 0xF0);
            e.input4(highOff, a, b, 0, true);
            assertEquals(3, e.drops(DropReason.MALFORMED_HEADER));
            // options: zero length, length beyond the header, MSS of the wrong length, SACK of a bad length
            e.input4(seg(a, b, 40000, 80, rn, sn, Tcp.ACK, new int[]{8, 0, 0, 0}, null), a, b, 0, true);
            e.input4(seg(a, b, 40000, 80, rn, sn, Tcp.ACK, new int[]{1, 1, 8, 30}, null), a, b, 0, true);
            e.input4(seg(a, b, 40000, 80, rn, sn, Tcp.ACK, new int[]{2, 3, 5, 0}, null), a, b, 0, true);
            e.input4(seg(a, b, 40000, 80, rn, sn, Tcp.ACK, new int[]{5, 6, 0, 0, 0, 0, 1, 1}, null), a, b, 0, true);
            assertEquals(4, e.drops(DropReason.MALFORMED_OPTION));
            // checksum
            ByteBuf bad = seg(a, b, 40000, 80, rn, sn, Tcp.ACK, null, new byte[10]);
            bad.setByte(25, bad.getByte(25) ^ 1);
            e.input4(bad, a, b, 0, false);
            assertEquals(1, e.drops(DropReason.BAD_CHECKSUM));
            // ports 0, multicast and broadcast addresses
            e.input4(seg(a, b, 0, 80, rn, sn, Tcp.ACK, null, null), a, b, 0, true);
            e.input4(seg(a, b, 40000, 0, rn, sn, Tcp.ACK, null, null), a, b, 0, true);
            e.input4(seg(a, 0xE000_0001, 40000, 80, rn, sn, Tcp.SYN, null, null), a, 0xE000_0001, 0, true);
            e.input4(seg(-1, b, 40000, 80, rn, sn, Tcp.SYN, null, null), -1, b, 0, true);
            assertEquals(4, e.drops(DropReason.BAD_ADDRESS));
            // impossible flag combinations
            e.input4(seg(a, b, 40001, 80, 1, 0, Tcp.SYN | Tcp.FIN, null, null), a, b, 0, true);
            e.input4(seg(a, b, 40001, 80, 1, 0, Tcp.SYN | Tcp.RST, null, null), a, b, 0, true);
            e.input4(seg(a, b, 40001, 80, 1, 0, 0, null, null), a, b, 0, true);
            e.input4(seg(a, b, 40000, 80, rn, 0, Tcp.PSH, null, new byte[5]), a, b, 0, true);
            assertEquals(4, e.drops(DropReason.BAD_FLAGS));
            // PAWS: a timestamp older than TS.Recent
            int tsOld = s.tsRecent - 1000;
            e.input4(seg(a, b, 40000, 80, rn, sn, Tcp.ACK, new int[]{1, 1, 8, 10, tsOld >>> 24, (tsOld >>> 16) & 0xFF,
                    (tsOld >>> 8) & 0xFF, tsOld & 0xFF, 0, 0, 0, 0}, new byte[20]), a, b, 0, true);
            assertEquals(1, e.drops(DropReason.PAWS));
            // no connection, no listener: RST, counted
            e.input4(seg(a, b, 40000, 81, 5, 6, Tcp.ACK, null, null), a, b, 0, true);
            e.input4(seg(a, b, 40000, 81, 5, 6, Tcp.RST, null, null), a, b, 0, true);
            assertEquals(2, e.drops(DropReason.NO_CONNECTION));
            // an ACK to a listener that is no cookie
            e.input4(seg(a, b, 40002, 80, 5, 6, Tcp.ACK, null, null), a, b, 0, true);
            assertEquals(1, e.drops(DropReason.NO_CONNECTION) + e.drops(DropReason.BAD_COOKIE) - 2);
            // ICMP errors that match nothing
            ByteBuf q = TestNet.ALLOC.buffer(4).writeInt(0);
            e.icmpError4(b, a, q, IcmpError.PORT_UNREACHABLE, 0);
            q.release();
            e.icmpError4(b, a, null, IcmpError.PORT_UNREACHABLE, 0);
            assertEquals(2, e.drops(DropReason.ICMP_UNMATCHED));
            // the connection is unharmed and still moves data
            assertEquals(TcpState.ESTABLISHED, s.state());
            byte[] d = bytes(50_000, 1);
            p.c.write(buf(d));
            p.c.flush();
            assertTrue(p.net.runUntil(() -> p.server.receivedBytes == d.length, 5 * S));
            assertArrayEquals(d, p.server.received.toByteArray());
        }
    }

    @Test
    void randomGarbageNeverThrows() {
        try (StateMachineTest.Pair p = new StateMachineTest.Pair(41, new TcpSocketOptions())) {
            assertTrue(p.connect());
            Random rnd = new Random(41);
            int a = p.a.address;
            int b = p.b.address;
            for (int i = 0; i < 5_000; i++) {
                int len = rnd.nextInt(100);
                ByteBuf g = TestNet.ALLOC.buffer(Math.max(len, 20)).writeZero(Math.max(len, 20));
                for (int j = 0; j < g.readableBytes(); j++) {
                    g.setByte(j, rnd.nextInt(256));
                }
                if (rnd.nextBoolean()) {
                    // aim at the live connection: right ports, plausible numbers
                    g.setShort(0, 40000);
                    g.setShort(2, 80);
                    if (rnd.nextBoolean()) {
                        g.setInt(4, p.s().rcvNxt + rnd.nextInt(100_000) - 50_000);
                    }
                    if (rnd.nextBoolean()) {
                        g.setInt(8, p.s().sndNxt + rnd.nextInt(2000) - 1000);
                    }
                }
                g.writerIndex(len < 20 ? len : g.writerIndex());
                if (len >= 20) {
                    Tcp.fillChecksumV4(g, 0, g.readableBytes(), a, b);
                }
                p.b.engine.input4(g, a, b, rnd.nextInt(4), rnd.nextInt(4) == 0);
                if (p.s().state() != TcpState.ESTABLISHED) {
                    break;
                }
            }
            long total = 0;
            for (long d : p.b.engine.dropCounts()) {
                total += d;
            }
            assertTrue(total > 1000, "most garbage is dropped: " + total);
            p.net.runFor(S);
        }
    }

    @Test
    void synFloodStaysBoundedWhileRealConnectionsCompleteThroughCookies() {
        TcpEngineConfig cfg = new TcpEngineConfig().maxHalfOpen(64).secret(new byte[32]);
        try (TestNet net = new TestNet(42)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node(cfg);
            Recorder server = new Recorder();
            b.engine.listen(null, 80, 16, null, server);
            List<ByteBuf> floodReplies = new ArrayList<>();
            net.tap = (from, tcp) -> {
                if (from == 1 && tcp.getInt(tcp.readerIndex() + 8) != 0 && floodReplies.size() < 50
                        && tcp.getUnsignedShort(tcp.readerIndex() + 2) == 7777) {
                    floodReplies.add(tcp.copy());
                }
            };
            Random rnd = new Random(42);
            int attackers = 0x0B00_0000;
            int flood = 5_000;
            for (int i = 0; i < flood; i++) {
                int src = attackers + rnd.nextInt(1 << 20);
                int sport = i >= 50 && i < 100 ? 7777 : 1024 + rnd.nextInt(60000); // 7777: after the table filled
                // SYN offering MSS 1460, SACK, timestamps and window scale 9, like Linux
                int ts = rnd.nextInt();
                ByteBuf syn = seg(src, b.address, sport, 80, rnd.nextInt(), 0, Tcp.SYN,
                        new int[]{2, 4, 0x05, 0xB4, 4, 2, 8, 10, ts >>> 24, (ts >>> 16) & 0xFF, (ts >>> 8) & 0xFF,
                                ts & 0xFF, 0, 0, 0, 0, 1, 3, 3, 9}, null);
                b.engine.input4(syn, src, b.address, 0, false);
                if (i % 1000 == 0) {
                    net.runFor(10 * MS);
                }
            }
            // memory bounded: the half-open table never grows past its bound, the rest were answered statelessly
            assertEquals(16, b.engine.halfOpenCount(), "the listener's backlog is full");
            assertTrue(b.engine.connectionCount() <= 64);
            assertTrue(b.engine.synCookiesSent() >= flood - 64, "cookies: " + b.engine.synCookiesSent());
            // a real client still gets in (through a cookie) and keeps window scaling and SACK
            Recorder r = new Recorder();
            TcpConnection c = a.engine.connect(a.sock(40000), b.sock(80), null, r);
            assertTrue(net.runUntil(() -> r.established && server.established, 5 * S));
            TcpConnection s = server.connection;
            assertTrue(b.engine.synCookiesAccepted() >= 1);
            assertTrue(s.stats().sack(), "SACK kept through the cookie");
            assertEquals(7, s.stats().sendWindowScale(), "the client's window scale kept");
            assertEquals(7, c.stats().sendWindowScale());
            byte[] d = bytes(300_000, 2);
            c.write(buf(d));
            c.flush();
            assertTrue(net.runUntil(() -> server.receivedBytes == d.length, 10 * S));
            assertArrayEquals(d, server.received.toByteArray());
            // the flood's SYN-ACKs carry valid cookies (the attacker can complete them, keeping wscale 9 and SACK)
            assertTrue(floodReplies.size() >= 10);
            int completed = 0;
            for (ByteBuf sa : floodReplies) {
                int off = sa.readerIndex();
                int iss = sa.getInt(off + 4);
                int peerIsn = sa.getInt(off + 8) - 1;
                long tsVal = TcpOptions.tsVal(sa, off);
                int flags = sa.getUnsignedByte(off + 13);
                sa.release();
                if (tsVal < 0 || (flags & Tcp.SYN) == 0) {
                    continue;
                }
                // the timestamp's low 6 bits: window scale 9, SACK permitted
                assertEquals(9, (int) (tsVal & 0xF));
                assertEquals(0x10, (int) (tsVal & 0x10));
                completed++;
            }
            floodReplies.clear();
            assertTrue(completed >= 10);
            // complete one flood handshake as the attacker would: the engine creates the connection from the cookie
            int src = attackers + 12345;
            int isn = 1000;
            ByteBuf syn = seg(src, b.address, 9999, 80, isn, 0, Tcp.SYN, new int[]{2, 4, 0x05, 0xB4, 4, 2, 8, 10,
                    0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 9}, null);
            ByteBuf[] synAck = new ByteBuf[1];
            net.tap = (from, tcp) -> {
                if (from == 1 && tcp.getUnsignedShort(tcp.readerIndex() + 2) == 9999) {
                    synAck[0] = tcp.copy();
                }
            };
            b.engine.input4(syn, src, b.address, 0, false);
            int off = synAck[0].readerIndex();
            int cookie = synAck[0].getInt(off + 4);
            int tsv = (int) TcpOptions.tsVal(synAck[0], off);
            synAck[0].release();
            net.tap = null;
            int accepted = server.accepted.size();
            b.engine.input4(seg(src, b.address, 9999, 80, isn + 1, cookie + 1, Tcp.ACK,
                    new int[]{1, 1, 8, 10, 0, 0, 0, 2, tsv >>> 24, (tsv >>> 16) & 0xFF, (tsv >>> 8) & 0xFF, tsv & 0xFF},
                    null), src, b.address, 0, false);
            assertEquals(accepted + 1, server.accepted.size());
            TcpConnectionStats cs = server.accepted.get(accepted).stats();
            assertEquals(TcpState.ESTABLISHED, cs.state());
            assertEquals(9, cs.sendWindowScale());
            assertTrue(cs.sack());
            assertTrue(cs.timestamps());
            assertEquals(1460 - 12, cs.mss());
            // a forged cookie is refused
            b.engine.input4(seg(src + 1, b.address, 9999, 80, isn + 1, cookie + 1, Tcp.ACK, null, null),
                    src + 1, b.address, 0, false);
            assertTrue(b.engine.drops(DropReason.BAD_COOKIE) >= 1);
        }
    }

    @Test
    void synQueueFullWithoutCookiesDrops() {
        TcpEngineConfig cfg = new TcpEngineConfig().synCookies(SynCookieMode.OFF).maxHalfOpen(8).secret(new byte[32]);
        try (TestNet net = new TestNet(43)) {
            TestNet.Node b = net.node(cfg);
            b.engine.listen(null, 80, 100, null, new Recorder());
            for (int i = 0; i < 100; i++) {
                b.engine.input4(seg(0x0B000000 + i, b.address, 5000, 80, i, 0, Tcp.SYN, null, null),
                        0x0B000000 + i, b.address, 0, false);
            }
            assertEquals(8, b.engine.halfOpenCount());
            assertEquals(92, b.engine.drops(DropReason.SYN_QUEUE_FULL));
            assertEquals(0, b.engine.synCookiesSent());
            // half-open entries time out after their SYN-ACK retransmissions
            net.runFor(200 * S);
            assertEquals(0, b.engine.halfOpenCount());
            assertEquals(0, b.engine.connectionCount());
        }
    }
    @Test
    void outOfOrderQueueIsBoundedInBytes() {
        TcpEngineConfig cfg = new TcpEngineConfig().maxOutOfOrderBytes(8 * 1024).secret(new byte[32]);
        try (TestNet net = new TestNet(44)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node(cfg);
            Recorder server = new Recorder();
            b.engine.listen(null, 80, 16, null, server);
            Recorder client = new Recorder();
            TcpConnection c = a.engine.connect(a.sock(40000), b.sock(80), new TcpSocketOptions().noDelay(true),
                    client);
            assertTrue(net.runUntil(() -> client.established && server.established, S));
            int first = c.sndNxt;
            boolean[] dropped = new boolean[1];
            // the first data segment is lost once: everything behind it waits in the out-of-order queue
            net.filter = (from, tcp, seq, len, flags) -> from == 0 && seq == first && len > 0 && !dropped[0]
                    && (dropped[0] = true);
            byte[] d = bytes(200_000, 44);
            c.write(buf(d));
            c.flush();
            assertTrue(net.runUntil(() -> server.receivedBytes == d.length, 30 * S));
            assertArrayEquals(d, server.received.toByteArray());
            assertTrue(b.engine.drops(DropReason.OUT_OF_ORDER_FULL) > 0, "segments beyond the 8 KiB bound dropped");
            assertEquals(0, server.connection.stats().outOfOrderBytes());
        }
    }

    @Test
    void connectionTableIsBounded() {
        TcpEngineConfig cfg = new TcpEngineConfig().maxConnections(3).secret(new byte[32]);
        try (TestNet net = new TestNet(45)) {
            TestNet.Node a = net.node();
            TestNet.Node b = net.node(cfg);
            Recorder server = new Recorder();
            b.engine.listen(null, 80, 16, null, server);
            List<Recorder> clients = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Recorder r = new Recorder();
                clients.add(r);
                a.engine.connect(a.sock(41000 + i), b.sock(80), new TcpSocketOptions().synRetries(1), r);
            }
            net.runFor(10 * S);
            assertEquals(3, b.engine.connectionCount());
            assertEquals(3, clients.stream().filter(r -> r.established).count());
            assertTrue(b.engine.drops(DropReason.CONNECTION_LIMIT) >= 2);
            TcpEngine small = b.engine;
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> small.connect(b.sock(5000), a.sock(6000), null, new Recorder()));
        }
    }
}

package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatDropReason;
import dev.pktkit.nat.NatEngine;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.pktkit.nat.alg.AlgPackets.*;
import static org.junit.jupiter.api.Assertions.*;

/** The FTP ALG on a bare engine, and through it the engine's helper hook (payload edits, sequence offsets). */
class FtpAlgTest {
    static final String OUT = "198.51.100.1";
    static final String CLIENT = "10.0.0.2";
    static final String SERVER = "203.0.113.5";
    static final int A = Tcp.ACK;
    private final List<ByteBuf> held = new ArrayList<>();
    private NatEngine e;
    private Algs algs;
    private int port;
    private int ns;

    @BeforeEach
    void setUp() {
        e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).maxExpectations(64, 4).build());
        algs = Algs.install(e, AlgConfig.defaults());
        ns = e.openNamespace();
        port = e.addPort(ns);
    }

    @AfterEach
    void release() {
        held.forEach(ByteBuf::release);
    }

    private ByteBuf keep(ByteBuf b) {
        held.add(b);
        return b;
    }

    private ByteBuf out(ByteBuf b) {
        keep(b);
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(b, port));
        assertTrue(valid(b), "outbound packet verifies");
        return b;
    }

    private ByteBuf in(ByteBuf b) {
        keep(b);
        assertEquals(port, e.inbound(b));
        assertTrue(valid(b), "inbound packet verifies");
        return b;
    }

    /** An inside client's control connection to the server, established. */
    private void connect(int cport) {
        out(tcp(CLIENT, cport, SERVER, 21, 1000, 0, Tcp.SYN, null, ""));
        in(tcp(SERVER, 21, OUT, cport, 5000, 1001, Tcp.SYN | A, null, ""));
        out(tcp(CLIENT, cport, SERVER, 21, 1001, 5001, A, null, ""));
    }

    @Test
    void activePortRewrittenLongerWithSeqAckAndSackOffsets() {
        connect(40001);
        String cmd = "PORT 10,0,0,2,156,64\r\n";
        ByteBuf p = out(tcp(CLIENT, 40001, SERVER, 21, 1001, 5001, A | Tcp.PSH, null, cmd));
        String rewritten = "PORT 198,51,100,1,156,64\r\n";
        assertEquals(rewritten, tcpPayload(p));
        int delta = rewritten.length() - cmd.length();
        assertEquals(4, delta);
        assertEquals(1001, seq(p), "the segment that carries the change keeps its sequence number");
        assertEquals(1, e.expectationCount());
        assertEquals(1, algs.ftp().counters().get(AlgEvent.REWRITTEN));

        // the server acknowledges the longer text: the inside client sees its own numbers
        long end = 1001 + rewritten.length();
        ByteBuf ack = in(tcp(SERVER, 21, OUT, 40001, 5001, end, A, sack(end + 100, end + 200), ""));
        assertEquals(1001 + cmd.length(), ack(ack));
        assertArrayEquals(new long[]{1001 + cmd.length() + 100, 1001 + cmd.length() + 200}, sackEdges(ack));
        // an ack of data before the change is not moved
        ByteBuf old = in(tcp(SERVER, 21, OUT, 40001, 5001, 1001, A, null, ""));
        assertEquals(1001, ack(old));
        // later client data moves by the offset, its acks of the server's stream do not
        ByteBuf next = out(tcp(CLIENT, 40001, SERVER, 21, 1001 + cmd.length(), 5001, A | Tcp.PSH, null, "LIST\r\n"));
        assertEquals(1001 + cmd.length() + delta, seq(next));
        assertEquals(5001, ack(next));
        assertEquals("LIST\r\n", tcpPayload(next));
        // a retransmission of the original command is rewritten the same way and keeps its number
        ByteBuf again = out(tcp(CLIENT, 40001, SERVER, 21, 1001, 5001, A | Tcp.PSH, null, cmd));
        assertEquals(rewritten, tcpPayload(again));
        assertEquals(1001, seq(again));
        ByteBuf later = out(tcp(CLIENT, 40001, SERVER, 21, 1001 + cmd.length() + 6, 5001, A, null, ""));
        assertEquals(1001 + cmd.length() + 6 + delta, seq(later));

        // the server's data connection from port 20 reaches the client's data port
        ByteBuf syn = in(tcp(SERVER, 20, OUT, 40000, 9000, 0, Tcp.SYN, null, ""));
        assertEquals(ip(CLIENT), dev.pktkit.codec.wire.Ipv4.dst(syn, 0));
        assertEquals(40000, Tcp.dstPort(syn, l4(syn)));
        assertEquals(0, e.expectationCount());
        assertEquals(1, e.counters().expectationsMatched());
    }

    @Test
    void activeModeFailsWithTheAlgOff() {
        Algs.install(e, AlgConfig.none());
        connect(40002);
        String cmd = "PORT 10,0,0,2,156,64\r\n";
        ByteBuf p = out(tcp(CLIENT, 40002, SERVER, 21, 1001, 5001, A | Tcp.PSH, null, cmd));
        assertEquals(cmd, tcpPayload(p));
        ByteBuf syn = keep(tcp(SERVER, 20, OUT, 40000, 9000, 0, Tcp.SYN, null, ""));
        assertEquals(NatEngine.DROP, e.inbound(syn));
        assertEquals(1, e.counters().dropped(NatDropReason.NO_MAPPING), "nothing reserved the data port");
    }

    @Test
    void eprtRewritten() {
        connect(40003);
        String cmd = "EPRT |1|10.0.0.2|40010|\r\n";
        ByteBuf p = out(tcp(CLIENT, 40003, SERVER, 21, 1001, 5001, A | Tcp.PSH, null, cmd));
        assertEquals("EPRT |1|198.51.100.1|40010|\r\n", tcpPayload(p));
        in(tcp(SERVER, 20, OUT, 40010, 9000, 0, Tcp.SYN, null, ""));
        ByteBuf six = out(tcp(CLIENT, 40003, SERVER, 21, 1001 + cmd.length(), 5001, A, null,
                "EPRT |2|fd00::2|40011|\r\n"));
        assertEquals("EPRT |2|fd00::2|40011|\r\n", tcpPayload(six), "IPv6 EPRT is not ours");
    }

    @Test
    void insideServerPassiveRepliesBehindAPortForward() {
        e.addStaticMapping(ns, IpProtocol.TCP, ip(CLIENT), 21, 0, 21, true);
        String remote = "203.0.113.9";
        in(tcp(remote, 50000, OUT, 21, 7000, 0, Tcp.SYN, null, ""));
        out(tcp(CLIENT, 21, remote, 50000, 100, 7001, Tcp.SYN | A, null, ""));
        String reply = "227 Entering Passive Mode (10,0,0,2,117,48).\r\n";
        ByteBuf p = out(tcp(CLIENT, 21, remote, 50000, 101, 7001, A | Tcp.PSH, null, reply));
        assertEquals("227 Entering Passive Mode (198,51,100,1,117,48).\r\n", tcpPayload(p));
        // the client's data connection to the advertised port reaches the server
        in(tcp(remote, 50001, OUT, 30000, 1, 0, Tcp.SYN, null, ""));
        // a third party cannot use a second announcement
        String epsv = "229 Entering Extended Passive Mode (|||30002|)\r\n";
        ByteBuf q = out(tcp(CLIENT, 21, remote, 50000, 101 + reply.length(), 7001, A | Tcp.PSH, null, epsv));
        assertEquals(epsv, tcpPayload(q), "port preserved: nothing to rewrite");
        assertEquals(105 + reply.length(), seq(q), "the earlier 4-byte growth moves this segment");
        ByteBuf stranger = keep(tcp("203.0.113.77", 1234, OUT, 30002, 1, 0, Tcp.SYN, null, ""));
        assertEquals(NatEngine.DROP, e.inbound(stranger));
        in(tcp(remote, 50002, OUT, 30002, 1, 0, Tcp.SYN, null, ""));
        // inbound acks of the server's stream come back into the server's numbering
        ByteBuf ack = in(tcp(remote, 50000, OUT, 21, 7001, 101 + reply.length() + 4 + epsv.length(), A, null, ""));
        assertEquals(101 + reply.length() + epsv.length(), ack(ack));
    }

    @Test
    void foreignAndMalformedAddressesPassUnchangedAndCounted() {
        connect(40004);
        long seq = 1001;
        for (String bad : new String[]{"PORT 10,0,0,9,156,64\r\n", "PORT 10,0,0,2,156\r\n", "PORT 999,0,0,2,1,1\r\n",
                "PORT 10,0,0,2,1,99999999999\r\n", "EPRT |1|10.0.0.2|70000|\r\n", "EPRT x\r\n"}) {
            ByteBuf p = out(tcp(CLIENT, 40004, SERVER, 21, seq, 5001, A, null, bad));
            assertEquals(bad, tcpPayload(p));
            seq += bad.length();
        }
        assertEquals(0, e.expectationCount());
        assertEquals(1, algs.ftp().counters().get(AlgEvent.FOREIGN_ADDRESS));
        assertEquals(5, algs.ftp().counters().get(AlgEvent.MALFORMED));
        assertEquals(0, algs.ftp().counters().get(AlgEvent.REWRITTEN));
    }

    @Test
    void hostileControlTrafficIsBounded() {
        connect(40005);
        // an expectation flood: PORT after PORT, each for another port, is refused beyond the per-flow bound (4)
        long seq = 1001;
        for (int i = 0; i < 20; i++) {
            String cmd = "PORT 10,0,0,2,100," + i + "\r\n";
            ByteBuf p = out(tcp(CLIENT, 40005, SERVER, 21, seq, 5001, A, null, cmd));
            seq += cmd.length();
            assertTrue(tcpPayload(p).startsWith("PORT "));
        }
        assertEquals(4, e.expectationCount());
        assertEquals(16, algs.ftp().counters().get(AlgEvent.EXPECT_REFUSED));
        // a huge line without a line end is not parsed
        String huge = "PORT " + "1,".repeat(1000);
        ByteBuf h = out(tcp(CLIENT, 40005, SERVER, 21, seq, 5001, A, null, huge));
        assertEquals(huge, tcpPayload(h));
        assertEquals(1, algs.ftp().counters().get(AlgEvent.MALFORMED));
        // several lines in one segment: each is looked at
        ByteBuf two = out(tcp(CLIENT, 40005, SERVER, 21, seq + huge.length(), 5001, A, null,
                "NOOP\r\nPORT 10,0,0,9,1,2\r\n"));
        assertEquals("NOOP\r\nPORT 10,0,0,9,1,2\r\n", tcpPayload(two));
        assertEquals(1, algs.ftp().counters().get(AlgEvent.FOREIGN_ADDRESS));
    }

    @Test
    void helpedSessionsAreBoundedAndFreedWithTheirSession() {
        Algs.install(e, AlgConfig.builder().maxHelpedSessions(2).build());
        connect(40010);
        connect(40011);
        connect(40012); // a third control flow runs unhelped
        assertEquals(2, e.helpedSessionCount());
        assertEquals(1, e.helperSessionsRefused());
        ByteBuf p = out(tcp(CLIENT, 40012, SERVER, 21, 1001, 5001, A, null, "PORT 10,0,0,2,1,2\r\n"));
        assertEquals("PORT 10,0,0,2,1,2\r\n", tcpPayload(p));
        e.tick(100_000); // everything expires
        assertEquals(0, e.sessionCount());
        assertEquals(0, e.helpedSessionCount());
    }

    @Test
    void partialChecksumBecomesCompleteWhenRewritten() {
        connect(40030);
        String cmd = "PORT 10,0,0,2,156,70\r\n";
        ByteBuf p = keep(tcp(CLIENT, 40030, SERVER, 21, 1001, 5001, A, null, cmd));
        // checksum offload (CHECKSUM_PARTIAL): the field holds the folded pseudo-header sum only
        int l4 = l4(p);
        int len = p.readableBytes() - 20;
        p.setShort(l4 + 16, dev.pktkit.codec.wire.Checksums.fold(dev.pktkit.codec.wire.Checksums.pseudoHeaderV4(
                ip(CLIENT), ip(SERVER), IpProtocol.TCP, len)));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p, port, true));
        assertEquals("PORT 198,51,100,1,156,70\r\n", tcpPayload(p));
        assertTrue(valid(p), "recomputed in full over the new payload and the translated addresses");
    }

    @Test
    void packetWithoutCommandIsUntouched() {
        connect(40020);
        ByteBuf p = out(tcp(CLIENT, 40020, SERVER, 21, 1001, 5001, A, null, "USER anonymous\r\n"));
        assertEquals("USER anonymous\r\n", tcpPayload(p));
        assertEquals(0, algs.ftp().counters().get(AlgEvent.MESSAGES));
        assertEquals(1, algs.ftp().counters().get(AlgEvent.PACKETS));
    }

    /** The definition the fast check must keep: some line (after a line feed before the last byte) starts p/e/2. */
    private static boolean reference(byte[] d, int from, int to) {
        for (int i = from; i < to; i++) {
            if (i == from || d[i - 1] == '\n') {
                int c = d[i] | 0x20;
                if (c == 'p' || c == 'e' || c == '2') {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void fastCheckFindsEveryLineThatCouldBeACommand() {
        FtpAlg ftp = algs.ftp();
        java.util.Random r = new java.util.Random(13);
        byte[] alphabet = "\n\r pPeE2Rx0\u0001".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        for (int n = 0; n < 20_000; n++) {
            byte[] d = new byte[1 + r.nextInt(80)];
            for (int i = 0; i < d.length; i++) {
                // mostly harmless bytes, line feeds and candidates now and then, 0x0A-like bytes (0x0B, 0x8A)
                int k = r.nextInt(40);
                d[i] = k < alphabet.length ? alphabet[k] : k < 36 ? (byte) ('a' + k % 3) : (byte) (0x0B + (k & 1) * 0x7F);
            }
            int from = r.nextInt(Math.min(8, d.length));
            // a heap buffer (its array read directly), one at an array offset, a direct one (getLong)
            byte[] padded = new byte[d.length + 11];
            System.arraycopy(d, 0, padded, 5, d.length);
            ByteBuf b = switch (n % 3) {
                case 0 -> io.netty.buffer.Unpooled.wrappedBuffer(d);
                case 1 -> io.netty.buffer.Unpooled.wrappedBuffer(padded, 5, d.length);
                default -> io.netty.buffer.Unpooled.directBuffer(d.length).writeBytes(d);
            };
            try {
                assertEquals(reference(d, from, d.length), ftp.wants(b, from, d.length - from, true),
                        () -> java.util.HexFormat.of().formatHex(d) + " from " + from);
                assertFalse(ftp.wants(b, from, d.length - from, false), "inbound: never");
                // the engine's fast path: the same payload read through an NIO view at another index (5 bytes
                // in), of either byte order (the line-feed test does not depend on it)
                java.nio.ByteBuffer view = java.nio.ByteBuffer.allocateDirect(padded.length).put(0, padded)
                        .order(n % 2 == 0 ? java.nio.ByteOrder.BIG_ENDIAN : java.nio.ByteOrder.LITTLE_ENDIAN);
                assertEquals(reference(d, from, d.length), ftp.wants(b, view, 5 + from, from, d.length - from, true),
                        () -> "view: " + java.util.HexFormat.of().formatHex(d) + " from " + from);
                assertFalse(ftp.wants(b, view, 5 + from, from, d.length - from, false), "view, inbound: never");
            } finally {
                b.release();
            }
        }
    }

    /**
     * The engine's fast path hands a pooled direct buffer's NIO view to the ALG: FTP control segments (without a
     * command, with PORT lines first, later or split by a segment boundary, several lines, lower case) through an
     * engine fed heap copies (general path) and one fed pooled direct copies (NIO fast path while the session has
     * no sequence offset) must come out alike: verdicts, bytes, the NAT's and the ALG's counters.
     */
    @Test
    void directAndHeapControlSegmentsTranslateAlike() {
        // the direct engine takes the NIO fast path only where Netty runs without Unsafe (the build's JDK 25)
        org.junit.jupiter.api.Assumptions.assumeFalse(io.netty.util.internal.PlatformDependent.hasUnsafe()
                || !Boolean.parseBoolean(System.getProperty("dev.pktkit.nat.nioView", "true")),
                "Netty has Unsafe here: both engines would take the general path");
        NatEngine dir = new NatEngine(NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).maxExpectations(64, 4).build());
        Algs dirAlgs = Algs.install(dir, AlgConfig.defaults());
        int dport = dir.addPort(dir.openNamespace());
        assertEquals(port, dport);
        String[] lines = {"USER anonymous\r\n", "RETR some/file/name.bin\r\n", "NOOP\r\n", "PORT 10,0,0,2,156,64\r\n",
                "port 10,0,0,2,156,65\r\n", "EPRT |1|10.0.0.2|40066|\r\n", "PASV\r\n", "PO", "RT 10,0,0,2,1,2\r\n",
                "TYPE I\r\n", "x\n", "\n", "LIST -la /a/rather/long/path/to/make/more/than/eight/words/of/it\r\n"};
        java.util.SplittableRandom r = new java.util.SplittableRandom(21);
        long[] seq = new long[4];
        for (int c = 0; c < 4; c++) {
            for (NatEngine x : new NatEngine[]{e, dir}) {
                ByteBuf syn = tcp(CLIENT, 40100 + c, SERVER, 21, 1000, 0, Tcp.SYN, null, "");
                assertEquals(NatEngine.TO_OUTSIDE, x.outbound(syn, port));
                syn.release();
            }
            seq[c] = 1001;
        }
        for (int n = 0; n < 3000; n++) {
            int c = r.nextInt(4);
            StringBuilder text = new StringBuilder();
            for (int k = r.nextInt(1, 4); k > 0; k--) {
                // mostly lines that are not commands: the fast path's case
                text.append(lines[r.nextInt(8) < 6 ? r.nextInt(3) + (r.nextBoolean() ? 0 : 9) : r.nextInt(lines.length)]);
            }
            byte[] payload = text.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            ByteBuf h = tcp(CLIENT, 40100 + c, SERVER, 21, seq[c], 5001, A | Tcp.PSH, null, payload);
            seq[c] += payload.length;
            ByteBuf d = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(h.readableBytes() + 64)
                    .writeBytes(h, h.readerIndex(), h.readableBytes());
            int vh = e.outbound(h, port);
            int vd = dir.outbound(d, dport);
            assertEquals(vh, vd, "verdict of segment " + n);
            assertEquals(io.netty.buffer.ByteBufUtil.hexDump(h), io.netty.buffer.ByteBufUtil.hexDump(d),
                    "bytes of segment " + n);
            h.release();
            d.release();
        }
        assertEquals(e.counters().toString(), dir.counters().toString());
        assertEquals(algs.ftp().counters().toString(), dirAlgs.ftp().counters().toString());
        assertEquals(3000, algs.ftp().counters().get(AlgEvent.PACKETS));
        assertTrue(algs.ftp().counters().get(AlgEvent.REWRITTEN) > 0, algs.ftp().counters().toString());
    }
}

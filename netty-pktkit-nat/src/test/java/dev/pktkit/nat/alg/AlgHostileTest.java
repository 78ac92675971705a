package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.nat.ExpectedFlow;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatEngine;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static dev.pktkit.nat.alg.AlgPackets.*;
import static dev.pktkit.nat.alg.H323Messages.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Hostile control traffic per ALG, on a bare engine under address-and-port-dependent filtering: floods of
 * announcements, over-long lines and headers, split commands, malformed PER, bad PPTP control messages and call-ID
 * exhaustion. Each test asserts what is dropped or passed unchanged, what is counted, that the engine's state
 * stays within its bounds (expectations per control flow, in total, calls, pending H.245 connections), and that
 * the ALG still works afterwards (survival).
 */
class AlgHostileTest {
    static final String OUT = "198.51.100.1";
    static final String HOST = "10.0.0.2";
    static final String SERVER = "203.0.113.5";
    static final int PER_FLOW = 8;
    private final List<ByteBuf> held = new ArrayList<>();
    private NatEngine e;
    private Algs algs;
    private int port;
    private int ns;

    private void engine(int maxExpectations, AlgConfig config) {
        e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).maxExpectations(maxExpectations, PER_FLOW).build());
        algs = Algs.install(e, config);
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

    private int outPort(String host, int cport) {
        return e.mappingOf(ns, IpProtocol.TCP, ip(host), cport).outsidePort();
    }

    /** An inside host's TCP connection to a server port, established (seq 101 / ack 501 next). */
    private void connect(String host, int cport, int serverPort) {
        out(tcp(host, cport, SERVER, serverPort, 100, 0, Tcp.SYN, null, ""));
        in(tcp(SERVER, serverPort, OUT, outPort(host, cport), 500, 101, Tcp.SYN | Tcp.ACK, null, ""));
    }

    private long count(Alg alg, AlgEvent ev) {
        return alg.counters().get(ev);
    }

    // ---- SIP ----

    private static String invite(String host, String body, String... extraHeaders) {
        StringBuilder h = new StringBuilder();
        for (String x : extraHeaders) {
            h.append(x).append("\r\n");
        }
        return "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP " + host + ":5060;branch=z9hG4bKnashds8\r\n"
                + h
                + "To: Bob <sip:bob@biloxi.example.com>\r\n"
                + "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
                + "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
                + "CSeq: 314159 INVITE\r\n"
                + "Contact: <sip:alice@" + host + ":5060>\r\n"
                + "Content-Type: application/sdp\r\n"
                + "Content-Length: " + body.length() + "\r\n"
                + "\r\n" + body;
    }

    private static String sdp(String host, int firstPort, int mediaLines) {
        StringBuilder b = new StringBuilder("v=0\r\no=alice 1 1 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host
                + "\r\nt=0 0\r\n");
        for (int i = 0; i < mediaLines; i++) {
            b.append("m=audio ").append(firstPort + 2 * i).append(" RTP/AVP 0\r\n");
        }
        return b.toString();
    }

    private static String udpPayload(ByteBuf b) {
        int l4 = l4(b);
        return b.toString(l4 + 8, Udp.length(b, l4) - 8, StandardCharsets.ISO_8859_1);
    }

    private ByteBuf sip(String host, String msg) {
        return out(udp(host, 5060, SERVER, 5060, msg.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void sipManyMediaLinesStayWithinTheFlowsBound() {
        engine(1024, AlgConfig.builder().sip(true).build());
        SipAlg s = algs.sip();
        String msg = invite(HOST, sdp(HOST, 20000, 40));
        ByteBuf p = sip(HOST, msg);
        String got = udpPayload(p);
        assertTrue(got.startsWith("INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP " + OUT + ":5060;"),
                got);
        assertFalse(got.contains(HOST), "no inside address left");
        // four m= lines get RTP and RTCP (8, the per-flow bound); the fifth's RTP is refused by the engine and
        // the 35 after it are refused without asking
        assertEquals(PER_FLOW, e.expectationCount());
        assertEquals(PER_FLOW, count(s, AlgEvent.EXPECTED));
        assertEquals(36, count(s, AlgEvent.EXPECT_REFUSED));
        assertEquals(1, e.counters().expectationsRefused(), "the engine was asked once after the bound");
        // survival: media of an admitted stream come in, a refused one is filtered
        assertEquals(port, e.inbound(keep(udp("192.0.2.33", 3456, OUT, 20000, new byte[12]))));
        assertEquals(NatEngine.DROP, e.inbound(keep(udp("192.0.2.33", 3456, OUT, 20008, new byte[12]))));
        // another UA's INVITE (another control flow) gets its own expectations
        ByteBuf q = sip("10.0.0.3", invite("10.0.0.3", sdp("10.0.0.3", 30000, 1)));
        assertFalse(udpPayload(q).contains("10.0.0.3"));
        assertEquals(PER_FLOW - 1 + 2, e.expectationCount());
        assertEquals(0, e.helperErrors());
    }

    @Test
    void sipOverLongHeadersAndOversizedRewritesPassUnchangedAndAnnounceNothing() {
        engine(1024, AlgConfig.builder().sip(true).build());
        SipAlg s = algs.sip();
        // a header line longer than maxLine (1024) in the middle of the message: not parsed
        String longHeader = invite(HOST, sdp(HOST, 20000, 1), "X-Pad: " + "a".repeat(2000));
        assertEquals(longHeader, udpPayload(sip(HOST, longHeader)));
        assertEquals(1, count(s, AlgEvent.MALFORMED));
        assertEquals(0, e.expectationCount());
        // a long SDP line too
        String longSdp = invite(HOST, sdp(HOST, 20000, 1) + "a=x:" + "b".repeat(1500) + "\r\n");
        assertEquals(longSdp, udpPayload(sip(HOST, longSdp)));
        assertEquals(2, count(s, AlgEvent.MALFORMED));
        // 30 Via headers with the inside address: the rewrite grows 4 bytes each, beyond maxGrowth (64); the
        // message goes out unchanged and the media flows its SDP announced are withdrawn
        String[] vias = new String[30];
        Arrays.fill(vias, "Via: SIP/2.0/UDP " + HOST + ":5060;branch=z9hG4bKrelay");
        String tooBig = invite(HOST, sdp(HOST, 20000, 1), vias);
        assertEquals(tooBig, udpPayload(sip(HOST, tooBig)));
        assertEquals(1, count(s, AlgEvent.REWRITE_FAILED));
        assertEquals(2, count(s, AlgEvent.EXPECTED), "announced while parsing");
        assertEquals(0, e.expectationCount(), "and withdrawn with the failed rewrite");
        // a good m= line followed by a malformed one: unchanged, nothing left open
        String bad = invite(HOST, sdp(HOST, 20000, 1) + "m=audio 7x RTP/AVP 0\r\n");
        assertEquals(bad, udpPayload(sip(HOST, bad)));
        assertEquals(3, count(s, AlgEvent.MALFORMED));
        assertEquals(0, e.expectationCount());
        // survival: a well-formed INVITE is rewritten and announces RTP and RTCP
        ByteBuf ok = sip(HOST, invite(HOST, sdp(HOST, 20000, 1)));
        assertFalse(udpPayload(ok).contains(HOST));
        assertEquals(2, e.expectationCount());
        assertEquals(port, e.inbound(keep(udp("192.0.2.33", 3456, OUT, 20000, new byte[12]))));
        assertEquals(0, e.helperErrors());
    }

    // ---- IRC DCC ----

    private static String dcc(String file, String host, int port) {
        return "PRIVMSG bob :\u0001DCC SEND " + file + " " + (ip(host) & 0xFFFF_FFFFL) + " " + port + " 100\u0001\r\n";
    }

    @Test
    void ircDccFloodsStayWithinTheFlowAndTotalBounds() {
        engine(20, AlgConfig.builder().irc(true).build());
        IrcAlg irc = algs.irc();
        // one DCC SEND per segment, 30 of them on one connection
        connect(HOST, 45000, 6667);
        long seq = 101;
        for (int i = 0; i < 30; i++) {
            String m = dcc("f" + i, HOST, 50000 + i);
            ByteBuf p = out(tcp(HOST, 45000, SERVER, 6667, seq, 501, Tcp.ACK | Tcp.PSH, null, m));
            seq += m.length();
            assertTrue(tcpPayload(p).startsWith("PRIVMSG bob :\u0001DCC SEND f" + i + " "));
        }
        assertEquals(PER_FLOW, e.expectationCount());
        assertEquals(PER_FLOW, count(irc, AlgEvent.EXPECTED));
        assertEquals(30 - PER_FLOW, count(irc, AlgEvent.EXPECT_REFUSED));
        // 40 DCC SENDs in one segment on a second connection: 8 rewritten (one digit longer each), the rest
        // refused, the segment still verifies
        connect(HOST, 45001, 6667);
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            burst.append(dcc("g" + i, HOST, 51000 + i));
        }
        ByteBuf b = out(tcp(HOST, 45001, SERVER, 6667, 101, 501, Tcp.ACK | Tcp.PSH, null, burst.toString()));
        assertEquals(burst.length() + PER_FLOW, tcpPayload(b).length());
        assertEquals(2 * PER_FLOW, e.expectationCount());
        // a third connection meets the total bound (20) before its flow's
        connect(HOST, 45002, 6667);
        long seq3 = 101;
        for (int i = 0; i < 10; i++) {
            String m = dcc("h" + i, HOST, 52000 + i);
            out(tcp(HOST, 45002, SERVER, 6667, seq3, 501, Tcp.ACK | Tcp.PSH, null, m));
            seq3 += m.length();
        }
        assertEquals(20, e.expectationCount(), "the total bound");
        assertEquals(30 - PER_FLOW + 40 - PER_FLOW + 6, count(irc, AlgEvent.EXPECT_REFUSED));
        // over-long lines: a DCC after 2000 bytes of text, and a line without an end, are not parsed
        String longLine = "PRIVMSG bob :" + "x".repeat(2000) + dcc("z", HOST, 53000);
        ByteBuf l = out(tcp(HOST, 45000, SERVER, 6667, seq, 501, Tcp.ACK, null, longLine));
        assertEquals(longLine, tcpPayload(l));
        seq += longLine.length();
        String endless = "PRIVMSG bob :\u0001DCC SEND " + "9".repeat(1400);
        ByteBuf n = out(tcp(HOST, 45000, SERVER, 6667, seq, 501, Tcp.ACK, null, endless));
        assertEquals(endless, tcpPayload(n));
        assertEquals(2, count(irc, AlgEvent.MALFORMED));
        // survival: a transfer to an announced endpoint comes in; once the first connection ends, a new
        // connection's DCC is rewritten again
        ExpectedFlow first = e.expectations().iterator().next();
        ByteBuf syn = keep(tcp("192.0.2.77", 33333, OUT, first.outsidePort(), 1, 0, Tcp.SYN, null, ""));
        assertEquals(port, e.inbound(syn));
        assertEquals(19, e.expectationCount());
        connect(HOST, 45003, 6667);
        String last = dcc("ok", HOST, 54000);
        ByteBuf okp = out(tcp(HOST, 45003, SERVER, 6667, 101, 501, Tcp.ACK | Tcp.PSH, null, last));
        assertEquals("PRIVMSG bob :\u0001DCC SEND ok " + (ip(OUT) & 0xFFFF_FFFFL) + " 54000 100\u0001\r\n",
                tcpPayload(okp));
        assertEquals(20, e.expectationCount());
        assertEquals(0, e.helperErrors());
    }

    // ---- H.323 ----

    private byte[] h323Out(int cport, long seq, byte[] payload) {
        ByteBuf p = out(tcp(HOST, cport, SERVER, 1720, seq, 501, Tcp.ACK | Tcp.PSH, null, payload));
        assertEquals(40 + payload.length, p.readableBytes(), "same length: H.323 rewrites in place");
        return H323AlgTest.payloadOf(p);
    }

    @Test
    void h323MalformedPerFloodsAndManyChannelsStayBounded() {
        engine(1024, AlgConfig.builder().h323(true).build());
        H323Alg h = algs.h323();
        connect(HOST, 40000, 1720);
        // a Setup with twelve fastStart channels: 1 + 24 announced, the flow's bound (8) holds
        byte[][] olcs = new byte[12][];
        for (int i = 0; i < olcs.length; i++) {
            olcs[i] = openLogicalChannel(i + 1, ip(HOST), 16001 + 2 * i, ip(HOST), 16000 + 2 * i);
        }
        byte[] many = tpkt(q931(SETUP, 1, setup(ip(HOST), 30000, ip(HOST), 40000, olcs)));
        h323Out(40000, 101, many);
        assertEquals(PER_FLOW, e.expectationCount());
        assertTrue(count(h, AlgEvent.EXPECT_REFUSED) > 0);
        long seq = 101 + many.length;
        // 5,000 seeded mutations of a Setup (bit flips, overwritten bytes and length fields, truncated PER)
        byte[] good = setup(ip(HOST), 30100, ip(HOST), 40000,
                openLogicalChannel(1, ip(HOST), 17001, ip(HOST), 17000));
        Random r = new Random(1323);
        for (int n = 0; n < 5000; n++) {
            byte[] ui = good.clone();
            int edits = 1 + r.nextInt(4);
            for (int k = 0; k < edits; k++) {
                int at = r.nextInt(ui.length);
                switch (r.nextInt(3)) {
                    case 0 -> ui[at] ^= (byte) (1 << r.nextInt(8));
                    case 1 -> ui[at] = (byte) r.nextInt(256);
                    default -> ui[at] = (byte) (r.nextBoolean() ? 0xFF : 0x80); // lengths that claim too much
                }
            }
            if (r.nextInt(4) == 0) {
                ui = Arrays.copyOf(ui, 1 + r.nextInt(ui.length));
            }
            byte[] msg = tpkt(q931(SETUP, 2 + n, ui));
            h323Out(40000, seq, msg); // verifies, same length
            seq += msg.length;
        }
        assertTrue(count(h, AlgEvent.MALFORMED) > 0, h.toString());
        assertEquals(0, e.helperErrors(), "the decoder never threw");
        assertEquals(PER_FLOW, e.expectationCount(), "still the one flow's bound");
        assertTrue(h.pendingH245() <= H323Alg.MAX_PENDING);
        // 200 Connects from the remote, each naming another h245Address: the pending table holds 64
        int op = outPort(HOST, 40000);
        long rseq = 501;
        for (int i = 0; i < 200; i++) {
            byte[] c = tpkt(q931(CONNECT, 0x8001, H323Messages.connect(ip(SERVER), 31000 + i)));
            in(tcp(SERVER, 1720, OUT, op, rseq, seq, Tcp.ACK | Tcp.PSH, null, c));
            rseq += c.length;
        }
        assertEquals(H323Alg.MAX_PENDING, h.pendingH245());
        // survival: another call's Setup is rewritten and its H.245 connection admitted
        connect(HOST, 40001, 1720);
        byte[] clean = tpkt(q931(SETUP, 9, setup(ip(HOST), 30200, ip(HOST), 40001)));
        byte[] sent = h323Out(40001, 101, clean);
        assertEquals(-1, find(sent, ip(HOST), 30200));
        ExpectedFlow h245 = null;
        for (ExpectedFlow f : e.expectations()) {
            if (f.expectation().insidePort() == 30200) {
                h245 = f;
            }
        }
        assertNotNull(h245);
        ByteBuf syn = keep(tcp(SERVER, 50123, OUT, h245.outsidePort(), 900, 0, Tcp.SYN, null, new byte[0]));
        assertEquals(port, e.inbound(syn));
        assertEquals(30200, Tcp.dstPort(syn, l4(syn)));
    }

    // ---- PPTP ----

    private ByteBuf pptpOut(String host, int cport, long seq, byte[] msg) {
        return out(tcp(host, cport, SERVER, 1723, seq, 501, Tcp.ACK | Tcp.PSH, null, msg));
    }

    private static int field12(ByteBuf b) {
        return b.getUnsignedShort(Tcp.payloadOffset(b, l4(b)) + 12);
    }

    @Test
    void pptpBadControlMessagesPassAndCallIdsAreNotExhausted() {
        engine(1024, AlgConfig.builder().pptp(true).build());
        PptpAlg pptp = algs.pptp();
        connect(HOST, 41000, 1723);
        long seq = 101;
        byte[] badMagic = PptpAlgTest.control(PptpAlg.OCRQ, 168, 0x1111, 1);
        badMagic[7] = 0x4E;
        byte[] tooShort = Arrays.copyOf(PptpAlgTest.control(PptpAlg.OCRQ, 16, 0x2222, 1), 16);
        tooShort[1] = 12; // a length below the header's 16
        byte[] beyond = PptpAlgTest.control(PptpAlg.OCRQ, 168, 0x3333, 1);
        beyond[0] = 0x10; // 4264 bytes claimed, 168 present: a message split across segments
        byte[] unknownType = PptpAlgTest.control(99, 32, 0x4444, 1);
        byte[] notControl = PptpAlgTest.control(PptpAlg.OCRQ, 168, 0x5555, 1);
        notControl[3] = 2; // message type 2: not a control message
        byte[] junk = "GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (byte[] m : new byte[][]{badMagic, tooShort, beyond, unknownType, notControl, junk}) {
            ByteBuf p = pptpOut(HOST, 41000, seq, m);
            assertArrayEquals(m, H323AlgTest.payloadOf(p));
            seq += m.length;
        }
        assertEquals(0, pptp.calls());
        assertEquals(3, count(pptp, AlgEvent.MALFORMED), "bad magic, a length below 16, not PPTP");
        // an inbound reply for a call nobody made is not let in as someone's
        ByteBuf stray = in(tcp(SERVER, 1723, OUT, outPort(HOST, 41000), 501, seq, Tcp.ACK | Tcp.PSH, null,
                PptpAlgTest.control(PptpAlg.OCRP, 32, 0x0100, 0x1234)));
        assertEquals(0x1234, stray.getUnsignedShort(Tcp.payloadOffset(stray, l4(stray)) + 14));
        assertEquals(1, count(pptp, AlgEvent.FOREIGN_ADDRESS));

        // call-ID exhaustion: 17 hosts, one control connection each, 16 calls each, all with call IDs 1..16
        Map<Integer, String> owner = new HashMap<>();
        Set<Integer> outsideIds = new HashSet<>();
        for (int h = 0; h < 17; h++) {
            String host = "10.0.1." + (10 + h);
            connect(host, 42000, 1723);
            for (int id = 1; id <= 16; id++) {
                ByteBuf p = pptpOut(host, 42000, 101 + 168L * (id - 1), PptpAlgTest.control(PptpAlg.OCRQ, 168, id, 1));
                int outId = field12(p);
                if (h < 16) {
                    assertTrue(outsideIds.add(outId), "outside call IDs are unique: " + outId);
                    owner.put(outId, host);
                } else {
                    assertEquals(id, outId, "beyond MAX_CALLS the request passes untranslated");
                }
            }
        }
        assertEquals(PptpAlg.MAX_CALLS, pptp.calls());
        assertEquals(16, count(pptp, AlgEvent.EXPECT_REFUSED));
        // survival: GRE keyed by any outside ID reaches its own host
        int someId = outsideIds.iterator().next();
        ByteBuf g = keep(PptpAlgTest.gre(SERVER, OUT, someId));
        assertEquals(port, e.inbound(g));
        assertEquals(ip(owner.get(someId)), Ipv4.dst(g, 0));
        // the first host disconnects all its calls (CDN with its own IDs): new calls fit again
        long s = 101 + 168L * 16;
        for (int id = 1; id <= 16; id++) {
            pptpOut("10.0.1.10", 42000, s, PptpAlgTest.control(PptpAlg.CDN, 148, id, 0));
            s += 148;
        }
        assertEquals(PptpAlg.MAX_CALLS - 16, pptp.calls());
        ByteBuf again = pptpOut("10.0.1.26", 42000, 101 + 168L * 16, PptpAlgTest.control(PptpAlg.OCRQ, 168, 1, 1));
        assertEquals(PptpAlg.MAX_CALLS - 15, pptp.calls());
        assertEquals(1, field12(again), "the outside ID the first host gave back");
        assertEquals(0, e.helperErrors());
    }

    // ---- FTP ----

    @Test
    void ftpOverLongSplitAndBurstCommandsStayBounded() {
        engine(1024, AlgConfig.defaults());
        FtpAlg ftp = algs.ftp();
        connect(HOST, 43000, 21);
        long seq = 101;
        // a PORT whose line end comes after maxLine (1024) bytes: not parsed
        String longPort = "PORT " + " ".repeat(1100) + "10,0,0,2,1,2\r\n";
        assertEquals(longPort, tcpPayload(out(tcp(HOST, 43000, SERVER, 21, seq, 501, Tcp.ACK, null, longPort))));
        seq += longPort.length();
        assertEquals(1, count(ftp, AlgEvent.MALFORMED));
        // a PORT split across two segments: both halves pass unchanged, nothing is expected
        String head = "PORT 10,0,0,2,";
        String tail = "156,64\r\n";
        assertEquals(head, tcpPayload(out(tcp(HOST, 43000, SERVER, 21, seq, 501, Tcp.ACK, null, head))));
        seq += head.length();
        assertEquals(tail, tcpPayload(out(tcp(HOST, 43000, SERVER, 21, seq, 501, Tcp.ACK, null, tail))));
        seq += tail.length();
        assertEquals(0, e.expectationCount());
        // a full segment of NOOPs: looked at line by line, unchanged
        String noops = "NOOP\r\n".repeat(230);
        assertEquals(noops, tcpPayload(out(tcp(HOST, 43000, SERVER, 21, seq, 501, Tcp.ACK, null, noops))));
        seq += noops.length();
        // 60 PORT commands in one segment: 8 rewritten (4 bytes longer each), 52 refused, unchanged
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            burst.append("PORT 10,0,0,2,100,").append(i).append("\r\n");
        }
        ByteBuf b = out(tcp(HOST, 43000, SERVER, 21, seq, 501, Tcp.ACK | Tcp.PSH, null, burst.toString()));
        String got = tcpPayload(b);
        assertEquals(burst.length() + 4 * PER_FLOW, got.length());
        assertEquals(PER_FLOW, got.split("PORT 198,51,100,1,", -1).length - 1);
        assertEquals(PER_FLOW, e.expectationCount());
        assertEquals(60 - PER_FLOW, count(ftp, AlgEvent.EXPECT_REFUSED));
        seq += burst.length();
        // survival: the server's data connection to an announced port comes in; the next PORT on the same
        // control connection, after it consumed an expectation, is rewritten and in the client's numbering
        ExpectedFlow f = e.expectations().iterator().next();
        ByteBuf syn = keep(tcp(SERVER, 20, OUT, f.outsidePort(), 1, 0, Tcp.SYN, null, ""));
        assertEquals(port, e.inbound(syn));
        String next = "PORT 10,0,0,2,200,1\r\n";
        ByteBuf n = out(tcp(HOST, 43000, SERVER, 21, seq, 501, Tcp.ACK | Tcp.PSH, null, next));
        assertEquals("PORT 198,51,100,1,200,1\r\n", tcpPayload(n));
        assertEquals(seq + 4 * PER_FLOW, seq(n), "moved by the burst's growth");
        assertEquals(PER_FLOW, e.expectationCount());
        assertEquals(0, e.helperErrors());
    }
}

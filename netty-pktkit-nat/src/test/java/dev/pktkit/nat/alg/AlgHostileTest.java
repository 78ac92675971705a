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


    /** The pending expectation for an inside endpoint, or null. */
    private ExpectedFlow expected(String host, int insidePort) {
        for (ExpectedFlow f : e.expectations()) {
            if (f.expectation().insideAddress() == ip(host) && f.expectation().insidePort() == insidePort) {
                return f;
            }
        }
        return null;
    }

    @Test
    void sipInviteFloodsStayWithinTheFlowAndTotalBounds() {
        engine(20, AlgConfig.builder().sip(true).build());
        SipAlg s = algs.sip();
        // 30 INVITEs from one UA (one control flow), each announcing one stream (RTP + RTCP): four messages fill
        // the flow's bound, each of the other 26 has its RTP refused by the engine (and so asks nothing more)
        for (int i = 0; i < 30; i++) {
            ByteBuf p = sip(HOST, invite(HOST, sdp(HOST, 20000 + 2 * i, 1)));
            String got = udpPayload(p);
            assertFalse(got.contains(HOST), "every INVITE is still rewritten: " + got);
            assertTrue(got.contains("m=audio " + (20000 + 2 * i) + " RTP/AVP 0"), got);
        }
        assertEquals(PER_FLOW, e.expectationCount());
        assertEquals(PER_FLOW, count(s, AlgEvent.EXPECTED));
        assertEquals(26, count(s, AlgEvent.EXPECT_REFUSED));
        assertEquals(26, e.counters().expectationsRefused());
        // ten more UAs, one INVITE each: six fit under the total bound (20), four are refused
        for (int u = 0; u < 10; u++) {
            String ua = "10.0.0." + (10 + u);
            assertFalse(udpPayload(sip(ua, invite(ua, sdp(ua, 30000, 1)))).contains(ua));
        }
        assertEquals(20, e.expectationCount(), "the total bound");
        assertEquals(PER_FLOW + 12, count(s, AlgEvent.EXPECTED));
        assertEquals(30, count(s, AlgEvent.EXPECT_REFUSED));
        assertEquals(30, e.counters().expectationsRefused());
        assertNull(expected("10.0.0.16", 30000), "the seventh UA's stream was refused");
        // a refused stream's RTP is filtered (counted), an admitted one's comes in
        long filtered = e.counters().droppedTotal();
        assertEquals(NatEngine.DROP, e.inbound(keep(udp("192.0.2.33", 3456, OUT, 20008, new byte[12]))));
        assertEquals(filtered + 1, e.counters().droppedTotal());
        // survival: the first stream's RTP and RTCP arrive (two expectations consumed), then the flooded UA's
        // next INVITE gets both of its flows again and its media come in
        ExpectedFlow rtp = expected(HOST, 20000);
        ExpectedFlow rtcp = expected(HOST, 20001);
        assertEquals(port, e.inbound(keep(udp("192.0.2.33", 3456, OUT, rtp.outsidePort(), new byte[12]))));
        assertEquals(port, e.inbound(keep(udp("192.0.2.33", 3457, OUT, rtcp.outsidePort(), new byte[8]))));
        assertEquals(18, e.expectationCount());
        assertFalse(udpPayload(sip(HOST, invite(HOST, sdp(HOST, 21000, 1)))).contains(HOST));
        assertEquals(20, e.expectationCount());
        ExpectedFlow again = expected(HOST, 21000);
        assertNotNull(again);
        ByteBuf media = keep(udp("192.0.2.34", 4000, OUT, again.outsidePort(), new byte[12]));
        assertEquals(port, e.inbound(media));
        assertEquals(ip(HOST), Ipv4.dst(media, 0));
        assertEquals(21000, Udp.dstPort(media, l4(media)));
        assertEquals(0, e.helperErrors());
    }

    @Test
    void sipBogusSdpAddressesAndPortsExpectNothing() {
        engine(1024, AlgConfig.builder().sip(true).build());
        SipAlg s = algs.sip();
        String tail = "s=-\r\nt=0 0\r\n";
        // another host's connection address (a third party): the SDP passes as it is, nothing expected
        String third = "v=0\r\no=alice 1 1 IN IP4 192.0.2.9\r\nc=IN IP4 192.0.2.9\r\n" + tail
                + "m=audio 20000 RTP/AVP 0\r\n";
        assertTrue(udpPayload(sip(HOST, invite(HOST, third))).endsWith(third));
        assertEquals(1, count(s, AlgEvent.FOREIGN_ADDRESS));
        // an address that only starts with the inside host's (10.0.0.23 for 10.0.0.2), at session level, next to
        // a media-level c= that is ours: the other host's line is left alone, ours rewritten
        String prefix = "v=0\r\no=alice 1 1 IN IP4 10.0.0.23\r\nc=IN IP4 10.0.0.23\r\n" + tail
                + "m=audio 20000 RTP/AVP 0\r\nc=IN IP4 " + HOST + "\r\n";
        String got = udpPayload(sip(HOST, invite(HOST, prefix)));
        assertTrue(got.contains("c=IN IP4 10.0.0.23\r\n") && got.contains("o=alice 1 1 IN IP4 10.0.0.23\r\n"), got);
        assertTrue(got.contains("m=audio 20000 RTP/AVP 0\r\nc=IN IP4 " + OUT + "\r\n"), got);
        assertEquals(2, e.expectationCount(), "the stream whose c= is ours");
        List.copyOf(e.expectations()).forEach(ExpectedFlow::cancel);
        // ports no RTP flow can have: beyond 65534 (no room for RTCP), negative, not a number: the message
        // passes unchanged, nothing expected
        long malformed = count(s, AlgEvent.MALFORMED);
        for (String bad : new String[]{"65535", "70000", "-2", "2x000", ""}) {
            String m = invite(HOST, sdp(HOST, 20000, 1) + "m=audio " + bad + " RTP/AVP 0\r\n");
            assertEquals(m, udpPayload(sip(HOST, m)), bad);
        }
        assertEquals(malformed + 5, count(s, AlgEvent.MALFORMED));
        assertEquals(0, e.expectationCount(), "the good stream before each bad m= was withdrawn");
        // a privileged port (and 1023) is no RTP port: not expected, counted, the line left as it was; the
        // message's other stream is still served
        long foreign = count(s, AlgEvent.FOREIGN_ADDRESS);
        String low = invite(HOST, "v=0\r\nc=IN IP4 " + HOST + "\r\n" + tail + "m=audio 22 RTP/AVP 0\r\n"
                + "m=audio 1023 RTP/AVP 0\r\nm=audio 1024 RTP/AVP 0\r\n");
        got = udpPayload(sip(HOST, low));
        assertTrue(got.contains("m=audio 22 RTP/AVP 0\r\nm=audio 1023 RTP/AVP 0\r\nm=audio "), got);
        assertEquals(foreign + 2, count(s, AlgEvent.FOREIGN_ADDRESS));
        assertNull(expected(HOST, 22));
        assertNull(expected(HOST, 23));
        assertNull(expected(HOST, 1023));
        assertNotNull(expected(HOST, 1024));
        assertEquals(2, e.expectationCount());
        long dropped = e.counters().droppedTotal();
        assertEquals(NatEngine.DROP, e.inbound(keep(udp("192.0.2.33", 3456, OUT, 22, new byte[12]))));
        assertEquals(dropped + 1, e.counters().droppedTotal());
        // survival: a well-formed INVITE's media come in
        sip(HOST, invite(HOST, sdp(HOST, 40000, 1)));
        assertEquals(4, e.expectationCount());
        assertEquals(port, e.inbound(keep(udp("192.0.2.33", 3456, OUT, expected(HOST, 40000).outsidePort(),
                new byte[12]))));
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


    @Test
    void ircBogusDccAddressesAndPortsExpectNothing() {
        engine(1024, AlgConfig.builder().irc(true).build());
        IrcAlg irc = algs.irc();
        connect(HOST, 46000, 6667);
        long seq = 101;
        long me = ip(HOST) & 0xFFFF_FFFFL;
        String[] foreign = {
                dcc("f", "10.0.0.9", 50000),                      // another inside host
                dcc("f", OUT, 50000),                             // the NAT's own outside address
                dcc("f", SERVER, 50000),                          // the server's
                dcc("f", HOST, 0),                                // passive DCC
                dcc("f", HOST, 22),                               // a privileged port
                dcc("f", HOST, 1023),
                "PRIVMSG bob :\u0001DCC CHAT chat 0 50000\u0001\r\n"};
        String[] malformed = {
                "PRIVMSG bob :\u0001DCC SEND f 4294967296 50000 1\u0001\r\n",   // beyond 32 bits
                "PRIVMSG bob :\u0001DCC SEND f 123456789012 50000 1\u0001\r\n", // 12 digits
                "PRIVMSG bob :\u0001DCC SEND f " + me + " 70000 1\u0001\r\n",   // port beyond 65535
                "PRIVMSG bob :\u0001DCC SEND f " + me + " 123456 1\u0001\r\n",  // six digits
                "PRIVMSG bob :\u0001DCC SEND f " + me + " -5 1\u0001\r\n",
                "PRIVMSG bob :\u0001DCC SEND f 10.0.0.2 50000 1\u0001\r\n",     // dotted, not a number
                "PRIVMSG bob :\u0001DCC SEND f " + me + "\u0001\r\n",            // no port
                "PRIVMSG bob :\u0001DCC SEND \"unterminated " + me + " 50000 1\u0001\r\n",
                "PRIVMSG bob :\u0001DCC SEND f " + me + " 50000 1\r\n"};        // no closing 0x01
        for (String m : foreign) {
            assertEquals(m, tcpPayload(out(tcp(HOST, 46000, SERVER, 6667, seq, 501, Tcp.ACK | Tcp.PSH, null, m))));
            seq += m.length();
        }
        for (String m : malformed) {
            assertEquals(m, tcpPayload(out(tcp(HOST, 46000, SERVER, 6667, seq, 501, Tcp.ACK | Tcp.PSH, null, m))));
            seq += m.length();
        }
        assertEquals(foreign.length, count(irc, AlgEvent.FOREIGN_ADDRESS));
        assertEquals(malformed.length, count(irc, AlgEvent.MALFORMED));
        assertEquals(0, e.expectationCount());
        assertEquals(0, count(irc, AlgEvent.EXPECTED));
        assertEquals(0, count(irc, AlgEvent.REWRITTEN));
        // nothing was opened: a connection to the announced port is refused
        long dropped = e.counters().droppedTotal();
        assertEquals(NatEngine.DROP, e.inbound(keep(tcp("192.0.2.77", 33333, OUT, 50000, 1, 0, Tcp.SYN, null, ""))));
        assertEquals(dropped + 1, e.counters().droppedTotal());
        // survival: the next well-formed DCC on the same connection is rewritten and its transfer admitted
        String ok = dcc("ok", HOST, 50000);
        assertEquals(dcc("ok", OUT, 50000),
                tcpPayload(out(tcp(HOST, 46000, SERVER, 6667, seq, 501, Tcp.ACK | Tcp.PSH, null, ok))));
        assertEquals(1, e.expectationCount());
        ByteBuf syn = keep(tcp("192.0.2.77", 33334, OUT, expected(HOST, 50000).outsidePort(), 1, 0, Tcp.SYN, null,
                ""));
        assertEquals(port, e.inbound(syn));
        assertEquals(50000, Tcp.dstPort(syn, l4(syn)));
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


    @Test
    void h323CallsStayWithinTheTotalBound() {
        engine(20, AlgConfig.builder().h323(true).build());
        H323Alg h = algs.h323();
        // four calls, each a Setup announcing H.245 and three fastStart channels (RTP + RTCP each): 7 flows a
        // call, under the flow's bound (8); the third call meets the total bound (20), the fourth gets nothing
        for (int c = 0; c < 4; c++) {
            int cport = 40100 + c;
            connect(HOST, cport, 1720);
            int base = 16000 + 100 * c;
            byte[] m = tpkt(q931(SETUP, 20 + c, setup(ip(HOST), 30000 + c, ip(HOST), cport,
                    openLogicalChannel(1, ip(HOST), base + 1, ip(HOST), base),
                    openLogicalChannel(2, ip(HOST), base + 3, ip(HOST), base + 2),
                    openLogicalChannel(3, ip(HOST), base + 5, ip(HOST), base + 4))));
            h323Out(cport, 101, m);
        }
        assertEquals(20, e.expectationCount(), "the total bound");
        assertEquals(20, count(h, AlgEvent.EXPECTED));
        assertTrue(count(h, AlgEvent.EXPECT_REFUSED) >= 1 + 7, h.toString());
        assertNotNull(expected(HOST, 30002), "the third call's H.245 fitted");
        assertNull(expected(HOST, 30003), "the fourth call's H.245 did not");
        assertNull(expected(HOST, 16300));
        assertEquals(3, h.pendingH245());
        // survival: the first call's callee opens H.245 (one expectation consumed) and the fourth call,
        // retransmitting its Setup, gets its H.245 connection expected
        ByteBuf syn = keep(tcp(SERVER, 50200, OUT, expected(HOST, 30000).outsidePort(), 900, 0, Tcp.SYN, null,
                new byte[0]));
        assertEquals(port, e.inbound(syn));
        assertEquals(19, e.expectationCount());
        byte[] again = tpkt(q931(SETUP, 23, setup(ip(HOST), 30003, ip(HOST), 40103,
                openLogicalChannel(1, ip(HOST), 16301, ip(HOST), 16300),
                openLogicalChannel(2, ip(HOST), 16303, ip(HOST), 16302),
                openLogicalChannel(3, ip(HOST), 16305, ip(HOST), 16304)))); // the same Setup, retransmitted
        byte[] sent = h323Out(40103, 101, again);
        assertNotNull(expected(HOST, 30003));
        assertEquals(-1, find(sent, ip(HOST), 30003));
        assertEquals(20, e.expectationCount());
        assertEquals(0, e.helperErrors());
    }

    @Test
    void h245BogusAddressesAndTruncatedPerExpectNothing() {
        engine(1024, AlgConfig.builder().h323(true).build());
        H323Alg h = algs.h323();
        connect(HOST, 40200, 1720);
        // a Setup whose fastStart channel names a third party, port 0 and a privileged port: only its good
        // h245Address is expected and rewritten
        byte[] setup = tpkt(q931(SETUP, 30, setup(ip(HOST), 30300, ip(HOST), 40200,
                openLogicalChannel(1, ip("10.0.0.9"), 16001, ip("10.0.0.9"), 16000),
                openLogicalChannel(2, ip(HOST), 0, ip(HOST), 80))));
        byte[] sent = h323Out(40200, 101, setup);
        assertNotNull(expected(HOST, 30300));
        assertEquals(1, e.expectationCount(), "H.245 only: " + e.expectations());
        assertTrue(find(sent, ip("10.0.0.9"), 16000) > 0, "the third party's address passes as it is");
        assertTrue(find(sent, ip(HOST), 80) > 0);
        // 10.0.0.9: RTCP (forward and reverse) and RTP; the inside host with port 0 (RTCP), 80 (RTP) and 81 (RTCP)
        long foreign = count(h, AlgEvent.FOREIGN_ADDRESS);
        assertEquals(6, foreign, h.toString());
        // the callee opens H.245: over it, OpenLogicalChannel / Ack naming bogus endpoints expect nothing
        ExpectedFlow h245 = expected(HOST, 30300);
        ByteBuf syn = keep(tcp(SERVER, 50300, OUT, h245.outsidePort(), 900, 0, Tcp.SYN, null, new byte[0]));
        assertEquals(port, e.inbound(syn));
        assertEquals(0, e.expectationCount());
        long seq = 1000;
        byte[][] bogus = {
                tpkt(h245Olc(1, ip("10.0.0.9"), 20001, ip("10.0.0.9"), 20000)),
                tpkt(h245Olc(2, ip(OUT), 20003, ip(OUT), 20002)),
                tpkt(h245OlcAck(3, ip(HOST), 0)),
                tpkt(h245OlcAck(4, ip(HOST), 1000)),
                tpkt(h245OlcAck(5, ip(SERVER), 20010))};
        for (byte[] m : bogus) {
            ByteBuf p = out(tcp(HOST, 30300, SERVER, 50300, seq, 901, Tcp.ACK | Tcp.PSH, null, m));
            assertArrayEquals(m, H323AlgTest.payloadOf(p));
            seq += m.length;
        }
        assertEquals(0, e.expectationCount());
        assertEquals(foreign + 3 + 3 + 2 + 2 + 2, count(h, AlgEvent.FOREIGN_ADDRESS), h.toString());
        // every truncation of the PER of an OpenLogicalChannel and of an Ack, each in a TPKT of its own length:
        // decoded without throwing, unchanged when malformed (counted), nothing expected from a malformed one
        H323Decoder d = new H323Decoder();
        long malformed = count(h, AlgEvent.MALFORMED);
        int truncatedMalformed = 0;
        for (byte[] full : new byte[][]{h245Olc(6, ip(HOST), 21001, ip(HOST), 21000), h245OlcAck(7, ip(HOST), 21010)}) {
            for (int n = 1; n < full.length; n++) {
                byte[] cut = Arrays.copyOf(full, n);
                ByteBuf view = io.netty.buffer.Unpooled.wrappedBuffer(cut);
                boolean bad = d.decodeH245(view, 0, n) == H323Decoder.MALFORMED;
                view.release();
                int before = e.expectationCount();
                byte[] m = tpkt(cut);
                byte[] got = H323AlgTest.payloadOf(out(tcp(HOST, 30300, SERVER, 50300, seq, 901, Tcp.ACK | Tcp.PSH,
                        null, m)));
                seq += m.length;
                if (bad) {
                    truncatedMalformed++;
                    assertArrayEquals(m, got, "a malformed truncation at " + n + " passes unchanged");
                    assertEquals(before, e.expectationCount(), "and expects nothing");
                }
            }
        }
        assertTrue(truncatedMalformed > 0);
        assertEquals(malformed + truncatedMalformed, count(h, AlgEvent.MALFORMED));
        assertEquals(0, e.helperErrors(), "the decoder never threw");
        List.copyOf(e.expectations()).forEach(ExpectedFlow::cancel);
        // survival: a well-formed Ack over the same connection is rewritten and its RTP comes in from the callee
        byte[] ack = tpkt(h245OlcAck(8, ip(HOST), 22000));
        byte[] got = H323AlgTest.payloadOf(out(tcp(HOST, 30300, SERVER, 50300, seq, 901, Tcp.ACK | Tcp.PSH, null,
                ack)));
        ExpectedFlow rtp = expected(HOST, 22000);
        assertNotNull(rtp);
        assertEquals(-1, find(got, ip(HOST), 22000));
        assertTrue(find(got, ip(OUT), rtp.outsidePort()) > 0);
        ByteBuf media = keep(udp(SERVER, 7078, OUT, rtp.outsidePort(), new byte[12]));
        assertEquals(port, e.inbound(media));
        assertEquals(22000, Udp.dstPort(media, l4(media)));
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

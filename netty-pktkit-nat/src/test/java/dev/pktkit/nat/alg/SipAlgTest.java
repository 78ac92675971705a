package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.Udp;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatEngine;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.pktkit.nat.alg.AlgPackets.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The SIP ALG on a bare engine, with messages in the layout of RFC 3261 §24.2 and RFC 4317 (an INVITE with an
 * SDP offer, its 200 OK, a REGISTER); written for this test, not captured from a running peer.
 */
class SipAlgTest {
    static final String OUT = "198.51.100.1";
    static final String HOST = "10.0.0.2";
    static final String PROXY = "203.0.113.5";
    private final List<ByteBuf> held = new ArrayList<>();
    private NatEngine e;
    private Algs algs;
    private int port;

    @BeforeEach
    void setUp() {
        e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).build());
        algs = Algs.install(e, AlgConfig.builder().sip(true).build());
        port = e.addPort(e.openNamespace());
    }

    @AfterEach
    void release() {
        held.forEach(ByteBuf::release);
    }

    private ByteBuf keep(ByteBuf b) {
        held.add(b);
        return b;
    }

    static String sdp(String addr, int audio) {
        return "v=0\r\n"
                + "o=alice 2890844526 2890844526 IN IP4 " + addr + "\r\n"
                + "s=-\r\n"
                + "c=IN IP4 " + addr + "\r\n"
                + "t=0 0\r\n"
                + "m=audio " + audio + " RTP/AVP 0 8 97\r\n"
                + "a=rtpmap:0 PCMU/8000\r\n"
                + "a=rtpmap:8 PCMA/8000\r\n"
                + "a=rtpmap:97 iLBC/8000\r\n"
                + "m=video 0 RTP/AVP 31\r\n";
    }

    static String invite(String addr, int sipPort, String body) {
        return "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP " + addr + ":" + sipPort + ";branch=z9hG4bKnashds8;rport\r\n"
                + "Max-Forwards: 70\r\n"
                + "To: Bob <sip:bob@biloxi.example.com>\r\n"
                + "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
                + "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
                + "CSeq: 314159 INVITE\r\n"
                + "Contact: <sip:alice@" + addr + ":" + sipPort + ">\r\n"
                + "Content-Type: application/sdp\r\n"
                + "Content-Length: " + body.length() + "\r\n"
                + "\r\n" + body;
    }

    private static String payload(ByteBuf b) {
        int l4 = l4(b);
        return b.toString(l4 + 8, Udp.length(b, l4) - 8, StandardCharsets.ISO_8859_1);
    }

    @Test
    void inviteRewrittenAndRtpRtcpExpected() {
        String msg = invite(HOST, 5060, sdp(HOST, 49170));
        ByteBuf p = keep(udp(HOST, 5060, PROXY, 5060, msg.getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p, port));
        assertTrue(valid(p));
        String body = sdp(OUT, 49170);
        assertEquals(invite(OUT, 5060, body), payload(p), "Via, Contact, o=, c= and Content-Length");
        assertEquals(body.length(), Integer.parseInt(payload(p).split("Content-Length: ")[1].split("\r\n")[0]));
        assertEquals(2, e.expectationCount(), "RTP and RTCP; the declined video stream (port 0) nothing");
        // a retransmitted INVITE announces nothing new
        e.outbound(keep(udp(HOST, 5060, PROXY, 5060, msg.getBytes(StandardCharsets.ISO_8859_1))), port);
        assertEquals(2, algs.sip().counters().get(AlgEvent.EXPECTED), algs.sip().toString());
        assertEquals(2, e.expectationCount());
        // the callee's media, from wherever it comes, reaches the caller's RTP and RTCP ports
        assertEquals(port, e.inbound(keep(udp("192.0.2.33", 3456, OUT, 49170, new byte[12]))));
        assertEquals(port, e.inbound(keep(udp("192.0.2.33", 3457, OUT, 49171, new byte[8]))));
        assertEquals(0, e.expectationCount());
    }

    @Test
    void responseViaBackToTheInsideAndRequestUriToTheContact() {
        // the INVITE goes out first (the signalling session)
        e.outbound(keep(udp(HOST, 5060, PROXY, 5060, invite(HOST, 5060, sdp(HOST, 49170))
                .getBytes(StandardCharsets.ISO_8859_1))), port);
        String ok = "SIP/2.0 200 OK\r\n"
                + "Via: SIP/2.0/UDP " + OUT + ":5060;branch=z9hG4bKnashds8;received=" + OUT + "\r\n"
                + "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
                + "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
                + "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
                + "CSeq: 314159 INVITE\r\n"
                + "Contact: <sip:bob@192.0.2.4>\r\n"
                + "Content-Type: application/sdp\r\n"
                + "Content-Length: 0\r\n\r\n";
        ByteBuf r = keep(udp(PROXY, 5060, OUT, 5060, ok.getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals(port, e.inbound(r));
        assertTrue(valid(r));
        // received= too, as Linux's nf_nat_sip maps it
        assertTrue(payload(r).contains("Via: SIP/2.0/UDP " + HOST + ":5060;branch=z9hG4bKnashds8;received="
                + HOST + "\r\n"), payload(r));
        assertTrue(payload(r).contains("Contact: <sip:bob@192.0.2.4>\r\n"), payload(r));
        String bye = "BYE sip:alice@" + OUT + ":5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK776\r\n"
                + "Content-Length: 0\r\n\r\n";
        ByteBuf b = keep(udp(PROXY, 5060, OUT, 5060, bye.getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals(port, e.inbound(b));
        assertTrue(payload(b).startsWith("BYE sip:alice@" + HOST + ":5060 SIP/2.0\r\n"), payload(b));
    }

    @Test
    void registerWithCompactHeadersAndForeignAddresses() {
        String reg = "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n"
                + "v: SIP/2.0/UDP " + HOST + ":5060;branch=z9hG4bKnashds7\r\n"
                + "t: Bob <sip:bob@biloxi.example.com>\r\n"
                + "f: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n"
                + "i: 843817637684230@998sdasdh09\r\n"
                + "CSeq: 1826 REGISTER\r\n"
                + "m: <sip:bob@" + HOST + ">;expires=7200\r\n"
                + "m: <sip:bob@10.0.0.27:5060>\r\n"
                + "l: 0\r\n\r\n";
        ByteBuf p = keep(udp(HOST, 5060, PROXY, 5060, reg.getBytes(StandardCharsets.ISO_8859_1)));
        e.outbound(p, port);
        assertTrue(valid(p));
        String got = payload(p);
        assertTrue(got.contains("v: SIP/2.0/UDP " + OUT + ":5060;branch"), got);
        assertTrue(got.contains("m: <sip:bob@" + OUT + ">;expires=7200"), got);
        assertTrue(got.contains("m: <sip:bob@10.0.0.27:5060>"), "another host's contact stays: " + got);
        assertTrue(got.contains("i: 843817637684230@998sdasdh09"), got);
        assertEquals(0, e.expectationCount());
    }

    @Test
    void hostileMessagesPassUnchangedAndCounted() {
        for (String bad : new String[]{"garbage", "INVITE sip:x SIP/2.0\r\nVia: " + HOST + "\r\n",
                invite(HOST, 5060, "v=0\r\nc=IN IP4 " + HOST + "\r\nm=audio 99999999 RTP/AVP 0\r\n"),
                invite(HOST, 5060, "v=0\r\nc=IN IP4 " + HOST + "\r\nm=audio\r\n")}) {
            ByteBuf p = keep(udp(HOST, 5060, PROXY, 5060, bad.getBytes(StandardCharsets.ISO_8859_1)));
            assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p, port));
            assertTrue(valid(p));
            assertEquals(bad, payload(p));
        }
        assertEquals(4, algs.sip().counters().get(AlgEvent.MALFORMED));
        assertEquals(0, e.expectationCount());
    }

    @Test
    void sipIsOffByDefault() {
        Algs.install(e, AlgConfig.defaults());
        String msg = invite(HOST, 5060, sdp(HOST, 49170));
        ByteBuf p = keep(udp(HOST, 5060, PROXY, 5060, msg.getBytes(StandardCharsets.ISO_8859_1)));
        e.outbound(p, port);
        assertEquals(msg, payload(p));
    }

    @Test
    void endpointMatchesWholeAddressesOnly() {
        assertEquals("SIP/2.0/UDP 1.2.3.4:5060", SipAlg.endpoint("SIP/2.0/UDP 10.0.0.2:5060", "10.0.0.2", 5060,
                "1.2.3.4", 5060, 0));
        assertEquals("x 110.0.0.2:5060", SipAlg.endpoint("x 110.0.0.2:5060", "10.0.0.2", 5060, "1.2.3.4", 5060, 0));
        assertEquals("x 10.0.0.21", SipAlg.endpoint("x 10.0.0.21", "10.0.0.2", 5060, "1.2.3.4", 5060, 0));
        assertEquals("x 10.0.0.2:5070", SipAlg.endpoint("x 10.0.0.2:5070", "10.0.0.2", 5060, "1.2.3.4", 5060, 0));
        assertEquals("<sip:a@1.2.3.4:7000>", SipAlg.endpoint("<sip:a@10.0.0.2>", "10.0.0.2", 5060, "1.2.3.4",
                7000, 0));
    }

    /**
     * Under address-and-port-dependent filtering the callee's RTP, when it is the media flow's first packet, gets
     * in only through the expectation: with the same rewritten INVITE and the expectations withdrawn it is
     * dropped, and with the ALG off (the SDP keeps the inside address) there is nothing at the port either.
     */
    @Test
    void calleeRtpNeedsTheExpectation() {
        String msg = invite(HOST, 5060, sdp(HOST, 49170));
        e.outbound(keep(udp(HOST, 5060, PROXY, 5060, msg.getBytes(StandardCharsets.ISO_8859_1))), port);
        assertEquals(2, e.expectationCount());
        for (dev.pktkit.nat.ExpectedFlow f : List.copyOf(e.expectations())) {
            f.cancel();
        }
        long dropped = e.counters().droppedTotal();
        long filtered = refusedInbound();
        assertEquals(NatEngine.DROP, e.inbound(keep(udp("192.0.2.33", 3456, OUT, 49170, new byte[12]))));
        assertEquals(dropped + 1, e.counters().droppedTotal());
        assertEquals(filtered + 1, refusedInbound(), "counted as filtered / no mapping: " + e.counters());
        // the same INVITE again (a new expectation): admitted
        e.outbound(keep(udp(HOST, 5060, PROXY, 5060, msg.getBytes(StandardCharsets.ISO_8859_1))), port);
        assertEquals(port, e.inbound(keep(udp("192.0.2.33", 3456, OUT, 49170, new byte[12]))));
        // ALG off: the SDP goes out with the inside address and RTP to the NAT's port is dropped
        Algs.install(e, AlgConfig.none());
        int pending = e.expectationCount(); // the RTCP expectation above, still waiting
        ByteBuf p = keep(udp(HOST, 5062, PROXY, 5060, invite(HOST, 5062, sdp(HOST, 49180))
                .getBytes(StandardCharsets.ISO_8859_1)));
        e.outbound(p, port);
        assertTrue(payload(p).contains("c=IN IP4 " + HOST), payload(p));
        assertEquals(pending, e.expectationCount(), "nothing new expected");
        dropped = e.counters().droppedTotal();
        filtered = refusedInbound();
        assertEquals(NatEngine.DROP, e.inbound(keep(udp("192.0.2.33", 3458, OUT, 49180, new byte[12]))));
        assertEquals(dropped + 1, e.counters().droppedTotal());
        assertEquals(filtered + 1, refusedInbound(), "counted as filtered / no mapping: " + e.counters());
        // with the ALG on again, a new signalling flow (sessions are offered to the helpers when they start) is
        // served: the callee's first RTP comes in
        Algs.install(e, AlgConfig.builder().sip(true).build());
        ByteBuf q = keep(udp(HOST, 5064, PROXY, 5060, invite(HOST, 5064, sdp(HOST, 49190))
                .getBytes(StandardCharsets.ISO_8859_1)));
        e.outbound(q, port);
        assertFalse(payload(q).contains("c=IN IP4 " + HOST), payload(q));
        assertEquals(port, e.inbound(keep(udp("192.0.2.33", 3459, OUT, 49190, new byte[12]))));
    }

    /** Inbound drops for want of a mapping or by the filter: the two ways an unexpected first packet is refused. */
    private long refusedInbound() {
        return e.counters().dropped(dev.pktkit.nat.NatDropReason.NO_MAPPING)
                + e.counters().dropped(dev.pktkit.nat.NatDropReason.FILTERED);
    }
}

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
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.pktkit.nat.alg.AlgPackets.*;
import static dev.pktkit.nat.alg.H323Messages.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The H.323 ALG on a bare engine, with messages from {@link H323Messages}' PER encoder (written for the test
 * from the H.225.0 / H.245 ASN.1, not captured from a peer; {@code H323InteropTest} has tshark decode them).
 */
class H323AlgTest {
    static final String OUT = "198.51.100.1";
    static final String A = "10.0.0.2";
    static final String R = "203.0.113.5";
    private final List<ByteBuf> held = new ArrayList<>();
    private NatEngine e;
    private Algs algs;
    private int port;
    private int ns;

    @BeforeEach
    void setUp() {
        e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).build());
        algs = Algs.install(e, AlgConfig.builder().h323(true).build());
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

    private void connectOut(int cport, String to, int toPort) {
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(keep(tcp(A, cport, to, toPort, 100, 0, Tcp.SYN, null,
                new byte[0])), port));
        assertEquals(port, e.inbound(keep(tcp(to, toPort, OUT, outPort(cport), 500,
                101, Tcp.SYN | Tcp.ACK, null, new byte[0]))));
    }

    private int outPort(int cport) {
        return e.mappingOf(ns, IpProtocol.TCP, ip(A), cport).outsidePort();
    }

    private byte[] sendOut(int cport, String to, int toPort, long seq, byte[] payload) {
        ByteBuf p = keep(tcp(A, cport, to, toPort, seq, 501, Tcp.ACK | Tcp.PSH, null, payload));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p, port));
        assertTrue(valid(p));
        assertEquals(40 + payload.length, p.readableBytes(), "same length");
        return payloadOf(p);
    }

    static byte[] payloadOf(ByteBuf p) {
        int from = Tcp.payloadOffset(p, l4(p));
        byte[] b = new byte[p.readableBytes() - from];
        p.getBytes(from, b);
        return b;
    }

    private ExpectedFlow expected(int protocol, int insidePort) {
        for (ExpectedFlow f : e.expectations()) {
            if (f.expectation().protocol() == protocol && f.expectation().insidePort() == insidePort) {
                return f;
            }
        }
        return null;
    }

    private static int count(H323Alg alg, AlgEvent ev) {
        return (int) alg.counters().get(ev);
    }

    @Test
    void decoderFindsEveryAddressOfASetupWithFastStart() {
        byte[] olc = openLogicalChannel(1, ip(A), 16001, ip(A), 16000);
        byte[] uu = setup(ip(A), 30000, ip(A), 40000, olc, openLogicalChannel(2, ip(A), 16003, 0, 0));
        H323Decoder d = new H323Decoder();
        ByteBuf b = Unpooled.wrappedBuffer(uu);
        assertEquals(H323Decoder.OK, d.decodeH225(b, 0, uu.length));
        assertEquals(0, d.body);
        int[] kinds = Arrays.copyOf(d.kind, d.count);
        assertArrayEquals(new int[]{H323Decoder.H245_ADDRESS, H323Decoder.SIGNAL_ADDRESS, H323Decoder.RTCP,
                H323Decoder.RTP, H323Decoder.RTCP, H323Decoder.RTCP}, kinds);
        assertEquals(30000, b.getUnsignedShort(d.at[0] + 4));
        assertEquals(40000, b.getUnsignedShort(d.at[1] + 4));
        assertEquals(16001, b.getUnsignedShort(d.at[2] + 4));
        assertEquals(16000, b.getUnsignedShort(d.at[3] + 4));
        assertEquals(16001, b.getUnsignedShort(d.at[4] + 4));
        assertEquals(16003, b.getUnsignedShort(d.at[5] + 4));
        for (int i = 0; i < d.count; i++) {
            assertEquals(ip(A), b.getInt(d.at[i]));
        }
        // every truncation is malformed or (cut inside a skipped open type) still finds a prefix, never throws
        for (int cut = 0; cut < uu.length; cut++) {
            int r = d.decodeH225(b, 0, cut);
            assertTrue(r == H323Decoder.MALFORMED || r == H323Decoder.OK || r == H323Decoder.UNSUPPORTED);
        }
        b.release();
    }

    @Test
    void decoderFindsTheAddressesOfH245OpenLogicalChannelAndAck() {
        H323Decoder d = new H323Decoder();
        byte[] m = h245Olc(5, ip(A), 17001, ip(A), 17000);
        ByteBuf b = Unpooled.wrappedBuffer(m);
        assertEquals(H323Decoder.OK, d.decodeH245(b, 0, m.length));
        assertEquals(3, d.h245Message);
        assertEquals(3, d.count);
        assertEquals(17001, b.getUnsignedShort(d.at[0] + 4));
        assertEquals(H323Decoder.RTP, d.kind[1]);
        assertEquals(17000, b.getUnsignedShort(d.at[1] + 4));
        b.release();
        m = h245OlcAck(5, ip(A), 18000);
        b = Unpooled.wrappedBuffer(m);
        assertEquals(H323Decoder.OK, d.decodeH245(b, 0, m.length));
        assertEquals(5, d.h245Message);
        assertEquals(2, d.count);
        assertEquals(H323Decoder.RTP, d.kind[0]);
        assertEquals(18000, b.getUnsignedShort(d.at[0] + 4));
        assertEquals(H323Decoder.RTCP, d.kind[1]);
        assertEquals(18001, b.getUnsignedShort(d.at[1] + 4));
        b.release();
    }

    @Test
    void decoderFindsTheH245AddressOfCallProceedingAlertingAndFacility() {
        H323Decoder d = new H323Decoder();
        byte[][] msgs = {callProceeding(ip(R), 6002, openLogicalChannel(1, ip(R), 7001, ip(R), 7000)),
                alerting(ip(R), 6001), facility(ip(R), 6003)};
        int[] bodies = {1, 3, 6};
        int[] ports = {6002, 6001, 6003};
        int[] counts = {4, 1, 1};
        for (int i = 0; i < msgs.length; i++) {
            ByteBuf b = Unpooled.wrappedBuffer(msgs[i]);
            assertEquals(H323Decoder.OK, d.decodeH225(b, 0, msgs[i].length));
            assertEquals(bodies[i], d.body);
            assertEquals(counts[i], d.count);
            assertEquals(H323Decoder.H245_ADDRESS, d.kind[0]);
            assertEquals(ip(R), b.getInt(d.at[0]));
            assertEquals(ports[i], b.getUnsignedShort(d.at[0] + 4));
            b.release();
        }
    }

    @Test
    void setupWithFastStartIsRewrittenAndTheH245ConnectionAndMediaAreAdmitted() {
        connectOut(40000, R, 1720);
        byte[] msg = tpkt(q931(SETUP, 1, setup(ip(A), 30000, ip(A), 40000,
                openLogicalChannel(1, ip(A), 16001, ip(A), 16000))));
        byte[] sent = sendOut(40000, R, 1720, 101, msg);
        H323Alg h = algs.h323();
        assertEquals(1, count(h, AlgEvent.MESSAGES));
        assertEquals(1, count(h, AlgEvent.REWRITTEN));
        ExpectedFlow h245 = expected(IpProtocol.TCP, 30000);
        ExpectedFlow rtp = expected(IpProtocol.UDP, 16000);
        ExpectedFlow rtcp = expected(IpProtocol.UDP, 16001);
        assertNotNull(h245);
        assertNotNull(rtp);
        assertNotNull(rtcp);
        assertEquals(3, count(h, AlgEvent.EXPECTED), "RTCP announced twice, expected once");
        assertEquals(-1, find(sent, ip(A), 30000), "no inside address left");
        assertEquals(-1, find(sent, ip(A), 16000));
        assertEquals(-1, find(sent, ip(A), 16001));
        assertTrue(find(sent, ip(OUT), h245.outsidePort()) > 0);
        assertTrue(find(sent, ip(OUT), rtp.outsidePort()) > 0);
        assertTrue(find(sent, ip(OUT), rtcp.outsidePort()) > 0);
        int signalPort = outPort(40000);
        assertTrue(find(sent, ip(OUT), signalPort) > 0, "sourceCallSignalAddress");
        // the rewritten message decodes the same way, with the outside addresses
        H323Decoder d = new H323Decoder();
        ByteBuf s = Unpooled.wrappedBuffer(sent);
        assertEquals(H323Decoder.OK, d.decodeH225(s, 4 + 18 + 4, sent.length));
        s.release();

        // the callee opens H.245 to the outside endpoint: admitted under APDF, claimed as H.245
        int flows = count(h, AlgEvent.FLOWS);
        ByteBuf syn = keep(tcp(R, 50123, OUT, h245.outsidePort(), 900, 0, Tcp.SYN, null, new byte[0]));
        assertEquals(port, e.inbound(syn));
        assertEquals(ip(A), Ipv4.dst(syn, 0));
        assertEquals(30000, Tcp.dstPort(syn, l4(syn)));
        assertEquals(flows + 1, count(h, AlgEvent.FLOWS));
        // over it, A acknowledges a channel with its RTP/RTCP address: rewritten and expected
        ByteBuf ack = keep(tcp(A, 30000, R, 50123, 1000, 901, Tcp.ACK | Tcp.PSH, null,
                tpkt(h245OlcAck(7, ip(A), 16010))));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(ack, port));
        assertTrue(valid(ack));
        ExpectedFlow rtp2 = expected(IpProtocol.UDP, 16010);
        assertNotNull(rtp2);
        byte[] ackPayload = payloadOf(ack);
        assertEquals(-1, find(ackPayload, ip(A), 16010));
        assertTrue(find(ackPayload, ip(OUT), rtp2.outsidePort()) > 0);

        // RTP from the callee to the announced outside port reaches A's media port
        ByteBuf media = keep(udp(R, 7078, OUT, rtp.outsidePort(), new byte[]{(byte) 0x80, 0, 0, 1, 0, 0, 0, 0}));
        assertEquals(port, e.inbound(media));
        assertEquals(ip(A), Ipv4.dst(media, 0));
        assertEquals(16000, Udp.dstPort(media, l4(media)));
        // from another host it is filtered (media expected from the control flow's peer only)
        assertEquals(NatEngine.DROP, e.inbound(keep(udp("203.0.113.99", 7078, OUT, rtcp.outsidePort(),
                new byte[8]))));
    }

    @Test
    void theRemotesH245AddressInConnectMakesAsOutboundH245Connection() {
        connectOut(40001, R, 1720);
        sendOut(40001, R, 1720, 101, tpkt(q931(SETUP, 2, setup(0, 0, 0, 0))));
        ByteBuf alert = keep(tcp(R, 1720, OUT, outPort(40001), 501, 101, Tcp.ACK | Tcp.PSH, null,
                tpkt(q931(ALERTING, 0x8002, alerting(ip(R), 6001)))));
        assertEquals(port, e.inbound(alert));
        ByteBuf conn = keep(tcp(R, 1720, OUT, outPort(40001), 600, 101, Tcp.ACK | Tcp.PSH, null,
                tpkt(q931(CONNECT, 0x8002, connect(ip(R), 6000)))));
        assertEquals(port, e.inbound(conn));
        assertTrue(valid(conn));
        H323Alg h = algs.h323();
        assertEquals(2, h.pendingH245());
        assertEquals(0, e.expectationCount(), "the remote's address needs no expectation");
        int flows = count(h, AlgEvent.FLOWS);
        connectOut(40100, R, 6000);
        assertEquals(flows + 1, count(h, AlgEvent.FLOWS), "the H.245 connection is claimed");
        assertEquals(1, h.pendingH245());
        byte[] olc = sendOut(40100, R, 6000, 101, tpkt(h245Olc(1, ip(A), 20001, ip(A), 20000)));
        assertNotNull(expected(IpProtocol.UDP, 20000));
        assertNotNull(expected(IpProtocol.UDP, 20001));
        assertEquals(-1, find(olc, ip(A), 20000));
        assertEquals(-1, find(olc, ip(A), 20001));
        // an unrelated connection to another port of R is not claimed
        connectOut(40101, R, 6002);
        assertEquals(flows + 1, count(h, AlgEvent.FLOWS));
    }

    @Test
    void foreignMalformedAndUndecodedMessagesPassUnchanged() {
        connectOut(40002, R, 1720);
        H323Alg h = algs.h323();
        // another host's address: unchanged, nothing expected
        byte[] foreign = tpkt(q931(SETUP, 3, setup(ip("10.0.0.9"), 30000, 0, 0)));
        assertArrayEquals(foreign, sendOut(40002, R, 1720, 101, foreign));
        assertEquals(1, count(h, AlgEvent.FOREIGN_ADDRESS));
        assertEquals(0, e.expectationCount());
        // truncated PER (the UU IE claims what is there, the PER ends early)
        byte[] full = setup(ip(A), 30000, 0, 0);
        byte[] cut = tpkt(q931(SETUP, 4, Arrays.copyOf(full, 12)));
        long seq = 101 + foreign.length;
        assertArrayEquals(cut, sendOut(40002, R, 1720, seq, cut));
        assertEquals(1, count(h, AlgEvent.MALFORMED));
        seq += cut.length;
        // not TPKT
        byte[] junk = "GET / HTTP/1.0\r\n\r\n".getBytes();
        assertArrayEquals(junk, sendOut(40002, R, 1720, seq, junk));
        assertEquals(2, count(h, AlgEvent.MALFORMED));
        seq += junk.length;
        // a Setup whose EndpointType has a gateway protocol list: h245Address (before it) handled, counted
        H323Messages.Per w = userInformation(0);
        w.bit(false).bits(0b1000000, 7).octetString(H225_V4_OID);
        address225(w, ip(A), 30500);
        w.bit(false).bits(0b000100, 6); // gateway
        w.bit(false).bits(0b10, 2).length(0);
        byte[] gw = tpkt(q931(SETUP, 5, w.bytes()));
        byte[] sent = sendOut(40002, R, 1720, seq, gw);
        assertEquals(1, count(h, AlgEvent.UNDECODED));
        assertEquals(-1, find(sent, ip(A), 30500));
        assertNotNull(expected(IpProtocol.TCP, 30500));
        assertEquals(0, e.helperErrors());
    }

    @Test
    void offByDefault() {
        assertFalse(AlgConfig.defaults().h323());
        Algs a = Algs.install(e, AlgConfig.defaults());
        assertNull(a.h323());
        connectOut(40003, R, 1720);
        byte[] msg = tpkt(q931(SETUP, 1, setup(ip(A), 30000, 0, 0)));
        assertArrayEquals(msg, sendOut(40003, R, 1720, 101, msg));
        assertEquals(0, e.expectationCount());
    }
}

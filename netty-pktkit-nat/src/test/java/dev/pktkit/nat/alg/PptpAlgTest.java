package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatDropReason;
import dev.pktkit.nat.NatEngine;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.pktkit.nat.alg.AlgPackets.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The PPTP ALG on a bare engine: control messages laid out as RFC 2637 §2 defines them (full lengths, magic
 * cookie) and enhanced GRE (§4.1) packets; two inside hosts that pick the same call ID.
 */
class PptpAlgTest {
    static final String OUT = "198.51.100.1";
    static final String A = "10.0.0.2";
    static final String B = "10.0.0.3";
    static final String PAC = "203.0.113.5";
    private final List<ByteBuf> held = new ArrayList<>();
    private NatEngine e;
    private Algs algs;
    private int port;

    @BeforeEach
    void setUp() {
        e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).build());
        algs = Algs.install(e, AlgConfig.builder().pptp(true).build());
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

    /** A control message of {@code length} bytes with the two 16-bit fields after the header. */
    static byte[] control(int type, int length, int field1, int field2) {
        byte[] m = new byte[length];
        m[0] = (byte) (length >>> 8);
        m[1] = (byte) length;
        m[3] = 1; // control message
        m[4] = 0x1A;
        m[5] = 0x2B;
        m[6] = 0x3C;
        m[7] = 0x4D;
        m[9] = (byte) type;
        m[12] = (byte) (field1 >>> 8);
        m[13] = (byte) field1;
        m[14] = (byte) (field2 >>> 8);
        m[15] = (byte) field2;
        return m;
    }

    static int field(ByteBuf b, int at) {
        return b.getUnsignedShort(tcpPayloadOffset(b) + at);
    }

    static int tcpPayloadOffset(ByteBuf b) {
        return Tcp.payloadOffset(b, l4(b));
    }

    /** Enhanced GRE carrying {@code callId} in its key, with a sequence number and 4 bytes of PPP. */
    static ByteBuf gre(String src, String dst, int callId) {
        ByteBuf b = Unpooled.buffer(40);
        Ipv4.writeHeader(b, ip(src), ip(dst), IpProtocol.GRE, 64, 16, 7, false);
        b.writeShort(0x3001); // K and S present, version 1
        b.writeShort(0x880B);
        b.writeShort(4); // payload length
        b.writeShort(callId);
        b.writeInt(1); // sequence
        b.writeInt(0xFF03C021); // PPP: LCP
        return b;
    }

    static int greCallId(ByteBuf b) {
        return b.getUnsignedShort(l4(b) + 6);
    }

    private void control(String host, int cport) {
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(keep(tcp(host, cport, PAC, 1723, 100, 0, Tcp.SYN, null,
                new byte[0])), port));
        assertEquals(port, e.inbound(keep(tcp(PAC, 1723, OUT, cport, 500, 101, Tcp.SYN | Tcp.ACK, null,
                new byte[0]))));
    }

    private ByteBuf send(String host, int cport, long seq, byte[] msg) {
        ByteBuf p = keep(tcp(host, cport, PAC, 1723, seq, 501, Tcp.ACK | Tcp.PSH, null, msg));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p, port));
        assertTrue(valid(p));
        return p;
    }

    private ByteBuf receive(int cport, long seq, byte[] msg) {
        ByteBuf p = keep(tcp(PAC, 1723, OUT, cport, seq, 101, Tcp.ACK | Tcp.PSH, null, msg));
        assertEquals(port, e.inbound(p));
        assertTrue(valid(p));
        return p;
    }

    @Test
    void twoHostsWithTheSameCallIdKeptApart() {
        control(A, 40000);
        control(B, 40001);
        // both clients pick call ID 0x1234 (Outgoing-Call-Request, 168 bytes)
        ByteBuf ra = send(A, 40000, 101, control(PptpAlg.OCRQ, 168, 0x1234, 1));
        ByteBuf rb = send(B, 40001, 101, control(PptpAlg.OCRQ, 168, 0x1234, 1));
        int outA = field(ra, 12);
        int outB = field(rb, 12);
        assertEquals(0x1234, outA, "the first keeps its ID");
        assertNotEquals(outA, outB, "the second gets another outside call ID");
        // the server answers each (Outgoing-Call-Reply, 32 bytes: its call ID, the peer's = the outside ID)
        ByteBuf pa = receive(40000, 501, control(PptpAlg.OCRP, 32, 0x0100, outA));
        ByteBuf pb = receive(40001, 501, control(PptpAlg.OCRP, 32, 0x0200, outB));
        assertEquals(0x1234, field(pa, 14));
        assertEquals(0x1234, field(pb, 14), "B sees its own call ID");
        assertEquals(ip(B), Ipv4.dst(pb, 0));
        assertEquals(2, algs.pptp().calls());

        // GRE from the server, keyed by the outside call IDs, reaches each host with its own ID
        ByteBuf ga = keep(gre(PAC, OUT, outA));
        assertEquals(port, e.inbound(ga));
        assertEquals(ip(A), Ipv4.dst(ga, 0));
        assertEquals(0x1234, greCallId(ga));
        assertTrue(Ipv4.check(ga, 0, true) >= 0);
        ByteBuf gb = keep(gre(PAC, OUT, outB));
        assertEquals(port, e.inbound(gb));
        assertEquals(ip(B), Ipv4.dst(gb, 0));
        assertEquals(0x1234, greCallId(gb));
        // GRE from each host, keyed by the server's call ID, leaves from the outside address
        ByteBuf oa = keep(gre(A, PAC, 0x0100));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(oa, port));
        assertEquals(ip(OUT), Ipv4.src(oa, 0));
        assertEquals(0x0100, greCallId(oa));
        assertTrue(Ipv4.check(oa, 0, true) >= 0);
        ByteBuf ob = keep(gre(B, PAC, 0x0200));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(ob, port));
        // an unknown call ID is not let in
        assertEquals(NatEngine.DROP, e.inbound(keep(gre(PAC, OUT, 0x7777))));
        // B's Set-Link-Info from the server names B's outside ID
        ByteBuf sli = receive(40001, 533, control(PptpAlg.SLI, 24, outB, 0));
        assertEquals(0x1234, field(sli, 12));
        // B clears the call (Call-Clear-Request with its inside ID) and the server disconnects it
        ByteBuf cc = send(B, 40001, 269, control(PptpAlg.CCRQ, 16, 0x1234, 0));
        assertEquals(outB, field(cc, 12));
        receive(40001, 557, control(PptpAlg.CDN, 148, 0x0200, 0));
        assertEquals(1, algs.pptp().calls());
        assertEquals(NatEngine.DROP, e.inbound(keep(gre(PAC, OUT, outB))));
        assertEquals(NatEngine.DROP, e.outbound(keep(gre(B, PAC, 0x0200)), port));
        assertEquals(3, e.counters().dropped(NatDropReason.UNSUPPORTED_PROTOCOL), "0x7777 and the ended call");
        // A's call still works
        assertEquals(port, e.inbound(keep(gre(PAC, OUT, outA))));
    }

    @Test
    void callsEndWithTheirControlConnectionAndAreBounded() {
        Algs a = Algs.install(e, AlgConfig.builder().pptp(true).maxCallsPerControl(2).build());
        control(A, 40001);
        long seq = 101;
        for (int id = 1; id <= 3; id++) {
            ByteBuf p = send(A, 40001, seq, control(PptpAlg.OCRQ, 168, id, id));
            assertEquals(id, field(p, 12));
            seq += 168;
        }
        assertEquals(2, a.pptp().calls());
        assertEquals(1, a.pptp().counters().get(AlgEvent.EXPECT_REFUSED));
        // a retransmitted request keeps its call
        send(A, 40001, 101, control(PptpAlg.OCRQ, 168, 1, 1));
        assertEquals(2, a.pptp().calls());
        // truncated and foreign messages pass
        ByteBuf junk = send(A, 40001, seq, new byte[]{0, 16, 0, 1, 1, 2, 3, 4, 0, 7, 0, 0, 0, 9, 0, 9});
        assertEquals(9, field(junk, 12));
        assertEquals(1, a.pptp().counters().get(AlgEvent.MALFORMED));
        e.tick(100_000); // the control connection expires: its calls go
        assertEquals(0, a.pptp().calls());
    }

    @Test
    void grePassesUntouchedWithoutPptpAndWithTheAlgOff() {
        Algs.install(e, AlgConfig.defaults());
        assertNull(Algs.install(e, AlgConfig.defaults()).pptp(), "off by default");
        assertEquals(NatEngine.DROP, e.outbound(keep(gre(A, PAC, 1)), port));
        assertEquals(1, e.counters().dropped(NatDropReason.UNSUPPORTED_PROTOCOL));
    }
}

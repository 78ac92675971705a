package dev.pktkit.nat.alg;

import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.nat.Filtering;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatDropReason;
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

/** The TFTP and IRC DCC ALGs on a bare engine (address-and-port-dependent filtering). */
class TftpIrcAlgTest {
    static final String OUT = "198.51.100.1";
    static final String HOST = "10.0.0.2";
    static final String SERVER = "203.0.113.5";
    private final List<ByteBuf> held = new ArrayList<>();
    private NatEngine e;
    private Algs algs;
    private int port;

    @BeforeEach
    void setUp() {
        e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1")
                .filtering(Filtering.ADDRESS_AND_PORT_DEPENDENT).build());
        algs = Algs.install(e, AlgConfig.builder().irc(true).build());
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

    /** RFC 1350 RRQ: opcode 1, file name, 0, mode, 0. */
    static byte[] rrq(String file) {
        byte[] f = file.getBytes(StandardCharsets.US_ASCII);
        byte[] m = "octet".getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[2 + f.length + 1 + m.length + 1];
        b[1] = 1;
        System.arraycopy(f, 0, b, 2, f.length);
        System.arraycopy(m, 0, b, 3 + f.length, m.length);
        return b;
    }

    @Test
    void tftpReplyFromNewPortAdmittedOncePerRequest() {
        ByteBuf req = keep(udp(HOST, 40000, SERVER, 69, rrq("file.bin")));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(req, port));
        int outPort = Udp.srcPort(req, l4(req));
        // a retransmitted request announces nothing new
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(keep(udp(HOST, 40000, SERVER, 69, rrq("file.bin"))), port));
        assertEquals(1, e.expectationCount());
        assertEquals(1, algs.tftp().counters().get(AlgEvent.EXPECTED));
        // DATA block 1 from the server's transfer port
        ByteBuf data = keep(udp(SERVER, 51234, OUT, outPort, new byte[]{0, 3, 0, 1, 'x'}));
        assertEquals(port, e.inbound(data));
        assertEquals(Ipv4.dst(data, 0), ip(HOST));
        assertTrue(valid(data));
        // another port of the server is still filtered
        assertEquals(NatEngine.DROP, e.inbound(keep(udp(SERVER, 51235, OUT, outPort, new byte[]{0, 3, 0, 1}))));
        assertEquals(1, e.counters().dropped(NatDropReason.FILTERED));
        // a request that is not one (an ACK to port 69) is counted, nothing expected
        e.outbound(keep(udp(HOST, 40001, SERVER, 69, new byte[]{0, 4, 0, 1})), port);
        assertEquals(1, algs.tftp().counters().get(AlgEvent.MALFORMED));
        assertEquals(0, e.expectationCount());
    }

    @Test
    void tftpReplyFilteredWithTheAlgOff() {
        Algs.install(e, AlgConfig.none());
        ByteBuf req = keep(udp(HOST, 40000, SERVER, 69, rrq("file.bin")));
        e.outbound(req, port);
        int outPort = Udp.srcPort(req, l4(req));
        assertEquals(NatEngine.DROP, e.inbound(keep(udp(SERVER, 51234, OUT, outPort, new byte[]{0, 3, 0, 1}))));
        assertEquals(1, e.counters().dropped(NatDropReason.FILTERED));
    }

    private void ircConnect() {
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(keep(tcp(HOST, 45000, SERVER, 6667, 100, 0, Tcp.SYN, null,
                "")), port));
        assertEquals(port, e.inbound(keep(tcp(SERVER, 6667, OUT, 45000, 900, 101, Tcp.SYN | Tcp.ACK, null, ""))));
    }

    @Test
    void dccSendAddressRewrittenAndTransferExpectedFromAnyone() {
        ircConnect();
        long inside = ip(HOST) & 0xFFFF_FFFFL; // 167772162: 9 digits; the outside address has 10
        String msg = "PRIVMSG bob :\u0001DCC SEND \"my file.bin\" " + inside + " 50000 1048576\u0001\r\n";
        ByteBuf p = keep(tcp(HOST, 45000, SERVER, 6667, 101, 901, Tcp.ACK | Tcp.PSH, null, msg));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p, port));
        assertTrue(valid(p));
        long outside = ip(OUT) & 0xFFFF_FFFFL;
        assertEquals("PRIVMSG bob :\u0001DCC SEND \"my file.bin\" " + outside + " 50000 1048576\u0001\r\n",
                tcpPayload(p));
        // the receiver, anywhere, connects to the announced endpoint
        ByteBuf syn = keep(tcp("192.0.2.77", 33333, OUT, 50000, 1, 0, Tcp.SYN, null, ""));
        assertEquals(port, e.inbound(syn));
        assertEquals(50000, Tcp.dstPort(syn, l4(syn)));
        // the server's ack of the longer message comes back in the client's numbering
        ByteBuf ack = keep(tcp(SERVER, 6667, OUT, 45000, 901, 101 + msg.length() + 1, Tcp.ACK, null, ""));
        assertEquals(port, e.inbound(ack));
        assertEquals(101 + msg.length(), ack(ack));
    }

    @Test
    void dccChatForeignAndPassiveDccPassUnchanged() {
        ircConnect();
        long seq = 101;
        for (String m : new String[]{"PRIVMSG bob :\u0001DCC CHAT chat 3405803786 5000\u0001\r\n",
                "PRIVMSG bob :\u0001DCC SEND f " + (ip(HOST) & 0xFFFF_FFFFL) + " 0 10 77\u0001\r\n",
                "PRIVMSG bob :\u0001DCC SEND f 99999999999 5000 10\u0001\r\n",
                "PRIVMSG bob :\u0001DCC SEND f\r\n"}) {
            ByteBuf p = keep(tcp(HOST, 45000, SERVER, 6667, seq, 901, Tcp.ACK, null, m));
            assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p, port));
            assertEquals(m, tcpPayload(p));
            seq += m.length();
        }
        assertEquals(2, algs.irc().counters().get(AlgEvent.FOREIGN_ADDRESS));
        assertEquals(2, algs.irc().counters().get(AlgEvent.MALFORMED));
        assertEquals(0, e.expectationCount());
        // DCC CHAT with the inside address is rewritten too
        String chat = "PRIVMSG bob :\u0001DCC CHAT chat " + (ip(HOST) & 0xFFFF_FFFFL) + " 5001\u0001\r\n";
        ByteBuf c = keep(tcp(HOST, 45000, SERVER, 6667, seq, 901, Tcp.ACK, null, chat));
        e.outbound(c, port);
        assertEquals("PRIVMSG bob :\u0001DCC CHAT chat " + (ip(OUT) & 0xFFFF_FFFFL) + " 5001\u0001\r\n",
                tcpPayload(c));
    }

    @Test
    void ircIsOffByDefault() {
        Algs.install(e, AlgConfig.defaults());
        assertNull(Algs.install(e, AlgConfig.defaults()).irc());
        ircConnect();
        String msg = "PRIVMSG bob :\u0001DCC SEND f " + (ip(HOST) & 0xFFFF_FFFFL) + " 50000 10\u0001\r\n";
        ByteBuf p = keep(tcp(HOST, 45000, SERVER, 6667, 101, 901, Tcp.ACK, null, msg));
        e.outbound(p, port);
        assertEquals(msg, tcpPayload(p));
    }
}

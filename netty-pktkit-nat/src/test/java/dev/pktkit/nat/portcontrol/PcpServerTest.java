package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.capture.CaptureDirection;
import dev.pktkit.codec.capture.LinkType;
import dev.pktkit.codec.capture.PcapWriter;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import dev.pktkit.nat.NatMapping;
import dev.pktkit.testkit.Tools;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.pktkit.nat.portcontrol.PcpServer.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * NAT-PMP (RFC 6886 §3.2–3.5) and PCP (RFC 6887 §7, §11, §12, §13) against messages laid out byte by byte as the
 * RFCs draw them. Debian has no PCP client, so PCP's proof is these layouts plus tshark's own PCP dissector
 * decoding every request and response without a malformed-packet mark.
 */
class PcpServerTest {
    static final int HOST = Ip4.parse("10.72.0.2");
    static final int OTHER = Ip4.parse("10.72.0.3");
    static final int OUT = Ip4.parse("198.51.100.1");
    static final int GW = Ip4.parse("10.72.0.1");
    static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    private EmbeddedChannel loop;
    private Nat nat;
    private PortControl pc;
    private PortContext ctx;
    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final List<Exchange> exchanges = new ArrayList<>();

    record Exchange(ByteBuf req, ByteBuf resp, int src) {
    }

    @BeforeEach
    void setUp() {
        setUp(PortControlConfig.builder().maxLeases(64, 3));
    }

    void setUp(PortControlConfig.Builder b) {
        loop = new EmbeddedChannel();
        nat = Nat.create(loop.eventLoop(), NatConfig.builder().outsideAddresses("198.51.100.1")
                .insideAddress("10.72.0.1").maxStaticMappings(8).build());
        pc = PortControl.create(nat, b.clock(clock::get).build());
        ctx = new PortContext("lan", nat.namespace("lan").getNow());
    }

    @AfterEach
    void tearDown() {
        pc.close();
        nat.close();
        loop.finishAndReleaseAll();
        for (Exchange x : exchanges) {
            x.req().release();
            if (x.resp() != null) {
                x.resp().release();
            }
        }
        exchanges.clear();
    }

    /** Sends one request from {@code src}; the response (kept for the capture) or null. */
    private ByteBuf ask(int src, ByteBuf req) {
        ByteBuf resp = pc.pcpServer().handle(req, src, ctx, ALLOC);
        exchanges.add(new Exchange(req, resp, src));
        return resp;
    }

    // ---- NAT-PMP layouts (RFC 6886 §3.2, §3.3) ----

    static ByteBuf pmpAddress() {
        return Unpooled.buffer().writeByte(0).writeByte(0);
    }

    static ByteBuf pmpMap(int op, int internal, int suggested, long lifetime) {
        return Unpooled.buffer().writeByte(0).writeByte(op).writeShort(0).writeShort(internal).writeShort(suggested)
                .writeInt((int) lifetime);
    }

    // ---- PCP layouts (RFC 6887 §7.1, §11.1, §12.1) ----

    static ByteBuf pcpHeader(int op, long lifetime, int client) {
        ByteBuf b = Unpooled.buffer();
        b.writeByte(2).writeByte(op).writeShort(0).writeInt((int) lifetime);
        b.writeLong(0).writeInt(0xFFFF).writeInt(client);
        return b;
    }

    static ByteBuf pcpMap(long lifetime, int client, byte nonceSeed, int protocol, int internal, int suggested,
                          int suggestedIp) {
        ByteBuf b = pcpHeader(OP_MAP, lifetime, client);
        for (int i = 0; i < 12; i++) {
            b.writeByte(nonceSeed + i);
        }
        b.writeByte(protocol).writeMedium(0).writeShort(internal).writeShort(suggested);
        b.writeLong(0).writeInt(suggestedIp == 0 ? 0 : 0xFFFF).writeInt(suggestedIp);
        return b;
    }

    static ByteBuf pcpPeer(long lifetime, int client, int protocol, int internal, int remote, int remotePort) {
        ByteBuf b = pcpHeader(OP_PEER, lifetime, client);
        for (int i = 0; i < 12; i++) {
            b.writeByte(0x40 + i);
        }
        b.writeByte(protocol).writeMedium(0).writeShort(internal).writeShort(0);
        b.writeLong(0).writeInt(0).writeInt(0);
        b.writeShort(remotePort).writeShort(0);
        b.writeLong(0).writeInt(0xFFFF).writeInt(remote);
        return b;
    }

    /**
     * RFC 6887 §13.3 Figure 15, by hand: option code 3, reserved, option length 20; reserved, prefix length, remote
     * peer port; the remote peer address (128 bits), here IPv4-mapped (::ffff:a.b.c.d), so a /n is 96 + n.
     */
    static ByteBuf filter(ByteBuf b, int prefixLength, int remotePort, int remoteV4) {
        b.writeByte(3).writeByte(0).writeShort(20);
        b.writeByte(0).writeByte(prefixLength).writeShort(remotePort);
        b.writeLong(0).writeInt(0xFFFF).writeInt(remoteV4);
        return b;
    }

    static int result(ByteBuf pcpResp) {
        return pcpResp.getUnsignedByte(3);
    }

    private NatMapping mappingAt(int protocol, int port) {
        return nat.engine().mappingAt(protocol, OUT, port);
    }

    @Test
    void natPmpExternalAddressAndMapRenewDelete() {
        ByteBuf r = ask(HOST, pmpAddress());
        assertEquals(12, r.readableBytes());
        assertEquals(0, r.getByte(0));
        assertEquals(128, r.getUnsignedByte(1));
        assertEquals(NATPMP_SUCCESS, r.getUnsignedShort(2));
        assertEquals(OUT, r.getInt(8));

        r = ask(HOST, pmpMap(2, 8080, 18080, 3600));
        assertEquals(16, r.readableBytes());
        assertEquals(130, r.getUnsignedByte(1));
        assertEquals(NATPMP_SUCCESS, r.getUnsignedShort(2));
        assertEquals(8080, r.getUnsignedShort(8));
        assertEquals(18080, r.getUnsignedShort(10));
        assertEquals(3600, r.getInt(12));
        NatMapping m = mappingAt(IpProtocol.TCP, 18080);
        assertNotNull(m);
        assertEquals(HOST, m.insideAddress());
        assertEquals(8080, m.insidePort());

        // renewal keeps the port, whatever is suggested (RFC 6886 §3.3)
        clock.addAndGet(TimeUnit.SECONDS.toNanos(100));
        r = ask(HOST, pmpMap(2, 8080, 0, 600));
        assertEquals(18080, r.getUnsignedShort(10));
        assertEquals(600, r.getInt(12));
        assertEquals(1, pc.counters().get(PortControlCounter.LEASE_RENEWED));
        assertEquals(100, r.getInt(4), "seconds since start of epoch");

        // the same suggested port for another host: a different port is chosen
        r = ask(OTHER, pmpMap(2, 8080, 18080, 60));
        assertEquals(NATPMP_SUCCESS, r.getUnsignedShort(2));
        assertNotEquals(18080, r.getUnsignedShort(10));
        assertEquals(OTHER, mappingAt(IpProtocol.TCP, r.getUnsignedShort(10)).insideAddress());

        // UDP, then delete one, then delete all of the host's UDP ones
        assertEquals(NATPMP_SUCCESS, ask(HOST, pmpMap(1, 5000, 5000, 60)).getUnsignedShort(2));
        assertNotNull(mappingAt(IpProtocol.UDP, 5000));
        r = ask(HOST, pmpMap(2, 8080, 0, 0));
        assertEquals(NATPMP_SUCCESS, r.getUnsignedShort(2));
        assertEquals(0, r.getInt(12));
        assertNull(mappingAt(IpProtocol.TCP, 18080));
        ask(HOST, pmpMap(1, 0, 0, 0));
        assertNull(mappingAt(IpProtocol.UDP, 5000));
    }

    @Test
    void natPmpBadInputAnsweredOrDroppedAndCounted() {
        assertNull(ask(HOST, Unpooled.buffer().writeByte(0)));                      // 1 byte
        assertNull(ask(HOST, Unpooled.buffer().writeByte(0).writeByte(2).writeShort(0))); // map, truncated
        assertNull(ask(HOST, Unpooled.buffer().writeByte(0).writeByte(129).writeZero(14))); // a response
        assertNull(ask(HOST, pmpAddress().writeByte(0)));                           // trailing junk
        assertEquals(4, pc.counters().get(PortControlCounter.NATPMP_DROPPED));
        ByteBuf r = ask(HOST, Unpooled.buffer().writeByte(0).writeByte(7).writeZero(10));
        assertEquals(135, r.getUnsignedByte(1));
        assertEquals(NATPMP_UNSUPPORTED_OPCODE, r.getUnsignedShort(2));
        r = ask(HOST, pmpMap(2, 0, 1234, 60));                                      // internal port 0, lifetime > 0
        assertEquals(NATPMP_REFUSED, r.getUnsignedShort(2));
        // version 1 (neither NAT-PMP nor PCP): PCP's UNSUPP_VERSION answer
        r = ask(HOST, Unpooled.buffer().writeByte(1).writeByte(1).writeZero(58));
        assertEquals(2, r.getUnsignedByte(0));
        assertEquals(UNSUPP_VERSION, result(r));
    }

    @Test
    void natPmpOnlyServerAnswersOtherVersionsWithItsOwnError() {
        tearDown();
        setUp(PortControlConfig.builder().pcp(false));
        ByteBuf r = ask(HOST, pcpMap(60, HOST, (byte) 1, IpProtocol.TCP, 80, 80, 0));
        assertEquals(0, r.getUnsignedByte(0));
        assertEquals(NATPMP_UNSUPPORTED_VERSION, r.getUnsignedShort(2));
    }

    @Test
    void leaseBoundsPerHostAndTheNatsStaticTable() {
        for (int i = 0; i < 3; i++) {
            assertEquals(NATPMP_SUCCESS, ask(HOST, pmpMap(2, 7000 + i, 0, 60)).getUnsignedShort(2));
        }
        assertEquals(NATPMP_OUT_OF_RESOURCES, ask(HOST, pmpMap(2, 7003, 0, 60)).getUnsignedShort(2));
        // the NAT's maxStaticMappings (8) bounds all leases: 3 above, 5 more from other hosts, then full
        for (int h = 0; h < 5; h++) {
            assertEquals(NATPMP_SUCCESS, ask(OTHER + 1 + h, pmpMap(2, 7000, 0, 60)).getUnsignedShort(2));
        }
        ByteBuf r = ask(OTHER, pcpMap(60, OTHER, (byte) 9, IpProtocol.TCP, 7000, 0, 0));
        assertEquals(NO_RESOURCES, result(r));
        assertEquals(SHORT_ERROR_LIFETIME, r.getInt(4));
        assertTrue(pc.counters().get(PortControlCounter.LEASE_REFUSED) >= 2);
    }

    @Test
    void leasesExpireOnTheClock() {
        ask(HOST, pmpMap(2, 8080, 18080, 10));
        ask(HOST, pcpMap(30, HOST, (byte) 1, IpProtocol.UDP, 9000, 19000, 0));
        assertEquals(0, pc.expireLeases().getNow());
        clock.addAndGet(TimeUnit.SECONDS.toNanos(11));
        assertEquals(1, pc.expireLeases().getNow());
        assertNull(mappingAt(IpProtocol.TCP, 18080));
        assertNotNull(mappingAt(IpProtocol.UDP, 19000));
        clock.addAndGet(TimeUnit.SECONDS.toNanos(20));
        assertEquals(1, pc.expireLeases().getNow());
        assertNull(mappingAt(IpProtocol.UDP, 19000));
        assertEquals(2, pc.counters().get(PortControlCounter.LEASE_EXPIRED));
    }

    @Test
    void pcpMapCreateRefreshNonceDelete() {
        ByteBuf r = ask(HOST, pcpMap(3600, HOST, (byte) 1, IpProtocol.TCP, 8080, 18080, 0));
        assertEquals(24 + 36, r.readableBytes());
        assertEquals(2, r.getUnsignedByte(0));
        assertEquals(0x80 | OP_MAP, r.getUnsignedByte(1));
        assertEquals(SUCCESS, result(r));
        assertEquals(3600, r.getInt(4));
        assertEquals(18080, r.getUnsignedShort(24 + 18));
        assertEquals(OUT, PcpServer.mappedV4(r, 24 + 20));
        assertEquals(1, r.getByte(24), "nonce echoed");
        assertNotNull(mappingAt(IpProtocol.TCP, 18080));

        // another nonce for the same internal endpoint: not authorized (RFC 6887 §11.3)
        r = ask(HOST, pcpMap(3600, HOST, (byte) 50, IpProtocol.TCP, 8080, 18080, 0));
        assertEquals(NOT_AUTHORIZED, result(r));
        assertEquals(LONG_ERROR_LIFETIME, r.getInt(4));
        // lifetime beyond the bound is cut
        r = ask(HOST, pcpMap(10_000_000, HOST, (byte) 1, IpProtocol.TCP, 8080, 0, 0));
        assertEquals(SUCCESS, result(r));
        assertEquals(86400, r.getInt(4));
        // delete needs the nonce
        assertEquals(NOT_AUTHORIZED, result(ask(HOST, pcpMap(0, HOST, (byte) 50, IpProtocol.TCP, 8080, 0, 0))));
        r = ask(HOST, pcpMap(0, HOST, (byte) 1, IpProtocol.TCP, 8080, 0, 0));
        assertEquals(SUCCESS, result(r));
        assertEquals(0, r.getInt(4));
        assertNull(mappingAt(IpProtocol.TCP, 18080));
    }

    @Test
    void pcpMapPreferFailureAndThirdParty() {
        ask(OTHER, pcpMap(60, OTHER, (byte) 1, IpProtocol.UDP, 9000, 19000, 0));
        // PREFER_FAILURE (RFC 6887 §13.2) on a taken port
        ByteBuf req = pcpMap(60, HOST, (byte) 2, IpProtocol.UDP, 9000, 19000, 0);
        req.writeByte(OPT_PREFER_FAILURE).writeByte(0).writeShort(0);
        assertEquals(CANNOT_PROVIDE_EXTERNAL, result(ask(HOST, req)));
        // without it another port is assigned
        ByteBuf r = ask(HOST, pcpMap(60, HOST, (byte) 2, IpProtocol.UDP, 9000, 19000, 0));
        assertEquals(SUCCESS, result(r));
        assertNotEquals(19000, r.getUnsignedShort(24 + 18));

        // THIRD_PARTY (§13.1) refused by default
        req = pcpMap(60, HOST, (byte) 3, IpProtocol.TCP, 22, 2222, 0);
        req.writeByte(OPT_THIRD_PARTY).writeByte(0).writeShort(16).writeLong(0).writeInt(0xFFFF).writeInt(OTHER + 7);
        assertEquals(NOT_AUTHORIZED, result(ask(HOST, req)));
        assertNull(mappingAt(IpProtocol.TCP, 2222));
    }

    @Test
    void pcpThirdPartyWhenAllowedIsEchoed() {
        tearDown();
        setUp(PortControlConfig.builder().allowThirdParty(true));
        ByteBuf req = pcpMap(60, HOST, (byte) 3, IpProtocol.TCP, 22, 2222, 0);
        req.writeByte(OPT_THIRD_PARTY).writeByte(0).writeShort(16).writeLong(0).writeInt(0xFFFF).writeInt(OTHER);
        ByteBuf r = ask(HOST, req);
        assertEquals(SUCCESS, result(r));
        assertEquals(24 + 36 + 20, r.readableBytes(), "THIRD_PARTY echoed");
        assertEquals(OTHER, mappingAt(IpProtocol.TCP, 2222).insideAddress());
    }

    @Test
    void pcpBadInputGetsTheRightErrors() {
        assertNull(ask(HOST, Unpooled.buffer().writeByte(2).writeByte(1).writeByte(0)));   // < 4 bytes: dropped
        ByteBuf resp = pcpMap(60, HOST, (byte) 1, IpProtocol.TCP, 80, 80, 0);
        resp.setByte(1, 0x80 | OP_MAP);
        assertNull(ask(HOST, resp));                                                        // a response: dropped
        assertEquals(2, pc.counters().get(PortControlCounter.PCP_DROPPED));

        assertEquals(MALFORMED_REQUEST, result(ask(HOST, pcpHeader(OP_MAP, 60, HOST).writeZero(4)))); // short MAP
        assertEquals(MALFORMED_REQUEST, result(ask(HOST, pcpHeader(OP_ANNOUNCE, 0, HOST).writeByte(0)))); // not /4
        assertEquals(MALFORMED_REQUEST, result(ask(HOST, pcpHeader(OP_ANNOUNCE, 0, HOST).writeZero(1100)))); // > 1100
        assertEquals(UNSUPP_OPCODE, result(ask(HOST, pcpHeader(9, 60, HOST))));
        assertEquals(ADDRESS_MISMATCH, result(ask(HOST, pcpMap(60, OTHER, (byte) 1, IpProtocol.TCP, 80, 80, 0))));
        assertEquals(UNSUPP_PROTOCOL, result(ask(HOST, pcpMap(60, HOST, (byte) 1, 0, 0, 0, 0))));
        assertEquals(UNSUPP_PROTOCOL, result(ask(HOST, pcpMap(60, HOST, (byte) 1, 132, 80, 80, 0))));
        assertEquals(MALFORMED_REQUEST, result(ask(HOST, pcpMap(60, HOST, (byte) 1, IpProtocol.TCP, 0, 80, 0))));
        ByteBuf mandatory = pcpMap(60, HOST, (byte) 1, IpProtocol.TCP, 80, 80, 0);
        mandatory.writeByte(99).writeByte(0).writeShort(4).writeZero(4);           // mandatory, unknown
        assertEquals(UNSUPP_OPTION, result(ask(HOST, mandatory)));
        ByteBuf overrun = pcpMap(60, HOST, (byte) 1, IpProtocol.TCP, 80, 80, 0);
        overrun.writeByte(130).writeByte(0).writeShort(40).writeZero(4);
        assertEquals(MALFORMED_OPTION, result(ask(HOST, overrun)));
        ByteBuf optional = pcpMap(60, HOST, (byte) 1, IpProtocol.TCP, 80, 8000, 0);
        optional.writeByte(130).writeByte(0).writeShort(3).writeZero(4);             // optional, unknown: ignored
        ByteBuf ok = ask(HOST, optional);
        assertEquals(SUCCESS, result(ok));
        assertEquals(24 + 36, ok.readableBytes(), "an ignored option is not echoed");
        assertNull(nat.engine().mappingAt(IpProtocol.TCP, OUT, 80));
        assertEquals(SUCCESS, result(ask(HOST, pcpHeader(OP_ANNOUNCE, 0, HOST))));
        assertTrue(pc.counters().get(PortControlCounter.PCP_ERROR) >= 10);
    }

    @Test
    void pcpPeerReservesTheMappingForTheRemote() {
        int remote = Ip4.parse("198.51.100.20");
        ByteBuf r = ask(HOST, pcpPeer(120, HOST, IpProtocol.UDP, 4000, remote, 3478));
        assertEquals(24 + 56, r.readableBytes());
        assertEquals(SUCCESS, result(r));
        int ext = r.getUnsignedShort(24 + 18);
        assertEquals(4000, ext, "port preserved");
        assertEquals(OUT, PcpServer.mappedV4(r, 24 + 20));
        assertEquals(3478, r.getUnsignedShort(24 + 36));
        assertEquals(1, nat.engine().expectationCount());
        // asking again returns the same reservation
        assertEquals(ext, ask(HOST, pcpPeer(120, HOST, IpProtocol.UDP, 4000, remote, 3478)).getUnsignedShort(24 + 18));
        assertEquals(1, nat.engine().expectationCount());
        assertEquals(SUCCESS, result(ask(HOST, pcpPeer(0, HOST, IpProtocol.UDP, 4000, remote, 3478))));
        assertEquals(0, nat.engine().expectationCount());
        assertEquals(MALFORMED_REQUEST, result(ask(HOST, pcpPeer(60, HOST, IpProtocol.UDP, 4000, remote, 0))));
    }

    @Test
    void pcpPeerForAnExistingFlowReportsItsMappingAndLifetime() {
        int remote = Ip4.parse("198.51.100.20");
        int port = nat.engine().addPort(ctx.namespace());
        ByteBuf pkt = Unpooled.buffer(40);
        Ipv4.writeHeader(pkt, HOST, remote, IpProtocol.UDP, 64, 12, 1, false);
        pkt.writeShort(4000).writeShort(3478).writeShort(12).writeShort(0).writeInt(0x70696e67);
        Udp.fillChecksumV4(pkt, 20, 12, HOST, remote);
        assertEquals(dev.pktkit.nat.NatEngine.TO_OUTSIDE, nat.engine().outbound(pkt, port));
        pkt.release();
        NatMapping m = nat.engine().mappingOf(ctx.namespace(), IpProtocol.UDP, HOST, 4000);
        assertNotNull(m);
        ByteBuf r = ask(HOST, pcpPeer(3600, HOST, IpProtocol.UDP, 4000, remote, 3478));
        assertEquals(SUCCESS, result(r));
        assertEquals(m.outsidePort(), r.getUnsignedShort(24 + 18));
        long lifetime = r.getUnsignedInt(4);
        assertTrue(lifetime > 0 && lifetime <= 120, "the session's own lifetime (UDP 2 min), not the 3600 asked: " + lifetime);
        assertEquals(0, nat.engine().expectationCount(), "no reservation for a flow that exists");
    }

    /** An IPv4 UDP datagram with 4 bytes of payload. */
    static ByteBuf udp(int src, int sport, int dst, int dport) {
        ByteBuf pkt = Unpooled.buffer(40);
        Ipv4.writeHeader(pkt, src, dst, IpProtocol.UDP, 64, 12, 1, false);
        pkt.writeShort(sport).writeShort(dport).writeShort(12).writeShort(0).writeInt(0x70696e67);
        Udp.fillChecksumV4(pkt, 20, 12, src, dst);
        return pkt;
    }

    /** An IPv4 TCP SYN without options. */
    static ByteBuf tcpSyn(int src, int sport, int dst, int dport) {
        ByteBuf pkt = Unpooled.buffer(40);
        Ipv4.writeHeader(pkt, src, dst, IpProtocol.TCP, 64, 20, 1, false);
        pkt.writeShort(sport).writeShort(dport).writeInt(1000).writeInt(0).writeShort(0x5002).writeShort(65535)
                .writeShort(0).writeShort(0);
        dev.pktkit.codec.wire.Tcp.fillChecksumV4(pkt, 20, 20, src, dst);
        return pkt;
    }

    /** Outbound through the engine from an inside port; returns the engine's verdict. */
    private int out(int port, ByteBuf pkt) {
        try {
            return nat.engine().outbound(pkt, port);
        } finally {
            pkt.release();
        }
    }

    private int in(ByteBuf pkt) {
        try {
            return nat.engine().inbound(pkt);
        } finally {
            pkt.release();
        }
    }

    /**
     * RFC 6886 §3.3: a host that already sends from the port gets its existing mapping back, opened for inbound,
     * rather than a refusal or a second mapping; deleting the lease closes it again (the mapping itself lives on).
     */
    @Test
    void natPmpMapOfAPortTheHostSendsFromReturnsTheExistingMapping() {
        int remote = Ip4.parse("198.51.100.20");
        int stranger = Ip4.parse("198.51.100.30");
        int port = nat.engine().addPort(ctx.namespace());
        // outside 4000 is taken by a forward, so the dynamic mapping gets another port than the inside one
        nat.addPortForward("lan", IpProtocol.UDP, 4000, "10.72.0.9", 9).syncUninterruptibly();
        assertEquals(dev.pktkit.nat.NatEngine.TO_OUTSIDE, out(port, udp(HOST, 4000, remote, 3478)));
        NatMapping m = nat.engine().mappingOf(ctx.namespace(), IpProtocol.UDP, HOST, 4000);
        assertNotNull(m);
        assertNotEquals(4000, m.outsidePort());
        // address-and-port-dependent filtering: a stranger is filtered before the request
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(udp(stranger, 5555, OUT, m.outsidePort())));

        ByteBuf r = ask(HOST, pmpMap(1, 4000, 0, 600));
        assertEquals(0, r.getUnsignedShort(2), "success");
        assertEquals(4000, r.getUnsignedShort(8));
        assertEquals(m.outsidePort(), r.getUnsignedShort(10), "the existing external port");
        assertEquals(600, r.getInt(12));
        assertTrue(pc.leases().getNow().get(0).opened());
        assertEquals(m, nat.engine().mappingOf(ctx.namespace(), IpProtocol.UDP, HOST, 4000), "the same mapping");
        // now a stranger reaches the host through it
        ByteBuf pkt = udp(stranger, 5555, OUT, m.outsidePort());
        assertEquals(port, nat.engine().inbound(pkt));
        assertEquals(HOST, Ipv4.dst(pkt, 0));
        assertEquals(4000, pkt.getUnsignedShort(22));
        pkt.release();
        // a renewal keeps the port
        r = ask(HOST, pmpMap(1, 4000, 0, 600));
        assertEquals(m.outsidePort(), r.getUnsignedShort(10));

        // delete (lifetime 0): filtered again, the NAT's mapping stays for its sessions
        r = ask(HOST, pmpMap(1, 4000, 0, 0));
        assertEquals(0, r.getUnsignedShort(2));
        assertFalse(nat.engine().isOpened(ctx.namespace(), IpProtocol.UDP, HOST, 4000));
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(udp(Ip4.parse("198.51.100.31"), 5555, OUT, m.outsidePort())));
        assertEquals(m, nat.engine().mappingOf(ctx.namespace(), IpProtocol.UDP, HOST, 4000));
    }

    /**
     * RFC 6887 §11.3: PCP MAP for an inside endpoint with a dynamic mapping returns it; PREFER_FAILURE for another
     * port cannot be honoured; the lease's expiry closes the mapping and the NAT then expires it as usual.
     */
    @Test
    void pcpMapOfAnExistingFlowReturnsItsPortAndOpensIt() {
        int remote = Ip4.parse("198.51.100.20");
        int stranger = Ip4.parse("198.51.100.30");
        int port = nat.engine().addPort(ctx.namespace());
        assertEquals(dev.pktkit.nat.NatEngine.TO_OUTSIDE, out(port, tcpSyn(HOST, 5000, remote, 80)));
        NatMapping m = nat.engine().mappingOf(ctx.namespace(), IpProtocol.TCP, HOST, 5000);
        assertNotNull(m);
        // a TCP SYN from a stranger is filtered before
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(tcpSyn(stranger, 6000, OUT, m.outsidePort())));

        ByteBuf req = pcpMap(300, HOST, (byte) 7, IpProtocol.TCP, 5000, m.outsidePort() + 1, 0);
        req.writeByte(OPT_PREFER_FAILURE).writeByte(0).writeShort(0);
        assertEquals(CANNOT_PROVIDE_EXTERNAL, result(ask(HOST, req)));
        assertFalse(nat.engine().isOpened(ctx.namespace(), IpProtocol.TCP, HOST, 5000));

        ByteBuf r = ask(HOST, pcpMap(300, HOST, (byte) 7, IpProtocol.TCP, 5000, 0, 0));
        assertEquals(SUCCESS, result(r));
        assertEquals(m.outsidePort(), r.getUnsignedShort(24 + 18));
        assertEquals(OUT, r.getInt(24 + 20 + 12));
        ByteBuf syn = tcpSyn(stranger, 6000, OUT, m.outsidePort());
        assertEquals(port, nat.engine().inbound(syn));
        assertEquals(HOST, Ipv4.dst(syn, 0));
        assertEquals(5000, syn.getUnsignedShort(22));
        syn.release();

        // the lease ends on the port-control clock: the mapping is closed again
        clock.addAndGet(301_000_000_000L);
        assertEquals(1, pc.expireLeases().getNow());
        assertFalse(nat.engine().isOpened(ctx.namespace(), IpProtocol.TCP, HOST, 5000));
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(tcpSyn(Ip4.parse("198.51.100.31"), 6000, OUT, m.outsidePort())));
        // and with its sessions gone (transitory TCP, 4 min) the mapping goes too
        nat.engine().tick(nat.engine().now() + 241);
        assertNull(nat.engine().mappingOf(ctx.namespace(), IpProtocol.TCP, HOST, 5000));
    }

    private static final int PEER = Ip4.parse("198.51.100.20");
    private static final int NET = Ip4.parse("203.0.113.0");

    /** How many packets the engine dropped for a reason so far. */
    private long drops(dev.pktkit.nat.NatDropReason r) {
        return nat.engine().counters().drops().getOrDefault(r, 0L);
    }

    /**
     * RFC 6887 §13.3: two FILTER options on a new MAP (one host and port, one /24 any port) are parsed, echoed byte
     * for byte, set on the NAT's forward, and enforced: only matching remotes open sessions, others are dropped
     * and counted as REMOTE_FILTERED.
     */
    @Test
    void pcpFilterIsParsedEchoedAndEnforcedByTheNat() {
        int port = nat.engine().addPort(ctx.namespace());
        ByteBuf req = pcpMap(600, HOST, (byte) 1, IpProtocol.UDP, 9100, 19100, 0);
        filter(req, 128, 3478, PEER);
        filter(req, 96 + 24, 0, NET);
        ByteBuf r = ask(HOST, req);
        assertEquals(SUCCESS, result(r));
        assertEquals(24 + 36 + 2 * 24, r.readableBytes(), "both FILTER options echoed");
        assertEquals(req.slice(24 + 36, 48), r.slice(24 + 36, 48), "echoed as sent");
        assertEquals(19100, r.getUnsignedShort(24 + 18));
        assertEquals(List.of(new dev.pktkit.nat.RemoteFilter(PEER, 32, 3478), new dev.pktkit.nat.RemoteFilter(NET, 24, 0)),
                nat.engine().remoteFilters(ctx.namespace(), IpProtocol.UDP, HOST, 9100));
        assertEquals(2, pc.leases().getNow().stream().filter(l -> l.internalPort() == 9100).findFirst().orElseThrow().filters().size());

        long before = drops(dev.pktkit.nat.NatDropReason.REMOTE_FILTERED);
        ByteBuf ok = udp(PEER, 3478, OUT, 19100);
        assertEquals(port, nat.engine().inbound(ok), "the filtered-in peer reaches the host");
        assertEquals(HOST, Ipv4.dst(ok, 0));
        assertEquals(9100, ok.getUnsignedShort(22));
        ok.release();
        assertEquals(port, in(udp(Ip4.parse("203.0.113.77"), 1234, OUT, 19100)), "any port of the /24");
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(udp(PEER, 3479, OUT, 19100)), "the peer's other port");
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(udp(Ip4.parse("203.0.114.1"), 1234, OUT, 19100)));
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(udp(Ip4.parse("198.51.100.30"), 3478, OUT, 19100)));
        assertEquals(before + 3, drops(dev.pktkit.nat.NatDropReason.REMOTE_FILTERED));
        // the session the allowed peer opened goes on
        assertEquals(port, in(udp(PEER, 3478, OUT, 19100)));

        // deleting the lease removes the forward and its filters with it
        assertEquals(SUCCESS, result(ask(HOST, pcpMap(0, HOST, (byte) 1, IpProtocol.UDP, 9100, 0, 0))));
        assertNull(mappingAt(IpProtocol.UDP, 19100));
        assertTrue(nat.engine().remoteFilters(ctx.namespace(), IpProtocol.UDP, HOST, 9100).isEmpty());
    }

    /**
     * §13.3 on renewal: new filters are added to the mapping's, prefix length 0 removes them all (so "0 then X"
     * replaces), a request that would leave more than the bound (4) fails with EXCESSIVE_REMOTE_PEERS (a long
     * lifetime error) and changes nothing, and a renewal without FILTER keeps them.
     */
    @Test
    void pcpFilterRenewalAddsReplacesAndIsBounded() {
        nat.engine().addPort(ctx.namespace());
        ByteBuf r = ask(HOST, filter(pcpMap(600, HOST, (byte) 1, IpProtocol.TCP, 22, 2222, 0), 128, 0, PEER));
        assertEquals(SUCCESS, result(r));
        ByteBuf renew = pcpMap(600, HOST, (byte) 1, IpProtocol.TCP, 22, 0, 0);
        filter(renew, 128, 0, PEER);                       // a duplicate, kept once
        filter(renew, 128, 0, PEER + 1);
        assertEquals(SUCCESS, result(ask(HOST, renew)));
        assertEquals(2, nat.engine().remoteFilters(ctx.namespace(), IpProtocol.TCP, HOST, 22).size());

        ByteBuf tooMany = pcpMap(600, HOST, (byte) 1, IpProtocol.TCP, 22, 0, 0);
        for (int i = 2; i < 5; i++) {
            filter(tooMany, 128, 0, PEER + i);
        }
        r = ask(HOST, tooMany);
        assertEquals(EXCESSIVE_REMOTE_PEERS, result(r));
        assertEquals(LONG_ERROR_LIFETIME, r.getInt(4));
        assertEquals(2, nat.engine().remoteFilters(ctx.namespace(), IpProtocol.TCP, HOST, 22).size(), "unchanged");
        // two filter options, the first clearing: 0 then X replaces
        ByteBuf replace = pcpMap(600, HOST, (byte) 1, IpProtocol.TCP, 22, 0, 0);
        filter(replace, 0, 0, 0);
        filter(replace, 96 + 16, 0, NET);
        assertEquals(SUCCESS, result(ask(HOST, replace)));
        assertEquals(List.of(new dev.pktkit.nat.RemoteFilter(NET, 16, 0)),
                nat.engine().remoteFilters(ctx.namespace(), IpProtocol.TCP, HOST, 22));
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(tcpSyn(PEER, 6000, OUT, 2222)), "no longer allowed");
        assertNotEquals(dev.pktkit.nat.NatEngine.DROP, in(tcpSyn(Ip4.parse("203.0.200.9"), 6000, OUT, 2222)));
        // a renewal without FILTER keeps them
        assertEquals(SUCCESS, result(ask(HOST, pcpMap(600, HOST, (byte) 1, IpProtocol.TCP, 22, 0, 0))));
        assertEquals(1, nat.engine().remoteFilters(ctx.namespace(), IpProtocol.TCP, HOST, 22).size());
        // prefix length 0 alone: no filter, any remote again
        assertEquals(SUCCESS, result(ask(HOST, filter(pcpMap(600, HOST, (byte) 1, IpProtocol.TCP, 22, 0, 0), 0, 0, 0))));
        assertTrue(nat.engine().remoteFilters(ctx.namespace(), IpProtocol.TCP, HOST, 22).isEmpty());
        assertNotEquals(dev.pktkit.nat.NatEngine.DROP, in(tcpSyn(PEER, 6001, OUT, 2222)));
    }

    /** §13.3's malformed cases, each MALFORMED_OPTION (a long lifetime error) with no mapping made. */
    @Test
    void pcpFilterMalformedCases() {
        List<ByteBuf> bad = new ArrayList<>();
        ByteBuf shortOpt = pcpMap(60, HOST, (byte) 1, IpProtocol.UDP, 9000, 19000, 0);
        shortOpt.writeByte(3).writeByte(0).writeShort(16).writeByte(0).writeByte(128).writeShort(0).writeLong(0)
                .writeInt(0xFFFF);                                   // length 16
        bad.add(shortOpt);
        bad.add(filter(pcpMap(60, HOST, (byte) 1, IpProtocol.UDP, 9000, 19000, 0), 95, 0, PEER));  // < 96 for IPv4
        bad.add(filter(pcpMap(60, HOST, (byte) 1, IpProtocol.UDP, 9000, 19000, 0), 129, 0, PEER)); // > 128
        ByteBuf v6 = pcpMap(60, HOST, (byte) 1, IpProtocol.UDP, 9000, 19000, 0);
        v6.writeByte(3).writeByte(0).writeShort(20).writeByte(0).writeByte(64).writeShort(0)
                .writeLong(0x2001_0db8_0000_0000L).writeLong(1);      // an IPv6 remote peer
        bad.add(v6);
        bad.add(filter(pcpMap(0, HOST, (byte) 1, IpProtocol.UDP, 9000, 0, 0), 128, 0, PEER));       // lifetime 0
        bad.add(filter(pcpPeer(60, HOST, IpProtocol.UDP, 9000, PEER, 3478), 128, 0, PEER));          // on PEER
        for (ByteBuf req : bad) {
            ByteBuf r = ask(HOST, req);
            assertEquals(MALFORMED_OPTION, result(r), () -> io.netty.buffer.ByteBufUtil.hexDump(req));
            assertEquals(LONG_ERROR_LIFETIME, r.getInt(4));
        }
        assertNull(mappingAt(IpProtocol.UDP, 19000));
        assertEquals(0, nat.engine().expectationCount());
        assertTrue(pc.leases().getNow().isEmpty());
    }

    /**
     * FILTER on MAP for a port the host already sends from (an opened dynamic mapping, §11.3): only the filtered
     * remote opens new sessions, while the host's own flow to its server (not in the filter) goes on; the lease's
     * end closes the mapping and takes the filter with it.
     */
    @Test
    void pcpFilterOnAnOpenedMappingKeepsTheHostsOwnFlows() {
        int server = Ip4.parse("198.51.100.40");
        int port = nat.engine().addPort(ctx.namespace());
        assertEquals(dev.pktkit.nat.NatEngine.TO_OUTSIDE, out(port, udp(HOST, 7000, server, 53)));
        NatMapping m = nat.engine().mappingOf(ctx.namespace(), IpProtocol.UDP, HOST, 7000);
        ByteBuf r = ask(HOST, filter(pcpMap(300, HOST, (byte) 5, IpProtocol.UDP, 7000, 0, 0), 128, 0, PEER));
        assertEquals(SUCCESS, result(r));
        assertEquals(m.outsidePort(), r.getUnsignedShort(24 + 18));
        assertTrue(nat.engine().isOpened(ctx.namespace(), IpProtocol.UDP, HOST, 7000));
        assertEquals(port, in(udp(server, 53, OUT, m.outsidePort())), "the host's own session");
        assertEquals(port, in(udp(PEER, 4444, OUT, m.outsidePort())), "the filtered-in peer");
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(udp(Ip4.parse("198.51.100.30"), 4444, OUT, m.outsidePort())));
        assertEquals(1, drops(dev.pktkit.nat.NatDropReason.REMOTE_FILTERED));
        clock.addAndGet(301_000_000_000L);
        assertEquals(1, pc.expireLeases().getNow());
        assertTrue(nat.engine().remoteFilters(ctx.namespace(), IpProtocol.UDP, HOST, 7000).isEmpty());
        // filtered as configured again (APDF): a stranger is FILTERED, not REMOTE_FILTERED
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(udp(Ip4.parse("198.51.100.31"), 4444, OUT, m.outsidePort())));
        assertEquals(1, drops(dev.pktkit.nat.NatDropReason.REMOTE_FILTERED));
    }

    /**
     * A renewal with FILTER after the engine ended the opened mapping on its own (its backstop expiry ran before
     * the lease table's sweep, and the host's session ended too): the stale lease ends (LEASE_EXPIRED) and the
     * request is served as a new MAP (§11.3), a forward with the old and the new filter, answered SUCCESS and
     * counted; nothing is thrown from the packet path.
     */
    @Test
    void pcpFilterRenewalAfterTheEngineEndedTheOpenedMapping() {
        int server = Ip4.parse("198.51.100.40");
        int port = nat.engine().addPort(ctx.namespace());
        assertEquals(dev.pktkit.nat.NatEngine.TO_OUTSIDE, out(port, udp(HOST, 7000, server, 53)));
        assertEquals(SUCCESS, result(ask(HOST, filter(pcpMap(300, HOST, (byte) 5, IpProtocol.UDP, 7000, 0, 0),
                128, 0, PEER))));
        assertTrue(nat.engine().isOpened(ctx.namespace(), IpProtocol.UDP, HOST, 7000));
        // the engine's clock runs past the opened mapping's end and its session's; the lease table's does not
        nat.engine().tick(nat.engine().now() + 100_000);
        assertNull(nat.engine().mappingOf(ctx.namespace(), IpProtocol.UDP, HOST, 7000));
        assertEquals(1, pc.leases().getNow().size(), "the lease table has not swept");
        long ok = pc.counters().get(PortControlCounter.PCP_OK);

        ByteBuf r = ask(HOST, filter(pcpMap(300, HOST, (byte) 5, IpProtocol.UDP, 7000, 0, 0), 128, 0, PEER + 1));
        assertNotNull(r, "answered");
        assertEquals(SUCCESS, result(r));
        assertEquals(ok + 1, pc.counters().get(PortControlCounter.PCP_OK));
        assertEquals(1, pc.counters().get(PortControlCounter.LEASE_EXPIRED), "the stale lease");
        int external = r.getUnsignedShort(24 + 18);
        NatMapping m = mappingAt(IpProtocol.UDP, external);
        assertNotNull(m, "a mapping at the answered port");
        assertEquals(List.of(new dev.pktkit.nat.RemoteFilter(PEER, 32, 0), new dev.pktkit.nat.RemoteFilter(PEER + 1,
                32, 0)), nat.engine().remoteFilters(ctx.namespace(), IpProtocol.UDP, HOST, 7000));
        assertEquals(1, pc.leases().getNow().size());
        assertEquals(external, pc.leases().getNow().get(0).externalPort());
        assertEquals(port, in(udp(PEER + 1, 4444, OUT, external)), "the new filter's peer");
        assertEquals(dev.pktkit.nat.NatEngine.DROP, in(udp(Ip4.parse("198.51.100.30"), 4444, OUT, external)));
    }

    /** Every exchange of the tests above, decoded by tshark's NAT-PMP and PCP dissectors. */
    @Test
    void tsharkDecodesEveryMessage() throws Exception {
        Tools.assumeCommand("tshark", "tshark");
        natPmpExternalAddressAndMapRenewDelete();
        pcpMapCreateRefreshNonceDelete();
        pcpMapPreferFailureAndThirdParty();
        pcpPeerReservesTheMappingForTheRemote();
        pcpFilterIsParsedEchoedAndEnforcedByTheNat();
        Path pcap = Files.createTempFile("pcp", ".pcap");
        try {
            int packets = 0;
            try (FileChannel fc = FileChannel.open(pcap, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 PcapWriter w = new PcapWriter(fc, LinkType.RAW, 65535)) {
                long t = 1_700_000_000_000_000_000L;
                for (Exchange x : exchanges) {
                    int src = x.src();
                    writeUdp(w, t++, src, 40000, GW, 5351, x.req());
                    packets++;
                    if (x.resp() != null) {
                        writeUdp(w, t++, GW, 5351, src, 40000, x.resp());
                        packets++;
                    }
                }
            }
            Process p = new ProcessBuilder("tshark", "-n", "-r", pcap.toString(), "-T", "fields", "-E", "separator=|",
                    "-e", "nat-pmp.opcode", "-e", "portcontrol.opcode", "-e", "portcontrol.result_code",
                    "-e", "portcontrol.map.rsp_assigned_external_port", "-e", "portcontrol.peer.remote_peer_port",
                    "-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "portcontrol.option.filter.prefix_length",
                    "-e", "portcontrol.option.filter.remote_peer_port", "-e", "portcontrol.option.filter.remote_peer_ip").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            List<String> lines = out.lines().filter(l -> !l.startsWith("Running as")).toList();
            assertEquals(packets, lines.size(), out);
            for (String l : lines) {
                String[] f = l.split("\\|", -1);
                assertTrue(!f[0].isEmpty() || !f[1].isEmpty(), "decoded as NAT-PMP or PCP: " + l);
                assertTrue(f[5].isEmpty(), "malformed: " + l);
            }
            assertTrue(out.contains("|18080|"), "tshark read the assigned external port: " + out);
            assertTrue(out.contains("|3478|"), "tshark read the remote peer port: " + out);
            // the FILTER request and its echo: two options each, as tshark reads them
            long filtered = lines.stream().filter(l -> l.endsWith("|128,120|3478,0|::ffff:198.51.100.20,::ffff:203.0.113.0")).count();
            assertEquals(2, filtered, "tshark read both FILTER options of the request and of the response: " + out);
        } finally {
            Files.deleteIfExists(pcap);
        }
    }

    private static void writeUdp(PcapWriter w, long t, int src, int sport, int dst, int dport, ByteBuf payload)
            throws IOException {
        int n = payload.readableBytes();
        ByteBuf pkt = Unpooled.buffer(28 + n);
        try {
            Ipv4.writeHeader(pkt, src, dst, IpProtocol.UDP, 64, 8 + n, 1, false);
            int u = pkt.writerIndex();
            pkt.writeShort(sport).writeShort(dport).writeShort(8 + n).writeShort(0);
            pkt.writeBytes(payload, payload.readerIndex(), n);
            Udp.fillChecksumV4(pkt, u, 8 + n, src, dst);
            w.writePacket(0, t, CaptureDirection.UNKNOWN, pkt);
        } finally {
            pkt.release();
        }
    }
}

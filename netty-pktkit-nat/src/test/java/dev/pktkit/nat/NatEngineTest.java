package dev.pktkit.nat;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.pktkit.nat.Packets.*;
import static org.junit.jupiter.api.Assertions.*;

class NatEngineTest {
    static final String OUT = "203.0.113.1";
    static final String REMOTE = "198.51.100.7";
    private final List<ByteBuf> held = new ArrayList<>();

    private ByteBuf hold(ByteBuf b) {
        held.add(b);
        return b;
    }

    @AfterEach
    void release() {
        held.forEach(ByteBuf::release);
    }

    static NatEngine engine(NatConfig.Builder b) {
        return new NatEngine(b.build());
    }

    static NatConfig.Builder cfg() {
        return NatConfig.builder().outsideAddresses(OUT).insideAddress("10.0.0.1");
    }

    @Test
    void udpOutboundAndReplyWithPortPreservation() {
        NatEngine e = engine(cfg());
        int port = e.addPort(e.openNamespace());
        ByteBuf p = hold(udp("10.0.0.2", 40000, REMOTE, 53, 30));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p, port));
        assertEquals(ip(OUT), src(p));
        assertEquals(40000, sport(p));
        assertEquals(ip(REMOTE), dst(p));
        assertTrue(checksumsOk(p));
        ByteBuf r = hold(udp(REMOTE, 53, OUT, 40000, 10));
        assertEquals(port, e.inbound(r));
        assertEquals(ip("10.0.0.2"), dst(r));
        assertEquals(40000, dport(r));
        assertTrue(checksumsOk(r));
        assertEquals(1, e.mappingCount());
        assertEquals(1, e.counters().outbound());
        assertEquals(1, e.counters().inbound());
    }

    @Test
    void endpointIndependentMappingAndPortConflictKeepsParity() {
        NatEngine e = engine(cfg());
        int a = e.addPort(e.openNamespace());
        int b = e.addPort(e.openNamespace()); // another tenant with the same inside address
        ByteBuf p1 = hold(udp("10.0.0.2", 40001, REMOTE, 1000, 0));
        ByteBuf p2 = hold(udp("10.0.0.2", 40001, "192.0.2.9", 2000, 0));
        ByteBuf p3 = hold(udp("10.0.0.2", 40001, REMOTE, 1000, 0));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p1, a));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p2, a));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p3, b));
        assertEquals(40001, sport(p1));
        assertEquals(40001, sport(p2), "same outside port for every remote (EIM)");
        assertNotEquals(40001, sport(p3));
        assertEquals(1, sport(p3) & 1, "parity kept");
        assertTrue(sport(p3) >= 1024);
        ByteBuf r = hold(udp(REMOTE, 1000, OUT, sport(p3), 0));
        assertEquals(b, e.inbound(r), "the other namespace's reply goes to its own port");
    }

    @Test
    void filteringModes() {
        for (Filtering f : Filtering.values()) {
            NatEngine e = engine(cfg().filtering(f));
            int port = e.addPort(e.openNamespace());
            assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(udp("10.0.0.2", 5000, REMOTE, 3478, 0)), port));
            int samePortOther = e.inbound(hold(udp(REMOTE, 3479, OUT, 5000, 0)));
            int otherAddr = e.inbound(hold(udp("192.0.2.50", 3478, OUT, 5000, 0)));
            switch (f) {
                case ENDPOINT_INDEPENDENT -> {
                    assertEquals(port, samePortOther);
                    assertEquals(port, otherAddr);
                }
                case ADDRESS_DEPENDENT -> {
                    assertEquals(port, samePortOther);
                    assertEquals(NatEngine.DROP, otherAddr);
                }
                case ADDRESS_AND_PORT_DEPENDENT -> {
                    assertEquals(NatEngine.DROP, samePortOther);
                    assertEquals(NatEngine.DROP, otherAddr);
                    assertEquals(2, e.counters().dropped(NatDropReason.FILTERED));
                }
            }
            assertEquals(NatEngine.DROP, e.inbound(hold(udp(REMOTE, 3478, OUT, 5002, 0))));
            assertEquals(1, e.counters().dropped(NatDropReason.NO_MAPPING));
        }
    }

    @Test
    void tcpStateAndTimeouts() {
        List<NatMapping> removed = new ArrayList<>();
        List<NatMapping> created = new ArrayList<>();
        NatEngine e = engine(cfg().listener(new NatListener() {
            @Override
            public void mappingCreated(NatMapping m) {
                created.add(m);
            }

            @Override
            public void mappingRemoved(NatMapping m) {
                removed.add(m);
            }
        }));
        int ns = e.openNamespace();
        int port = e.addPort(ns);
        FlowKey k = new FlowKey(ns, IpProtocol.TCP, ip("10.0.0.2"), 33000, ip(REMOTE), 80);
        ByteBuf syn = hold(tcp("10.0.0.2", 33000, REMOTE, 80, Tcp.SYN));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(syn, port));
        assertTrue(checksumsOk(syn));
        assertEquals(240, e.secondsLeft(k), "transitory after SYN");
        assertFalse(e.isEstablished(k));
        ByteBuf synAck = hold(tcp(REMOTE, 80, OUT, 33000, Tcp.SYN | Tcp.ACK));
        assertEquals(port, e.inbound(synAck));
        assertTrue(checksumsOk(synAck));
        assertTrue(e.isEstablished(k));
        assertEquals(7440, e.secondsLeft(k), "2 h 4 min once established");
        // unsolicited non-SYN from another remote port: no session
        assertEquals(NatEngine.DROP, e.inbound(hold(tcp(REMOTE, 81, OUT, 33000, Tcp.ACK))));
        assertEquals(1, e.counters().dropped(NatDropReason.TCP_NO_SESSION));
        e.tick(7000);
        assertEquals(1, e.mappingCount(), "established survives 7000 s");
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(tcp("10.0.0.2", 33000, REMOTE, 80, Tcp.FIN | Tcp.ACK)),
                port));
        assertEquals(port, e.inbound(hold(tcp(REMOTE, 80, OUT, 33000, Tcp.FIN | Tcp.ACK))));
        assertFalse(e.isEstablished(k));
        assertEquals(240, e.secondsLeft(k), "transitory after FINs both ways");
        e.tick(7239);
        assertEquals(1, e.mappingCount());
        e.tick(7240);
        assertEquals(0, e.mappingCount());
        assertEquals(1, created.size());
        assertEquals(List.of(created.get(0)), removed);
        assertEquals(ip(OUT), removed.get(0).outsideAddress());
        assertEquals(1, e.counters().mappingsExpired());
    }

    @Test
    void tcpRstMakesTransitory() {
        NatEngine e = engine(cfg());
        int ns = e.openNamespace();
        int port = e.addPort(ns);
        FlowKey k = new FlowKey(ns, IpProtocol.TCP, ip("10.0.0.2"), 33001, ip(REMOTE), 80);
        e.outbound(hold(tcp("10.0.0.2", 33001, REMOTE, 80, Tcp.SYN)), port);
        e.inbound(hold(tcp(REMOTE, 80, OUT, 33001, Tcp.SYN | Tcp.ACK)));
        assertTrue(e.isEstablished(k));
        e.inbound(hold(tcp(REMOTE, 80, OUT, 33001, Tcp.RST)));
        assertEquals(240, e.secondsLeft(k));
    }

    @Test
    void udpTimeoutTwoMinutesAndRefresh() {
        NatEngine e = engine(cfg());
        int port = e.addPort(e.openNamespace());
        e.outbound(hold(udp("10.0.0.2", 6000, REMOTE, 53, 0)), port);
        e.tick(100);
        e.inbound(hold(udp(REMOTE, 53, OUT, 6000, 0))); // inbound refreshes (RFC 4787 REQ-6 allows it)
        e.tick(219);
        assertEquals(1, e.mappingCount());
        e.tick(220);
        assertEquals(0, e.mappingCount());
        assertEquals(0, e.sessionCount());
    }

    @Test
    void icmpEchoIdentifierMapping() {
        NatEngine e = engine(cfg());
        int a = e.addPort(e.openNamespace());
        int b = e.addPort(e.openNamespace());
        ByteBuf p1 = hold(echo("10.0.0.2", REMOTE, Icmpv4.TYPE_ECHO_REQUEST, 77, 1));
        ByteBuf p2 = hold(echo("10.0.0.2", REMOTE, Icmpv4.TYPE_ECHO_REQUEST, 77, 1));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p1, a));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(p2, b));
        assertEquals(77, icmpId(p1));
        assertNotEquals(77, icmpId(p2));
        assertTrue(checksumsOk(p1));
        assertTrue(checksumsOk(p2));
        ByteBuf r2 = hold(echo(REMOTE, OUT, Icmpv4.TYPE_ECHO_REPLY, icmpId(p2), 1));
        assertEquals(b, e.inbound(r2));
        assertEquals(77, icmpId(r2));
        assertEquals(ip("10.0.0.2"), dst(r2));
        assertTrue(checksumsOk(r2));
        // a reply from a host never pinged is filtered
        assertEquals(NatEngine.DROP, e.inbound(hold(echo("192.0.2.1", OUT, Icmpv4.TYPE_ECHO_REPLY, 77, 1))));
    }

    @Test
    void inboundIcmpErrorTranslatedBack() {
        NatEngine e = engine(cfg());
        int port = e.addPort(e.openNamespace());
        ByteBuf out = hold(udp("10.0.0.2", 40000, REMOTE, 9, 12));
        e.outbound(out, port);
        ByteBuf err = hold(icmpError(REMOTE, Icmpv4.TYPE_DESTINATION_UNREACHABLE, Icmpv4.CODE_PORT_UNREACHABLE, out));
        assertEquals(port, e.inbound(err));
        assertEquals(ip("10.0.0.2"), dst(err));
        assertTrue(checksumsOk(err));
        assertTrue(embeddedOk(err));
        int emb = l4(err) + 8;
        assertEquals(ip("10.0.0.2"), Ipv4.src(err, emb));
        assertEquals(40000, err.getUnsignedShort(emb + 20));
        // a router's time exceeded on the way (another source) works too; about a flow never sent: dropped
        ByteBuf stranger = hold(udp(OUT, 40000, "192.0.2.99", 9, 0));
        ByteBuf err2 = hold(icmpError("192.0.2.99", Icmpv4.TYPE_DESTINATION_UNREACHABLE,
                Icmpv4.CODE_PORT_UNREACHABLE, stranger));
        assertEquals(NatEngine.DROP, e.inbound(err2));
        assertEquals(1, e.counters().dropped(NatDropReason.ICMP_NO_SESSION));
    }

    @Test
    void outboundIcmpErrorAboutForwardedPacket() {
        NatEngine e = engine(cfg());
        int ns = e.openNamespace();
        int port = e.addPort(ns);
        e.addStaticMapping(ns, IpProtocol.UDP, ip("10.0.0.2"), 5353, 0, 5353, true);
        ByteBuf in = hold(udp(REMOTE, 1111, OUT, 5353, 4));
        assertEquals(port, e.inbound(in));
        ByteBuf err = hold(icmpError("10.0.0.2", Icmpv4.TYPE_DESTINATION_UNREACHABLE, Icmpv4.CODE_PORT_UNREACHABLE,
                in));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(err, port));
        assertEquals(ip(OUT), src(err));
        assertEquals(ip(REMOTE), dst(err));
        int emb = l4(err) + 8;
        assertEquals(ip(OUT), Ipv4.dst(err, emb));
        assertEquals(5353, err.getUnsignedShort(emb + 22));
        assertTrue(checksumsOk(err));
        assertTrue(embeddedOk(err));
    }

    @Test
    void hairpinning() {
        NatEngine e = engine(cfg());
        int ns = e.openNamespace();
        int pa = e.addPort(ns);
        int pb = e.addPort(ns);
        e.addStaticMapping(ns, IpProtocol.UDP, ip("10.0.0.3"), 7000, 0, 7000, true);
        // B is learned on port pb by one packet of its own
        e.outbound(hold(udp("10.0.0.3", 7000, REMOTE, 1, 0)), pb);
        ByteBuf p = hold(udp("10.0.0.2", 4000, OUT, 7000, 5));
        assertEquals(pb, e.outbound(p, pa));
        assertEquals(ip(OUT), src(p), "B sees A's outside endpoint (RFC 4787 REQ-9)");
        assertEquals(4000, sport(p));
        assertEquals(ip("10.0.0.3"), dst(p));
        assertTrue(checksumsOk(p));
        assertEquals(1, e.counters().hairpinned());
        NatEngine off = engine(cfg().hairpinning(false));
        int po = off.addPort(off.openNamespace());
        assertEquals(NatEngine.DROP, off.outbound(hold(udp("10.0.0.2", 4000, OUT, 7000, 5)), po));
        assertEquals(1, off.counters().dropped(NatDropReason.HAIRPIN_REFUSED));
    }

    @Test
    void boundsRefuseNewFlowsAndKeepOldOnes() {
        NatEngine e = engine(cfg().maxMappings(4).maxMappingsPerNamespace(3).maxMappingsPerHost(2));
        int ns = e.openNamespace();
        int p = e.addPort(ns);
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(udp("10.0.0.2", 1, REMOTE, 1, 0)), p));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(udp("10.0.0.2", 2, REMOTE, 1, 0)), p));
        assertEquals(NatEngine.DROP, e.outbound(hold(udp("10.0.0.2", 3, REMOTE, 1, 0)), p));
        assertEquals(1, e.counters().dropped(NatDropReason.HOST_FULL));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(udp("10.0.0.3", 1, REMOTE, 1, 0)), p));
        assertEquals(NatEngine.DROP, e.outbound(hold(udp("10.0.0.4", 1, REMOTE, 1, 0)), p));
        assertEquals(1, e.counters().dropped(NatDropReason.NAMESPACE_FULL));
        int p2 = e.addPort(e.openNamespace());
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(udp("10.0.0.2", 1, REMOTE, 1, 0)), p2));
        assertEquals(NatEngine.DROP, e.outbound(hold(udp("10.0.0.2", 2, REMOTE, 1, 0)), p2));
        assertEquals(1, e.counters().dropped(NatDropReason.MAPPINGS_FULL));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(udp("10.0.0.2", 1, REMOTE, 1, 0)), p), "old flows work");
        assertEquals(4, e.mappingCount());
    }

    @Test
    void severalOutsideAddressesArePairedAndPortRangeExhausts() {
        NatEngine e = engine(NatConfig.builder().outsideAddresses("203.0.113.1", "203.0.113.2", "203.0.113.3")
                .portRange(2000, 2003).portPreservation(false));
        int p = e.addPort(e.openNamespace());
        int first = -1;
        java.util.Set<Integer> ports = new java.util.HashSet<>();
        for (int i = 0; i < 4; i++) {
            ByteBuf b = hold(udp("10.0.0.2", 100 + i, REMOTE, 1, 0));
            assertEquals(NatEngine.TO_OUTSIDE, e.outbound(b, p));
            if (first == -1) {
                first = src(b);
            }
            assertEquals(first, src(b), "one outside address per inside host (paired pooling)");
            assertTrue(sport(b) >= 2000 && sport(b) <= 2003);
            ports.add(sport(b));
        }
        assertEquals(4, ports.size());
        assertEquals(NatEngine.DROP, e.outbound(hold(udp("10.0.0.2", 200, REMOTE, 1, 0)), p));
        assertEquals(1, e.counters().dropped(NatDropReason.PORTS_EXHAUSTED));
        java.util.Set<Integer> addrs = new java.util.HashSet<>(java.util.Set.of(first));
        for (int h = 3; h < 40; h++) {
            ByteBuf b = hold(udp("10.0.0." + h, 100, REMOTE, 1, 0));
            if (e.outbound(b, p) == NatEngine.TO_OUTSIDE) {
                addrs.add(src(b));
            }
        }
        assertEquals(3, addrs.size(), "hosts spread over the outside addresses");
    }

    @Test
    void partialChecksumStaysPartial() {
        NatEngine e = engine(cfg());
        int p = e.addPort(e.openNamespace());
        ByteBuf b = hold(tcp(ip("10.0.0.2"), 41000, ip(REMOTE), 443, Tcp.SYN, 100));
        int l4 = l4(b);
        int tcpLen = 120;
        // as a sender with checksum offload leaves it: the folded pseudo-header sum, not complemented
        b.setShort(l4 + 16, Checksums.fold(Checksums.pseudoHeaderV4(ip("10.0.0.2"), ip(REMOTE), 6, tcpLen)));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(b, p, true));
        assertEquals(41000, sport(b));
        assertEquals(Checksums.fold(Checksums.pseudoHeaderV4(ip(OUT), ip(REMOTE), 6, tcpLen)),
                b.getUnsignedShort(l4 + 16), "still the pseudo-header sum, for the new addresses");
        // completing it as a NIC would gives a valid packet
        b.setShort(l4 + 16, Checksums.finish(Checksums.partial(b, l4, tcpLen, 0)));
        assertTrue(checksumsOk(b));
    }

    @Test
    void expectationAdmitsOneRelatedFlowOnce() {
        NatEngine e = engine(cfg().maxExpectations(3, 2));
        int ns = e.openNamespace();
        int p = e.addPort(ns);
        ByteBuf ctl = hold(tcp("10.0.0.2", 50000, REMOTE, 21, Tcp.SYN));
        e.outbound(ctl, p);
        FlowKey master = new FlowKey(ns, IpProtocol.TCP, ip("10.0.0.2"), 50000, ip(REMOTE), 21);
        ExpectedFlow f = e.expect(new Expectation(master, IpProtocol.TCP, ip("10.0.0.2"), 50001, ip(REMOTE), 0, 0,
                Duration.ofSeconds(30)));
        assertNotNull(f);
        assertEquals(ip(OUT), f.outsideAddress());
        assertEquals(50001, f.outsidePort(), "port preserved");
        assertEquals(1, e.expectationCount());
        // someone else first: filtered
        assertEquals(NatEngine.DROP, e.inbound(hold(tcp("192.0.2.66", 20, OUT, 50001, Tcp.SYN))));
        ByteBuf data = hold(tcp(REMOTE, 20, OUT, 50001, Tcp.SYN));
        assertEquals(p, e.inbound(data));
        assertEquals(ip("10.0.0.2"), dst(data));
        assertEquals(50001, dport(data));
        assertTrue(checksumsOk(data));
        assertFalse(f.isPending());
        assertTrue(f.isMatched());
        assertEquals(0, e.expectationCount());
        assertEquals(1, e.counters().expectationsMatched());
        // the admitted session goes on; a second remote port from the same host is not admitted (one shot)
        assertEquals(p, e.inbound(hold(tcp(REMOTE, 20, OUT, 50001, Tcp.ACK))));
        assertEquals(NatEngine.DROP, e.inbound(hold(tcp(REMOTE, 2020, OUT, 50001, Tcp.SYN))));
        // bounds: per master 2, total 3
        Expectation x = new Expectation(master, IpProtocol.UDP, ip("10.0.0.2"), 6000, ip(REMOTE), 0, 0,
                Duration.ofSeconds(30));
        assertNotNull(e.expect(x));
        assertNotNull(e.expect(new Expectation(master, IpProtocol.UDP, ip("10.0.0.2"), 6002, 0, 0, 0,
                Duration.ofSeconds(30))));
        assertNull(e.expect(new Expectation(master, IpProtocol.UDP, ip("10.0.0.2"), 6004, 0, 0, 0,
                Duration.ofSeconds(30))));
        FlowKey other = new FlowKey(ns, IpProtocol.UDP, ip("10.0.0.3"), 1, ip(REMOTE), 1);
        ExpectedFlow third = e.expect(new Expectation(other, IpProtocol.UDP, ip("10.0.0.3"), 7000, 0, 0, 7777,
                Duration.ofSeconds(10)));
        assertNotNull(third);
        assertEquals(7777, third.outsidePort(), "requested outside port");
        assertNull(e.expect(new Expectation(other, IpProtocol.UDP, ip("10.0.0.3"), 7002, 0, 0, 0,
                Duration.ofSeconds(10))));
        assertEquals(2, e.counters().expectationsRefused());
        int before = e.mappingCount();
        e.tick(10);
        assertFalse(third.isPending());
        assertEquals(before - 1, e.mappingCount(), "the expired expectation's mapping went with it");
        assertEquals(NatEngine.DROP, e.inbound(hold(udp(REMOTE, 1, OUT, 7777, 0))));
    }

    @Test
    void expectationCancel() {
        NatEngine e = engine(cfg());
        int ns = e.openNamespace();
        e.addPort(ns);
        FlowKey master = new FlowKey(ns, IpProtocol.UDP, ip("10.0.0.2"), 69, ip(REMOTE), 69);
        ExpectedFlow f = e.expect(new Expectation(master, IpProtocol.UDP, ip("10.0.0.2"), 3000, ip(REMOTE), 0, 0,
                Duration.ofSeconds(5)));
        assertEquals(1, e.mappingCount());
        f.cancel();
        f.cancel();
        assertEquals(0, e.mappingCount());
        assertEquals(NatEngine.DROP, e.inbound(hold(udp(REMOTE, 1234, OUT, 3000, 0))));
    }

    @Test
    void portForwardAddedAndRemovedAtRunTime() {
        NatEngine e = engine(cfg());
        int ns = e.openNamespace();
        int p = e.addPort(ns);
        NatMapping m = e.addStaticMapping(ns, IpProtocol.TCP, ip("10.0.0.5"), 80, 0, 8080, true);
        assertTrue(m.permanent());
        ByteBuf syn = hold(tcp(REMOTE, 5555, OUT, 8080, Tcp.SYN));
        assertEquals(p, e.inbound(syn));
        assertEquals(ip("10.0.0.5"), dst(syn));
        assertEquals(80, dport(syn));
        assertTrue(checksumsOk(syn));
        ByteBuf synAck = hold(tcp("10.0.0.5", 80, REMOTE, 5555, Tcp.SYN | Tcp.ACK));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(synAck, p));
        assertEquals(8080, sport(synAck));
        e.tick(1_000_000);
        assertEquals(1, e.mappingCount(), "permanent");
        assertThrows(IllegalStateException.class,
                () -> e.addStaticMapping(ns, IpProtocol.TCP, ip("10.0.0.6"), 80, 0, 8080, true));
        assertTrue(e.removeStaticMapping(IpProtocol.TCP, 0, 8080));
        assertFalse(e.removeStaticMapping(IpProtocol.TCP, 0, 8080));
        assertEquals(NatEngine.DROP, e.inbound(hold(tcp(REMOTE, 5555, OUT, 8080, Tcp.SYN))));
        assertEquals(0, e.mappingCount());
        // a static mapping without "open" follows the filtering
        e.addStaticMapping(ns, IpProtocol.UDP, ip("10.0.0.5"), 5060, 0, 15060, false);
        assertEquals(NatEngine.DROP, e.inbound(hold(udp(REMOTE, 5060, OUT, 15060, 0))));
        ByteBuf o = hold(udp("10.0.0.5", 5060, REMOTE, 5060, 0));
        e.outbound(o, p);
        assertEquals(15060, sport(o));
        assertEquals(p, e.inbound(hold(udp(REMOTE, 5060, OUT, 15060, 0))));
    }

    @Test
    void otherProtocolsByAddressOnlyWhereConfigured() {
        NatEngine e = engine(NatConfig.builder().outsideAddresses(OUT, "203.0.113.9"));
        int ns = e.openNamespace();
        int p = e.addPort(ns);
        ByteBuf gre = hold(raw("10.0.0.2", REMOTE, IpProtocol.GRE));
        assertEquals(NatEngine.DROP, e.outbound(gre, p));
        assertEquals(1, e.counters().dropped(NatDropReason.UNSUPPORTED_PROTOCOL));
        e.addAddressMapping(ns, ip("10.0.0.2"), ip("203.0.113.9"));
        ByteBuf gre2 = hold(raw("10.0.0.2", REMOTE, IpProtocol.GRE));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(gre2, p));
        assertEquals(ip("203.0.113.9"), src(gre2));
        assertTrue(Ipv4.verifyChecksum(gre2, gre2.readerIndex()));
        ByteBuf back = hold(raw(REMOTE, "203.0.113.9", IpProtocol.GRE));
        assertEquals(p, e.inbound(back));
        assertEquals(ip("10.0.0.2"), dst(back));
        assertTrue(e.removeAddressMapping(ip("203.0.113.9")));
        assertEquals(NatEngine.DROP, e.inbound(hold(raw(REMOTE, "203.0.113.9", IpProtocol.GRE))));
    }

    static ByteBuf raw(String src, String dst, int proto) {
        ByteBuf b = Unpooled.buffer(40);
        Ipv4.writeHeader(b, ip(src), ip(dst), proto, 64, 8, 3, false);
        b.writeLong(0x0000_0800_0000_0000L);
        return b;
    }

    static ByteBuf v6(String src, String dst) {
        ByteBuf b = Unpooled.buffer(48);
        Ipv6.writeHeader(b, 0, 0, 8, IpProtocol.IPV6_NONXT, 64, dev.pktkit.codec.wire.Ip6.parseHi(src),
                dev.pktkit.codec.wire.Ip6.parseLo(src), dev.pktkit.codec.wire.Ip6.parseHi(dst),
                dev.pktkit.codec.wire.Ip6.parseLo(dst));
        b.writeLong(0);
        return b;
    }

    @Test
    void ipv6DroppedOrRouted() {
        NatEngine drop = engine(cfg());
        int p = drop.addPort(drop.openNamespace());
        assertEquals(NatEngine.DROP, drop.outbound(hold(v6("fd00::2", "2001:db8::1")), p));
        assertEquals(NatEngine.DROP, drop.inbound(hold(v6("2001:db8::1", "fd00::2"))));
        assertEquals(2, drop.counters().dropped(NatDropReason.IPV6_DROPPED));
        NatEngine route = engine(cfg().ipv6Policy(Ipv6Policy.ROUTE));
        int a = route.addPort(route.openNamespace());
        int b = route.addPort(route.openNamespace());
        ByteBuf o = hold(v6("fd00::2", "2001:db8::1"));
        ByteBuf copy = hold(o.copy());
        assertEquals(NatEngine.TO_OUTSIDE, route.outbound(o, b));
        assertEquals(copy, o, "unchanged");
        assertEquals(b, route.inbound(hold(v6("2001:db8::1", "fd00::2"))), "to the port that sent from it");
        assertEquals(NatEngine.DROP, route.inbound(hold(v6("2001:db8::1", "fd00::99"))));
        assertTrue(a != b);
    }

    @Test
    void malformedAndFragmentsDroppedAndCounted() {
        NatEngine e = engine(cfg());
        int p = e.addPort(e.openNamespace());
        ByteBuf good = hold(udp("10.0.0.2", 1, REMOTE, 2, 8));
        for (int len = 0; len < good.readableBytes(); len++) {
            ByteBuf cut = hold(good.copy(0, len));
            assertEquals(NatEngine.DROP, e.outbound(cut, p));
            ByteBuf cut2 = hold(good.copy(0, len));
            assertEquals(NatEngine.DROP, e.inbound(cut2));
        }
        ByteBuf badCk = hold(udp("10.0.0.2", 1, REMOTE, 2, 8));
        badCk.setByte(10, badCk.getByte(10) ^ 1);
        assertEquals(NatEngine.DROP, e.outbound(badCk, p));
        ByteBuf frag = hold(udp("10.0.0.2", 1, REMOTE, 2, 8));
        frag.setShort(6, Ipv4.FLAG_MF);
        Ipv4.fillChecksum(frag, 0);
        assertEquals(NatEngine.DROP, e.outbound(frag, p));
        assertEquals(1, e.counters().dropped(NatDropReason.FRAGMENT));
        assertEquals(NatEngine.DROP, e.outbound(hold(udp("127.0.0.1", 1, REMOTE, 2, 0)), p));
        assertEquals(NatEngine.DROP, e.outbound(hold(udp("10.0.0.2", 1, "224.0.0.5", 2, 0)), p));
        assertEquals(0, e.mappingCount());
        assertTrue(e.counters().dropped(NatDropReason.MALFORMED) > 50);
    }

    @Test
    void pingToTheInsideAddressIsAnswered() {
        NatEngine e = engine(cfg());
        int p = e.addPort(e.openNamespace());
        ByteBuf ping = hold(echo("10.0.0.2", "10.0.0.1", Icmpv4.TYPE_ECHO_REQUEST, 5, 9));
        assertEquals(p, e.outbound(ping, p));
        assertEquals(ip("10.0.0.2"), dst(ping));
        assertEquals(ip("10.0.0.1"), src(ping));
        assertEquals(Icmpv4.TYPE_ECHO_REPLY, ping.getUnsignedByte(l4(ping)));
        assertTrue(checksumsOk(ping));
        assertEquals(NatEngine.DROP, e.outbound(hold(udp("10.0.0.2", 1, "10.0.0.1", 2, 0)), p));
        assertEquals(1, e.counters().dropped(NatDropReason.LOCAL));
    }

    @Test
    void namespaceCloseRemovesItsMappings() {
        NatEngine e = engine(cfg());
        int ns = e.openNamespace();
        int p = e.addPort(ns);
        e.outbound(hold(udp("10.0.0.2", 1, REMOTE, 2, 0)), p);
        e.addStaticMapping(ns, IpProtocol.TCP, ip("10.0.0.2"), 22, 0, 2222, true);
        assertEquals(2, e.mappingCount());
        e.removePort(p);
        e.closeNamespace(ns);
        assertEquals(0, e.mappingCount());
        assertEquals(0, e.sessionCount());
    }

    @Test
    void manyMappingsChurnKeepsIndexConsistent() {
        NatEngine e = engine(cfg().maxMappings(1 << 12).maxMappingsPerHost(1 << 12).maxMappingsPerNamespace(1 << 12));
        int p = e.addPort(e.openNamespace());
        java.util.Random rnd = new java.util.Random(1);
        int t = 0;
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < 2000; i++) {
                int sport = 1024 + rnd.nextInt(60000);
                ByteBuf b = hold(udp(ip("10.0.0.2") + rnd.nextInt(3), sport, ip(REMOTE), 53, 0, false));
                int v = e.outbound(b, p);
                if (v == NatEngine.TO_OUTSIDE) {
                    ByteBuf r = hold(udp(ip(REMOTE), 53, src(b), sport(b), 0, false));
                    assertEquals(p, e.inbound(r));
                }
            }
            t += 60;
            e.tick(t);
            assertEquals(e.mappings().size(), e.mappingCount());
            assertEquals(e.mappingCount(), e.sessionCount());
            for (NatMapping m : e.mappings()) {
                assertEquals(m, e.mappingAt(m.protocol(), m.outsideAddress(), m.outsidePort()));
                assertEquals(m, e.mappingOf(m.namespace(), m.protocol(), m.insideAddress(), m.insidePort()));
            }
            held.forEach(ByteBuf::release);
            held.clear();
        }
        e.tick(t + 1000);
        assertEquals(0, e.mappingCount());
    }

    /**
     * Expiry walks the session table with a cursor: each tick visits at most {@code expiryScanPerTick} slots, and a
     * due session is gone within ceil(maxSessions / expiryScanPerTick) ticks of being due.
     */
    @Test
    void expiryWorkPerTickIsBoundedAndExpiryHappensWithinTheBound() {
        int budget = 64;
        NatEngine e = engine(cfg().maxMappings(1000).maxSessions(1000).expiryScanPerTick(budget));
        int port = e.addPort(e.openNamespace());
        e.tick(0);
        for (int k = 0; k < 1000; k++) {
            assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(udp("10.0.0.2", 2000 + k, REMOTE, 53, 0)), port));
        }
        assertEquals(1000, e.sessionCount());
        // not due: ticks visit at most the budget and remove nothing
        for (int t = 1; t < 120; t++) {
            long before = e.expiryVisits();
            e.tick(t);
            assertEquals(budget, e.expiryVisits() - before, "slots visited per tick");
            assertEquals(1000, e.sessionCount());
        }
        // due at 120 (UDP 2 min): gone within ceil(1000 / 64) = 16 ticks, each still bounded
        int bound = (1000 + budget - 1) / budget;
        int t = 120;
        int prev = e.sessionCount();
        while (e.sessionCount() > 0) {
            long before = e.expiryVisits();
            e.tick(t++);
            assertTrue(e.expiryVisits() - before <= budget);
            assertTrue(prev - e.sessionCount() <= budget, "removals per tick bounded by the slots visited");
            prev = e.sessionCount();
            assertTrue(t - 120 <= bound, "expired within " + bound + " ticks");
        }
        assertEquals(0, e.mappingCount());
        // a full-table budget sweeps everything in one tick (the old behaviour)
        NatEngine w = engine(cfg().maxMappings(100).maxSessions(100).expiryScanPerTick(100));
        int wp = w.addPort(w.openNamespace());
        w.tick(0);
        for (int k = 0; k < 100; k++) {
            w.outbound(hold(udp("10.0.0.2", 2000 + k, REMOTE, 53, 0)), wp);
        }
        w.tick(120);
        assertEquals(0, w.sessionCount());
    }

    /**
     * openMapping (RFC 6886 §3.3, RFC 6887 §11.3): the inside endpoint's dynamic mapping keeps its outside port,
     * admits any remote while open, is held past its sessions' expiry for the lease, and is released after.
     */
    @Test
    void openMappingOpensTheExistingDynamicMapping() {
        NatEngine e = engine(cfg().maxStaticMappings(2));
        int ns = e.openNamespace();
        int port = e.addPort(ns);
        e.tick(0);
        assertEquals(-1, e.openMapping(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000, 600), "no mapping yet");
        ByteBuf o = hold(udp("10.0.0.2", 7000, REMOTE, 53, 0));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(o, port));
        int ext = sport(o);
        assertEquals(NatDropReason.FILTERED, dropOf(e, hold(udp("192.0.2.50", 999, OUT, ext, 0))));
        assertEquals(ext, e.openMapping(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000, 600));
        assertTrue(e.isOpened(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000));
        ByteBuf in = hold(udp("192.0.2.50", 999, OUT, ext, 0));
        assertEquals(port, e.inbound(in));
        assertEquals(ip("10.0.0.2"), dst(in));
        assertEquals(7000, dport(in));
        assertTrue(checksumsOk(in));
        // every session idle past 2 min: the mapping is held by the lease
        e.tick(300);
        assertEquals(0, e.sessionCount());
        assertEquals(1, e.mappingCount());
        assertEquals(port, e.inbound(hold(udp("192.0.2.51", 1000, OUT, ext, 0))));
        // it counts against maxStaticMappings with the forwards
        e.addStaticMapping(ns, IpProtocol.TCP, ip("10.0.0.3"), 22, 0, 2222, true);
        e.outbound(hold(udp("10.0.0.4", 7100, REMOTE, 53, 0)), port);
        assertThrows(IllegalStateException.class, () -> e.openMapping(ns, IpProtocol.UDP, ip("10.0.0.4"), 7100, 60));
        // a static mapping is not opened this way
        assertEquals(-1, e.openMapping(ns, IpProtocol.TCP, ip("10.0.0.3"), 22, 60));
        // the engine's lifetime ends it (600 s after tick 0); its last session (from 300) is gone by then too, so
        // the mapping is released with the lease
        e.tick(600);
        assertFalse(e.isOpened(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000));
        assertNull(e.mappingOf(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000), "released once idle");
        assertEquals(NatDropReason.NO_MAPPING, dropOf(e, hold(udp("192.0.2.52", 999, OUT, ext, 0))));
        // closeMapping ends it at once
        e.outbound(hold(udp("10.0.0.2", 7000, REMOTE, 53, 0)), port);
        assertTrue(e.openMapping(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000, 600) > 0);
        assertTrue(e.closeMapping(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000));
        assertFalse(e.closeMapping(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000));
        assertNotNull(e.mappingOf(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000), "its session still holds it");
        e.tick(720);
        assertEquals(1, e.mappingCount(), "the forward only");
        // closing the namespace releases an opened mapping with the rest
        e.outbound(hold(udp("10.0.0.2", 7000, REMOTE, 53, 0)), port);
        e.openMapping(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000, 600);
        e.removePort(port);
        e.closeNamespace(ns);
        assertEquals(0, e.mappingCount());
    }

    /**
     * setRemoteFilters (PCP FILTER): only a static or opened mapping takes filters; with them a new inbound
     * session comes only from a matching remote (prefix, port 0 = any), others are REMOTE_FILTERED, whatever the
     * mapping is open to; an empty list lifts them; they go with the mapping; no table exists before the first.
     */
    @Test
    void remoteFiltersRestrictNewInboundSessionsOfStaticAndOpenedMappings() {
        NatEngine e = engine(cfg().filtering(Filtering.ENDPOINT_INDEPENDENT));
        int ns = e.openNamespace();
        int port = e.addPort(ns);
        long bytes = e.tableBytes();
        List<RemoteFilter> net = List.of(new RemoteFilter(ip("192.0.2.77"), 24, 0), new RemoteFilter(ip(REMOTE), 32, 4000));
        ByteBuf o = hold(udp("10.0.0.2", 7000, REMOTE, 53, 0));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(o, port));
        int ext = sport(o);
        assertFalse(e.setRemoteFilters(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000, net), "a plain dynamic mapping");
        assertFalse(e.setRemoteFilters(ns, IpProtocol.UDP, ip("10.0.0.9"), 1, net), "no mapping");
        assertEquals(bytes, e.tableBytes(), "no filter table before the first filter");

        e.addStaticMapping(ns, IpProtocol.TCP, ip("10.0.0.3"), 22, 0, 2222, true);
        assertTrue(e.setRemoteFilters(ns, IpProtocol.TCP, ip("10.0.0.3"), 22, net));
        assertEquals(List.of(new RemoteFilter(ip("192.0.2.0"), 24, 0), new RemoteFilter(ip(REMOTE), 32, 4000)),
                e.remoteFilters(ns, IpProtocol.TCP, ip("10.0.0.3"), 22), "the address kept as its prefix");
        assertTrue(e.tableBytes() > bytes);
        assertEquals(port, e.inbound(hold(tcp("192.0.2.9", 1234, OUT, 2222, 0x02))));
        assertEquals(port, e.inbound(hold(tcp(REMOTE, 4000, OUT, 2222, 0x02))));
        assertEquals(NatDropReason.REMOTE_FILTERED, dropOf(e, hold(tcp(REMOTE, 4001, OUT, 2222, 0x02))));
        assertEquals(NatDropReason.REMOTE_FILTERED, dropOf(e, hold(tcp("192.0.3.1", 1234, OUT, 2222, 0x02))));
        // the opened dynamic mapping takes them too, under endpoint-independent filtering as well
        assertTrue(e.openMapping(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000, 600) > 0);
        assertTrue(e.setRemoteFilters(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000, List.of(new RemoteFilter(ip("192.0.2.1"), 32, 0))));
        assertEquals(port, e.inbound(hold(udp(REMOTE, 53, OUT, ext, 0))), "its own session goes on");
        assertEquals(NatDropReason.REMOTE_FILTERED, dropOf(e, hold(udp("192.0.2.2", 53, OUT, ext, 0))));
        assertTrue(e.closeMapping(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000));
        assertTrue(e.remoteFilters(ns, IpProtocol.UDP, ip("10.0.0.2"), 7000).isEmpty(), "closing takes them");
        assertEquals(port, e.inbound(hold(udp("192.0.2.2", 53, OUT, ext, 0))), "EIF again");
        // an empty list lifts them
        assertTrue(e.setRemoteFilters(ns, IpProtocol.TCP, ip("10.0.0.3"), 22, List.of()));
        assertEquals(port, e.inbound(hold(tcp("192.0.3.1", 1235, OUT, 2222, 0x02))));
        // they go with the forward: a new one on the same endpoint has none
        assertTrue(e.setRemoteFilters(ns, IpProtocol.TCP, ip("10.0.0.3"), 22, net));
        assertTrue(e.removeStaticMapping(IpProtocol.TCP, 0, 2222));
        e.addStaticMapping(ns, IpProtocol.TCP, ip("10.0.0.3"), 22, 0, 2222, true);
        assertTrue(e.remoteFilters(ns, IpProtocol.TCP, ip("10.0.0.3"), 22).isEmpty());
        assertEquals(port, e.inbound(hold(tcp("192.0.3.1", 1236, OUT, 2222, 0x02))));
        assertThrows(IllegalArgumentException.class, () -> new RemoteFilter(0, 33, 0));
        assertThrows(IllegalArgumentException.class, () -> new RemoteFilter(0, 8, 70000));
    }

    private static NatDropReason dropOf(NatEngine e, ByteBuf inbound) {
        java.util.Map<NatDropReason, Long> before = new java.util.HashMap<>(e.counters().drops());
        assertEquals(NatEngine.DROP, e.inbound(inbound));
        for (NatDropReason r : NatDropReason.values()) {
            if (e.counters().drops().getOrDefault(r, 0L) > before.getOrDefault(r, 0L)) {
                return r;
            }
        }
        return null;
    }
}

package dev.pktkit.nat;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.pktkit.nat.Packets.*;
import static org.junit.jupiter.api.Assertions.*;

class Nat64EngineTest {
    static final String OUT = "203.0.113.1";
    static final String REMOTE = "198.51.100.7";
    static final long HOST_HI = Ip6.parseHi("fd00::2");
    static final long HOST_LO = Ip6.parseLo("fd00::2");
    static final long SYN_HI = Ip6.parseHi("64:ff9b::198.51.100.7");
    static final long SYN_LO = Ip6.parseLo("64:ff9b::198.51.100.7");
    private final List<ByteBuf> held = new ArrayList<>();

    @AfterEach
    void release() {
        held.forEach(ByteBuf::release);
    }

    private ByteBuf hold(ByteBuf b) {
        held.add(b);
        return b;
    }

    static ByteBuf udp6(int sport, int dport, int n) {
        ByteBuf payload = Unpooled.buffer(n).writeZero(n);
        ByteBuf b = Unpooled.buffer(48 + n);
        Ipv6.writeHeader(b, 0, 0, 8 + n, IpProtocol.UDP, 64, HOST_HI, HOST_LO, SYN_HI, SYN_LO);
        Udp.writeDatagramV6(b, HOST_HI, HOST_LO, SYN_HI, SYN_LO, sport, dport, payload, 0, n);
        payload.release();
        return b;
    }

    static ByteBuf echo6(int id) {
        ByteBuf b = Unpooled.buffer(64);
        Ipv6.writeHeader(b, 0, 0, 16, IpProtocol.ICMPV6, 64, HOST_HI, HOST_LO, SYN_HI, SYN_LO);
        b.writeByte(128).writeByte(0).writeShort(0).writeShort(id).writeShort(1).writeLong(0x1122334455667788L);
        b.setShort(42, Checksums.finish(Checksums.partial(b, 40, 16,
                Checksums.pseudoHeaderV6(HOST_HI, HOST_LO, SYN_HI, SYN_LO, IpProtocol.ICMPV6, 16))));
        return b;
    }

    /** A copy with {@code room} bytes of headroom, as the Nat device provides. */
    static ByteBuf roomy(ByteBuf b) {
        ByteBuf r = Unpooled.buffer(NatEngine.NAT64_HEADROOM + b.readableBytes());
        r.setIndex(NatEngine.NAT64_HEADROOM, NatEngine.NAT64_HEADROOM).writeBytes(b, b.readerIndex(),
                b.readableBytes());
        b.release();
        return r;
    }

    static boolean v6ChecksumOk(ByteBuf b) {
        int off = b.readerIndex();
        int plen = Ipv6.payloadLength(b, off);
        long ph = Checksums.pseudoHeaderV6(Ipv6.srcHi(b, off), Ipv6.srcLo(b, off), Ipv6.dstHi(b, off),
                Ipv6.dstLo(b, off), Ipv6.nextHeader(b, off), plen);
        return Checksums.verify(b, off + 40, plen, ph);
    }

    @Test
    void udpBothWays() {
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).nat64().build());
        int p = e.addPort(e.openNamespace());
        ByteBuf o = hold(udp6(5000, 53, 12));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(o, p));
        assertEquals(4, o.getUnsignedByte(o.readerIndex()) >>> 4);
        assertEquals(ip(OUT), src(o));
        assertEquals(ip(REMOTE), dst(o));
        assertEquals(5000, sport(o));
        assertEquals(63, Ipv4.ttl(o, o.readerIndex()), "hop limit decremented");
        assertTrue(checksumsOk(o));
        ByteBuf r = udp(REMOTE, 53, OUT, 5000, 12);
        assertEquals(NatEngine.NEED_HEADROOM, e.inbound(r));
        r = hold(roomy(r));
        assertEquals(p, e.inbound(r));
        int off = r.readerIndex();
        assertEquals(6, r.getUnsignedByte(off) >>> 4);
        assertEquals(HOST_HI, Ipv6.dstHi(r, off));
        assertEquals(HOST_LO, Ipv6.dstLo(r, off));
        assertEquals(SYN_LO, Ipv6.srcLo(r, off));
        assertEquals(5000, r.getUnsignedShort(off + 42));
        assertEquals(20, Ipv6.payloadLength(r, off));
        assertTrue(v6ChecksumOk(r));
        // a zero IPv4 UDP checksum is computed for IPv6
        ByteBuf z = udp(REMOTE, 53, OUT, 5000, 4);
        z.setShort(26, 0);
        z = hold(roomy(z));
        assertEquals(p, e.inbound(z));
        assertTrue(v6ChecksumOk(z));
        assertEquals(1, e.mappingCount());
    }

    @Test
    void echoAndPortUnreachable() {
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).nat64().build());
        int p = e.addPort(e.openNamespace());
        ByteBuf ping = hold(echo6(99));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(ping, p));
        assertEquals(IpProtocol.ICMP, Ipv4.protocol(ping, ping.readerIndex()));
        assertEquals(Icmpv4.TYPE_ECHO_REQUEST, ping.getUnsignedByte(l4(ping)));
        assertTrue(checksumsOk(ping));
        int id = icmpId(ping);
        ByteBuf pong = hold(roomy(echo(REMOTE, OUT, Icmpv4.TYPE_ECHO_REPLY, id, 1)));
        assertEquals(p, e.inbound(pong));
        int off = pong.readerIndex();
        assertEquals(IpProtocol.ICMPV6, Ipv6.nextHeader(pong, off));
        assertEquals(129, pong.getUnsignedByte(off + 40));
        assertEquals(99, pong.getUnsignedShort(off + 44));
        assertTrue(v6ChecksumOk(pong));

        ByteBuf o = hold(udp6(6000, 9999, 8));
        e.outbound(o, p);
        ByteBuf err = hold(roomy(icmpError(REMOTE, Icmpv4.TYPE_DESTINATION_UNREACHABLE,
                Icmpv4.CODE_PORT_UNREACHABLE, o)));
        assertEquals(p, e.inbound(err));
        off = err.readerIndex();
        assertEquals(6, err.getUnsignedByte(off) >>> 4);
        assertEquals(IpProtocol.ICMPV6, Ipv6.nextHeader(err, off));
        assertEquals(1, err.getUnsignedByte(off + 40), "destination unreachable");
        assertEquals(4, err.getUnsignedByte(off + 41), "port unreachable");
        assertTrue(v6ChecksumOk(err));
        int emb = off + 48;
        assertEquals(6, err.getUnsignedByte(emb) >>> 4);
        assertEquals(HOST_LO, Ipv6.srcLo(err, emb), "the embedded packet as the host sent it");
        assertEquals(SYN_LO, Ipv6.dstLo(err, emb));
        assertEquals(6000, err.getUnsignedShort(emb + 40));
        long ph = Checksums.pseudoHeaderV6(HOST_HI, HOST_LO, SYN_HI, SYN_LO, IpProtocol.UDP, 16);
        assertTrue(Checksums.verify(err, emb + 40, 16, ph), "embedded UDP checksum restored");
    }

    @Test
    void notNat64BoundFollowsIpv6Policy() {
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).nat64().build());
        int p = e.addPort(e.openNamespace());
        ByteBuf b = Unpooled.buffer(48);
        Ipv6.writeHeader(b, 0, 0, 8, IpProtocol.IPV6_NONXT, 64, HOST_HI, HOST_LO, Ip6.parseHi("2001:db8::1"),
                Ip6.parseLo("2001:db8::1"));
        b.writeLong(0);
        hold(b);
        assertEquals(NatEngine.DROP, e.outbound(b, p));
        assertEquals(1, e.counters().dropped(NatDropReason.IPV6_DROPPED));
    }
}

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

    static final long B_HI = Ip6.parseHi("fd00::3");
    static final long B_LO = Ip6.parseLo("fd00::3");

    /** An IPv6 packet from {@code [sHi:sLo]} to {@code [dHi:dLo]} whose payload is {@code ext} then UDP. */
    static ByteBuf udp6(long sHi, long sLo, long dHi, long dLo, int sport, int dport, int n, byte[] ext, int firstNh) {
        ByteBuf payload = Unpooled.buffer(n).writeZero(n);
        ByteBuf b = Unpooled.buffer(48 + ext.length + n);
        Ipv6.writeHeader(b, 0, 0, ext.length + 8 + n, firstNh, 64, sHi, sLo, dHi, dLo);
        b.writeBytes(ext);
        Udp.writeDatagramV6(b, sHi, sLo, dHi, dLo, sport, dport, payload, 0, n);
        payload.release();
        return b;
    }

    /** An ICMPv6 error from the host about {@code quoted} (read from its reader index, not released). */
    static ByteBuf icmp6Error(int type, int code, int rest, ByteBuf quoted, long dHi, long dLo) {
        int n = quoted.readableBytes();
        ByteBuf b = Unpooled.buffer(48 + n);
        Ipv6.writeHeader(b, 0, 0, 8 + n, IpProtocol.ICMPV6, 64, HOST_HI, HOST_LO, dHi, dLo);
        b.writeByte(type).writeByte(code).writeShort(0).writeInt(rest).writeBytes(quoted, quoted.readerIndex(), n);
        b.setShort(42, Checksums.finish(Checksums.partial(b, 40, 8 + n,
                Checksums.pseudoHeaderV6(HOST_HI, HOST_LO, dHi, dLo, IpProtocol.ICMPV6, 8 + n))));
        return b;
    }

    @Test
    void extensionHeadersAreSkippedAndFragmentsGoToReassembly() {
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).nat64().build(), true);
        int p = e.addPort(e.openNamespace());
        // hop-by-hop (PadN) then destination options (PadN), then UDP
        byte[] ext = {IpProtocol.IPV6_OPTS, 0, 1, 4, 0, 0, 0, 0, (byte) IpProtocol.UDP, 0, 1, 4, 0, 0, 0, 0};
        ByteBuf o = hold(udp6(HOST_HI, HOST_LO, SYN_HI, SYN_LO, 5000, 53, 10, ext, IpProtocol.HOPOPT));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(o, p));
        assertEquals(IpProtocol.UDP, Ipv4.protocol(o, o.readerIndex()));
        assertEquals(20 + 8 + 10, Ipv4.totalLength(o, o.readerIndex()), "the extension headers are not carried");
        assertEquals(0, Ipv4.flagsAndFragmentOffset(o, o.readerIndex()), "no DF at 1260 bytes or less (RFC 7915)");
        assertEquals(5000, sport(o));
        assertTrue(checksumsOk(o));
        // a routing header with segments left is not translated
        byte[] route = {(byte) IpProtocol.UDP, 0, 0, 1, 0, 0, 0, 0};
        assertEquals(NatEngine.DROP, e.outbound(hold(udp6(HOST_HI, HOST_LO, SYN_HI, SYN_LO, 5000, 53, 4, route,
                IpProtocol.IPV6_ROUTE)), p));
        assertEquals(1, e.counters().dropped(NatDropReason.NAT64_UNSUPPORTED));
        // a fragment header (after hop-by-hop): to the defragmenter, untouched
        byte[] frag = {IpProtocol.IPV6_FRAG, 0, 1, 4, 0, 0, 0, 0, (byte) IpProtocol.UDP, 0, 0, 1, 0, 0, 0, 7};
        ByteBuf f = hold(udp6(HOST_HI, HOST_LO, SYN_HI, SYN_LO, 5000, 53, 8, frag, IpProtocol.HOPOPT));
        ByteBuf copy = hold(f.copy());
        assertEquals(NatEngine.REASSEMBLE, e.outbound(f, p));
        assertEquals(copy, f, "nothing changed");
        NatEngine dropping = new NatEngine(NatConfig.builder().outsideAddresses(OUT).nat64().build());
        assertEquals(NatEngine.DROP, dropping.outbound(f, dropping.addPort(dropping.openNamespace())));
        assertEquals(1, dropping.counters().dropped(NatDropReason.FRAGMENT));
    }

    @Test
    void icmpv6ErrorsFromTheHostBecomeIcmpv4() {
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).nat64().outsideMtu(1500).build());
        int p = e.addPort(e.openNamespace());
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(udp6(5000, 53, 8)), p));
        ByteBuf in = hold(roomy(udp(REMOTE, 53, OUT, 5000, 30)));
        assertEquals(p, e.inbound(in)); // what the host received: [64:ff9b::remote]:53 -> [host]:5000
        ByteBuf unreach = hold(icmp6Error(1, 4, 0, in, SYN_HI, SYN_LO));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(unreach, p));
        int off = unreach.readerIndex();
        assertTrue(checksumsOk(unreach));
        assertEquals(ip(OUT), src(unreach));
        assertEquals(ip(REMOTE), dst(unreach));
        assertEquals(Icmpv4.TYPE_DESTINATION_UNREACHABLE, unreach.getUnsignedByte(l4(unreach)));
        assertEquals(Icmpv4.CODE_PORT_UNREACHABLE, unreach.getUnsignedByte(l4(unreach) + 1));
        int emb = l4(unreach) + 8;
        assertEquals(ip(REMOTE), unreach.getInt(emb + 12), "the embedded packet as the remote sent it");
        assertEquals(ip(OUT), unreach.getInt(emb + 16));
        assertEquals(53, unreach.getUnsignedShort(emb + 20));
        assertEquals(5000, unreach.getUnsignedShort(emb + 22));
        assertEquals(20 + 8 + 30, unreach.getUnsignedShort(emb + 2));
        assertTrue(embeddedOk(unreach), "embedded IPv4 header and UDP checksums");
        assertEquals(20 + 8 + 20 + 8 + 30, Ipv4.totalLength(unreach, off));

        ByteBuf in2 = hold(roomy(udp(REMOTE, 53, OUT, 5000, 30)));
        assertEquals(p, e.inbound(in2));
        ByteBuf ptb = hold(icmp6Error(2, 0, 1400, in2, SYN_HI, SYN_LO));
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(ptb, p));
        assertEquals(Icmpv4.CODE_FRAGMENTATION_NEEDED, ptb.getUnsignedByte(l4(ptb) + 1));
        assertEquals(1380, ptb.getUnsignedShort(l4(ptb) + 6), "MTU minus the 20 bytes IPv6 adds");
        assertTrue(checksumsOk(ptb));

        // about a packet the NAT never translated: dropped
        ByteBuf stray = hold(udp6(SYN_HI, SYN_LO, HOST_HI, HOST_LO, 53, 4444, 4, new byte[0], IpProtocol.UDP));
        assertEquals(NatEngine.DROP, e.outbound(hold(icmp6Error(1, 4, 0, stray, SYN_HI, SYN_LO)), p));
        assertEquals(1, e.counters().dropped(NatDropReason.ICMP_NO_SESSION));
    }

    /** RFC 7915 §5.2: parameter problem code 0 with its pointer moved by Figure 6; code 2 and n/a pointers dropped. */
    @Test
    void icmpv6ParameterProblemFromTheHost() {
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).nat64().build());
        int p = e.addPort(e.openNamespace());
        assertEquals(NatEngine.TO_OUTSIDE, e.outbound(hold(udp6(5000, 53, 8)), p));
        int[][] cases = {{6, 9}, {7, 8}, {4, 2}, {5, 2}, {0, 0}, {1, 1}, {8, 12}, {23, 12}, {24, 16}, {39, 16}};
        for (int[] c : cases) {
            ByteBuf in = hold(roomy(udp(REMOTE, 53, OUT, 5000, 30)));
            assertEquals(p, e.inbound(in));
            ByteBuf pp = hold(icmp6Error(4, 0, c[0], in, SYN_HI, SYN_LO));
            assertEquals(NatEngine.TO_OUTSIDE, e.outbound(pp, p), "IPv6 pointer " + c[0]);
            int l4 = l4(pp);
            assertEquals(Icmpv4.TYPE_PARAMETER_PROBLEM, pp.getUnsignedByte(l4));
            assertEquals(0, pp.getUnsignedByte(l4 + 1), "pointer indicates the error");
            assertEquals(c[1], pp.getUnsignedByte(l4 + 4), "IPv4 pointer for IPv6 pointer " + c[0]);
            assertEquals(0, pp.getUnsignedMedium(l4 + 5));
            assertTrue(checksumsOk(pp));
            assertTrue(embeddedOk(pp), "the embedded packet as the remote sent it");
            assertEquals(ip(REMOTE), dst(pp));
        }
        long before = e.counters().dropped(NatDropReason.UNSUPPORTED_ICMP);
        int[][] dropped = {{0, 2}, {0, 3}, {0, 40}, {0, 0x10000}, {2, 6}, {3, 0}};
        for (int[] c : dropped) {
            ByteBuf in = hold(roomy(udp(REMOTE, 53, OUT, 5000, 30)));
            assertEquals(p, e.inbound(in));
            assertEquals(NatEngine.DROP, e.outbound(hold(icmp6Error(4, c[0], c[1], in, SYN_HI, SYN_LO)), p),
                    "code " + c[0] + " pointer " + c[1]);
        }
        assertEquals(before + dropped.length, e.counters().dropped(NatDropReason.UNSUPPORTED_ICMP));
    }

    /** RFC 7915 §4.2: ICMPv4 parameter problem codes 0 and 2 become code 0 with the pointer moved by Figure 3. */
    @Test
    void icmpv4ParameterProblemToTheHost() {
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).nat64().build());
        int p = e.addPort(e.openNamespace());
        int[][] cases = {{0, 0, 0}, {0, 1, 1}, {0, 2, 4}, {2, 3, 4}, {0, 8, 7}, {0, 9, 6}, {0, 12, 8}, {2, 15, 8},
                {0, 16, 24}, {0, 19, 24}};
        for (int[] c : cases) {
            ByteBuf o = hold(udp6(6000, 9999, 8));
            assertEquals(NatEngine.TO_OUTSIDE, e.outbound(o, p));
            ByteBuf err = hold(roomy(icmpError(REMOTE, Icmpv4.TYPE_PARAMETER_PROBLEM, c[0], c[1] << 24, o)));
            assertEquals(p, e.inbound(err), "code " + c[0] + " pointer " + c[1]);
            int off = err.readerIndex();
            assertEquals(IpProtocol.ICMPV6, Ipv6.nextHeader(err, off));
            assertEquals(4, err.getUnsignedByte(off + 40), "parameter problem");
            assertEquals(0, err.getUnsignedByte(off + 41), "erroneous header field");
            assertEquals(c[2], err.getInt(off + 44), "IPv6 pointer for IPv4 pointer " + c[1]);
            assertTrue(v6ChecksumOk(err));
            assertEquals(HOST_LO, Ipv6.srcLo(err, off + 48), "the embedded packet as the host sent it");
            assertEquals(6000, err.getUnsignedShort(off + 88));
        }
        long before = e.counters().dropped(NatDropReason.UNSUPPORTED_ICMP);
        int[][] dropped = {{1, 0}, {0, 4}, {0, 6}, {0, 10}, {0, 20}, {2, 11}, {3, 0}};
        for (int[] c : dropped) {
            ByteBuf o = hold(udp6(6000, 9999, 8));
            assertEquals(NatEngine.TO_OUTSIDE, e.outbound(o, p));
            ByteBuf err = hold(roomy(icmpError(REMOTE, Icmpv4.TYPE_PARAMETER_PROBLEM, c[0], c[1] << 24, o)));
            assertEquals(NatEngine.DROP, e.inbound(err), "code " + c[0] + " pointer " + c[1]);
        }
        assertEquals(before + dropped.length, e.counters().dropped(NatDropReason.UNSUPPORTED_ICMP));
    }

    @Test
    void portForwardToAnIpv6HostAndHairpinning() {
        NatEngine e = new NatEngine(NatConfig.builder().outsideAddresses(OUT).nat64().hairpinning(true).build());
        int ns = e.openNamespace();
        int p = e.addPort(ns);
        NatMapping fwd = e.addStaticMapping6(ns, IpProtocol.UDP, B_HI, B_LO, 53, 0, 5353, true);
        assertEquals(ip(OUT), fwd.outsideAddress());
        ByteBuf in = hold(roomy(udp(REMOTE, 999, OUT, 5353, 6)));
        assertEquals(p, e.inbound(in));
        int off = in.readerIndex();
        assertEquals(6, in.getUnsignedByte(off) >>> 4);
        assertEquals(B_LO, Ipv6.dstLo(in, off));
        assertEquals(SYN_LO, Ipv6.srcLo(in, off), "from the remote under the NAT64 prefix");
        assertEquals(53, in.getUnsignedShort(off + 42));
        assertTrue(v6ChecksumOk(in));
        // the host at fd00::2 reaches fd00::3's forward through the outside address (RFC 6146 §3.8)
        long outHi = Ip6.parseHi("64:ff9b::" + OUT);
        long outLo = Ip6.parseLo("64:ff9b::" + OUT);
        ByteBuf hp = hold(udp6(HOST_HI, HOST_LO, outHi, outLo, 7000, 5353, 5, new byte[0], IpProtocol.UDP));
        assertEquals(p, e.outbound(hp, p));
        off = hp.readerIndex();
        assertEquals(6, hp.getUnsignedByte(off) >>> 4);
        assertEquals(B_LO, Ipv6.dstLo(hp, off));
        assertEquals(outLo, Ipv6.srcLo(hp, off), "from the sender's outside endpoint");
        assertEquals(7000, hp.getUnsignedShort(off + 40));
        assertEquals(53, hp.getUnsignedShort(off + 42));
        assertTrue(v6ChecksumOk(hp));
        assertEquals(1, e.counters().hairpinned());
        // an IPv4 inside host reaches it the same way: the outbound half, then inbound with headroom
        ByteBuf v4 = udp("10.0.0.5", 6000, OUT, 5353, 5);
        assertEquals(NatEngine.NEED_HEADROOM, e.outbound(v4, p));
        v4 = hold(roomy(v4));
        assertEquals(p, e.inbound(v4));
        assertEquals(B_LO, Ipv6.dstLo(v4, v4.readerIndex()));
        assertTrue(v6ChecksumOk(v4));
        assertTrue(e.removeStaticMapping(IpProtocol.UDP, 0, 5353));
        assertEquals(NatEngine.DROP, e.inbound(hold(roomy(udp(REMOTE, 999, OUT, 5353, 6)))));
    }
}

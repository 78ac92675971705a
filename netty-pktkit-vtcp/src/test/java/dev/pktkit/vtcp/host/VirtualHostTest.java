package dev.pktkit.vtcp.host;

import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static dev.pktkit.vtcp.host.Packets.v4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtualHostTest {
    static VirtualHost host() {
        return VirtualHost.builder().address("10.0.0.2").address("fd00::2").build();
    }

    @Test
    void answersPingV4AndV6WithValidChecksums() {
        VirtualHost h = host();
        EmbeddedChannel ch = new EmbeddedChannel(h);
        ch.writeInbound(Packets.ping4("10.0.0.1", "10.0.0.2", 77, 5));
        ByteBuf r = ch.readOutbound();
        int off = r.readerIndex();
        assertTrue(Icmpv4.checkInPacket(r, off) > 0, "valid IP and ICMP checksums");
        assertEquals(v4("10.0.0.2"), Ipv4.src(r, off));
        assertEquals(v4("10.0.0.1"), Ipv4.dst(r, off));
        assertEquals(Icmpv4.TYPE_ECHO_REPLY, Icmpv4.type(r, off + 20));
        assertEquals(77, Icmpv4.echoIdentifier(r, off + 20));
        assertEquals(5, Icmpv4.echoSequence(r, off + 20));
        assertEquals(0x0102030405060708L, r.getLong(off + 28));
        assertTrue(off >= VirtualHost.HEADROOM, "headroom kept for an L2Adapter");
        r.release();

        ch.writeInbound(Packets.ping6("fd00::1", "fd00::2", 9, 1));
        ByteBuf r6 = ch.readOutbound();
        int o6 = r6.readerIndex();
        assertTrue(Icmpv6.checkInPacket(r6, o6) > 0);
        assertEquals(Icmpv6.TYPE_ECHO_REPLY, Icmpv6.type(r6, o6 + 40));
        assertEquals(0x1122334455667788L, r6.getLong(o6 + 48));
        r6.release();
        assertEquals(2, h.counters().echoReplies());
        ch.finishAndReleaseAll();
    }

    @Test
    void doesNotAnswerPingForOtherAddresses() {
        VirtualHost h = host();
        EmbeddedChannel ch = new EmbeddedChannel(h);
        ch.writeInbound(Packets.ping4("10.0.0.1", "10.0.0.9", 1, 1));
        assertNull(ch.readOutbound());
        assertEquals(1, h.counters().dropped(HostDropReason.NOT_LOCAL));
        ch.finishAndReleaseAll();
    }

    @Test
    void closedUdpPortAnswersPortUnreachableQuotingTheDatagram() {
        VirtualHost h = host();
        EmbeddedChannel ch = new EmbeddedChannel(h);
        ch.writeInbound(Packets.udp4("10.0.0.1", 4000, "10.0.0.2", 9, "hello"));
        ByteBuf r = ch.readOutbound();
        int off = r.readerIndex();
        assertTrue(Icmpv4.checkInPacket(r, off) > 0);
        assertEquals(v4("10.0.0.1"), Ipv4.dst(r, off));
        int icmp = off + 20;
        assertEquals(Icmpv4.TYPE_DESTINATION_UNREACHABLE, Icmpv4.type(r, icmp));
        assertEquals(Icmpv4.CODE_PORT_UNREACHABLE, Icmpv4.code(r, icmp));
        int quoted = icmp + 8;
        assertEquals(IpProtocol.UDP, Ipv4.protocol(r, quoted));
        assertEquals(4000, r.getUnsignedShort(quoted + 20));
        assertEquals(9, r.getUnsignedShort(quoted + 22));
        r.release();

        ch.writeInbound(Packets.udp6("fd00::1", 4000, "fd00::2", 9, "hello"));
        ByteBuf r6 = ch.readOutbound();
        int o6 = r6.readerIndex();
        assertTrue(Icmpv6.checkInPacket(r6, o6) > 0);
        assertEquals(Icmpv6.TYPE_DESTINATION_UNREACHABLE, Icmpv6.type(r6, o6 + 40));
        assertEquals(Icmpv6.CODE_PORT_UNREACHABLE, Icmpv6.code(r6, o6 + 40));
        r6.release();
        assertEquals(2, h.counters().dropped(HostDropReason.NO_LISTENER));
        assertEquals(2, h.counters().icmpErrorsSent());
        ch.finishAndReleaseAll();
    }

    @Test
    void noErrorAboutBroadcastOrForeignDatagrams() {
        VirtualHost h = host();
        EmbeddedChannel ch = new EmbeddedChannel(h);
        ch.writeInbound(Packets.udp4("10.0.0.1", 68, "255.255.255.255", 67, "x"));
        ch.writeInbound(Packets.udp4("10.0.0.1", 68, "10.0.0.77", 67, "x"));
        assertNull(ch.readOutbound());
        assertEquals(0, h.counters().icmpErrorsSent());
        ch.finishAndReleaseAll();
    }

    @Test
    void unknownProtocolAnswersProtocolUnreachable() {
        VirtualHost h = host();
        EmbeddedChannel ch = new EmbeddedChannel(h);
        ch.writeInbound(Packets.rawIp4("10.0.0.1", "10.0.0.2", IpProtocol.GRE, 8));
        ByteBuf r = ch.readOutbound();
        int off = r.readerIndex();
        assertEquals(Icmpv4.TYPE_DESTINATION_UNREACHABLE, Icmpv4.type(r, off + 20));
        assertEquals(Icmpv4.CODE_PROTOCOL_UNREACHABLE, Icmpv4.code(r, off + 20));
        r.release();
        assertEquals(1, h.counters().dropped(HostDropReason.UNKNOWN_PROTOCOL));
        ch.finishAndReleaseAll();
    }

    @Test
    void closedTcpPortAnswersReset() {
        VirtualHost h = host();
        EmbeddedChannel ch = new EmbeddedChannel(h);
        ch.writeInbound(Packets.tcp4("10.0.0.1", 5555, "10.0.0.2", 81, 1000, 0, Tcp.SYN));
        ByteBuf r = ch.readOutbound();
        int off = r.readerIndex();
        assertTrue(Tcp.checkInPacket(r, off) > 0, "valid checksums");
        int t = off + 20;
        assertEquals(81, Tcp.srcPort(r, t));
        assertEquals(5555, Tcp.dstPort(r, t));
        assertEquals(Tcp.RST | Tcp.ACK, Tcp.flags(r, t) & (Tcp.RST | Tcp.ACK | Tcp.SYN));
        assertEquals(1001, Tcp.ack(r, t), "SYN occupies one sequence number");
        r.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void malformedInputIsDroppedAndCounted() {
        VirtualHost h = host();
        EmbeddedChannel ch = new EmbeddedChannel(h);
        ByteBuf bad = Packets.udp4("10.0.0.1", 1, "10.0.0.2", 2, "abc");
        bad.setByte(bad.writerIndex() - 1, 'X'); // breaks the UDP checksum
        ch.writeInbound(bad);
        ByteBuf badIp = Packets.ping4("10.0.0.1", "10.0.0.2", 1, 1);
        badIp.setByte(8, 3); // TTL changed, header checksum now wrong
        ch.writeInbound(badIp);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x45, 0}));
        ch.writeInbound(Unpooled.buffer(0));
        ch.writeInbound("not a packet");
        ByteBuf frag = Packets.udp4("10.0.0.1", 1, "10.0.0.2", 2, "abc");
        frag.setShort(6, Ipv4.FLAG_MF);
        Ipv4.fillChecksum(frag, 0);
        ch.writeInbound(frag);
        assertNull(ch.readOutbound(), "no answer to bad input");
        assertEquals(1, h.counters().dropped(HostDropReason.MALFORMED_UDP));
        assertEquals(4, h.counters().dropped(HostDropReason.MALFORMED_IP));
        assertEquals(1, h.counters().dropped(HostDropReason.FRAGMENT));
        ch.checkException();
        ch.finishAndReleaseAll();
    }

    @Test
    void icmpErrorsAreRateLimited() {
        VirtualHost h = VirtualHost.builder().address("10.0.0.2").icmpErrorsPerSecond(3).build();
        EmbeddedChannel ch = new EmbeddedChannel(h);
        for (int i = 0; i < 10; i++) {
            ch.writeInbound(Packets.udp4("10.0.0.1", 4000, "10.0.0.2", 9, "x"));
        }
        int replies = 0;
        for (ByteBuf r; (r = ch.readOutbound()) != null; ) {
            replies++;
            r.release();
        }
        // a burst of 3, plus at most what refills while the loop runs
        assertTrue(replies >= 3 && replies < 10, "replies " + replies);
        assertEquals(10 - replies, h.counters().dropped(HostDropReason.ICMP_RATE_LIMITED));
        ch.finishAndReleaseAll();
    }

    @Test
    void ipv4AddressOfTheHost() {
        VirtualHost h = host();
        assertEquals(v4("10.0.0.2"), Ip4.of(h.ipv4Address()));
        assertTrue(h.isLocalIpv6(0xFD00_0000_0000_0000L, 2));
        assertTrue(!h.isLocalIpv4(v4("10.0.0.3")));
    }
}

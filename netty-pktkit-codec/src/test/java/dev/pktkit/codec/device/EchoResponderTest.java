package dev.pktkit.codec.device;

import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EchoResponderTest {
    static final long LL = 0xFE80_0000_0000_0000L;

    static ByteBuf ping4(String src, String dst) {
        ByteBuf b = Unpooled.buffer(64);
        b.writerIndex(14).readerIndex(14);
        ByteBuf data = Unpooled.buffer(8).writeLong(0x1122334455667788L);
        Ipv4.writeHeader(b, Ip4.parse(src), Ip4.parse(dst), IpProtocol.ICMP, 17, 16, 7, false);
        Icmpv4.writeEcho(b, Icmpv4.TYPE_ECHO_REQUEST, 0x4242, 9, data, 0, 8);
        data.release();
        return b;
    }

    static ByteBuf ping6(long srcLo, long dstLo) {
        ByteBuf b = Unpooled.buffer(64);
        Ipv6.writeHeader(b, 0, 0, 16, IpProtocol.ICMPV6, 33, LL, srcLo, LL, dstLo);
        int icmp = b.writerIndex();
        b.writeByte(Icmpv6.TYPE_ECHO_REQUEST).writeByte(0).writeShort(0).writeShort(0x1234).writeShort(1)
                .writeLong(0xAABBCCDDEEFF0011L);
        Icmpv6.fillChecksum(b, icmp, 16, LL, srcLo, LL, dstLo);
        return b;
    }

    static EmbeddedChannel channel(EchoResponder r) {
        return new EmbeddedChannel(r);
    }

    @Test
    void answersIpv4PingInPlace() throws Exception {
        EchoResponder r = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.0.0.1")));
        EmbeddedChannel ch = channel(r);
        ByteBuf req = ping4("10.0.0.2", "10.0.0.1");
        ch.writeInbound(req);
        ByteBuf rep = ch.readOutbound();
        assertSame(req, rep, "turned around in place, headroom kept");
        int off = rep.readerIndex();
        assertEquals(14, off);
        assertEquals(Ip4.parse("10.0.0.1"), Ipv4.src(rep, off));
        assertEquals(Ip4.parse("10.0.0.2"), Ipv4.dst(rep, off));
        assertTrue(Ipv4.verifyChecksum(rep, off));
        assertTrue(Icmpv4.checkInPacket(rep, off) >= 0, "ICMP checksum valid");
        int icmp = off + 20;
        assertEquals(Icmpv4.TYPE_ECHO_REPLY, Icmpv4.type(rep, icmp));
        assertEquals(0x4242, Icmpv4.echoIdentifier(rep, icmp));
        assertEquals(9, Icmpv4.echoSequence(rep, icmp));
        assertEquals(0x1122334455667788L, rep.getLong(icmp + 8));
        rep.release();
        assertEquals(1, r.replies());
        ch.finishAndReleaseAll();
    }

    @Test
    void answersIpv6Ping() throws Exception {
        EchoResponder r = new EchoResponder(LocalAddresses.of(InetAddress.getByName("fe80::1")));
        EmbeddedChannel ch = channel(r);
        ch.writeInbound(ping6(2, 1));
        ByteBuf rep = ch.readOutbound();
        int off = rep.readerIndex();
        assertEquals(1, Ipv6.srcLo(rep, off));
        assertEquals(2, Ipv6.dstLo(rep, off));
        assertEquals(Ipv6.DEFAULT_HOP_LIMIT, Ipv6.hopLimit(rep, off));
        assertTrue(Icmpv6.checkInPacket(rep, off) >= 0, "ICMPv6 checksum valid");
        assertEquals(Icmpv6.TYPE_ECHO_REPLY, Icmpv6.type(rep, off + 40));
        assertEquals(0xAABBCCDDEEFF0011L, rep.getLong(off + 48));
        rep.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void passesOnWhatIsNotItsPing() throws Exception {
        EchoResponder r = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.0.0.1")));
        EmbeddedChannel ch = channel(r);
        ch.writeInbound(ping4("10.0.0.2", "10.0.0.3"));
        ch.writeInbound(ping4("10.0.0.2", "255.255.255.255"));
        ch.writeInbound(ping6(2, 1));
        for (int i = 0; i < 3; i++) {
            ByteBuf passed = ch.readInbound();
            passed.release();
        }
        assertNull(ch.readOutbound());
        assertEquals(0, r.replies());
        ch.finishAndReleaseAll();
    }

    @Test
    void badChecksumIsDroppedAndCounted() throws Exception {
        EchoResponder r = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.0.0.1")));
        EmbeddedChannel ch = channel(r);
        ByteBuf req = ping4("10.0.0.2", "10.0.0.1");
        req.setByte(req.writerIndex() - 1, 0);
        ch.writeInbound(req);
        assertNull(ch.readOutbound());
        assertNull(ch.readInbound());
        assertEquals(1, r.malformed());
        assertEquals(0, req.refCnt());
        ch.finishAndReleaseAll();
    }

    @Test
    void sharedRequestIsCopiedNotModified() throws Exception {
        EchoResponder r = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.0.0.1")));
        EmbeddedChannel ch = channel(r);
        ByteBuf req = ping4("10.0.0.2", "10.0.0.1");
        ByteBuf keep = req.retainedDuplicate();
        ch.writeInbound(req);
        ByteBuf rep = ch.readOutbound();
        assertNotSame(keep.unwrap(), rep.unwrap() == null ? rep : rep.unwrap());
        assertEquals(Ip4.parse("10.0.0.1"), Ipv4.dst(keep, keep.readerIndex()), "original untouched");
        assertEquals(Icmpv4.TYPE_ECHO_REPLY, Icmpv4.type(rep, rep.readerIndex() + 20));
        rep.release();
        keep.release();
        ch.finishAndReleaseAll();
    }
}

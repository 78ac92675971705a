package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Icmpv6Test {
    static final long FD77 = 0xfd77_0000_0000_0000L;

    static byte[] ip(String capture) {
        return WireTestBuffers.frame(capture, 14);
    }

    /** The captured packet with its flow label zeroed (Linux picks a random one; our builders use 0). */
    static String withoutFlowLabel(byte[] pkt) {
        byte[] copy = pkt.clone();
        copy[1] &= (byte) 0xF0;
        copy[2] = 0;
        copy[3] = 0;
        return WireTestBuffers.toHex(copy);
    }

    @Test
    void capturedEchoRequest() {
        byte[] pkt = ip(Captures.ICMP6_ECHO_REQUEST);
        // after the 40-byte header: 80 00 9e22? -> type 128, code 0, checksum, identifier 0x3527, sequence 1
        assertEquals("8000", WireTestBuffers.toHex(pkt).substring(80, 84));
        assertEquals("35270001", WireTestBuffers.toHex(pkt).substring(88, 96));
        WireTestBuffers.forEachKind(pkt, b -> {
            int ip = b.readerIndex();
            assertEquals(64, Icmpv6.checkInPacket(b, ip));
            int off = ip + 40;
            assertEquals(Icmpv6.TYPE_ECHO_REQUEST, Icmpv6.type(b, off));
            assertEquals(0, Icmpv6.code(b, off));
            assertEquals(b.getUnsignedShort(off + 2), Icmpv6.checksum(b, off));
            assertEquals(0x3527, Icmpv6.echoIdentifier(b, off));
            assertEquals(1, Icmpv6.echoSequence(b, off));
            assertEquals(-1, Icmpv6.invokingPacketOffset(b, off));
            assertTrue(Icmpv6.isErrorAllowed(b, ip, Icmpv6.TYPE_TIME_EXCEEDED, 0));
        });
    }

    @Test
    void echoReplyBuilderReproducesTheKernelsReply() {
        ByteBuf req = Unpooled.wrappedBuffer(ip(Captures.ICMP6_ECHO_REQUEST));
        byte[] want = ip(Captures.ICMP6_ECHO_REPLY);
        ByteBuf out = Unpooled.buffer();
        try {
            assertEquals(104, Icmpv6.writeEchoReplyPacket(out, req, 0));
            assertEquals(withoutFlowLabel(want), WireTestBuffers.toHex(out));
            Icmpv6Repr r = Icmpv6Repr.parsePacket(out, 0);
            assertEquals(Icmpv6.TYPE_ECHO_REPLY, r.type());
            assertEquals(0x3527, r.echoIdentifier());
            assertEquals(1, r.echoSequence());
            ByteBuf again = Unpooled.buffer();
            try {
                r.emit(again, FD77, 2, FD77, 1);
                assertEquals(WireTestBuffers.toHex(out, 40, 64), WireTestBuffers.toHex(again));
                assertEquals(r.emittedLength(), again.readableBytes());
            } finally {
                again.release();
            }
            out.clear();
            ByteBuf reply = Unpooled.wrappedBuffer(want);
            assertEquals(WireError.BAD_TYPE, Icmpv6.writeEchoReplyPacket(out, reply, 0));
            reply.release();
            assertEquals(0, out.readableBytes());
        } finally {
            req.release();
            out.release();
        }
    }

    @Test
    void timeExceededBuilderReproducesTheKernelsMessage() {
        ByteBuf invoking = Unpooled.wrappedBuffer(ip(Captures.ICMP6_ECHO_HOPLIMIT1));
        byte[] want = ip(Captures.ICMP6_TIME_EXCEEDED);
        ByteBuf out = Unpooled.buffer();
        try {
            assertTrue(Icmpv6.isErrorAllowed(invoking, 0, Icmpv6.TYPE_TIME_EXCEEDED, 0));
            assertEquals(40 + 8 + 104, Icmpv6.writeTimeExceededPacket(out, FD77, 2, invoking, 0));
            assertEquals(withoutFlowLabel(want), WireTestBuffers.toHex(out));
            assertEquals(112, Icmpv6.checkInPacket(out, 0));
            int q = Icmpv6.invokingPacketOffset(out, 40);
            assertEquals(48, q);
            assertEquals(Ip6.parseHi("fd78::2"), Ipv6.dstHi(out, q));
            assertFalse(Icmpv6.isErrorAllowed(out, 0, Icmpv6.TYPE_PARAMETER_PROBLEM, 0)); // error about an error
        } finally {
            invoking.release();
            out.release();
        }
    }

    @Test
    void portUnreachableBuilderReproducesTheKernelsMessage() {
        ByteBuf invoking = Unpooled.wrappedBuffer(ip(Captures.UDP6_HELLO));
        byte[] want = ip(Captures.ICMP6_PORT_UNREACHABLE);
        ByteBuf out = Unpooled.buffer();
        try {
            int n = Icmpv6.writeDestinationUnreachablePacket(out, FD77, 2, Icmpv6.CODE_PORT_UNREACHABLE, invoking, 0);
            assertEquals(want.length, n);
            assertEquals(withoutFlowLabel(want), WireTestBuffers.toHex(out));
        } finally {
            invoking.release();
            out.release();
        }
    }

    @Test
    void errorsQuoteUpTo1280Bytes() {
        ByteBuf big = Unpooled.wrappedBuffer(ip(Captures.IPV6_FRAGMENT_FIRST)); // 1496-byte packet
        ByteBuf out = Unpooled.buffer();
        try {
            int n = Icmpv6.writePacketTooBigPacket(out, FD77, 2, 1400, big, 0);
            assertEquals(1280, n);
            assertEquals(1280 - 40, Icmpv6.checkInPacket(out, 0));
            assertEquals(1400, Icmpv6.mtu(out, 40));
            assertEquals(WireTestBuffers.toHex(big, 0, Icmpv6.MAX_QUOTE), WireTestBuffers.toHex(out, 48, 1232));
            out.clear();
            assertEquals(WireError.TRUNCATED, Icmpv6.writeTimeExceededPacket(out, FD77, 2, big.slice(0, 39), 0));
            assertEquals(0, out.readableBytes());
        } finally {
            big.release();
            out.release();
        }
    }

    @Test
    void whenErrorsAreNotAllowed() {
        ByteBuf mld = Unpooled.wrappedBuffer(ip(Captures.MLD_REPORT_HBH)); // to ff02::16
        ByteBuf dad = Unpooled.wrappedBuffer(ip(Captures.NDP_NS_DAD));    // from ::
        ByteBuf na = Unpooled.wrappedBuffer(ip(Captures.NDP_NA));
        ByteBuf udp = Unpooled.buffer().writeBytes(ip(Captures.UDP6_HELLO));
        try {
            assertFalse(Icmpv6.isErrorAllowed(mld, 0, Icmpv6.TYPE_TIME_EXCEEDED, 0), "multicast destination");
            assertTrue(Icmpv6.isErrorAllowed(mld, 0, Icmpv6.TYPE_PACKET_TOO_BIG, 0), "packet too big is allowed");
            assertTrue(Icmpv6.isErrorAllowed(mld, 0, Icmpv6.TYPE_PARAMETER_PROBLEM, 2), "unrecognized option");
            assertFalse(Icmpv6.isErrorAllowed(mld, 0, Icmpv6.TYPE_PARAMETER_PROBLEM, 0));
            assertFalse(Icmpv6.isErrorAllowed(dad, 0, Icmpv6.TYPE_PARAMETER_PROBLEM, 0), "unspecified source");
            assertTrue(Icmpv6.isErrorAllowed(na, 0, Icmpv6.TYPE_PARAMETER_PROBLEM, 0), "informational message");
            assertTrue(Icmpv6.isErrorAllowed(udp, 0, Icmpv6.TYPE_DESTINATION_UNREACHABLE, 4));
            udp.setLong(8, 0xff02_0000_0000_0000L); // multicast source
            assertFalse(Icmpv6.isErrorAllowed(udp, 0, Icmpv6.TYPE_DESTINATION_UNREACHABLE, 4));
            udp.setLong(8, 0).setLong(16, 1); // ::1
            assertFalse(Icmpv6.isErrorAllowed(udp, 0, Icmpv6.TYPE_DESTINATION_UNREACHABLE, 4));
            assertFalse(Icmpv6.isErrorAllowed(udp.slice(0, 39), 0, Icmpv6.TYPE_DESTINATION_UNREACHABLE, 4));
            assertEquals(WireError.BAD_TYPE, Icmpv6.checkInPacket(udp, 0), "not ICMPv6");
        } finally {
            mld.release();
            dad.release();
            na.release();
            udp.release();
        }
        ByteBuf frag = Unpooled.wrappedBuffer(ip(Captures.IPV6_FRAGMENT_FIRST));
        try {
            assertEquals(WireError.BAD_TYPE, Icmpv6.checkInPacket(frag, 0), "fragments are not checked");
        } finally {
            frag.release();
        }
    }

    @Test
    void truncatedAndCorrupted() {
        byte[] pkt = ip(Captures.ICMP6_PORT_UNREACHABLE);
        WireTestBuffers.forEachTruncation(pkt, (b, len) -> {
            int ip = b.readerIndex();
            assertEquals(WireError.TRUNCATED, Icmpv6.checkInPacket(b, ip), "len " + len);
            assertNull(Icmpv6Repr.parsePacket(b, ip));
            if (len < 48) {
                int off = ip + 40;
                assertEquals(-1, Icmpv6.type(b, off));
                assertEquals(-1, Icmpv6.code(b, off));
                assertEquals(-1, Icmpv6.checksum(b, off));
                assertEquals(-1, Icmpv6.restOfHeader(b, off));
                assertEquals(-1, Icmpv6.echoIdentifier(b, off));
                assertEquals(-1, Icmpv6.echoSequence(b, off));
                assertEquals(-1, Icmpv6.invokingPacketOffset(b, off));
            }
        });
        // every single-bit change in the pseudo-header addresses or the message breaks the checksum
        for (int i = 8; i < pkt.length; i++) {
            ByteBuf b = Unpooled.buffer().writeBytes(pkt);
            try {
                b.setByte(i, b.getByte(i) ^ 0x01);
                assertEquals(WireError.BAD_CHECKSUM, Icmpv6.checkInPacket(b, 0), "byte " + i);
            } finally {
                b.release();
            }
        }
        ByteBuf b = Unpooled.wrappedBuffer(pkt);
        try {
            assertEquals(WireError.TRUNCATED, Icmpv6.check(b, 40, 7, 0));
        } finally {
            b.release();
        }
    }

    @Test
    void handCheckedEchoWithPseudoHeader() {
        // ::1 -> ::1 echo request id 0, seq 0, no data:
        // pseudo sum = 0001 + 0001 + 0008 (length) + 003a (next header) = 0044; + 8000 (type/code) = 8044
        // checksum = ~8044 = 7fbb
        ByteBuf out = Unpooled.buffer();
        try {
            Icmpv6.writeMessage(out, Icmpv6.TYPE_ECHO_REQUEST, 0, 0, null, 0, 0, 0, 1, 0, 1);
            assertEquals("80007fbb00000000", WireTestBuffers.toHex(out));
            assertEquals(8, Icmpv6.check(out, 0, 8, Checksums.pseudoHeaderV6(0, 1, 0, 1, 58, 8)));
            assertEquals(0x7fbb, Icmpv6.fillChecksum(out, 0, 8, 0, 1, 0, 1));
        } finally {
            out.release();
        }
    }
}

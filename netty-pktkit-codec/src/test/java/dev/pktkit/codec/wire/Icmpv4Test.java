package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.pktkit.codec.wire.WireTestBuffers.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Icmpv4Test {
    static final int A = 0x0a4d0001; // 10.77.0.1
    static final int B = 0x0a4d0002; // 10.77.0.2

    static byte[] ip(String capture) {
        return WireTestBuffers.frame(capture, 14);
    }

    @Test
    void capturedEchoRequest() {
        byte[] pkt = ip(Captures.ICMP4_ECHO_REQUEST);
        // ICMP header after the 20-byte IP header: 08 00 dd47 3522 0001
        //   type 8 (echo request), code 0, checksum dd47, identifier 0x3522, sequence 1
        assertEquals("0800dd4735220001", WireTestBuffers.toHex(pkt).substring(40, 56));
        WireTestBuffers.forEachKind(pkt, b -> {
            int ip = b.readerIndex();
            assertEquals(64, Icmpv4.checkInPacket(b, ip));
            int off = Ipv4.payloadOffset(b, ip);
            assertEquals(64, Icmpv4.check(b, off, 64));
            assertEquals(Icmpv4.TYPE_ECHO_REQUEST, Icmpv4.type(b, off));
            assertEquals(0, Icmpv4.code(b, off));
            assertEquals(0xdd47, Icmpv4.checksum(b, off));
            assertEquals(0x3522, Icmpv4.echoIdentifier(b, off));
            assertEquals(1, Icmpv4.echoSequence(b, off));
            assertEquals(0x35220001L, Icmpv4.restOfHeader(b, off));
            assertEquals(-1, Icmpv4.invokingPacketOffset(b, off));
            assertTrue(Icmpv4.isErrorAllowed(b, ip));
        });
    }

    @Test
    void echoReplyBuilderReproducesTheKernelsReply() {
        ByteBuf req = Unpooled.wrappedBuffer(ip(Captures.ICMP4_ECHO_REQUEST));
        ByteBuf want = Unpooled.wrappedBuffer(ip(Captures.ICMP4_ECHO_REPLY));
        ByteBuf out = Unpooled.buffer();
        try {
            int id = Ipv4.identification(want, 0); // Linux picked this id; everything else must match
            assertEquals(84, Icmpv4.writeEchoReplyPacket(out, req, 0, id));
            assertEquals(WireTestBuffers.toHex(want), WireTestBuffers.toHex(out));
            out.clear();
            // a reply is not a request
            assertEquals(WireError.BAD_TYPE, Icmpv4.writeEchoReplyPacket(out, want, 0, 1));
            assertEquals(0, out.readableBytes());
            Icmpv4Repr r = Icmpv4Repr.parse(want, 20, 64);
            assertEquals(Icmpv4.TYPE_ECHO_REPLY, r.type());
            assertEquals(0x3522, r.echoIdentifier());
            assertEquals(1, r.echoSequence());
            assertEquals(56, r.data().length);
            r.emit(out);
            assertEquals(r.emittedLength(), out.readableBytes());
            assertEquals(WireTestBuffers.toHex(want, 20, 64), WireTestBuffers.toHex(out));
            assertEquals(Icmpv4Repr.echoReply(0x3522, 1, r.data()), r);
        } finally {
            req.release();
            want.release();
            out.release();
        }
    }

    @Test
    void timeExceededBuilderReproducesTheKernelsMessage() {
        // router 10.77.0.2 answered an echo with TTL 1; Linux quotes the whole 84-byte packet (under 576)
        ByteBuf invoking = Unpooled.wrappedBuffer(ip(Captures.ICMP4_ECHO_TTL1));
        ByteBuf want = Unpooled.wrappedBuffer(ip(Captures.ICMP4_TIME_EXCEEDED));
        ByteBuf out = Unpooled.buffer();
        try {
            assertTrue(Icmpv4.isErrorAllowed(invoking, 0));
            int n = Icmpv4.writeTimeExceededPacket(out, B, invoking, 0, Ipv4.identification(want, 0));
            assertEquals(20 + 8 + 84, n);
            assertEquals(WireTestBuffers.toHex(want), WireTestBuffers.toHex(out));
            // reading it back: the quoted packet is a view too
            assertEquals(8 + 84, Icmpv4.checkInPacket(want, 0));
            int q = Icmpv4.invokingPacketOffset(want, 20);
            assertEquals(28, q);
            assertEquals(Ip4.parse("10.78.0.2"), Ipv4.dst(want, q));
            assertEquals(1, Ipv4.ttl(want, q));
            assertFalse(Icmpv4.isErrorAllowed(want, 0)); // never an error about an error
        } finally {
            invoking.release();
            want.release();
            out.release();
        }
    }

    @Test
    void portUnreachableBuilderReproducesTheKernelsMessage() {
        ByteBuf invoking = Unpooled.wrappedBuffer(ip(Captures.UDP4_HELLO));
        ByteBuf want = Unpooled.wrappedBuffer(ip(Captures.ICMP4_PORT_UNREACHABLE));
        ByteBuf out = Unpooled.buffer();
        try {
            int n = Icmpv4.writeDestinationUnreachablePacket(out, B, Icmpv4.CODE_PORT_UNREACHABLE, 0, invoking, 0,
                    Ipv4.identification(want, 0));
            assertEquals(want.readableBytes(), n);
            assertEquals(WireTestBuffers.toHex(want), WireTestBuffers.toHex(out));
            assertEquals(Icmpv4.TYPE_DESTINATION_UNREACHABLE, Icmpv4.type(want, 20));
            assertEquals(Icmpv4.CODE_PORT_UNREACHABLE, Icmpv4.code(want, 20));
        } finally {
            invoking.release();
            want.release();
            out.release();
        }
    }

    @Test
    void errorQuotesAreBoundedBy576AndCarryAtLeast8DataBytes() {
        ByteBuf big = Unpooled.wrappedBuffer(ip(Captures.IPV4_FRAGMENT_FIRST)); // 1500-byte datagram
        ByteBuf out = Unpooled.buffer();
        try {
            int n = Icmpv4.writeDestinationUnreachablePacket(out, B, Icmpv4.CODE_FRAGMENTATION_NEEDED, 1400, big, 0, 7);
            assertEquals(576, n);
            assertEquals(576, Ipv4.totalLength(out, 0));
            assertEquals(20, Ipv4.check(out, 0));
            assertEquals(556, Icmpv4.checkInPacket(out, 0));
            assertEquals(1400, Icmpv4.nextHopMtu(out, 20));
            assertEquals(WireTestBuffers.toHex(big, 0, 548), WireTestBuffers.toHex(out, 28, 548));
        } finally {
            big.release();
            out.release();
        }
        // an invoking packet truncated to header + 8 bytes: all of it is quoted
        byte[] small = Arrays.copyOf(ip(Captures.UDP4_HELLO), 28);
        ByteBuf s = Unpooled.wrappedBuffer(small);
        ByteBuf o = Unpooled.buffer();
        try {
            assertEquals(20 + 8 + 28, Icmpv4.writeTimeExceededPacket(o, B, s, 0, 1));
            assertEquals(WireTestBuffers.toHex(small), WireTestBuffers.toHex(o, 28, 28));
            assertEquals(-1, Icmpv4.quoteLength(s, 1, 548));
            o.clear();
            assertEquals(WireError.TRUNCATED, Icmpv4.writeTimeExceededPacket(o, B, s.slice(0, 19), 0, 1));
            assertEquals(0, o.readableBytes());
        } finally {
            s.release();
            o.release();
        }
    }

    @Test
    void whenErrorsAreNotAllowed() {
        byte[] base = ip(Captures.UDP4_HELLO);
        Object[][] cases = {
                {16, Ip4.parse("224.0.0.251"), "multicast destination"},
                {16, Ip4.BROADCAST, "limited broadcast destination"},
                {12, 0, "unspecified source"},
                {12, Ip4.parse("0.1.2.3"), "this-network source"},
                {12, Ip4.parse("127.0.0.1"), "loopback source"},
                {12, Ip4.parse("239.1.1.1"), "multicast source"},
                {12, Ip4.parse("240.0.0.1"), "class E source"},
        };
        for (Object[] c : cases) {
            ByteBuf b = Unpooled.buffer().writeBytes(base);
            try {
                assertTrue(Icmpv4.isErrorAllowed(b, 0));
                b.setInt((Integer) c[0], (Integer) c[1]);
                assertFalse(Icmpv4.isErrorAllowed(b, 0), (String) c[2]);
            } finally {
                b.release();
            }
        }
        ByteBuf frag = Unpooled.wrappedBuffer(ip(Captures.IPV4_FRAGMENT_LAST));
        ByteBuf first = Unpooled.wrappedBuffer(ip(Captures.IPV4_FRAGMENT_FIRST));
        try {
            assertFalse(Icmpv4.isErrorAllowed(frag, 0), "non-first fragment");
            assertTrue(Icmpv4.isErrorAllowed(first, 0), "first fragment");
            assertEquals(WireError.BAD_TYPE, Icmpv4.checkInPacket(first, 0), "fragments are not checked");
        } finally {
            frag.release();
            first.release();
        }
        ByteBuf udp = Unpooled.wrappedBuffer(base);
        try {
            assertEquals(WireError.BAD_TYPE, Icmpv4.checkInPacket(udp, 0));
            assertFalse(Icmpv4.isErrorAllowed(udp.slice(0, 10), 0));
        } finally {
            udp.release();
        }
    }

    @Test
    void truncatedAndCorrupted() {
        byte[] pkt = ip(Captures.ICMP4_TIME_EXCEEDED);
        WireTestBuffers.forEachTruncation(pkt, (b, len) -> {
            int ip = b.readerIndex();
            assertEquals(WireError.TRUNCATED, Icmpv4.checkInPacket(b, ip), "len " + len);
            int off = ip + 20;
            if (len < 28) {
                assertEquals(-1, Icmpv4.type(b, off));
                assertEquals(-1, Icmpv4.code(b, off));
                assertEquals(-1, Icmpv4.checksum(b, off));
                assertEquals(-1, Icmpv4.restOfHeader(b, off));
                assertEquals(-1, Icmpv4.echoIdentifier(b, off));
                assertEquals(-1, Icmpv4.echoSequence(b, off));
                assertEquals(-1, Icmpv4.pointer(b, off));
                assertEquals(-1, Icmpv4.nextHopMtu(b, off));
                assertEquals(0, Icmpv4.gateway(b, off));
                assertEquals(-1, Icmpv4.invokingPacketOffset(b, off));
            }
            assertEquals(WireError.TRUNCATED, Icmpv4.check(b, off, pkt.length - 20));
            assertNull(Icmpv4Repr.parse(b, off, pkt.length - 20));
        });
        for (int i = 20; i < pkt.length; i++) {
            ByteBuf b = Unpooled.buffer().writeBytes(pkt);
            try {
                b.setByte(i, b.getByte(i) ^ 0x10);
                assertEquals(WireError.BAD_CHECKSUM, Icmpv4.checkInPacket(b, 0), "byte " + i);
            } finally {
                b.release();
            }
        }
        ByteBuf b = Unpooled.wrappedBuffer(pkt);
        try {
            assertEquals(WireError.TRUNCATED, Icmpv4.check(b, 20, 7));
            assertEquals(WireError.TRUNCATED, Icmpv4.check(b, 20, -5));
        } finally {
            b.release();
        }
    }

    @Test
    void handCheckedEchoBuilder() {
        ByteBuf out = Unpooled.buffer();
        ByteBuf data = Unpooled.wrappedBuffer(hex("61 62 63"));
        try {
            // type 8, code 0, id 0x1234, seq 0x0005, data "abc":
            // sum = 0800 + 1234 + 0005 + 6162 + 6300 = de9b -> checksum 2164
            assertEquals(11, Icmpv4.writeEcho(out, Icmpv4.TYPE_ECHO_REQUEST, 0x1234, 5, data, 0, 3));
            assertEquals("08002164123400056162 63".replace(" ", ""), WireTestBuffers.toHex(out));
            assertEquals(11, Icmpv4.check(out, 0, 11));
        } finally {
            out.release();
            data.release();
        }
    }
}

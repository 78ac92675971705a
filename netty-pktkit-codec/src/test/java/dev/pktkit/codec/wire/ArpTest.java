package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static dev.pktkit.codec.wire.WireTestBuffers.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArpTest {
    // Captures.ARP_REQUEST after the 14-byte Ethernet header, annotated
    static final byte[] REQUEST = hex("""
            0001                # htype Ethernet
            0800                # ptype IPv4
            06 04               # hlen 6, plen 4
            0001                # op request
            020000000a01        # sender MAC
            0a4d0001            # sender IP 10.77.0.1
            000000000000        # target MAC unknown
            0a4d0002            # target IP 10.77.0.2
            """);

    @Test
    void capturedRequestAndReply() {
        assertEquals(WireTestBuffers.toHex(REQUEST),
                WireTestBuffers.toHex(WireTestBuffers.frame(Captures.ARP_REQUEST, 14)));
        WireTestBuffers.forEachKind(REQUEST, b -> {
            int off = b.readerIndex();
            assertEquals(Arp.LENGTH, Arp.check(b, off));
            assertEquals(1, Arp.hardwareType(b, off));
            assertEquals(0x0800, Arp.protocolType(b, off));
            assertEquals(6, Arp.hardwareLength(b, off));
            assertEquals(4, Arp.protocolLength(b, off));
            assertEquals(Arp.OP_REQUEST, Arp.operation(b, off));
            assertEquals(0x0200_0000_0a01L, Arp.senderMac(b, off));
            assertEquals(Ip4.parse("10.77.0.1"), Arp.senderIp(b, off));
            assertEquals(0L, Arp.targetMac(b, off));
            assertEquals(Ip4.parse("10.77.0.2"), Arp.targetIp(b, off));
            assertFalse(Arp.isGratuitous(b, off));
        });
        byte[] reply = Captures.bytes(Captures.ARP_REPLY);
        WireTestBuffers.forEachKind(reply, b -> {
            int off = Ethernet.payloadOffset(b, b.readerIndex());
            assertEquals(Arp.LENGTH, Arp.check(b, off));
            assertEquals(new ArpRepr(Arp.OP_REPLY, 0x0200_0000_0b01L, Ip4.parse("10.77.0.2"), 0x0200_0000_0a01L,
                    Ip4.parse("10.77.0.1")), ArpRepr.parse(b, off));
        });
    }

    @Test
    void buildersReproduceTheCapturedFrames() {
        ByteBuf out = Unpooled.buffer();
        try {
            assertEquals(42, Arp.writeRequestFrame(out, 0x0200_0000_0a01L, Ip4.parse("10.77.0.1"),
                    Ip4.parse("10.77.0.2")));
            assertEquals(Captures.ARP_REQUEST, WireTestBuffers.toHex(out));
            out.clear();
            assertEquals(42, Arp.writeReplyFrame(out, 0x0200_0000_0b01L, Ip4.parse("10.77.0.2"), 0x0200_0000_0a01L,
                    Ip4.parse("10.77.0.1")));
            assertEquals(Captures.ARP_REPLY, WireTestBuffers.toHex(out));
            out.clear();
            ByteBuf req = Unpooled.wrappedBuffer(REQUEST);
            ArpRepr r = ArpRepr.parse(req, 0);
            req.release();
            r.emit(out);
            assertEquals(r.emittedLength(), out.readableBytes());
            assertEquals(WireTestBuffers.toHex(REQUEST), WireTestBuffers.toHex(out));
        } finally {
            out.release();
        }
    }

    @Test
    void truncatedAtEveryLength() {
        WireTestBuffers.forEachTruncation(REQUEST, (b, len) -> {
            int off = b.readerIndex();
            assertEquals(WireError.TRUNCATED, Arp.check(b, off), "len " + len);
            assertEquals(-1, Arp.operation(b, off));
            assertEquals(-1, Arp.senderMac(b, off));
            assertEquals(0, Arp.senderIp(b, off));
            assertEquals(-1, Arp.targetMac(b, off));
            assertEquals(0, Arp.targetIp(b, off));
            assertEquals(-1, Arp.hardwareType(b, off));
            assertFalse(Arp.isGratuitous(b, off));
            assertNull(ArpRepr.parse(b, off));
        });
    }

    @Test
    void wrongKindsAreRejected() {
        int[][] patches = {{0, 0x01}, {1, 0x06}, {2, 0x86}, {4, 8}, {5, 16}, {7, 3}, {7, 0}, {6, 1}};
        for (int[] p : patches) {
            byte[] bad = REQUEST.clone();
            bad[p[0]] = (byte) p[1];
            ByteBuf b = Unpooled.wrappedBuffer(bad);
            try {
                assertEquals(WireError.BAD_TYPE, Arp.check(b, 0), "patch " + p[0]);
                assertNull(ArpRepr.parse(b, 0));
            } finally {
                b.release();
            }
        }
    }

    @Test
    void gratuitous() {
        ByteBuf b = Unpooled.buffer();
        try {
            Arp.write(b, Arp.OP_REQUEST, 0x0200_0000_0a01L, 0x0a4d0001, 0, 0x0a4d0001);
            assertTrue(Arp.isGratuitous(b, 0));
            // padding after the packet (60-byte Ethernet minimum) is fine
            b.writeZero(18);
            assertEquals(Arp.LENGTH, Arp.check(b, 0));
        } finally {
            b.release();
        }
    }
}

package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.pktkit.codec.wire.WireTestBuffers.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class EthernetTest {

    // Hand-checked untagged frame header + 2 payload bytes
    static final byte[] UNTAGGED = hex("""
            ff ff ff ff ff ff   # dst: broadcast
            02 00 00 00 0a 01   # src
            08 06               # type: ARP
            ab cd               # payload
            """);

    // Two tags: S-tag 0x88a8 PCP 5 DEI 1 VID 100, C-tag 0x8100 PCP 0 VID 10, then IPv6
    static final byte[] QINQ = hex("""
            02 00 00 00 0b 01   # dst
            02 00 00 00 0a 01   # src
            88 a8 b0 64         # S-tag: TPID 88a8, TCI b064 = pcp 101 dei 1 vid 0x064 (100)
            81 00 00 0a         # C-tag: TPID 8100, TCI 000a = vid 10
            86 dd               # inner type: IPv6
            60                  # first payload byte
            """);

    @Test
    void untaggedFields() {
        WireTestBuffers.forEachKind(UNTAGGED, b -> {
            int off = b.readerIndex();
            assertEquals(MacAddress.BROADCAST, Ethernet.dst(b, off));
            assertEquals(0x0200_0000_0a01L, Ethernet.src(b, off));
            assertEquals(Ethernet.ARP, Ethernet.etherType(b, off));
            assertEquals(Ethernet.ARP, Ethernet.innerEtherType(b, off));
            assertEquals(off + 14, Ethernet.payloadOffset(b, off));
            assertEquals(14, Ethernet.check(b, off));
            assertEquals(0, Ethernet.vlanCount(b, off));
            assertEquals(-1, Vlan.outerVid(b, off));
        });
    }

    @Test
    void doubleTaggedFields() {
        WireTestBuffers.forEachKind(QINQ, b -> {
            int off = b.readerIndex();
            assertEquals(Ethernet.QINQ_8021AD, Ethernet.etherType(b, off));
            assertEquals(Ethernet.IPV6, Ethernet.innerEtherType(b, off));
            assertEquals(off + 22, Ethernet.payloadOffset(b, off));
            assertEquals(2, Ethernet.vlanCount(b, off));
            assertEquals(100, Vlan.outerVid(b, off));
            assertEquals(0xb064, Vlan.outerTci(b, off));
            assertEquals(0x88a8, Vlan.tpid(b, off + 12));
            assertEquals(5, Vlan.pcp(b, off + 12));
            assertEquals(1, Vlan.dei(b, off + 12));
            assertEquals(100, Vlan.vid(b, off + 12));
            assertEquals(0x8100, Vlan.tpid(b, off + 16));
            assertEquals(10, Vlan.vid(b, off + 16));
            assertEquals(0, Vlan.pcp(b, off + 16));
            assertEquals(0, Vlan.dei(b, off + 16));
        });
    }

    @Test
    void tagsUpToTheLimitAndNotBeyond() {
        for (int tags = 0; tags <= Ethernet.MAX_TAGS + 2; tags++) {
            ByteBuf b = Unpooled.buffer();
            try {
                MacAddress.write(b, 1);
                MacAddress.write(b, 2);
                for (int i = 0; i < tags; i++) {
                    b.writeShort(Ethernet.VLAN_8021Q).writeShort(i + 1);
                }
                b.writeShort(Ethernet.IPV4);
                if (tags <= Ethernet.MAX_TAGS) {
                    assertEquals(14 + 4 * tags, Ethernet.check(b, 0));
                    assertEquals(14 + 4 * tags, Ethernet.payloadOffset(b, 0));
                    assertEquals(tags, Ethernet.vlanCount(b, 0));
                    assertEquals(Ethernet.IPV4, Ethernet.innerEtherType(b, 0));
                } else {
                    assertEquals(WireError.TOO_MANY_HEADERS, Ethernet.check(b, 0));
                    assertEquals(-1, Ethernet.payloadOffset(b, 0), "tags " + tags);
                    assertEquals(-1, Ethernet.vlanCount(b, 0));
                    assertEquals(-1, Ethernet.innerEtherType(b, 0));
                }
            } finally {
                b.release();
            }
        }
    }

    @Test
    void framesOfOnlyTagsAreMalformed() {
        // 0x8100 repeated until the buffer ends: no inner type
        ByteBuf b = Unpooled.buffer();
        try {
            b.writeZero(12);
            for (int i = 0; i < 3; i++) {
                b.writeShort(0x8100).writeShort(7);
            }
            assertEquals(-1, Ethernet.payloadOffset(b, 0));
            assertEquals(WireError.TRUNCATED, Ethernet.check(b, 0));
            b.writeShort(0x8100); // a TPID with no TCI
            assertEquals(-1, Ethernet.payloadOffset(b, 0));
            assertEquals(WireError.TRUNCATED, Ethernet.check(b, 0));
        } finally {
            b.release();
        }
    }

    @Test
    void truncatedAtEveryLength() {
        WireTestBuffers.forEachTruncation(QINQ, (b, len) -> {
            int off = b.readerIndex();
            if (len < 14) {
                assertEquals(-1, Ethernet.dst(b, off), "len " + len);
                assertEquals(-1, Ethernet.src(b, off));
                assertEquals(-1, Ethernet.etherType(b, off));
            } else {
                assertEquals(0x0200_0000_0b01L, Ethernet.dst(b, off));
                assertEquals(0x88a8, Ethernet.etherType(b, off));
            }
            // inner type of the double-tagged frame needs all 22 header bytes
            assertEquals(len >= 22 ? 22 : WireError.TRUNCATED, Ethernet.check(b, off), "len " + len);
            int want = len >= 22 ? off + 22 : -1;
            assertEquals(want, Ethernet.payloadOffset(b, off), "len " + len);
            assertEquals(len >= 22 ? Ethernet.IPV6 : -1, Ethernet.innerEtherType(b, off), "len " + len);
            assertEquals(len >= 22 ? 2 : -1, Ethernet.vlanCount(b, off), "len " + len);
            assertEquals(len >= 18 ? 100 : -1, Vlan.outerVid(b, off), "len " + len);
            assertEquals(len >= 16 ? 100 : -1, Vlan.vid(b, off + 12), "len " + len);
        });
        WireTestBuffers.forEachTruncation(UNTAGGED, (b, len) -> {
            int off = b.readerIndex();
            assertEquals(len >= 14 ? off + 14 : -1, Ethernet.payloadOffset(b, off), "len " + len);
        });
    }

    @Test
    void badOffsetsNeverThrow() {
        ByteBuf b = Unpooled.wrappedBuffer(UNTAGGED);
        try {
            for (int off : new int[]{-1, Integer.MIN_VALUE, Integer.MAX_VALUE, 13, 16, 100}) {
                assertEquals(-1, Ethernet.dst(b, off));
                assertEquals(-1, Ethernet.src(b, off));
                assertEquals(-1, Ethernet.etherType(b, off));
                assertEquals(-1, Ethernet.payloadOffset(b, off));
                assertEquals(-1, Ethernet.innerEtherType(b, off));
                assertEquals(-1, Ethernet.vlanCount(b, off));
                assertEquals(-1, Vlan.outerVid(b, off));
                assertEquals(-1, Vlan.tci(b, off));
            }
        } finally {
            b.release();
        }
    }

    @Test
    void realCapturedFrames() {
        byte[] arp = Captures.bytes(Captures.ARP_REQUEST);
        WireTestBuffers.forEachKind(arp, b -> {
            int off = b.readerIndex();
            assertEquals(MacAddress.BROADCAST, Ethernet.dst(b, off));
            assertEquals(MacAddress.parse("02:00:00:00:0a:01"), Ethernet.src(b, off));
            assertEquals(Ethernet.ARP, Ethernet.innerEtherType(b, off));
            assertEquals(off + 14, Ethernet.payloadOffset(b, off));
        });
        byte[] v6 = Captures.bytes(Captures.NDP_NS);
        WireTestBuffers.forEachKind(v6, b -> {
            int off = b.readerIndex();
            assertEquals(0x3333_ff00_0002L, Ethernet.dst(b, off)); // solicited-node group of fd77::2
            assertEquals(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(2)), Ethernet.dst(b, off));
            assertEquals(Ethernet.IPV6, Ethernet.etherType(b, off));
        });
    }

    @Test
    void writeHeaderUntaggedAndTagged() {
        ByteBuf out = Unpooled.buffer(4); // grows
        try {
            out.writeByte(0x77); // writes append at writerIndex
            assertEquals(14, Ethernet.writeHeader(out, MacAddress.BROADCAST, 0x0200_0000_0a01L, Ethernet.ARP));
            assertEquals("77" + "ffffffffffff" + "020000000a01" + "0806", WireTestBuffers.toHex(out));
            out.clear();
            assertEquals(18, Ethernet.writeHeader(out, 0x0200_0000_0b01L, 0x0200_0000_0a01L, 10, Ethernet.IPV4));
            assertEquals("020000000b01" + "020000000a01" + "8100" + "000a" + "0800", WireTestBuffers.toHex(out));
            out.clear();
            assertEquals(18, Vlan.writeTaggedHeader(out, 1, 2, Ethernet.QINQ_8021AD, Vlan.tci(5, 1, 100), 0x86dd));
            assertEquals("000000000001" + "000000000002" + "88a8" + "b064" + "86dd", WireTestBuffers.toHex(out));
            out.clear();
            assertEquals(22, Vlan.writeDoubleTaggedHeader(out, 0x0200_0000_0b01L, 0x0200_0000_0a01L,
                    Vlan.tci(5, 1, 100), Vlan.tci(0, 0, 10), Ethernet.IPV6));
            out.writeByte(0x60);
            assertEquals(WireTestBuffers.toHex(QINQ), WireTestBuffers.toHex(out));
        } finally {
            out.release();
        }
    }

    @Test
    void inPlaceAddressRewrite() {
        ByteBuf b = Unpooled.buffer().writeBytes(UNTAGGED);
        try {
            Ethernet.setDst(b, 0, 0x0200_0000_0b01L);
            Ethernet.setSrc(b, 0, 0x0200_0000_0c01L);
            assertEquals("020000000b01" + "020000000c01" + "0806abcd", WireTestBuffers.toHex(b));
        } finally {
            b.release();
        }
    }

    @Test
    void reprRoundTrip() {
        ByteBuf b = Unpooled.wrappedBuffer(QINQ);
        ByteBuf out = Unpooled.buffer();
        try {
            EthernetRepr r = EthernetRepr.parse(b, 0);
            assertEquals(new EthernetRepr(0x0200_0000_0b01L, 0x0200_0000_0a01L,
                    List.of(new Vlan.Tag(0x88a8, 0xb064), new Vlan.Tag(0x8100, 10)), 0x86dd), r);
            assertEquals(22, r.emittedLength());
            r.emit(out);
            assertEquals(WireTestBuffers.toHex(b, 0, 22), WireTestBuffers.toHex(out));
            assertNull(EthernetRepr.parse(b.slice(0, 20), 0));
        } finally {
            b.release();
            out.release();
        }
    }

    @Test
    void tciRejectsOutOfRangeParts() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Vlan.tci(8, 0, 1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Vlan.tci(0, 2, 1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Vlan.tci(0, 0, 4096));
        assertEquals(0xffff, Vlan.tci(7, 1, 4095));
    }
}

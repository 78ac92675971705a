package dev.pktkit.slirp;

import dev.pktkit.codec.offload.OffloadPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LargeFrames} on its own (an {@code EmbeddedChannel} with its two handlers and no adapter between them):
 * a large segment to a destination whose MAC a plain frame showed goes out whole as a frame with its offload state;
 * without a MAC, or with a port on the segment that wants plain frames, it is cut into MTU-sized packets whose
 * headers and checksums (checked here by an independent sum) are those of the segments a sender would have sent.
 */
class LargeFramesTest {
    private static final long GATEWAY_MAC = 0x5255_0A00_0202L;
    private static final long GUEST_MAC = 0x5254_0012_3456L;
    private static final int GATEWAY = 0x0A00_0202; // 10.0.2.2
    private static final int GUEST = 0x0A00_020F;   // 10.0.2.15
    private static final int OTHER = 0x0A00_0210;   // 10.0.2.16
    private static final int MSS = 1448;
    private static final long SEQ = 0xFFFF_F000L;   // wraps inside the segment

    @Test
    void aLargeSegmentToANotedDestinationLeavesWholeWithAnEthernetHeader() {
        LargeFrames large = new LargeFrames(GATEWAY_MAC);
        EmbeddedChannel ch = new EmbeddedChannel(large.learner(), large.framer());
        ch.writeOutbound(plainFrame(GUEST_MAC, GUEST));
        ByteBuf plain = ch.readOutbound();
        plain.release();

        byte[] payload = payload(4000);
        ByteBuf ip = tcpSegment(GUEST, payload, true);
        byte[] ipBytes = ByteBufUtil.getBytes(ip);
        ch.writeOutbound(new OffloadPacket(ip, OffloadPacket.FLAG_NEEDS_CSUM, OffloadPacket.GSO_TCPV4, 40, MSS, 20,
                16));
        OffloadPacket out = ch.readOutbound();
        try {
            ByteBuf f = out.content();
            assertEquals(14 + ipBytes.length, f.readableBytes());
            int o = f.readerIndex();
            assertEquals(GUEST_MAC, ((f.getShort(o) & 0xFFFFL) << 32) | (f.getInt(o + 2) & 0xFFFF_FFFFL));
            assertEquals(GATEWAY_MAC, ((f.getShort(o + 6) & 0xFFFFL) << 32) | (f.getInt(o + 8) & 0xFFFF_FFFFL));
            assertEquals(0x0800, f.getUnsignedShort(o + 12));
            assertArrayEquals(ipBytes, ByteBufUtil.getBytes(f, o + 14, ipBytes.length));
            assertEquals(MSS, out.gsoSize());
            assertEquals(OffloadPacket.GSO_TCPV4, out.gsoType());
            assertTrue(out.needsChecksum());
            assertEquals(34, out.checksumStart(), "the checksum starts 14 bytes later, after the Ethernet header");
            assertEquals(16, out.checksumOffset());
        } finally {
            out.release();
        }
        assertEquals(1, large.framed);
        assertEquals(0, large.cut);
        assertNull(ch.readOutbound());
        assertFalse(ch.finish());
    }

    @Test
    void withoutANotedMacTheSegmentIsCutIntoValidPackets() {
        LargeFrames large = new LargeFrames(GATEWAY_MAC);
        EmbeddedChannel ch = new EmbeddedChannel(large.learner(), large.framer());
        ch.writeOutbound(plainFrame(GUEST_MAC, GUEST));
        ((ByteBuf) ch.readOutbound()).release();
        assertCut(ch, large, OTHER); // another destination: no MAC noted for it
    }

    @Test
    void aPortThatWantsPlainFramesMakesEverySegmentCut() {
        LargeFrames large = new LargeFrames(GATEWAY_MAC);
        EmbeddedChannel ch = new EmbeddedChannel(large.learner(), large.framer());
        ch.writeOutbound(plainFrame(GUEST_MAC, GUEST));
        ((ByteBuf) ch.readOutbound()).release();
        large.plainPortsPresent = true;
        assertCut(ch, large, GUEST);
    }

    private static void assertCut(EmbeddedChannel ch, LargeFrames large, int dst) {
        byte[] payload = payload(MSS * 2 + 100);
        ch.writeOutbound(new OffloadPacket(tcpSegment(dst, payload, true), OffloadPacket.FLAG_NEEDS_CSUM,
                OffloadPacket.GSO_TCPV4, 40, MSS, 20, 16));
        List<ByteBuf> pieces = new ArrayList<>();
        for (Object m; (m = ch.readOutbound()) != null; ) {
            pieces.add(assertInstanceOf(ByteBuf.class, m, "plain packets for the adapter"));
        }
        try {
            assertEquals(3, pieces.size());
            ByteBuf joined = Unpooled.buffer();
            for (int i = 0; i < 3; i++) {
                ByteBuf p = pieces.get(i);
                int o = p.readerIndex();
                int len = i < 2 ? MSS : 100;
                assertEquals(40 + len, p.readableBytes());
                assertEquals(40 + len, p.getUnsignedShort(o + 2), "IPv4 total length");
                assertEquals(0x1234 + i, p.getUnsignedShort(o + 4), "IPv4 id counts up");
                assertEquals(dst, p.getInt(o + 16));
                assertEquals(0xFFFF, sum(p, o, 20, 0), "IPv4 header checksum");
                assertEquals((SEQ + (long) i * MSS) & 0xFFFF_FFFFL, p.getUnsignedInt(o + 24), "sequence number");
                int flags = p.getUnsignedByte(o + 33);
                assertEquals(i == 2, (flags & 0x08) != 0, "PSH on the last piece only");
                assertTrue((flags & 0x10) != 0, "ACK on every piece");
                long pseudo = ((GATEWAY >>> 16) & 0xFFFF) + (GATEWAY & 0xFFFF) + ((dst >>> 16) & 0xFFFF)
                        + (dst & 0xFFFF) + 6 + 20 + len;
                assertEquals(0xFFFF, sum(p, o + 20, 20 + len, pseudo), "TCP checksum");
                joined.writeBytes(p, o + 40, len);
            }
            assertArrayEquals(payload, ByteBufUtil.getBytes(joined));
            joined.release();
        } finally {
            pieces.forEach(ByteBuf::release);
        }
        assertEquals(1, large.cut);
        assertEquals(0, large.framed);
        assertFalse(ch.finish());
    }

    /** The ones'-complement sum of {@code len} bytes at {@code off} plus {@code start}, folded to 16 bits. */
    private static int sum(ByteBuf b, int off, int len, long start) {
        long s = start;
        for (int i = 0; i + 1 < len; i += 2) {
            s += b.getUnsignedShort(off + i);
        }
        if ((len & 1) != 0) {
            s += b.getUnsignedByte(off + len - 1) << 8;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    private static byte[] payload(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) {
            p[i] = (byte) (i * 31 + 7);
        }
        return p;
    }

    /** An Ethernet frame from the gateway to {@code mac} carrying a minimal IPv4 header to {@code dst}. */
    private static ByteBuf plainFrame(long mac, int dst) {
        ByteBuf f = Unpooled.directBuffer(14 + 20);
        f.writeShort((int) (mac >>> 32)).writeInt((int) mac);
        f.writeShort((int) (GATEWAY_MAC >>> 32)).writeInt((int) GATEWAY_MAC).writeShort(0x0800);
        f.writeByte(0x45).writeByte(0).writeShort(20).writeShort(1).writeShort(0x4000).writeByte(64).writeByte(6)
                .writeShort(0).writeInt(GATEWAY).writeInt(dst);
        return f;
    }

    /**
     * A large IPv4 TCP segment from the gateway to {@code dst} (ACK|PSH), with 64 bytes of headroom, its TCP
     * checksum field holding the pseudo-header sum as vtcp leaves it for the device.
     */
    private static ByteBuf tcpSegment(int dst, byte[] payload, boolean psh) {
        ByteBuf b = Unpooled.directBuffer(64 + 40 + payload.length);
        b.writerIndex(64).readerIndex(64);
        int total = 40 + payload.length;
        b.writeByte(0x45).writeByte(0).writeShort(total).writeShort(0x1234).writeShort(0x4000).writeByte(64)
                .writeByte(6).writeShort(0).writeInt(GATEWAY).writeInt(dst);
        int o = b.readerIndex();
        b.setShort(o + 10, ~sum(b, o, 20, 0) & 0xFFFF);
        b.writeShort(5201).writeShort(40000).writeInt((int) SEQ).writeInt(77).writeByte(5 << 4)
                .writeByte(0x10 | (psh ? 0x08 : 0)).writeShort(65535).writeShort(0).writeShort(0);
        b.writeBytes(payload);
        return b;
    }
}

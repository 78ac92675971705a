package dev.pktkit.nat.defrag;

import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.nat.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DefragmenterTest {
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private final List<ByteBuf> held = new ArrayList<>();
    private final Defragmenter d = new Defragmenter(DefragConfig.builder().ipv6(true).maxDatagrams(4).build());

    @AfterEach
    void tearDown() {
        held.forEach(b -> {
            if (b.refCnt() > 0) {
                b.release();
            }
        });
        d.clear();
        assertEquals(0, d.heldBytes());
    }

    private ByteBuf hold(ByteBuf b) {
        held.add(b);
        return b;
    }

    private static List<ByteBuf> fragments(ByteBuf packet, int mtu) {
        List<ByteBuf> out = new ArrayList<>();
        new Fragmenter().fragment(packet, mtu, out::add);
        return out;
    }

    @Test
    void nonFragmentFastPathReturnsSameBuffer() {
        ByteBuf p = hold(Packets.udp("10.0.0.2", 1, "10.0.0.3", 2, 100));
        assertSame(p, d.offer(p, ALLOC));
        assertEquals(0, d.counters().fragments());
    }

    @Test
    void fragmenterCutsToMtuAndDefragmenterRestoresInAnyOrder() {
        ByteBuf original = hold(Packets.udp(Packets.ip("10.0.0.2"), 4000, Packets.ip("10.0.0.3"), 5000, 60000,
                false));
        for (int order = 0; order < 3; order++) {
            List<ByteBuf> frags = fragments(original.retainedDuplicate(), 1500);
            assertEquals(41, frags.size());
            for (int i = 0; i < frags.size(); i++) {
                ByteBuf f = frags.get(i);
                assertTrue(f.readableBytes() <= 1500);
                assertTrue(Ipv4.check(f, 0, true) > 0, "valid header");
                assertEquals(i < frags.size() - 1, Ipv4.moreFragments(f, 0));
                if (i < frags.size() - 1) {
                    assertEquals(0, (Ipv4.totalLength(f, 0) - 20) % 8);
                }
            }
            if (order == 1) {
                Collections.reverse(frags);
            } else if (order == 2) {
                Collections.shuffle(frags, new java.util.Random(7));
            }
            ByteBuf out = null;
            for (int i = 0; i < frags.size(); i++) {
                ByteBuf r = d.offer(frags.get(i), ALLOC);
                if (i < frags.size() - 1) {
                    assertNull(r);
                } else {
                    out = r;
                }
            }
            assertNotNull(out);
            hold(out);
            assertEquals(original, out);
            assertTrue(Packets.checksumsOk(out));
        }
        assertEquals(3, d.counters().reassembled());
        assertEquals(0, d.pending());
    }

    @Test
    void overlapDiscardsDatagramDuplicateIsTolerated() {
        ByteBuf original = hold(Packets.udp(Packets.ip("10.0.0.2"), 1, Packets.ip("10.0.0.3"), 2, 3000, false));
        List<ByteBuf> f = fragments(original.retainedDuplicate(), 1500);
        assertEquals(3, f.size());
        assertNull(d.offer(f.get(0), ALLOC));
        assertNull(d.offer(f.get(0).copy(), ALLOC)); // exact duplicate
        assertEquals(1, d.counters().dropped(DefragDropReason.DUPLICATE));
        // an overlapping piece: offset 8 into the first fragment's data
        ByteBuf overlap = f.get(1).copy();
        overlap.setShort(6, Ipv4.FLAG_MF | 1);
        Ipv4.fillChecksum(overlap, 0);
        assertNull(d.offer(overlap, ALLOC));
        assertEquals(2, d.counters().dropped(DefragDropReason.OVERLAP));
        assertEquals(0, d.pending());
        assertNull(d.offer(f.get(1), ALLOC));
        assertNull(d.offer(f.get(2), ALLOC), "the first fragment was discarded with the datagram");
        d.expire(1000);
        assertEquals(2, d.counters().dropped(DefragDropReason.TIMEOUT));
    }

    @Test
    void tinyFragmentsRefused() {
        // TCP at offset 8 (RFC 1858)
        ByteBuf t = hold(Unpooled.buffer());
        Ipv4.writeHeader(t, 0, 1, 1, 64, IpProtocol.TCP, Packets.ip("10.0.0.2"), Packets.ip("10.0.0.3"), null, 0, 0,
                16);
        t.writeZero(16);
        assertNull(d.offer(t.retain(), ALLOC));
        // first fragment with only 8 bytes of TCP
        ByteBuf t2 = hold(Unpooled.buffer());
        Ipv4.writeHeader(t2, 0, 2, Ipv4.FLAG_MF, 64, IpProtocol.TCP, Packets.ip("10.0.0.2"), Packets.ip("10.0.0.3"),
                null, 0, 0, 8);
        t2.writeZero(8);
        assertNull(d.offer(t2.retain(), ALLOC));
        assertEquals(2, d.counters().dropped(DefragDropReason.TINY_FRAGMENT));
        // a non-last fragment whose length is not a multiple of 8
        ByteBuf bad = hold(Unpooled.buffer());
        Ipv4.writeHeader(bad, 0, 3, Ipv4.FLAG_MF, 64, IpProtocol.UDP, Packets.ip("10.0.0.2"), Packets.ip("10.0.0.3"),
                null, 0, 0, 13);
        bad.writeZero(13);
        assertNull(d.offer(bad.retain(), ALLOC));
        assertEquals(1, d.counters().dropped(DefragDropReason.MALFORMED));
    }

    @Test
    void boundsAndTimeout() {
        for (int id = 0; id < 5; id++) {
            ByteBuf p = Unpooled.buffer();
            Ipv4.writeHeader(p, 0, id, Ipv4.FLAG_MF, 64, IpProtocol.UDP, Packets.ip("10.0.0.2"),
                    Packets.ip("10.0.0.3"), null, 0, 0, 16);
            p.writeZero(16);
            assertNull(d.offer(p, ALLOC));
        }
        assertEquals(4, d.pending());
        assertEquals(1, d.counters().dropped(DefragDropReason.TOO_MANY_DATAGRAMS));
        d.expire(29);
        assertEquals(4, d.pending());
        d.expire(30);
        assertEquals(0, d.pending());
        assertEquals(4, d.counters().dropped(DefragDropReason.TIMEOUT));
        Defragmenter small = new Defragmenter(DefragConfig.builder().maxBytes(65536).build());
        int refused = 0;
        for (int id = 0; id < 100; id++) {
            ByteBuf p = Unpooled.buffer(2048);
            Ipv4.writeHeader(p, 0, id, Ipv4.FLAG_MF, 64, IpProtocol.UDP, Packets.ip("10.0.0.2"),
                    Packets.ip("10.0.0.3"), null, 0, 0, 16);
            p.writeZero(16);
            small.offer(p, ALLOC);
        }
        assertTrue(small.heldBytes() <= 65536);
        assertTrue(small.counters().dropped(DefragDropReason.MEMORY_FULL) + small.counters()
                .dropped(DefragDropReason.TOO_MANY_DATAGRAMS) > 0);
        small.clear();
        assertEquals(0, small.heldBytes());
    }

    @Test
    void ipv6Reassembly() {
        long sHi = Ip6.parseHi("fd00::2");
        long sLo = Ip6.parseLo("fd00::2");
        long dHi = Ip6.parseHi("2001:db8::1");
        long dLo = Ip6.parseLo("2001:db8::1");
        int n = 3000;
        ByteBuf payload = hold(Unpooled.buffer(n));
        for (int i = 0; i < n; i++) {
            payload.writeByte(i);
        }
        ByteBuf udp = hold(Unpooled.buffer());
        Udp.writeDatagramV6(udp, sHi, sLo, dHi, dLo, 1000, 2000, payload, 0, n);
        ByteBuf whole = hold(Unpooled.buffer());
        Ipv6.writeHeader(whole, 0, 0, udp.readableBytes(), IpProtocol.UDP, 64, sHi, sLo, dHi, dLo);
        whole.writeBytes(udp, 0, udp.readableBytes());
        int[] cuts = {0, 1232, 2464, udp.readableBytes()};
        List<ByteBuf> frags = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ByteBuf f = Unpooled.buffer();
            int len = cuts[i + 1] - cuts[i];
            Ipv6.writeHeader(f, 0, 0, 8 + len, IpProtocol.IPV6_FRAG, 64, sHi, sLo, dHi, dLo);
            Ipv6.writeFragmentHeader(f, IpProtocol.UDP, cuts[i], i < 2, 0xABCDEF);
            f.writeBytes(udp, cuts[i], len);
            frags.add(f);
        }
        assertNull(d.offer(frags.get(2), ALLOC));
        assertNull(d.offer(frags.get(0), ALLOC));
        ByteBuf out = hold(d.offer(frags.get(1), ALLOC));
        assertEquals(whole, out);
        assertEquals(1, d.counters().reassembled());
    }
}

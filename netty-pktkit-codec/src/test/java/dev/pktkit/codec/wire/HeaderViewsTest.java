package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The header-at-a-time views ({@link EthernetHeader}, {@link Ipv4Header}, {@link Ipv6Header}) read what the
 * per-field static accessors read, on every buffer kind and at odd offsets, and refuse a short header without
 * touching what they hold.
 */
class HeaderViewsTest {
    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void ethernetViewMatchesTheAccessors() {
        EthernetHeader h = new EthernetHeader();
        for (long seed = 0; seed < 50; seed++) {
            WireTestBuffers.forEachKind(random(seed, 21), b -> {
                for (int off = b.readerIndex(); off + Ethernet.HEADER_LENGTH <= b.writerIndex(); off++) {
                    assertTrue(h.read(b, off));
                    assertEquals(Ethernet.dst(b, off), h.dst());
                    assertEquals(Ethernet.src(b, off), h.src());
                    assertEquals(Ethernet.etherType(b, off), h.etherType());
                }
            });
        }
    }

    @Test
    void ipv4ViewMatchesTheAccessors() {
        Ipv4Header h = new Ipv4Header();
        for (long seed = 0; seed < 50; seed++) {
            WireTestBuffers.forEachKind(random(seed, 27), b -> {
                for (int off = b.readerIndex(); off + Ipv4.MIN_HEADER_LENGTH <= b.writerIndex(); off++) {
                    assertTrue(h.read(b, off));
                    assertEquals(Ipv4.version(b, off), h.version());
                    assertEquals(Ipv4.headerLength(b, off), h.headerLength());
                    assertEquals(Ipv4.tos(b, off), h.tos());
                    assertEquals(Ipv4.dscp(b, off), h.dscp());
                    assertEquals(Ipv4.ecn(b, off), h.ecn());
                    assertEquals(Ipv4.totalLength(b, off), h.totalLength());
                    assertEquals(Ipv4.identification(b, off), h.identification());
                    assertEquals(Ipv4.flagsAndFragmentOffset(b, off), h.flagsAndFragmentOffset());
                    assertEquals(Ipv4.dontFragment(b, off), h.dontFragment());
                    assertEquals(Ipv4.moreFragments(b, off), h.moreFragments());
                    assertEquals(Ipv4.fragmentOffset(b, off), h.fragmentOffset());
                    assertEquals(Ipv4.isFragment(b, off), h.isFragment());
                    assertEquals(Ipv4.ttl(b, off), h.ttl());
                    assertEquals(Ipv4.protocol(b, off), h.protocol());
                    assertEquals(Ipv4.headerChecksum(b, off), h.headerChecksum());
                    assertEquals(Ipv4.src(b, off), h.src());
                    assertEquals(Ipv4.dst(b, off), h.dst());
                }
            });
        }
    }

    @Test
    void ipv6ViewMatchesTheAccessors() {
        Ipv6Header h = new Ipv6Header();
        for (long seed = 0; seed < 50; seed++) {
            WireTestBuffers.forEachKind(random(seed, 47), b -> {
                for (int off = b.readerIndex(); off + Ipv6.HEADER_LENGTH <= b.writerIndex(); off++) {
                    assertTrue(h.read(b, off));
                    assertEquals(Ipv6.version(b, off), h.version());
                    assertEquals(Ipv6.trafficClass(b, off), h.trafficClass());
                    assertEquals(Ipv6.flowLabel(b, off), h.flowLabel());
                    assertEquals(Ipv6.payloadLength(b, off), h.payloadLength());
                    assertEquals(Ipv6.nextHeader(b, off), h.nextHeader());
                    assertEquals(Ipv6.hopLimit(b, off), h.hopLimit());
                    assertEquals(Ipv6.srcHi(b, off), h.srcHi());
                    assertEquals(Ipv6.srcLo(b, off), h.srcLo());
                    assertEquals(Ipv6.dstHi(b, off), h.dstHi());
                    assertEquals(Ipv6.dstLo(b, off), h.dstLo());
                }
            });
        }
    }

    @Test
    void aShortHeaderIsRefusedAndTheViewKeepsWhatItHeld() {
        byte[] data = random(99, 40);
        EthernetHeader e = new EthernetHeader();
        Ipv4Header v4 = new Ipv4Header();
        Ipv6Header v6 = new Ipv6Header();
        WireTestBuffers.forEachKind(data, b -> {
            int off = b.readerIndex();
            assertTrue(e.read(b, off));
            assertTrue(v4.read(b, off));
            assertTrue(v6.read(b, off));
            long dst = e.dst();
            int src4 = v4.src();
            long dstLo6 = v6.dstLo();
            ByteBuf shortBuf = b.copy(off, 13);
            try {
                assertFalse(e.read(shortBuf, 0), "13 bytes");
                assertFalse(v4.read(shortBuf, 0));
                assertFalse(v6.read(shortBuf, 0));
                assertFalse(e.read(b, -1), "negative offset");
                assertFalse(v4.read(b, b.writerIndex() - 19), "19 bytes before the writer index");
                assertFalse(v6.read(b, b.writerIndex() - 39));
            } finally {
                shortBuf.release();
            }
            assertEquals(dst, e.dst());
            assertEquals(src4, v4.src());
            assertEquals(dstLo6, v6.dstLo());
        });
    }
}

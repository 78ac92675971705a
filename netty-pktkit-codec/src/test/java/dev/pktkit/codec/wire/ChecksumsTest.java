package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.pktkit.codec.wire.WireTestBuffers.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

class ChecksumsTest {

    /** Straight RFC 1071 §4.1 reference: 16-bit words, end-around carry after every add. */
    static int referenceSum(byte[] d, int off, int len) {
        int sum = 0;
        int i = off;
        for (; i + 1 < off + len; i += 2) {
            sum += ((d[i] & 0xFF) << 8) | (d[i + 1] & 0xFF);
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        if (i < off + len) {
            sum += (d[i] & 0xFF) << 8;
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return sum;
    }

    /**
     * The array overload sums as the buffer one does at any offset and length (and a piece summed on its own and
     * then placed at an odd distance with {@code oddOffset} adds up to the whole); bad ranges are refused.
     */
    @Test
    void arraySumsAsTheBufferSumAndOddPiecesJoin() {
        Random rnd = new Random(7);
        for (int round = 0; round < 500; round++) {
            byte[] a = new byte[1 + rnd.nextInt(3000)];
            rnd.nextBytes(a);
            int off = rnd.nextInt(a.length);
            int len = rnd.nextInt(a.length - off + 1);
            long initial = rnd.nextLong() >>> 1;
            ByteBuf direct = Unpooled.directBuffer(a.length).writeBytes(a);
            try {
                assertEquals(Checksums.fold(Checksums.partial(direct, off, len, initial)),
                        Checksums.fold(Checksums.partial(a, off, len, initial)), "round " + round);
                int cut = len == 0 ? 0 : rnd.nextInt(len) | 1; // an odd first piece, when there is room for one
                if (cut <= len) {
                    long first = Checksums.partial(a, off, cut, 0);
                    long second = Checksums.partial(a, off + cut, len - cut, 0);
                    assertEquals(Checksums.fold(Checksums.partial(a, off, len, 0)),
                            Checksums.fold(first + Checksums.oddOffset(second)), "round " + round);
                }
            } finally {
                direct.release();
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> Checksums.partial(new byte[4], 2, 3, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> Checksums.partial(new byte[4], -1, 1, 0));
    }

    @Test
    void rfc1071Example() {
        // RFC 1071 §3 numerical example: words 0001 f203 f4f5 f6f7 sum to 2ddf0, folded ddf2; checksum ~ddf2 = 220d
        byte[] d = hex("00 01 f2 03 f4 f5 f6 f7");
        WireTestBuffers.forEachKind(d, b -> {
            assertEquals(0xddf2, Checksums.fold(Checksums.partial(b, b.readerIndex(), 8, 0)));
            assertEquals(0x220d, Checksums.internet(b, b.readerIndex(), 8));
        });
    }

    @Test
    void knownIpv4Header() {
        // A classic IPv4 header (192.168.0.1 -> 192.168.0.199, UDP, TTL 64, DF) whose checksum is b861
        byte[] h = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
        WireTestBuffers.forEachKind(h, b -> assertEquals(0xb861, Checksums.internet(b, b.readerIndex(), 20)));
        h[10] = (byte) 0xb8;
        h[11] = 0x61;
        WireTestBuffers.forEachKind(h, b -> assertTrue(Checksums.verify(b, b.readerIndex(), 20, 0)));
        h[11] = 0x62;
        WireTestBuffers.forEachKind(h, b -> assertFalse(Checksums.verify(b, b.readerIndex(), 20, 0)));
    }

    @Test
    void oddLengthPadsTrailingByteWithZeroLowOctet() {
        // 01 02 03 -> words 0102 + 0300 = 0402; checksum fbfd
        byte[] d = hex("01 02 03");
        WireTestBuffers.forEachKind(d, b -> {
            assertEquals(0x0402, Checksums.fold(Checksums.partial(b, b.readerIndex(), 3, 0)));
            assertEquals(0xfbfd, Checksums.internet(b, b.readerIndex(), 3));
        });
        // the single byte ab -> word ab00
        ByteBuf one = Unpooled.wrappedBuffer(new byte[]{(byte) 0xab});
        try {
            assertEquals(0xab00, Checksums.fold(Checksums.partial(one, 0, 1, 0)));
        } finally {
            one.release();
        }
    }

    @Test
    void emptyAndZeroData() {
        ByteBuf b = Unpooled.buffer(16).writeZero(16);
        try {
            assertEquals(0, Checksums.partial(b, 3, 0, 0));
            assertEquals(0, Checksums.fold(Checksums.partial(b, 0, 16, 0)));
            assertEquals(0xFFFF, Checksums.internet(b, 0, 16));
        } finally {
            b.release();
        }
    }

    @Test
    void foldEdgeCases() {
        assertEquals(0, Checksums.fold(0));
        assertEquals(0xFFFF, Checksums.fold(0xFFFF));
        assertEquals(1, Checksums.fold(0x10000));
        assertEquals(0xFFFF, Checksums.fold(0x1FFFE));
        assertEquals(0xFFFF, Checksums.fold(0xFFFF_FFFFL));
        assertEquals(0xFFFF, Checksums.fold(-1L)); // all ones: congruent to 0, non-zero
        assertEquals(1, Checksums.fold(1L << 48));
        assertEquals(0x0000, Checksums.finish(0xFFFF));
        assertEquals(0xFFFF, Checksums.finish(0));
    }

    @Test
    void everyLengthAndStartOffsetMatchesReferenceInEveryBufferKind() {
        Random rnd = new Random(1071);
        byte[] data = new byte[300];
        rnd.nextBytes(data);
        for (WireTestBuffers.Kind kind : WireTestBuffers.Kind.values()) {
            ByteBuf b = WireTestBuffers.of(kind, data);
            try {
                int base = b.readerIndex();
                for (int start = 0; start < 40; start++) {
                    for (int len = 0; start + len <= data.length; len += (len < 80 ? 1 : 37)) {
                        int want = referenceSum(data, start, len);
                        int got = Checksums.fold(Checksums.partial(b, base + start, len, 0));
                        assertEquals(want, got, kind + " start " + start + " len " + len);
                    }
                }
            } finally {
                b.release();
            }
        }
    }

    @Test
    void largeBuffersAllKindsAgree() {
        Random rnd = new Random(42);
        for (int len : new int[]{1500, 1501, 9000, 65535}) {
            byte[] data = new byte[len];
            rnd.nextBytes(data);
            int want = referenceSum(data, 0, len);
            WireTestBuffers.forEachKind(data, b ->
                    assertEquals(want, Checksums.fold(Checksums.partial(b, b.readerIndex(), len, 0)), "len " + len));
        }
        // all 0xff bytes: the sum grows fastest; must still fold to ffff
        byte[] ones = new byte[65536];
        java.util.Arrays.fill(ones, (byte) 0xFF);
        WireTestBuffers.forEachKind(ones, b ->
                assertEquals(0xFFFF, Checksums.fold(Checksums.partial(b, b.readerIndex(), ones.length, 0))));
    }

    @Test
    void compositeSplitAtOddIndexInsideAWord() {
        // components 5 + 6 + 9 bytes: every 8-byte read straddles a boundary at least once
        Random rnd = new Random(7);
        byte[] data = new byte[20];
        rnd.nextBytes(data);
        CompositeByteBuf c = Unpooled.compositeBuffer();
        try {
            c.addComponent(true, Unpooled.wrappedBuffer(data, 0, 5));
            c.addComponent(true, Unpooled.directBuffer(6).writeBytes(data, 5, 6));
            c.addComponent(true, Unpooled.wrappedBuffer(data, 11, 9));
            for (int s = 0; s < 20; s++) {
                for (int l = 0; s + l <= 20; l++) {
                    assertEquals(referenceSum(data, s, l), Checksums.fold(Checksums.partial(c, s, l, 0)));
                }
            }
        } finally {
            c.release();
        }
    }

    @Test
    void partialSumsChainOverEvenSplits() {
        Random rnd = new Random(3);
        byte[] data = new byte[777];
        rnd.nextBytes(data);
        ByteBuf b = Unpooled.wrappedBuffer(data);
        try {
            long whole = Checksums.partial(b, 0, data.length, 0);
            for (int split = 0; split <= data.length; split += 2) {
                long s = Checksums.partial(b, 0, split, 0);
                s = Checksums.partial(b, split, data.length - split, s);
                assertEquals(Checksums.fold(whole), Checksums.fold(s), "split " + split);
            }
            // a huge initial value is reduced, not overflowed
            long big = 0xFFFF_FFFF_FFFF_FFFFL;
            assertEquals(Checksums.fold(Checksums.fold(big) + (long) Checksums.fold(whole)),
                    Checksums.fold(Checksums.partial(b, 0, data.length, big)));
        } finally {
            b.release();
        }
    }

    @Test
    void outOfRangeThrowsIndexOutOfBounds() {
        ByteBuf b = Unpooled.buffer(8, 8).writeZero(8);
        try {
            assertThrows(IndexOutOfBoundsException.class, () -> Checksums.partial(b, 4, 5, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> Checksums.partial(b, -1, 2, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> Checksums.partial(b, 0, -1, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> Checksums.partial(b, Integer.MAX_VALUE, 2, 0));
        } finally {
            b.release();
        }
    }

    @Test
    void pseudoHeaderV4MatchesSumOverItsBytes() {
        // RFC 768 pseudo-header: src, dst, zero, protocol, UDP length
        byte[] ph = hex("0a4d0001 0a4d0002 00 11 000e");
        ByteBuf b = Unpooled.wrappedBuffer(ph);
        try {
            assertEquals(Checksums.fold(Checksums.partial(b, 0, ph.length, 0)),
                    Checksums.fold(Checksums.pseudoHeaderV4(0x0a4d0001, 0x0a4d0002, 17, 14)));
        } finally {
            b.release();
        }
        // high-bit addresses: no sign trouble
        byte[] ph2 = hex("ffffffff e0000001 00 06 ffff");
        ByteBuf b2 = Unpooled.wrappedBuffer(ph2);
        try {
            assertEquals(Checksums.fold(Checksums.partial(b2, 0, ph2.length, 0)),
                    Checksums.fold(Checksums.pseudoHeaderV4(0xFFFFFFFF, 0xE0000001, 6, 0xFFFF)));
        } finally {
            b2.release();
        }
    }

    @Test
    void pseudoHeaderV6MatchesSumOverItsBytes() {
        // RFC 8200 §8.1: src(16) dst(16) upper-layer length(4) zero(3) next header(1)
        byte[] ph = hex("fd770000000000000000000000000001 fd770000000000000000000000000002 0000000e 000000 11");
        ByteBuf b = Unpooled.wrappedBuffer(ph);
        try {
            long want = Checksums.fold(Checksums.partial(b, 0, ph.length, 0));
            assertEquals(want, Checksums.fold(Checksums.pseudoHeaderV6(0xfd77_0000_0000_0000L, 1,
                    0xfd77_0000_0000_0000L, 2, 17, 14)));
        } finally {
            b.release();
        }
    }

    @Test
    void realUdpOverIpv6ChecksumVerifiesWithPseudoHeader() {
        // Captures.UDP6_HELLO: UDP fd77::1.48595 -> fd77::2.9999 "hello\n",
        // UDP header bdd3 270f 000e dc20 (ports, length 14, checksum dc20)
        byte[] udp = hex("bdd3 270f 000e dc20 68656c6c6f0a");
        assertTrue(Captures.UDP6_HELLO.endsWith(WireTestBuffers.toHex(udp)));
        long ph = Checksums.pseudoHeaderV6(0xfd77_0000_0000_0000L, 1, 0xfd77_0000_0000_0000L, 2, 17, udp.length);
        WireTestBuffers.forEachKind(udp, b -> assertTrue(Checksums.verify(b, b.readerIndex(), udp.length, ph)));
    }

    @Test
    void incrementalUpdateEqualsFullRecompute() {
        Random rnd = new Random(1624);
        byte[] data = new byte[64];
        ByteBuf b = Unpooled.wrappedBuffer(data);
        try {
            for (int round = 0; round < 20000; round++) {
                rnd.nextBytes(data);
                // change one 16-bit word (not the checksum)
                int at = 2 * rnd.nextInt(32);
                if (at == 10) {
                    at = 12;
                }
                if (round % 7 == 0) {
                    b.setShort(at, 0xFFFF); // extremes too
                }
                data[10] = 0;
                data[11] = 0;
                int ck = Checksums.internet(b, 0, 64);
                b.setShort(10, ck);
                int oldWord = b.getUnsignedShort(at);
                int newWord = round % 11 == 0 ? 0 : rnd.nextInt(0x10000);
                b.setShort(at, newWord);
                int updated = Checksums.incrementalUpdate16(ck, oldWord, newWord);
                b.setShort(10, 0);
                int full = Checksums.internet(b, 0, 64);
                assertEquals(full, updated, "round " + round);
                // and 32-bit changes at an even offset, as NAT does for addresses
                b.setShort(10, full);
                int at32 = 4 * rnd.nextInt(16);
                if (at32 == 8) {
                    at32 = 12;
                }
                int oldV = b.getInt(at32);
                int newV = rnd.nextInt();
                b.setInt(at32, newV);
                int updated32 = Checksums.incrementalUpdate32(full, oldV, newV);
                b.setShort(10, 0);
                assertEquals(Checksums.internet(b, 0, 64), updated32, "round32 " + round);
            }
        } finally {
            b.release();
        }
    }

    @Test
    void ttlDecrementOnRealHeaderByIncrementalUpdate() {
        // Captured echo request 10.77.0.1 -> 10.77.0.2, TTL 64 (0x40), checksum 1544
        byte[] h = hex("4500 0054 10c9 4000 4001 1544 0a4d0001 0a4d0002");
        ByteBuf b = Unpooled.wrappedBuffer(h);
        try {
            assertTrue(Checksums.verify(b, 0, 20, 0));
            int oldWord = b.getUnsignedShort(8); // TTL | protocol
            int newWord = oldWord - 0x0100;      // TTL 63
            b.setShort(8, newWord);
            b.setShort(10, Checksums.incrementalUpdate16(0x1544, oldWord, newWord));
            assertEquals(0x1644, b.getUnsignedShort(10));
            assertTrue(Checksums.verify(b, 0, 20, 0));
        } finally {
            b.release();
        }
    }

    /** Direct buffers (summed in place without Unsafe, copied with it) and their slices against heap sums. */
    @Test
    void directBuffersAndSlicesSumAsHeapForEveryLengthAndOffset() {
        Random r = new Random(1);
        byte[] data = new byte[3000];
        r.nextBytes(data);
        ByteBuf direct = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(3000).writeBytes(data);
        ByteBuf heap = Unpooled.wrappedBuffer(data);
        ByteBuf slice = direct.slice(7, 2500);
        try {
            for (int i = 0; i < 2000; i++) {
                int off = r.nextInt(1000);
                int len = i < 300 ? i : r.nextInt(1500);
                long init = r.nextLong() >>> 1;
                int want = Checksums.fold(Checksums.partial(heap, off, len, init));
                assertEquals(want, Checksums.fold(Checksums.partial(direct, off, len, init)), off + "+" + len);
                assertEquals(Checksums.fold(Checksums.partial(heap, off + 7, len, init)),
                        Checksums.fold(Checksums.partial(slice, off, len, init)), "slice " + off + "+" + len);
                assertTrue(Checksums.partial(direct, off, len, init) < 1L << 40, "bound");
            }
        } finally {
            direct.release();
        }
    }

    /**
     * Seeded random ranges of random buffers against a plain word-by-word sum: heap (unpooled, pooled, adaptive),
     * direct (unpooled, pooled, adaptive), slices at odd offsets, and composites of 1-6 components of mixed kinds
     * and odd sizes; odd offsets and lengths up to 70 000 bytes, any initial sum. The folded result must be the
     * reference's exactly, and the running sum stay below 2^40.
     */
    @Test
    void randomizedAgainstAPlainWordSumOverEveryBufferKind() {
        Random r = new Random(0x1071_1624L);
        io.netty.buffer.ByteBufAllocator pooled = io.netty.buffer.PooledByteBufAllocator.DEFAULT;
        io.netty.buffer.ByteBufAllocator adaptive = new io.netty.buffer.AdaptiveByteBufAllocator();
        for (int round = 0; round < 600; round++) {
            int size = round % 5 == 0 ? 1 + r.nextInt(70_000) : 1 + r.nextInt(3000);
            byte[] data = new byte[size];
            r.nextBytes(data);
            if (round % 7 == 0) {
                java.util.Arrays.fill(data, (byte) 0xFF); // the fastest-growing sum
            }
            int kind = r.nextInt(9);
            ByteBuf b;
            int lead = 0; // bytes before data[0] in b
            switch (kind) {
                case 0 -> b = Unpooled.wrappedBuffer(data.clone());
                case 1 -> b = pooled.heapBuffer(size).writeBytes(data);
                case 2 -> b = adaptive.heapBuffer(size).writeBytes(data);
                case 3 -> b = Unpooled.directBuffer(size).writeBytes(data);
                case 4 -> b = pooled.directBuffer(size).writeBytes(data);
                case 5 -> b = adaptive.directBuffer(size).writeBytes(data);
                case 6 -> { // a slice at an odd offset of a bigger direct buffer
                    lead = 1 + 2 * r.nextInt(8);
                    ByteBuf parent = (r.nextBoolean() ? pooled : adaptive).directBuffer(size + lead + 5);
                    parent.writeZero(lead).writeBytes(data).writeZero(5);
                    b = parent.slice(lead, size);
                    lead = 0;
                    b = b.retainedSlice(); // own reference for the release below
                    parent.release();
                }
                default -> { // composite
                    CompositeByteBuf c = Unpooled.compositeBuffer(8);
                    int at = 0;
                    int parts = 1 + r.nextInt(6);
                    for (int p = 0; p < parts && at < size; p++) {
                        int n = p == parts - 1 ? size - at : Math.min(size - at, 1 + r.nextInt(Math.max(1, size / 2)));
                        ByteBuf part = switch (r.nextInt(4)) {
                            case 0 -> Unpooled.wrappedBuffer(data.clone(), at, n);
                            case 1 -> pooled.directBuffer(n).writeBytes(data, at, n);
                            case 2 -> adaptive.directBuffer(n).writeBytes(data, at, n);
                            default -> Unpooled.directBuffer(n).writeBytes(data, at, n);
                        };
                        c.addComponent(true, part);
                        at += n;
                    }
                    if (at < size) {
                        c.addComponent(true, Unpooled.wrappedBuffer(data.clone(), at, size - at));
                    }
                    b = c;
                }
            }
            try {
                for (int k = 0; k < 8; k++) {
                    int off = r.nextInt(size + 1);
                    int len = r.nextInt(size - off + 1);
                    long init = k == 0 ? 0 : r.nextLong() >>> 2;
                    long ref = init;
                    int i = off;
                    for (; i + 1 < off + len; i += 2) {
                        ref += ((data[i] & 0xFF) << 8) | (data[i + 1] & 0xFF);
                    }
                    if (i < off + len) {
                        ref += (data[i] & 0xFF) << 8;
                    }
                    while ((ref >>> 16) != 0) {
                        ref = (ref & 0xFFFF) + (ref >>> 16);
                    }
                    long got = Checksums.partial(b, lead + off, len, init);
                    String what = "kind " + kind + " size " + size + " off " + off + " len " + len;
                    assertEquals((int) ref, Checksums.fold(got), what);
                    assertEquals(~(int) ref & 0xFFFF, Checksums.finish(got), what);
                    assertTrue(got >= 0 && got < 1L << 40, what);
                }
            } finally {
                b.release();
            }
        }
    }
}

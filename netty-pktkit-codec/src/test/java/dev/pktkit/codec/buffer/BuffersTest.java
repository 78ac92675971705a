package dev.pktkit.codec.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BuffersTest {
    private final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    @Test
    void soleOwnerGetsTheSameBuffer() {
        ByteBuf b = alloc.directBuffer(8).writeLong(42);
        ByteBuf e = Buffers.exclusive(b, alloc);
        assertSame(b, e);
        e.release();
    }

    @Test
    void sharedDuplicateIsCopiedAndTheOtherHolderIsUntouched() {
        ByteBuf original = alloc.directBuffer(8).writeLong(42);
        ByteBuf dup = original.retainedDuplicate(); // as a hub's flood hands out
        assertFalse(Buffers.isExclusive(dup));
        ByteBuf mine = Buffers.exclusive(dup, alloc);
        assertNotSame(dup, mine);
        mine.setLong(0, 7);
        assertEquals(42, original.getLong(0), "the other receiver still sees its bytes");
        assertEquals(1, original.refCnt(), "the duplicate's reference was released");
        mine.release();
        original.release();
    }

    @Test
    void lastDuplicateStandingIsExclusive() {
        ByteBuf original = alloc.directBuffer(8).writeLong(42);
        ByteBuf dup = original.retainedDuplicate();
        original.release();
        assertTrue(Buffers.isExclusive(dup));
        dup.release();
    }

    @Test
    void readOnlyIsNeverExclusive() {
        ByteBuf b = alloc.heapBuffer(8).writeLong(1);
        ByteBuf ro = b.asReadOnly();
        ByteBuf mine = Buffers.exclusive(ro, alloc);
        assertNotSame(ro, mine);
        assertEquals(0, b.refCnt());
        mine.release();
    }

    /** Every length around the word and int boundaries, and past the word-copy limit, between every kind of memory. */
    @Test
    void copyMovesExactlyTheBytesAskedForBetweenAnyKindsOfBuffer() {
        io.netty.buffer.ByteBufAllocator[] allocators = {alloc, io.netty.buffer.ByteBufAllocator.DEFAULT,
                io.netty.buffer.UnpooledByteBufAllocator.DEFAULT};
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        int[] lengths = {0, 1, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 17, 84, 1500, Buffers.WORD_COPY_MAX,
                Buffers.WORD_COPY_MAX + 1, 3000};
        for (io.netty.buffer.ByteBufAllocator from : allocators) {
            for (io.netty.buffer.ByteBufAllocator to : allocators) {
                for (boolean directSrc : new boolean[] {true, false}) {
                    for (boolean directDst : new boolean[] {true, false}) {
                        for (int len : lengths) {
                            ByteBuf src = directSrc ? from.directBuffer(len + 11) : from.heapBuffer(len + 11);
                            ByteBuf dst = directDst ? to.directBuffer(len + 21) : to.heapBuffer(len + 21);
                            try {
                                for (int i = 0; i < len + 11; i++) {
                                    src.writeByte(rnd.nextInt(256));
                                }
                                dst.writeZero(len + 21);
                                Buffers.copy(src, 5, dst, 9, len);
                                String at = from + " -> " + to + ", " + len + " B";
                                assertEquals(src.slice(5, len), dst.slice(9, len), at);
                                for (int i = 0; i < 9; i++) {
                                    assertEquals(0, dst.getByte(i), at + ": nothing written before");
                                }
                                for (int i = 9 + len; i < len + 21; i++) {
                                    assertEquals(0, dst.getByte(i), at + ": nothing written after");
                                }
                                assertEquals(0, src.readerIndex());
                                assertEquals(len + 21, dst.writerIndex(), "indices do not move");
                            } finally {
                                src.release();
                                dst.release();
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The class {@code Buffers.copy} takes for the adaptive allocator's buffers is really the one Netty hands out
     * (a Netty upgrade that renames it would otherwise quietly bring back the per-copy views).
     */
    @Test
    void adaptiveBufferClassIsRecognised() {
        ByteBuf b = new io.netty.buffer.AdaptiveByteBufAllocator().directBuffer(100);
        try {
            ByteBuf base = b;
            while (base.unwrap() != null) {
                base = base.unwrap(); // leak-detection wrappers in tests
            }
            assertSame(base.getClass(), Buffers.ADAPTIVE);
        } finally {
            b.release();
        }
    }

    /**
     * Seeded random copies through every route of {@code copy}: sources and destinations that are heap or direct,
     * pooled, adaptive or unpooled, whole buffers, duplicates, whole-buffer slices, partial slices and composites,
     * lengths from 0 to 70 000 around and far past the word-copy limit, at random offsets; the destination must
     * hold exactly the source's bytes in the range and nothing else may change.
     */
    @Test
    void randomizedCopiesBetweenDerivedAndCompositeBuffersOfEveryAllocator() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(1624);
        io.netty.buffer.ByteBufAllocator[] allocs = {alloc, new io.netty.buffer.AdaptiveByteBufAllocator(),
                io.netty.buffer.UnpooledByteBufAllocator.DEFAULT};
        for (int round = 0; round < 400; round++) {
            int len = switch (r.nextInt(4)) {
                case 0 -> r.nextInt(Buffers.WORD_COPY_MAX + 2);
                case 1 -> Buffers.WORD_COPY_MAX + 1 + r.nextInt(64);
                default -> r.nextInt(70_000);
            };
            int srcOff = r.nextInt(17);
            int dstOff = r.nextInt(17);
            byte[] data = new byte[srcOff + len + r.nextInt(9)];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) r.nextInt(256);
            }
            ByteBuf src = derive(filled(allocs[r.nextInt(3)], r.nextBoolean(), data, r), r);
            int dstCap = dstOff + len + r.nextInt(9);
            byte[] before = new byte[dstCap];
            for (int i = 0; i < dstCap; i++) {
                before[i] = (byte) r.nextInt(256);
            }
            ByteBuf dst = derive(filled(allocs[r.nextInt(3)], r.nextBoolean(), before, r), r);
            String at = "round " + round + ": " + describe(src) + " -> " + describe(dst) + ", " + len + " B";
            try {
                int sw = src.writerIndex();
                int dw = dst.writerIndex();
                Buffers.copy(src, srcOff, dst, dstOff, len);
                for (int i = 0; i < dstCap; i++) {
                    byte want = i >= dstOff && i < dstOff + len ? data[srcOff + i - dstOff] : before[i];
                    if (dst.getByte(i) != want) {
                        assertEquals(want, dst.getByte(i), at + ": byte " + i);
                    }
                }
                for (int i = 0; i < data.length; i++) {
                    if (src.getByte(i) != data[i]) {
                        assertEquals(data[i], src.getByte(i), at + ": source byte " + i + " changed");
                    }
                }
                assertEquals(sw, src.writerIndex(), at);
                assertEquals(dw, dst.writerIndex(), at);
                assertEquals(0, src.readerIndex(), at);
            } finally {
                src.release();
                dst.release();
            }
        }
    }

    /** A buffer of {@code data.length} bytes holding {@code data}: plain, or composite of up to 4 parts. */
    private static ByteBuf filled(io.netty.buffer.ByteBufAllocator a, boolean direct, byte[] data,
                                  java.util.SplittableRandom r) {
        if (data.length > 1 && r.nextInt(5) == 0) {
            io.netty.buffer.CompositeByteBuf c = a.compositeBuffer(8);
            int at = 0;
            while (at < data.length) {
                int n = Math.min(data.length - at, 1 + r.nextInt(Math.max(1, data.length / 2)));
                ByteBuf part = r.nextBoolean() ? a.directBuffer(n) : a.heapBuffer(n);
                c.addComponent(true, part.writeBytes(data, at, n));
                at += n;
            }
            return c;
        }
        ByteBuf b = direct ? a.directBuffer(data.length) : a.heapBuffer(data.length);
        return b.writeBytes(data);
    }

    /**
     * {@code b} itself, a retained duplicate, or a retained slice of its whole readable range, or the same bytes
     * as a slice of a bigger parent (a partial slice); always one reference for the caller and indices from 0.
     */
    private static ByteBuf derive(ByteBuf b, java.util.SplittableRandom r) {
        int n = b.writerIndex();
        switch (r.nextInt(4)) {
            case 0:
                return b;
            case 1: {
                ByteBuf d = b.retainedDuplicate();
                b.release();
                return d;
            }
            case 2: {
                ByteBuf s = b.retainedSlice(0, n);
                b.release();
                return s;
            }
            default: {
                int lead = 1 + r.nextInt(7);
                ByteBuf parent = (b.isDirect() ? b.alloc().directBuffer(lead + n + 3) : b.alloc().heapBuffer(lead + n + 3));
                parent.writeZero(lead).writeBytes(b, 0, n).writeZero(3);
                b.release();
                ByteBuf s = parent.retainedSlice(lead, n);
                parent.release();
                return s;
            }
        }
    }

    private static String describe(ByteBuf b) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf x = b; x != null; x = x instanceof io.netty.buffer.CompositeByteBuf ? null : x.unwrap()) {
            sb.append(x.getClass().getSimpleName()).append(x.isDirect() ? "(direct)" : "(heap)").append('/');
        }
        return sb.toString();
    }

    /** {@code append} grows the destination, moves only its writer index, and keeps what was there. */
    @Test
    void appendAddsExactlyTheBytesAtTheWriterIndex() {
        java.util.Random r = new java.util.Random(2);
        byte[] data = new byte[5000];
        r.nextBytes(data);
        ByteBuf src = alloc.directBuffer(5000).writeBytes(data);
        try {
            for (int i = 0; i < 300; i++) {
                int off = r.nextInt(100);
                int len = i < 40 ? i : r.nextInt(4800);
                for (ByteBuf dst : new ByteBuf[]{alloc.directBuffer(16), alloc.heapBuffer(16)}) {
                    ByteBuf from = i % 2 == 0 ? src : io.netty.buffer.Unpooled.wrappedBuffer(data);
                    try {
                        dst.writeByte(0x5A);
                        Buffers.append(from, off, dst, len);
                        assertEquals(1 + len, dst.writerIndex());
                        assertEquals(0x5A, dst.getUnsignedByte(0));
                        assertEquals(from.slice(off, len), dst.slice(1, len), "len " + len);
                        assertEquals(0, from.readerIndex());
                    } finally {
                        dst.release();
                    }
                }
            }
        } finally {
            src.release();
        }
    }

    @Test
    void aReadOnlyDestinationIsRefusedAndLeftAlone() {
        io.netty.buffer.ByteBufAllocator[] allocs = {new io.netty.buffer.AdaptiveByteBufAllocator(),
                PooledByteBufAllocator.DEFAULT, io.netty.buffer.UnpooledByteBufAllocator.DEFAULT};
        for (io.netty.buffer.ByteBufAllocator alloc : allocs) {
            for (boolean direct : new boolean[] {true, false}) {
                // a short copy (word by word) and a long one (the routes that unwrap to the adaptive base)
                for (int len : new int[] {64, Buffers.WORD_COPY_MAX + 1000}) {
                    ByteBuf src = alloc.directBuffer(len).writeZero(len);
                    for (int i = 0; i < len; i++) {
                        src.setByte(i, 0x5a);
                    }
                    ByteBuf target = direct ? alloc.directBuffer(len) : alloc.heapBuffer(len);
                    target.writeZero(len);
                    ByteBuf readOnly = target.asReadOnly();
                    try {
                        org.junit.jupiter.api.Assertions.assertThrows(java.nio.ReadOnlyBufferException.class,
                                () -> Buffers.copy(src, 0, readOnly, 0, len), alloc + " " + direct + " " + len);
                        for (int i = 0; i < len; i++) {
                            assertEquals(0, target.getByte(i), alloc + " " + direct + " " + len + " at " + i);
                        }
                    } finally {
                        src.release();
                        target.release();
                    }
                }
            }
        }
    }
}

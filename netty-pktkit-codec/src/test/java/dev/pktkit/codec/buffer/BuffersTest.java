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
}

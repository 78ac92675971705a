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
}

package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The array fast path reads what the getters read, and a released buffer fails as Netty's getters fail. */
class PeekTest {
    private static final byte[] BYTES = {(byte) 0x81, 2, 3, 4, 5, 6, 7, (byte) 0xF8, 9, 10};

    @Test
    void everyBufferKindReadsBigEndianAtEveryIndex() {
        WireTestBuffers.forEachKind(BYTES, b -> {
            int base = b.readerIndex();
            for (int i = 0; i + 8 <= BYTES.length; i++) {
                int at = base + i;
                assertEquals(b.getUnsignedByte(at), (short) Peek.u8(b, at), "u8 at " + i);
                assertEquals(b.getUnsignedShort(at), Peek.u16(b, at), "u16 at " + i);
                assertEquals(b.getInt(at), Peek.i32(b, at), "i32 at " + i);
                assertEquals(b.getLong(at), Peek.i64(b, at), "i64 at " + i);
            }
        });
        assertEquals(0x8102, Peek.u16(Unpooled.wrappedBuffer(BYTES), 0));
        assertEquals(0xF8, Peek.u8(Unpooled.wrappedBuffer(BYTES), 7));
    }

    @Test
    void releasedHeapBufferThrowsLikeTheGetters() {
        ByteBuf pooled = PooledByteBufAllocator.DEFAULT.heapBuffer(64).writeZero(64);
        pooled.release();
        assertThrows(IllegalReferenceCountException.class, () -> pooled.getInt(0));
        assertThrows(IllegalReferenceCountException.class, () -> Peek.i32(pooled, 0));
        ByteBuf unpooled = Unpooled.buffer(64).writeZero(64);
        unpooled.release();
        assertThrows(IllegalReferenceCountException.class, () -> Ipv4.src(unpooled, 0));
        assertThrows(IllegalReferenceCountException.class, () -> Ethernet.dst(unpooled, 0));
    }
}

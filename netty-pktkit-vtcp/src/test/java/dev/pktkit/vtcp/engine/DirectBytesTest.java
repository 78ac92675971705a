package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Checksums;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link DirectBytes} against Netty's bulk copy and the codec's checksum, on direct, heap and sliced buffers. */
class DirectBytesTest {
    private final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    @Test
    void checksumEqualsTheCodecsForEveryLengthAndOffset() {
        Random r = new Random(1);
        byte[] data = new byte[3000];
        r.nextBytes(data);
        ByteBuf direct = alloc.directBuffer(3000).writeBytes(data);
        ByteBuf heap = Unpooled.wrappedBuffer(data);
        ByteBuf slice = direct.slice(7, 2500);
        try {
            for (int i = 0; i < 2000; i++) {
                int off = r.nextInt(1000);
                int len = i < 300 ? i : r.nextInt(1500);
                long init = r.nextLong() >>> 1;
                int want = Checksums.fold(Checksums.partial(heap, off, len, init));
                assertEquals(want, Checksums.fold(DirectBytes.partial(direct, off, len, init)), off + "+" + len);
                assertEquals(Checksums.fold(Checksums.partial(heap, off + 7, len, init)),
                        Checksums.fold(DirectBytes.partial(slice, off, len, init)), "slice " + off + "+" + len);
            }
        } finally {
            direct.release();
        }
    }

    @Test
    void copyAndAppendMoveExactlyTheBytes() {
        Random r = new Random(2);
        byte[] data = new byte[5000];
        r.nextBytes(data);
        ByteBuf src = alloc.directBuffer(5000).writeBytes(data);
        try {
            for (int i = 0; i < 500; i++) {
                int off = r.nextInt(100);
                int len = i < 40 ? i : r.nextInt(4800);
                for (ByteBuf dst : new ByteBuf[]{alloc.directBuffer(16), alloc.heapBuffer(16)}) {
                    try {
                        dst.writeByte(0x5A);
                        DirectBytes.append(i % 2 == 0 ? src : Unpooled.wrappedBuffer(data), off, dst, len);
                        assertEquals(1 + len, dst.writerIndex());
                        assertEquals(0x5A, dst.getUnsignedByte(0));
                        for (int k = 0; k < len; k++) {
                            assertEquals(data[off + k], dst.getByte(1 + k), "byte " + k + " of " + len);
                        }
                    } finally {
                        dst.release();
                    }
                }
            }
        } finally {
            src.release();
        }
    }
}

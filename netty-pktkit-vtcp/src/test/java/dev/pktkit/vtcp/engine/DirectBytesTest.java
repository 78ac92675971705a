package dev.pktkit.vtcp.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link DirectBytes} against Netty's bulk copy, on direct and heap buffers. */
class DirectBytesTest {
    private final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

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

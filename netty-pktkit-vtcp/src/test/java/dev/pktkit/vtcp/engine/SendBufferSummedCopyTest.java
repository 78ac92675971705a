package dev.pktkit.vtcp.engine;

import dev.pktkit.codec.wire.Checksums;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SendBuffer#copyIntoSummed}: the copy and the sum in one pass give the same bytes as {@link SendBuffer#copyInto}
 * and the same checksum as summing the copy afterwards, for ranges across pieces of odd and even lengths (words then
 * straddle two pieces), of direct and heap buffers, longer than the scratch array, at any start, with the ring's
 * head moved on by acknowledged pieces (so that ranges wrap around its end) and scratch arrays of even lengths.
 */
class SendBufferSummedCopyTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @Test
    void sameBytesAndSameSumAsCopyThenSum() {
        Random rnd = new Random(11);
        for (int round = 0; round < 300; round++) {
            SendBuffer sb = new SendBuffer(ALLOC);
            int base = rnd.nextInt();
            sb.start(base);
            // pieces acknowledged first: the ring's head moves (16 slots), so the range can wrap around its end,
            // and part of the last one stays, read from an offset
            int lead = rnd.nextInt(14);
            for (int i = 0; i < lead; i++) {
                ByteBuf b = ALLOC.directBuffer(1100);
                byte[] bytes = new byte[1100];
                rnd.nextBytes(bytes);
                sb.add(b.writeBytes(bytes));
            }
            sb.ackTo(base + Math.max(0, lead * 1100 - rnd.nextInt(50)));
            int pieces = 1 + rnd.nextInt(6);
            for (int i = 0; i < pieces; i++) {
                // 1 .. 6000 bytes: odd and even, below and above the 1 KiB coalescing size and the scratch length
                int n = 1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 6000);
                byte[] bytes = new byte[n];
                rnd.nextBytes(bytes);
                ByteBuf b;
                if (rnd.nextBoolean()) {
                    b = ALLOC.directBuffer(n);
                    b.writeBytes(bytes);
                } else {
                    b = Unpooled.buffer(n + 3).writerIndex(3).readerIndex(3); // array offset in use
                    b.writeBytes(bytes);
                }
                sb.add(b);
            }
            int start = sb.headSeq;
            int off = rnd.nextInt(sb.bytes);
            int len = 1 + rnd.nextInt(sb.bytes - off);
            long initial = rnd.nextLong() >>> 1;
            byte[] scratch = new byte[rnd.nextBoolean() ? 4096 : 2 + 2 * rnd.nextInt(700)];

            ByteBuf expected = ALLOC.directBuffer(len);
            ByteBuf actual = ALLOC.directBuffer(len);
            try {
                sb.copyInto(start + off, len, expected);
                long sum = sb.copyIntoSummed(start + off, len, actual, initial, scratch);
                assertEquals(len, actual.readableBytes());
                assertTrue(ByteBufUtil.equals(actual, expected), "bytes, round " + round);
                assertEquals(Checksums.fold(Checksums.partial(expected, 0, len, initial)), Checksums.fold(sum),
                        "sum, round " + round);
            } finally {
                expected.release();
                actual.release();
                sb.releaseAll();
            }
        }
    }

    @Test
    void oddOffsetIsTheSwappedFold() {
        // bytes 01 02 03 after one odd byte: words (xx 01) (02 03) -> the block's own sum 0x0102 + 0x0300 swapped
        byte[] block = {1, 2, 3};
        long own = Checksums.partial(block, 0, 3, 0);
        assertEquals(0x0102 + 0x0300, own);
        assertEquals(0x0001 + 0x0203, Checksums.oddOffset(own));
    }
}

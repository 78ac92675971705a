package dev.pktkit.vtcp.engine;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thousands of seeded engine↔engine transfers, both directions at once, over a link that loses, duplicates,
 * corrupts, delays and reorders segments, with random option sets; every byte is checked and both sides must
 * close in order. The seed of a failing transfer is in the message.
 */
class RandomTransferTest {
    static final long S = 1_000_000_000L;
    static final int TRANSFERS = 4000;

    @Test
    void randomizedTransfersDeliverEveryByte() {
        long totalBytes = 0;
        long totalRetransmits = 0;
        long badChecksums = 0;
        for (int i = 0; i < TRANSFERS; i++) {
            long seed = 0x5EED_0000L + i;
            long[] r = transfer(seed);
            totalBytes += r[0];
            totalRetransmits += r[1];
            badChecksums += r[2];
        }
        assertTrue(totalRetransmits > 0, "the link lost segments, so something was retransmitted");
        assertTrue(badChecksums > 0, "corrupted segments were seen and dropped");
        System.out.println("randomized transfers: " + TRANSFERS + ", bytes " + totalBytes + ", retransmits "
                + totalRetransmits + ", bad checksums dropped " + badChecksums);
    }

    static TcpSocketOptions randomOptions(Random rnd) {
        TcpSocketOptions o = new TcpSocketOptions()
                .timestamps(rnd.nextInt(4) != 0)
                .sack(rnd.nextInt(4) != 0)
                .windowScaling(rnd.nextInt(4) != 0)
                .ecn(rnd.nextBoolean())
                .noDelay(rnd.nextBoolean())
                .congestion(rnd.nextBoolean() ? CongestionAlgorithm.CUBIC : CongestionAlgorithm.NEW_RENO)
                .autoConsume(rnd.nextInt(3) == 0)
                .dataRetries(30);
        if (rnd.nextInt(4) == 0) {
            o.mssClamp(88 + rnd.nextInt(1400));
        }
        if (rnd.nextInt(3) == 0) {
            o.receiveBuffer(2048 + rnd.nextInt(64 * 1024)).autoTuning(rnd.nextBoolean());
        }
        return o;
    }

    /** @return bytes moved, retransmissions, checksum drops */
    static long[] transfer(long seed) {
        Random rnd = new Random(seed);
        // Paranoid leak tracking makes this test 15 times slower, so it uses an unpooled allocator without the
        // leak detector and checks instead that the allocator's used memory is back to zero after each transfer:
        // an exact leak check (any unreleased buffer keeps its memory counted).
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true, true);
        try (TestNet net = new TestNet(seed, alloc)) {
            net.logging = false;
            net.loss = rnd.nextInt(4) == 0 ? 0 : rnd.nextDouble() * 0.08;
            net.duplicate = rnd.nextInt(3) == 0 ? 0 : rnd.nextDouble() * 0.05;
            net.corrupt = rnd.nextInt(3) == 0 ? 0 : rnd.nextDouble() * 0.03;
            net.delayNanos = 1_000_000L + rnd.nextInt(30_000_000);
            net.jitterNanos = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(20_000_000);
            if (rnd.nextInt(3) == 0) {
                net.rateBytesPerSec = 1_000_000L + rnd.nextInt(50_000_000);
                net.queueLimitBytes = 20_000 + rnd.nextInt(200_000);
            }
            TestNet.Node a = net.node();
            TestNet.Node b = net.node();
            Recorder server = new Recorder();
            Recorder client = new Recorder();
            b.engine.listen(null, 80, 16, randomOptions(rnd), server);
            TcpConnection c = a.engine.connect(a.sock(1024 + rnd.nextInt(60000)), b.sock(80), randomOptions(rnd),
                    client);
            String where = "seed " + seed;
            assertTrue(net.runUntil(() -> client.established && server.established, 600 * S), where);
            TcpConnection s = server.connection;
            byte[] up = new byte[rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(rnd.nextBoolean() ? 4000 : 60_000)];
            byte[] down = new byte[rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(rnd.nextBoolean() ? 4000 : 60_000)];
            rnd.nextBytes(up);
            rnd.nextBytes(down);
            writeInPieces(c, up, rnd, alloc);
            writeInPieces(s, down, rnd, alloc);
            c.shutdownOutput();
            s.shutdownOutput();
            assertTrue(net.runUntil(() -> server.peerFin && client.peerFin && server.closed && client.closed,
                    3000 * S), () -> where + ": up " + server.receivedBytes + "/" + up.length + " down "
                    + client.receivedBytes + "/" + down.length + " client " + c + " " + c.stats() + " server " + s
                    + " " + s.stats());
            assertNull(client.cause, where);
            assertNull(server.cause, where);
            assertArrayEquals(up, server.received.toByteArray(), where);
            assertArrayEquals(down, client.received.toByteArray(), where);
            long rx = c.stats().retransmits() + s.stats().retransmits();
            long bad = a.engine.drops(DropReason.BAD_CHECKSUM) + b.engine.drops(DropReason.BAD_CHECKSUM);
            // everything is released once both sides are done (TIME-WAIT holds no buffers)
            assertEquals(0, c.sendBufferBytes(), where);
            assertEquals(0, s.sendBufferBytes(), where);
            net.close();
            assertEquals(0, alloc.metric().usedDirectMemory() + alloc.metric().usedHeapMemory(),
                    where + ": buffers leaked");
            return new long[]{up.length + down.length, rx, bad};
        }
    }

    static void writeInPieces(TcpConnection c, byte[] data, Random rnd, ByteBufAllocator alloc) {
        int off = 0;
        while (off < data.length) {
            int n = Math.min(data.length - off, 1 + rnd.nextInt(rnd.nextBoolean() ? 100 : 20_000));
            c.write(alloc.buffer(n).writeBytes(data, off, n));
            off += n;
            if (rnd.nextInt(4) == 0) {
                c.flush();
            }
        }
        c.flush();
    }
}

package dev.pktkit.afxdp;

import dev.pktkit.codec.stats.EnumCounters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The socket's data path against a kernel played by the test, over rings in plain memory (no privilege): frames
 * lent in place and their chunks back on the fill ring when released (on the loop or any other thread), the
 * lending bound with copy-out, truncated, foreign, duplicate and overrunning descriptors counted and survived, a
 * runaway producer index clamped, TX chunks through the TX and completion rings, and the UMEM freed exactly once
 * even when a frame outlives its socket.
 */
class XdpSocketTest {
    static final int RING = 16;
    static final int LENT = 4;
    static final int CHUNK = 2048;

    private final Arena arena = Arena.ofShared();
    private Umem umem;
    private EnumCounters<XdpCounter> counters;
    private XdpRing kFill;
    private XdpRing kComp;
    private XdpRing kRx;
    private XdpRing kTx;
    private MemorySegment rxMem;
    private XdpSocket socket;
    private final List<ByteBuf> received = new ArrayList<>();
    private final ConcurrentLinkedQueue<Runnable> loopTasks = new ConcurrentLinkedQueue<>();

    /** A ring in plain memory: producer at 0, consumer at 64, flags at 128, entries from 256. */
    private MemorySegment ringMemory(int entrySize) {
        return arena.allocate(256 + (long) RING * entrySize, 4096);
    }

    private static XdpRing ring(MemorySegment m, int entrySize, boolean producer) {
        return new XdpRing(m, 0, 64, 128, 256, RING, entrySize, producer);
    }

    @BeforeEach
    void setUp() {
        XdpSocketConfig cfg = XdpSocketConfig.builder("fake").ringSize(RING).maxLent(LENT).build();
        umem = Umem.allocate(CHUNK, cfg.chunksNeeded() + 8);
        counters = EnumCounters.of(XdpCounter.class);
        MemorySegment fill = ringMemory(8);
        MemorySegment comp = ringMemory(8);
        rxMem = ringMemory(16);
        MemorySegment tx = ringMemory(16);
        kFill = ring(fill, 8, false);
        kComp = ring(comp, 8, true);
        kRx = ring(rxMem, 16, true);
        kTx = ring(tx, 16, false);
        int first = umem.reserve(cfg.chunksNeeded());
        socket = new XdpSocket(-1, 0, "fake", false, true, umem, false, first, cfg, ring(fill, 8, true),
                ring(comp, 8, false), ring(rxMem, 16, false), ring(tx, 16, true), null,
                ByteBufAllocator.DEFAULT, counters, null, null, null);
        socket.loop = loopTasks::add; // not an event loop: every release counts as foreign
    }

    @AfterEach
    void tearDown() {
        received.forEach(b -> {
            if (b.refCnt() > 0) {
                b.release();
            }
        });
        socket.close();
        umem.close();
        arena.close();
    }

    /** The kernel takes {@code n} addresses off the fill ring. */
    private long[] kernelTakesFill(int n) {
        int got = kFill.available(n);
        assertEquals(n, got, "fill ring entries");
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = kFill.address(i);
        }
        kFill.release(n);
        return a;
    }

    /** The kernel writes a frame of {@code len} bytes (pattern {@code tag}) into chunk {@code addr} and posts it. */
    private void kernelReceives(long addr, int len, byte tag) {
        long data = addr + 256; // XDP_PACKET_HEADROOM, as in copy mode
        MemorySegment area = umem.area();
        for (int i = 0; i < len; i++) {
            area.set(ValueLayout.JAVA_BYTE, data + i, (byte) (tag + i));
        }
        assertEquals(1, kRx.free(1));
        kRx.putDescriptor(0, data, len);
        kRx.submit(1);
    }

    private int receive() {
        return socket.receive(64, ByteBufAllocator.DEFAULT, received::add);
    }

    private int accounted() {
        return socket.rxKernelChunks() + socket.rxFreeChunks() + socket.lent();
    }

    @Test
    void framesAreLentInPlaceAndTheirChunksGoBackToTheFillRing() {
        long[] addrs = kernelTakesFill(RING);
        kernelReceives(addrs[0], 60, (byte) 1);
        kernelReceives(addrs[1], 1514, (byte) 2);
        assertEquals(2, receive());
        ByteBuf f = received.get(0);
        assertInstanceOf(XdpFrameBuf.class, f);
        assertEquals(60, f.readableBytes());
        assertEquals(1, f.getByte(f.readerIndex()));
        assertEquals(umem.area().address() + addrs[0] + 256, f.memoryAddress() + f.readerIndex());
        assertEquals(1514, received.get(1).readableBytes());
        assertEquals(2, socket.lent());
        // the spare chunks went onto the fill ring right away
        assertEquals(LENT, kFill.available(RING));
        f.release();
        assertEquals(1, loopTasks.size(), "a foreign release asks the loop to drain, once");
        received.get(1).release();
        assertEquals(1, loopTasks.size());
        loopTasks.poll().run();
        assertEquals(0, socket.lent());
        assertEquals(RING + LENT, accounted());
        assertEquals(2, counters.get(XdpCounter.FRAMES_IN));
        assertEquals(1574, counters.get(XdpCounter.BYTES_IN));
    }

    @Test
    void pastTheLendingBoundFramesAreCopiedOutAndTheFillRingNeverStarves() {
        long[] addrs = kernelTakesFill(RING);
        for (int i = 0; i < 10; i++) {
            kernelReceives(addrs[i], 100, (byte) i);
        }
        assertEquals(10, receive());
        long inPlace = received.stream().filter(b -> b instanceof XdpFrameBuf).count();
        assertEquals(LENT, inPlace);
        assertEquals(10 - LENT, counters.get(XdpCounter.FRAMES_COPIED_OUT));
        for (int i = 0; i < 10; i++) {
            assertEquals((byte) i, received.get(i).getByte(received.get(i).readerIndex()), "frame " + i);
        }
        // every chunk that is not lent is with the kernel again
        assertEquals(RING, socket.rxKernelChunks());
        assertEquals(RING + LENT, accounted());
    }

    @Test
    void badDescriptorsAreCountedAndSurvived() {
        long[] addrs = kernelTakesFill(RING);
        MemorySegment area = umem.area();
        // truncated: zero and 5 bytes
        kernelReceives(addrs[0], 0, (byte) 0);
        kernelReceives(addrs[1], 5, (byte) 0);
        // overruns its chunk
        kernelReceives(addrs[2], CHUNK, (byte) 0);
        // outside this socket's chunks (the last, unreserved chunks of the UMEM)
        kRx.free(1);
        kRx.putDescriptor(0, area.byteSize() - CHUNK, 60);
        kRx.submit(1);
        // a good one, then the same chunk again (a duplicate)
        kernelReceives(addrs[3], 60, (byte) 7);
        kernelReceives(addrs[3], 60, (byte) 7);
        // options set (multi-buffer continuation, not asked for)
        kRx.free(1);
        kRx.putDescriptor(0, addrs[4] + 256, 60);
        rxMem.set(ValueLayout.JAVA_INT, 256 + (long) 6 * 16 + 12, 1);
        kRx.submit(1);
        assertEquals(7, receive());
        assertEquals(1, received.size());
        assertEquals(2, counters.get(XdpCounter.DROPPED_TRUNCATED_DESCRIPTOR));
        assertEquals(4, counters.get(XdpCounter.DROPPED_BAD_DESCRIPTOR));
        assertEquals(RING + LENT, accounted(), "no chunk lost or counted twice");
        // and the socket goes on
        long[] more = kernelTakesFill(4); // 3 dropped chunks + 1 spare were refilled
        kernelReceives(more[0], 64, (byte) 9);
        assertEquals(1, receive());
        assertEquals(2, received.size());
    }

    @Test
    void aRunawayProducerIndexIsClampedAndCounted() {
        kernelTakesFill(RING);
        // the "kernel" claims 10 rings' worth of descriptors
        XdpRing.INT.setRelease(rxMem, 0L, 10 * RING);
        int n = receive();
        assertTrue(n <= RING, "at most one ring's worth: " + n);
        assertTrue(counters.get(XdpCounter.RING_OVERRUNS) >= 1);
        assertEquals(n, counters.get(XdpCounter.DROPPED_BAD_DESCRIPTOR) + counters.get(
                XdpCounter.DROPPED_TRUNCATED_DESCRIPTOR) + counters.get(XdpCounter.FRAMES_IN));
        assertEquals(RING + LENT, accounted());
    }

    @Test
    void txChunksGoOutOnTheTxRingAndComeBackOnTheCompletionRing() {
        ByteBuf frame = ByteBufAllocator.DEFAULT.directBuffer(64);
        for (int i = 0; i < 64; i++) {
            frame.writeByte(i);
        }
        try {
            for (int i = 0; i < RING; i++) {
                assertEquals(XdpSocket.TX_QUEUED, socket.queueTx(frame));
            }
            assertEquals(XdpSocket.TX_NO_ROOM, socket.queueTx(frame), "every TX chunk is queued");
            assertEquals(0, socket.flushTx());
            assertEquals(RING, kTx.available(RING));
            long first = kTx.address(0);
            assertEquals(64, kTx.length(0));
            assertEquals(5, umem.area().get(ValueLayout.JAVA_BYTE, first + 5));
            // the kernel completes them all, and one address that was never sent
            kComp.free(RING + 1);
            for (int i = 0; i < RING; i++) {
                kComp.putAddress(i, kTx.address(i));
            }
            kTx.release(RING);
            kComp.putAddress(RING - 1, first); // overwrite the last with a duplicate of the first
            kComp.submit(RING);
            socket.reapCompletions();
            assertEquals(1, counters.get(XdpCounter.BAD_COMPLETIONS));
            assertEquals(RING - 1, socket.txFreeChunks());
            assertEquals(XdpSocket.TX_QUEUED, socket.queueTx(frame));
            ByteBuf big = ByteBufAllocator.DEFAULT.directBuffer(CHUNK + 1).writeZero(CHUNK + 1);
            ByteBuf small = ByteBufAllocator.DEFAULT.directBuffer(8).writeZero(8);
            assertEquals(XdpSocket.TX_TOO_BIG, socket.queueTx(big));
            assertEquals(XdpSocket.TX_TOO_SHORT, socket.queueTx(small));
            big.release();
            small.release();
        } finally {
            frame.release();
        }
    }

    @Test
    void theUmemIsFreedExactlyOnceWhenTheLastLentFrameComesBack() {
        long[] addrs = kernelTakesFill(RING);
        kernelReceives(addrs[0], 60, (byte) 1);
        assertEquals(1, receive());
        ByteBuf held = received.remove(0);
        socket.close();
        umem.close();
        assertFalse(umem.isFreed(), "a frame the application holds keeps the UMEM mapped");
        assertEquals(1, held.getByte(held.readerIndex()));
        held.release();
        assertTrue(umem.isFreed());
        assertEquals(1, umem.unmapCount());
        assertThrows(IllegalReferenceCountException.class, held::release);
        socket.close();
        umem.close();
        assertEquals(1, umem.unmapCount());
    }
}

package dev.pktkit.codec.capture;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketCaptureHandlerTest {
    private static final long WAIT_SECONDS = 30;

    @TempDir
    Path dir;

    private static ByteBuf packet(int length, int fill) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(length);
        for (int i = 0; i < length; i++) {
            b.writeByte(fill + i);
        }
        return b;
    }

    /** Holds writer tasks until {@link #open()}, then runs them (and later ones) on the calling thread. */
    private static final class GatedExecutor implements java.util.concurrent.Executor {
        private final Queue<Runnable> held = new ArrayDeque<>();
        private boolean open;

        @Override
        public synchronized void execute(Runnable task) {
            if (open) {
                task.run();
            } else {
                held.add(task);
            }
        }

        synchronized void open() {
            open = true;
            Runnable task;
            while ((task = held.poll()) != null) {
                task.run();
            }
        }
    }

    @Test
    void messagesPassThroughUnchangedAndAreRecordedWithTheirDirection() throws Exception {
        Path file = dir.resolve("pass.pcapng");
        PacketCapture capture = PacketCapture.builder(CaptureFormat.PCAPNG, LinkType.ETHERNET)
                .clock(new AtomicLong(1000)::incrementAndGet)
                .open(file);
        EmbeddedChannel channel = new EmbeddedChannel(capture.newHandler("port1"));

        ByteBuf in = packet(64, 1);
        in.readerIndex(4); // only the readable bytes are the frame
        byte[] inBytes = ByteBufUtil.getBytes(in);
        assertTrue(channel.writeInbound(in));
        ByteBuf read = channel.readInbound();
        assertSame(in, read, "the same buffer is passed on");
        assertEquals(4, read.readerIndex());
        assertEquals(1, read.refCnt(), "no reference taken or dropped");
        read.release();

        ByteBuf out = packet(20, 100);
        byte[] outBytes = ByteBufUtil.getBytes(out);
        assertTrue(channel.writeOutbound(out));
        ByteBuf written = channel.readOutbound();
        assertSame(out, written);
        assertEquals(0, written.readerIndex());
        assertEquals(1, written.refCnt());
        written.release();

        Object notABuffer = "not a ByteBuf";
        channel.writeInbound(notABuffer);
        assertSame(notABuffer, channel.readInbound(), "other messages pass untouched");
        assertFalse(channel.finish());

        capture.close();
        assertEquals(2, capture.packetsWritten());
        assertEquals(0, capture.packetsDropped());
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(List.of("port1"), CaptureBytes.interfaceNames(bytes));
        List<CaptureBytes.Epb> epbs = CaptureBytes.epbs(bytes);
        assertEquals(2, epbs.size());
        assertArrayEquals(inBytes, epbs.get(0).data());
        assertEquals(CaptureDirection.INBOUND.flagBits(), epbs.get(0).direction());
        assertEquals(1001, epbs.get(0).timestamp());
        assertArrayEquals(outBytes, epbs.get(1).data());
        assertEquals(CaptureDirection.OUTBOUND.flagBits(), epbs.get(1).direction());
        assertEquals(1002, epbs.get(1).timestamp());
    }

    @Test
    void fullQueueDropsAndCountsWhileMessagesStillPass() throws Exception {
        GatedExecutor writerThread = new GatedExecutor();
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        PacketCapture capture = PacketCapture.builder(CaptureFormat.PCAP, LinkType.ETHERNET)
                .executor(writerThread)
                .maxQueuedPackets(2)
                .open(sink.channel);
        EmbeddedChannel channel = new EmbeddedChannel(capture.newHandler("port1"));
        for (int i = 0; i < 5; i++) {
            channel.writeInbound(packet(60, i));
        }
        assertEquals(2, capture.packetsQueued());
        assertEquals(3, capture.packetsDropped());
        for (int i = 0; i < 5; i++) {
            ByteBuf b = channel.readInbound();
            assertEquals(i, b.getByte(0), "every message arrives, in order");
            b.release();
        }
        writerThread.open();
        assertEquals(0, capture.packetsQueued());
        assertEquals(2, capture.packetsWritten());
        capture.close();
        channel.finishAndReleaseAll();
        List<CaptureBytes.PcapRecord> records = CaptureBytes.pcapRecords(sink.toByteArray());
        assertEquals(2, records.size());
        assertEquals(0, records.get(0).data()[0]);
        assertEquals(1, records.get(1).data()[0]);
    }

    @Test
    void byteBoundDropsToo() throws Exception {
        GatedExecutor writerThread = new GatedExecutor();
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        PacketCapture capture = PacketCapture.builder(CaptureFormat.PCAPNG, LinkType.RAW)
                .executor(writerThread)
                .maxQueuedBytes(100)
                .open(sink.channel);
        EmbeddedChannel channel = new EmbeddedChannel(capture.newHandler("tun0"));
        channel.writeOutbound(packet(60, 0), packet(60, 1), packet(30, 2));
        assertEquals(1, capture.packetsDropped(), "the second 60-byte packet would exceed 100 queued bytes");
        assertEquals(2, capture.packetsQueued());
        channel.finishAndReleaseAll();
        writerThread.open();
        capture.close();
        assertEquals(2, CaptureBytes.epbs(sink.toByteArray()).size());
    }

    @Test
    void snapLengthBoundsTheCopy() throws Exception {
        Path file = dir.resolve("snap.pcap");
        PacketCapture capture = PacketCapture.builder(CaptureFormat.PCAP, LinkType.ETHERNET)
                .snapLength(16).open(file);
        EmbeddedChannel channel = new EmbeddedChannel(capture.newHandler("p"));
        channel.writeInbound(packet(1500, 0));
        channel.finishAndReleaseAll();
        capture.close();
        CaptureBytes.PcapRecord record = CaptureBytes.pcapRecords(Files.readAllBytes(file)).get(0);
        assertEquals(16, record.capturedLength());
        assertEquals(1500, record.originalLength());
    }

    @Test
    void channelsOnSeveralThreadsShareOneCapture() throws Exception {
        Path file = dir.resolve("shared.pcapng");
        int perChannel = 500;
        int channels = 2;
        PacketCapture capture = PacketCapture.pcapng(file, LinkType.ETHERNET);
        ExecutorService loops = Executors.newFixedThreadPool(channels);
        CountDownLatch start = new CountDownLatch(1);
        try {
            Future<?>[] done = new Future<?>[channels];
            for (int c = 0; c < channels; c++) {
                PacketCaptureHandler handler = capture.newHandler("port" + c);
                int fill = c;
                // each channel is driven by one thread, as an event loop would
                done[c] = loops.submit(() -> {
                    EmbeddedChannel channel = new EmbeddedChannel(handler);
                    start.await(WAIT_SECONDS, TimeUnit.SECONDS);
                    for (int i = 0; i < perChannel; i++) {
                        channel.writeInbound(packet(64, fill));
                        ByteBuf b = channel.readInbound();
                        b.release();
                    }
                    channel.finishAndReleaseAll();
                    return null;
                });
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
        } finally {
            loops.shutdown();
            capture.close();
        }
        assertEquals(0, capture.packetsDropped(), "the default queue holds 1000 small packets");
        assertEquals((long) perChannel * channels, capture.packetsWritten());
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(List.of("port0", "port1"), CaptureBytes.interfaceNames(bytes));
        int[] perInterface = new int[channels];
        for (CaptureBytes.Epb epb : CaptureBytes.epbs(bytes)) {
            perInterface[epb.interfaceId()]++;
            assertEquals(epb.interfaceId(), epb.data()[0], "records carry their own channel's interface");
        }
        assertArrayEquals(new int[] {perChannel, perChannel}, perInterface);
    }

    @Test
    void handlersAreOnePerNameAndRespectTheFormat() throws Exception {
        try (PacketCapture ng = PacketCapture.pcapng(dir.resolve("a.pcapng"), LinkType.ETHERNET);
             PacketCapture classic = PacketCapture.pcap(dir.resolve("a.pcap"), LinkType.ETHERNET)) {
            PacketCaptureHandler a = ng.newHandler("a");
            assertSame(a, ng.newHandler("a"));
            PacketCaptureHandler b = ng.newHandler("b", LinkType.RAW);
            assertNotSame(a, b);
            assertEquals(0, a.interfaceId());
            assertEquals(1, b.interfaceId());
            assertThrows(IllegalArgumentException.class, () -> ng.newHandler("a", LinkType.RAW));
            assertThrows(IllegalArgumentException.class, () -> classic.newHandler("x", LinkType.RAW));
            assertEquals(0, classic.newHandler("y").interfaceId());
        }
        // interfaces that saw no packet still appear
        assertEquals(List.of("a", "b"), CaptureBytes.interfaceNames(Files.readAllBytes(dir.resolve("a.pcapng"))));
        assertEquals(PcapFormat.PCAP_FILE_HEADER_LENGTH, Files.size(dir.resolve("a.pcap")));
    }

    @Test
    void afterCloseMessagesPassWithoutBeingRecorded() throws Exception {
        PacketCapture capture = PacketCapture.pcapng(dir.resolve("closed.pcapng"), LinkType.ETHERNET);
        PacketCaptureHandler handler = capture.newHandler("p");
        capture.close();
        capture.close(); // idempotent
        EmbeddedChannel channel = new EmbeddedChannel(handler);
        ByteBuf b = packet(10, 0);
        channel.writeInbound(b);
        assertSame(b, channel.readInbound());
        b.release();
        assertFalse(channel.finish());
        assertEquals(0, capture.packetsWritten());
        assertEquals(0, capture.packetsDropped());
        assertThrows(IllegalStateException.class, () -> capture.newHandler("q"));
    }

    @Test
    void writeErrorStopsTheCaptureAndCloseReportsIt() throws Exception {
        AtomicInteger writes = new AtomicInteger();
        WritableByteChannel failsAfterHeader = new WritableByteChannel() {
            private boolean open = true;

            @Override
            public int write(ByteBuffer src) throws IOException {
                if (writes.incrementAndGet() > 1) {
                    throw new IOException("disk full");
                }
                int n = src.remaining();
                src.position(src.limit());
                return n;
            }

            @Override
            public boolean isOpen() {
                return open;
            }

            @Override
            public void close() {
                open = false;
            }
        };
        GatedExecutor writerThread = new GatedExecutor();
        PacketCapture capture = PacketCapture.builder(CaptureFormat.PCAPNG, LinkType.ETHERNET)
                .executor(writerThread).open(failsAfterHeader);
        EmbeddedChannel channel = new EmbeddedChannel(capture.newHandler("p"));
        channel.writeInbound(packet(60, 0));
        writerThread.open(); // the flush after this packet fails
        assertEquals("disk full", capture.failure().getMessage());
        channel.writeInbound(packet(60, 1));
        assertEquals(1, capture.packetsDropped(), "a failed capture drops what it sees");
        channel.finishAndReleaseAll();
        IOException thrown = assertThrows(IOException.class, capture::close);
        assertEquals("disk full", thrown.getMessage());
        assertEquals(0, capture.packetsQueued());
    }

    @Test
    void closeAsyncCompletesWithoutBlockingTheCaller() throws Exception {
        GatedExecutor writerThread = new GatedExecutor();
        CaptureBytes.Sink sink = new CaptureBytes.Sink();
        PacketCapture capture = PacketCapture.builder(CaptureFormat.PCAPNG, LinkType.ETHERNET)
                .executor(writerThread).comment("test run").open(sink.channel);
        EmbeddedChannel channel = new EmbeddedChannel(capture.newHandler("p"));
        channel.writeInbound(packet(60, 0));
        channel.finishAndReleaseAll();
        var closing = capture.closeAsync();
        assertFalse(closing.isDone(), "the writer has not run yet");
        writerThread.open();
        assertNull(closing.get(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(1, CaptureBytes.epbs(sink.toByteArray()).size());
    }
}

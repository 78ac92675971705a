package dev.pktkit.switching;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.testkit.TestLoops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ingress on several event loops at once: every frame arrives exactly once, in order per sender. */
class L2HubConcurrencyTest {
    private static final int HOSTS = 4;
    private static final int FRAMES = 3000;

    /** Receives frames and checks per-sender sequence numbers. */
    static final class Receiver extends ChannelInboundHandlerAdapter {
        final int[] nextSeq = new int[HOSTS + 1];
        final List<String> errors = new ArrayList<>();
        final CountDownLatch done;
        final CountDownLatch learned = new CountDownLatch(HOSTS - 1);
        int unicastReceived;

        Receiver(int expected) {
            done = new CountDownLatch(expected);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf f = (ByteBuf) msg;
            try {
                int r = f.readerIndex();
                boolean broadcast = f.getInt(r) == -1;
                int sender = f.getUnsignedShort(r + 10);
                int seq = f.getInt(r + 14);
                if (broadcast) {
                    learned.countDown();
                    return;
                }
                unicastReceived++;
                if (seq != nextSeq[sender]) {
                    errors.add("from " + sender + ": expected " + nextSeq[sender] + " got " + seq);
                }
                nextSeq[sender] = seq + 1;
                done.countDown();
            } finally {
                f.release();
            }
        }
    }

    @Test
    void concurrentIngressLosesAndDuplicatesNothing() throws Exception {
        MultiThreadIoEventLoopGroup group = TestLoops.group(TestLoops.NIO, HOSTS);
        L2Hub hub = L2Hub.builder().build();
        try {
            PacketPipe[] pipes = new PacketPipe[HOSTS + 1];
            Receiver[] rx = new Receiver[HOSTS + 1];
            EventLoop[] loops = new EventLoop[HOSTS + 1];
            for (int h = 1; h <= HOSTS; h++) {
                loops[h] = group.next();
                pipes[h] = new PacketPipe(16 << 20);
                rx[h] = new Receiver(FRAMES * 2); // from both neighbours below
                pipes[h].a().pipeline().addLast(rx[h]);
                pipes[h].register(loops[h], loops[h]).get(5, TimeUnit.SECONDS);
                pipes[h].b().config().setWriteBufferWaterMark(new WriteBufferWaterMark(8 << 20, 16 << 20));
                hub.add(pipes[h].b());
            }
            // Everyone announces itself so that all unicast below is to learned ports.
            for (int h = 1; h <= HOSTS; h++) {
                int host = h;
                loops[h].submit(() -> pipes[host].a().writeAndFlush(frame(-1L, host, 0))).get(5, TimeUnit.SECONDS);
            }
            for (int h = 1; h <= HOSTS; h++) {
                assertTrue(rx[h].learned.await(10, TimeUnit.SECONDS));
            }
            assertEquals(HOSTS, hub.macEntries());

            // Each host sends FRAMES to each of its two neighbours, all hosts at once, from their own loops.
            CountDownLatch go = new CountDownLatch(1);
            for (int h = 1; h <= HOSTS; h++) {
                int host = h;
                int right = h % HOSTS + 1;
                int left = (h + HOSTS - 2) % HOSTS + 1;
                loops[h].execute(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    for (int s = 0; s < FRAMES; s++) {
                        pipes[host].a().write(frame(mac(right), host, s));
                        pipes[host].a().write(frame(mac(left), host, s));
                        if (s % 32 == 31) {
                            pipes[host].a().flush();
                        }
                    }
                    pipes[host].a().flush();
                });
            }
            go.countDown();
            for (int h = 1; h <= HOSTS; h++) {
                assertTrue(rx[h].done.await(30, TimeUnit.SECONDS),
                        "host " + h + " got " + (FRAMES * 2 - rx[h].done.getCount()));
            }
            for (int h = 1; h <= HOSTS; h++) {
                int host = h;
                loops[h].submit(() -> {
                    assertEquals(List.of(), rx[host].errors);
                    assertEquals(FRAMES * 2, rx[host].unicastReceived, "no duplicates");
                }).get(5, TimeUnit.SECONDS);
                PortCounters c = hub.port(pipes[h].b()).counters();
                assertEquals(0, c.drops(), "no drops on port " + h);
                // Counts are summed per read batch and added by each ingress loop: none lost in the race.
                assertEquals(FRAMES * 2 + 1, c.framesIn(), "frames in, port " + h);
                assertEquals(FRAMES * 2 + HOSTS - 1, c.framesOut(), "frames out (and the others' announcements)");
                assertEquals(60L * (FRAMES * 2 + HOSTS - 1), c.bytesOut());
            }
        } finally {
            hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static long mac(int host) {
        return 0x0200_0000_0000L | host;
    }

    private static ByteBuf frame(long dst, int host, int seq) {
        String hex = String.format("%012x", dst & 0xFFFF_FFFF_FFFFL) + String.format("%012x", mac(host))
                + "0800" + String.format("%08x", seq) + "00".repeat(42);
        return Lan.pooled(hex);
    }
}

package dev.pktkit.codec.device;

import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A pinger that does not read its replies: the responder's queue stops at the high water mark, the rest is counted. */
class EchoResponderWritabilityTest {
    static final int PINGS = 2000;
    static final int HIGH_WATER = 4096;

    private final EventLoop loop = new DefaultEventLoop();

    @AfterEach
    void shutdown() {
        loop.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    static ByteBuf pooledPing(int seq) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        ByteBuf data = PooledByteBufAllocator.DEFAULT.heapBuffer(8).writeLong(seq);
        Ipv4.writeHeader(b, Ip4.parse("10.0.0.2"), Ip4.parse("10.0.0.1"), IpProtocol.ICMP, 64, 16, seq, false);
        Icmpv4.writeEcho(b, Icmpv4.TYPE_ECHO_REQUEST, 7, seq, data, 0, 8);
        data.release();
        return b;
    }

    @Test
    void slowReaderBoundsTheResponderQueueAndDropsAreCounted() throws Exception {
        EchoResponder responder = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.0.0.1")));
        PacketPipe pipe = new PacketPipe(1024);
        pipe.a().config().setWriteBufferWaterMark(new WriteBufferWaterMark(HIGH_WATER / 2, HIGH_WATER));
        pipe.a().pipeline().addLast(responder);
        AtomicInteger received = new AtomicInteger();
        CountDownLatch all = new CountDownLatch(1);
        int[] expected = {Integer.MAX_VALUE};
        pipe.b().config().setAutoRead(false); // the pinger does not read
        pipe.b().pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ((ByteBuf) msg).release();
                if (received.incrementAndGet() == expected[0]) {
                    all.countDown();
                }
            }
        });
        pipe.register(loop, loop).sync();
        try {
            long queued = loop.submit(() -> {
                for (int i = 0; i < PINGS; i++) {
                    pipe.b().writeAndFlush(pooledPing(i));
                }
                return pipe.a().unsafe().outboundBuffer().totalPendingWriteBytes();
            }).get(10, TimeUnit.SECONDS);
            long replies = responder.replies();
            long congested = responder.congested();
            assertEquals(PINGS, replies + congested, "every request answered or counted");
            assertTrue(congested > PINGS / 2, "most requests met an unwritable channel: " + congested);
            // Unwritable once the pending bytes (with Netty's per-entry overhead) pass the mark: one message beyond it.
            assertTrue(queued <= HIGH_WATER + 256, "queue bounded at the high water mark: " + queued);
            assertTrue(pipe.b().pendingBytes() <= 1024 + 64, "the pipe holds no more than its limit");

            // The reader catches up: every reply that was queued arrives, nothing more.
            expected[0] = (int) replies;
            loop.submit(() -> pipe.b().config().setAutoRead(true)).sync();
            assertTrue(all.await(10, TimeUnit.SECONDS), "received " + received.get() + " of " + replies);
            assertEquals(replies, loop.submit(received::get).get().longValue());
        } finally {
            pipe.close();
            pipe.a().closeFuture().sync();
            pipe.b().closeFuture().sync();
        }
    }
}

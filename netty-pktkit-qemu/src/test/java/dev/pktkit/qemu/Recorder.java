package dev.pktkit.qemu;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The last handler of a test peer: keeps a copy of every frame it reads and releases the buffer. */
@ChannelHandler.Sharable
final class Recorder extends ChannelInboundHandlerAdapter {
    static final long WAIT_SECONDS = 10;

    final BlockingQueue<byte[]> frames = new LinkedBlockingQueue<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b) {
            frames.add(Frames.take(b));
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    /** The next frame; fails after {@value #WAIT_SECONDS} s without one. */
    byte[] next() throws InterruptedException {
        byte[] f = frames.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(f, "no frame within " + WAIT_SECONDS + " s");
        return f;
    }
}

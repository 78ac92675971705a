package dev.pktkit.slirp;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;

/**
 * One side of a relayed TCP connection (the guest's {@code VirtualSocketChannel} or the host's socket): what it
 * reads is written to its {@link #peer}. Both channels run with {@code AUTO_READ} off; a side reads while its
 * peer is writable and resumes when the peer becomes writable again, so each side's buffering is bounded by the
 * peer's write-buffer high water mark. A FIN read becomes the peer's {@code shutdownOutput()} once the bytes
 * before it are written; a side that ends with an I/O error (a reset) closes its peer with {@code SO_LINGER} 0.
 *
 * <p>Not {@code @Sharable}: one per channel.
 */
final class TcpRelay extends ChannelInboundHandlerAdapter {
    private final SlirpCounters counters;
    private final boolean guestSide;
    /** The pair's activity, for the namespace's idle sweep. */
    final Activity activity;
    volatile Channel peer;
    private boolean failed;

    TcpRelay(SlirpCounters counters, boolean guestSide, Activity activity) {
        this.counters = counters;
        this.guestSide = guestSide;
        this.activity = activity;
    }

    /** When either side of a relayed connection last read (a batch end), shared by the pair's two relays. */
    static final class Activity {
        /** {@code System.nanoTime()} of the last read; written from both loops, read by the sweep. */
        volatile long lastNanos = System.nanoTime();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (guestSide) {
            // the guest's handshake completed: both sides start reading
            ctx.read();
            Channel p = peer;
            if (p != null) {
                p.read();
            }
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel p = peer;
        if (p == null || !p.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        p.write(msg, p.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Channel p = peer;
        if (p == null) {
            return;
        }
        p.flush();
        activity.lastNanos = System.nanoTime(); // once per read batch
        if (p.isWritable()) {
            ctx.read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Channel p = peer;
        if (ctx.channel().isWritable() && p != null && p.isActive()) {
            p.read();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            Channel p = peer;
            if (p instanceof DuplexChannel d && p.isActive()) {
                // after the bytes read before the FIN (shutdownOutput would fail writes still queued)
                p.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        d.shutdownOutput().addListener(s -> closeIfDone(d));
                    }
                });
            }
            closeIfDone(ctx.channel());
        }
        ReferenceCountUtil.release(evt);
    }

    private static void closeIfDone(Channel ch) {
        if (ch instanceof DuplexChannel d && d.isInputShutdown() && d.isOutputShutdown()) {
            ch.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            failed = true;
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Channel p = peer;
        if (p != null && p.isOpen()) {
            if (failed) {
                counters.tcpResetsRelayed.increment();
                p.config().setOption(ChannelOption.SO_LINGER, 0);
                p.close();
            } else if (p.isActive()) {
                p.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                p.close();
            }
        }
        ctx.fireChannelInactive();
    }
}

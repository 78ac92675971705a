package dev.pktkit.vtcp.host;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A seeded impairment between a device and a {@link VirtualHost}, in both directions (the stand-in for
 * {@code tc netem}, which this kernel lacks): each IP packet is lost, corrupted (one bit flipped: the receiver's
 * checksum check drops it) or duplicated with the given probabilities, and delivered after {@code delay} plus a
 * uniform jitter — packets overtake each other when the jitter exceeds their spacing. At most {@code limit} packets
 * wait in each direction (tail drop). Runs on the device channel's loop; what still waits at close is released.
 */
final class ImpairedLink extends ChannelDuplexHandler {
    final double loss;
    final double duplicate;
    final double corrupt;
    final long delayNanos;
    final long jitterNanos;
    final int limit;
    private final Random rnd;
    private final Set<ByteBuf> waiting = Collections.newSetFromMap(new IdentityHashMap<>());
    private int inbound;
    private int outbound;
    private boolean closed;
    long dropped;
    long duplicated;
    long corrupted;
    long passed;

    ImpairedLink(long seed, double loss, double duplicate, double corrupt, long delayNanos, long jitterNanos,
                 int limit) {
        this.rnd = new Random(seed);
        this.loss = loss;
        this.duplicate = duplicate;
        this.corrupt = corrupt;
        this.delayNanos = delayNanos;
        this.jitterNanos = jitterNanos;
        this.limit = limit;
    }

    @Override
    public boolean isSharable() {
        return false;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf b)) {
            ctx.fireChannelRead(msg);
            return;
        }
        impair(ctx, b, true);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf b)) {
            ctx.write(msg, promise);
            return;
        }
        if (!promise.isVoid()) {
            promise.trySuccess(); // a lossy wire: the write is "sent" whatever happens to it
        }
        impair(ctx, b, false);
    }

    private void impair(ChannelHandlerContext ctx, ByteBuf b, boolean in) {
        if (closed || rnd.nextDouble() < loss || (in ? inbound : outbound) >= limit) {
            dropped++;
            b.release();
            return;
        }
        if (rnd.nextDouble() < corrupt && b.readableBytes() > 20) {
            corrupted++;
            // past the IPv4 header or into the IPv6 payload: the TCP/UDP checksum catches it
            int i = b.readerIndex() + 40 + rnd.nextInt(Math.max(1, b.readableBytes() - 40));
            if (i < b.writerIndex()) {
                b.setByte(i, b.getByte(i) ^ (1 << rnd.nextInt(8)));
            }
        }
        int copies = rnd.nextDouble() < duplicate ? 2 : 1;
        for (int c = 0; c < copies; c++) {
            ByteBuf p = c == copies - 1 ? b : b.copy();
            if (c > 0) {
                duplicated++;
            }
            long at = delayNanos + (jitterNanos > 0 ? (long) (rnd.nextDouble() * jitterNanos) : 0);
            waiting.add(p);
            if (in) {
                inbound++;
            } else {
                outbound++;
            }
            ctx.executor().schedule(() -> deliver(ctx, p, in), at, TimeUnit.NANOSECONDS);
        }
    }

    private void deliver(ChannelHandlerContext ctx, ByteBuf p, boolean in) {
        if (!waiting.remove(p)) {
            return; // released at close
        }
        if (in) {
            inbound--;
        } else {
            outbound--;
        }
        passed++;
        if (in) {
            ctx.fireChannelRead(p);
            ctx.fireChannelReadComplete();
        } else {
            ctx.writeAndFlush(p, ctx.voidPromise());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseWaiting();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseWaiting();
    }

    private void releaseWaiting() {
        closed = true;
        for (ByteBuf b : waiting) {
            ReferenceCountUtil.safeRelease(b);
        }
        waiting.clear();
    }

    @Override
    public String toString() {
        return "ImpairedLink(passed " + passed + ", dropped " + dropped + ", duplicated " + duplicated
                + ", corrupted " + corrupted + ")";
    }
}

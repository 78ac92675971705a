package dev.pktkit.tuntap;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The simplest Java forwarder: every message read on one channel is written to the other (as it is, so large
 * segments with their virtio-net header pass through), flushed once per read batch; dropped and counted while
 * the other side is not writable. One instance per direction.
 */
final class CrossConnect extends ChannelInboundHandlerAdapter {
    private volatile Channel peer;
    final AtomicLong forwarded = new AtomicLong();
    /** Read before the peer was set (the kernel's own IPv6 chatter as the link comes up). */
    final AtomicLong beforePeer = new AtomicLong();
    /** Dropped because the peer was not writable or not active. */
    final AtomicLong dropped = new AtomicLong();

    void peer(Channel peer) {
        this.peer = peer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel p = peer;
        if (p == null) {
            beforePeer.incrementAndGet();
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!p.isActive() || !p.isWritable()) {
            dropped.incrementAndGet();
            ReferenceCountUtil.release(msg);
            return;
        }
        forwarded.incrementAndGet();
        p.write(msg, p.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Channel p = peer;
        if (p != null) {
            p.flush();
        }
        ctx.fireChannelReadComplete();
    }
}

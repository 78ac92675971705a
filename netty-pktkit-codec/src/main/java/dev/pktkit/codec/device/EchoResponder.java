package dev.pktkit.codec.device;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * An L3 device that answers ICMP echo requests (ping) and ICMPv6 echo requests addressed to its host's
 * {@link LocalAddresses}, and passes every other packet on unchanged. Put it after an {@code L2Adapter} (which
 * is also the {@link LocalAddresses}) or on any channel whose messages are IP packets.
 *
 * <p>The reply is the request turned around in place (addresses swapped, type changed, checksums updated) when
 * the request buffer is not shared, so a ping costs no allocation and keeps the adapter's headroom; a shared
 * buffer is copied first. Echo requests with bad checksums or lengths are dropped, released and counted; echo
 * requests to broadcast, multicast or foreign addresses are passed on (hosts do not answer those by default).
 * While the channel is not writable, requests are dropped and counted ({@link #congested()}) rather than answered,
 * so a peer that does not read its replies cannot grow the outbound buffer past its high water mark.
 *
 * <p>{@code @Sharable}: it keeps no per-channel state; its counters sum over all channels.
 */
@ChannelHandler.Sharable
public final class EchoResponder extends ChannelInboundHandlerAdapter {
    private static final VarHandle COUNT;
    private static final VarHandle MALFORMED;
    private static final VarHandle CONGESTED;

    static {
        try {
            COUNT = MethodHandles.lookup().findVarHandle(EchoResponder.class, "replies", long.class);
            MALFORMED = MethodHandles.lookup().findVarHandle(EchoResponder.class, "malformed", long.class);
            CONGESTED = MethodHandles.lookup().findVarHandle(EchoResponder.class, "congested", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final LocalAddresses local;
    private volatile long replies;
    private volatile long malformed;
    private volatile long congested;

    /** Answers pings for {@code local}'s addresses. */
    public EchoResponder(LocalAddresses local) {
        this.local = Objects.requireNonNull(local, "local");
    }

    /** Echo replies sent. */
    public long replies() {
        return replies;
    }

    /** Echo requests to a local address dropped for bad lengths or checksums. */
    public long malformed() {
        return malformed;
    }

    /**
     * Echo requests not answered because the channel was not writable: a reader that does not keep up turns the
     * channel unwritable at its write-buffer high water mark, and the responder then drops (and counts) instead of
     * queueing replies without bound.
     */
    public long congested() {
        return congested;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf pkt && pkt.readableBytes() >= Ipv4.MIN_HEADER_LENGTH) {
            int off = pkt.readerIndex();
            int version = pkt.getUnsignedByte(off) >>> 4;
            if (version == 4 && isEchoRequest4(pkt, off)) {
                reply4(ctx, pkt);
                return;
            }
            if (version == 6 && isEchoRequest6(pkt, off)) {
                reply6(ctx, pkt);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    private boolean isEchoRequest4(ByteBuf pkt, int off) {
        int ihl = (pkt.getUnsignedByte(off) & 0x0F) * 4;
        return pkt.getUnsignedByte(off + 9) == IpProtocol.ICMP
                && pkt.readableBytes() >= ihl + Icmpv4.HEADER_LENGTH
                && (pkt.getUnsignedShort(off + 6) & (Ipv4.FLAG_MF | Ipv4.FRAGMENT_OFFSET_MASK)) == 0
                && pkt.getUnsignedByte(off + ihl) == Icmpv4.TYPE_ECHO_REQUEST
                && local.isLocalIpv4(pkt.getInt(off + 16));
    }

    private boolean isEchoRequest6(ByteBuf pkt, int off) {
        return pkt.readableBytes() >= Ipv6.HEADER_LENGTH + Icmpv6.HEADER_LENGTH
                && pkt.getUnsignedByte(off + 6) == IpProtocol.ICMPV6
                && pkt.getUnsignedByte(off + Ipv6.HEADER_LENGTH) == Icmpv6.TYPE_ECHO_REQUEST
                && local.isLocalIpv6(pkt.getLong(off + 24), pkt.getLong(off + 32));
    }

    private void reply4(ChannelHandlerContext ctx, ByteBuf pkt) {
        if (!ctx.channel().isWritable()) {
            CONGESTED.getAndAdd(this, 1L);
            pkt.release();
            return;
        }
        if (Icmpv4.checkInPacket(pkt, pkt.readerIndex()) < 0) {
            drop(pkt);
            return;
        }
        ByteBuf r = Buffers.exclusive(pkt, ctx.alloc());
        int off = r.readerIndex();
        int ihl = (r.getUnsignedByte(off) & 0x0F) * 4;
        int src = r.getInt(off + 12);
        r.setInt(off + 12, r.getInt(off + 16));
        r.setInt(off + 16, src);
        r.setByte(off + 8, Ipv4.DEFAULT_TTL);
        Ipv4.fillChecksum(r, off);
        int icmp = off + ihl;
        int sum = r.getUnsignedShort(icmp + 2);
        r.setByte(icmp, Icmpv4.TYPE_ECHO_REPLY);
        r.setShort(icmp + 2, Checksums.incrementalUpdate16(sum, Icmpv4.TYPE_ECHO_REQUEST << 8,
                Icmpv4.TYPE_ECHO_REPLY << 8));
        COUNT.getAndAdd(this, 1L);
        ctx.writeAndFlush(r, ctx.voidPromise());
    }

    private void reply6(ChannelHandlerContext ctx, ByteBuf pkt) {
        if (!ctx.channel().isWritable()) {
            CONGESTED.getAndAdd(this, 1L);
            pkt.release();
            return;
        }
        if (Icmpv6.checkInPacket(pkt, pkt.readerIndex()) < 0) {
            drop(pkt);
            return;
        }
        ByteBuf r = Buffers.exclusive(pkt, ctx.alloc());
        int off = r.readerIndex();
        long srcHi = r.getLong(off + 8);
        long srcLo = r.getLong(off + 16);
        r.setLong(off + 8, r.getLong(off + 24));
        r.setLong(off + 16, r.getLong(off + 32));
        r.setLong(off + 24, srcHi);
        r.setLong(off + 32, srcLo);
        r.setByte(off + 7, Ipv6.DEFAULT_HOP_LIMIT);
        // Swapping the addresses leaves the pseudo-header sum unchanged; only the type word moves.
        int icmp = off + Ipv6.HEADER_LENGTH;
        int sum = r.getUnsignedShort(icmp + 2);
        r.setByte(icmp, Icmpv6.TYPE_ECHO_REPLY);
        r.setShort(icmp + 2, Checksums.incrementalUpdate16(sum, Icmpv6.TYPE_ECHO_REQUEST << 8,
                Icmpv6.TYPE_ECHO_REPLY << 8));
        COUNT.getAndAdd(this, 1L);
        ctx.writeAndFlush(r, ctx.voidPromise());
    }

    private void drop(ByteBuf pkt) {
        MALFORMED.getAndAdd(this, 1L);
        pkt.release();
    }
}

package dev.pktkit.tuntap;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.offload.Offloads;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.tuntap.vnet.GsoSegmenter;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;
import dev.pktkit.tuntap.vnet.VirtioNetPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Lets a channel with {@link OffloadMode#LARGE} talk to handlers that read and write only {@code ByteBuf}s (the
 * hubs, most devices) while large segments still cross the device in one piece.
 *
 * <ul>
 *   <li>Inbound, a {@link VirtioNetPacket} becomes its content, a plain packet: a large TCP segment gets its TCP
 *       checksum computed over the whole segment (it is then a valid IP packet, only longer than the MTU, as
 *       Linux's own stack sees segments after GRO); a partial checksum is completed. UDP segmentation offloads
 *       are never switched on; such a packet is dropped and counted.</li>
 *   <li>Outbound, a TCP packet (IPv4 or IPv6) whose payload is larger than fits the MTU becomes a
 *       {@link VirtioNetPacket} that asks the kernel to cut it ({@code gso_size} = MTU minus headers); everything
 *       else passes unchanged.</li>
 * </ul>
 *
 * Put it first in the pipeline of a {@link TunChannel} or {@link TapChannel}; it reads the channel's MTU at each
 * write. Not sharable: its counters are per channel.
 *
 * <p>On a TUN/TAP channel with offloads ({@link OffloadMode#LARGE} or {@link OffloadMode#SEGMENT}: a virtio-net
 * header before every packet) the codec marks the channel {@link OffloadPacket#ACCEPTS}: whatever it is written,
 * a {@code ByteBuf} or an {@code OffloadPacket} (a large segment with a partial checksum), reaches the kernel with
 * its state, and the kernel cuts and checksums it. So a vtcp {@code VirtualHost} behind it turns its segmentation
 * offload on by itself, and a hub forwards large segments to it without completing them in Java. The mark follows
 * the configured mode when the codec is added before {@code bind}, and the bound mode when the channel becomes
 * active (the mode is fixed then); it is taken away when the codec leaves. A channel without offloads
 * ({@link OffloadMode#NONE}) is not marked: it would cut every large segment in Java. (Before, only
 * {@link #forwarding()} marked the channel, although the default codec takes {@code OffloadPacket}s on write just
 * as well: the mark was tied to the inbound half, keeping offload state, while it only tells writers what the
 * channel takes.)
 *
 * <p>{@link #forwarding()} makes one for a channel that is a hub port: inbound {@link VirtioNetPacket}s go on as
 * they are (codec's {@link OffloadPacket}, state kept), and the channel is marked {@link OffloadPacket#ACCEPTS},
 * so a hub forwards large segments and partial checksums between such ports without completing a checksum in
 * Java, as Linux forwards {@code CHECKSUM_PARTIAL} packets; a hub completes the state only for ports that want
 * plain packets. Outbound works as in the default mode (an {@code OffloadPacket} is written with its state).
 */
public final class VirtioNetCodec extends ChannelDuplexHandler {
    private static final VarHandle DROPPED;
    private static final VarHandle LARGE_IN;
    private static final VarHandle LARGE_OUT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            DROPPED = l.findVarHandle(VirtioNetCodec.class, "dropped", long.class);
            LARGE_IN = l.findVarHandle(VirtioNetCodec.class, "largeIn", long.class);
            LARGE_OUT = l.findVarHandle(VirtioNetCodec.class, "largeOut", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int fixedMtu;
    private final boolean forwarding;
    private long dropped;
    private long largeIn;
    private long largeOut;
    /** Whether this codec set {@link OffloadPacket#ACCEPTS} on its channel (on the channel's loop). */
    private boolean marked;

    /** Uses the TUN/TAP channel's MTU. */
    public VirtioNetCodec() {
        this(0);
    }

    /** Uses {@code mtu} (0: the channel's) for the size of the segments the kernel cuts outbound packets into. */
    public VirtioNetCodec(int mtu) {
        this(mtu, false);
    }

    private VirtioNetCodec(int mtu, boolean forwarding) {
        if (mtu < 0) {
            throw new IllegalArgumentException("mtu: " + mtu);
        }
        this.fixedMtu = mtu;
        this.forwarding = forwarding;
    }

    /** A codec in forwarding mode (see the class comment), using the channel's MTU. */
    public static VirtioNetCodec forwarding() {
        return new VirtioNetCodec(0, true);
    }

    /** Whether inbound offload state is kept ({@link #forwarding()}) rather than completed. */
    public boolean isForwarding() {
        return forwarding;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        mark(ctx.channel());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        mark(ctx.channel()); // the offload mode is fixed at bind, just before the channel becomes active
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (marked) {
            ctx.channel().attr(OffloadPacket.ACCEPTS).set(null);
            marked = false;
        }
    }

    /** Marks the channel {@link OffloadPacket#ACCEPTS} when it takes offloaded packets; on its loop. */
    private void mark(Channel ch) {
        if (forwarding || writesVirtioHeaders(ch)) {
            ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
            marked = true;
        } else if (marked) {
            ch.attr(OffloadPacket.ACCEPTS).set(null);
            marked = false;
        }
    }

    /**
     * Whether {@code ch} is a TUN/TAP channel that writes a virtio-net header with every packet: bound with an
     * offload mode other than {@link OffloadMode#NONE}, or, before {@code bind}, configured with one.
     */
    static boolean writesVirtioHeaders(Channel ch) {
        if (!(ch instanceof AbstractTunTapChannel t)) {
            return false;
        }
        OffloadMode mode = t.isActive() ? t.offloadMode() : t.config().getOffload();
        return mode != null && mode != OffloadMode.NONE;
    }

    /** Inbound packets dropped: inconsistent offload headers, UDP segmentation. */
    public long dropped() {
        return (long) DROPPED.getOpaque(this);
    }

    /** Large segments turned into plain (oversized) packets. */
    public long largeSegmentsIn() {
        return (long) LARGE_IN.getOpaque(this);
    }

    /** Oversized TCP packets sent as large segments for the kernel to cut. */
    public long largeSegmentsOut() {
        return (long) LARGE_OUT.getOpaque(this);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof VirtioNetPacket p)) {
            ctx.fireChannelRead(msg);
            return;
        }
        boolean gso = p.isGso();
        if (forwarding) {
            if (gso) {
                LARGE_IN.setOpaque(this, largeIn + 1);
            }
            ctx.fireChannelRead(p);
            return;
        }
        ByteBuf pkt = Offloads.complete(p, ctx.alloc(), ctx.channel() instanceof TapChannel);
        if (pkt == null) {
            DROPPED.setOpaque(this, dropped + 1);
            return;
        }
        if (gso) {
            LARGE_IN.setOpaque(this, largeIn + 1);
        }
        ctx.fireChannelRead(pkt);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf pkt) {
            int mtu = fixedMtu > 0 ? fixedMtu
                    : ctx.channel() instanceof AbstractTunTapChannel t ? t.mtu() : 0;
            if (mtu > 0 && pkt.readableBytes() > mtu) {
                VirtioNetPacket large = asLargeSegment(pkt, ctx.channel() instanceof TapChannel, mtu);
                if (large != null) {
                    LARGE_OUT.setOpaque(this, largeOut + 1);
                    ctx.write(large, promise);
                    return;
                }
            }
        }
        ctx.write(msg, promise);
    }

    /** A GSO header for an oversized TCP packet, or null if it is not one the kernel can cut. */
    static VirtioNetPacket asLargeSegment(ByteBuf pkt, boolean ethernet, int mtu) {
        int start = pkt.readerIndex();
        int end = pkt.writerIndex();
        int l3 = GsoSegmenter.ipOffset(pkt, start, ethernet);
        if (l3 < 0 || l3 + 20 > end) {
            return null;
        }
        int version = pkt.getUnsignedByte(l3) >>> 4;
        int l4;
        int type;
        if (version == 4) {
            if (pkt.getUnsignedByte(l3 + 9) != IpProtocol.TCP) {
                return null;
            }
            l4 = l3 + ((pkt.getUnsignedByte(l3) & 0x0F) << 2);
            type = VirtioNetHeader.GSO_TCPV4;
        } else if (version == 6) {
            if (l3 + 40 > end || pkt.getUnsignedByte(l3 + 6) != IpProtocol.TCP) {
                return null; // extension headers: leave such packets alone
            }
            l4 = l3 + 40;
            type = VirtioNetHeader.GSO_TCPV6;
        } else {
            return null;
        }
        if (l4 + Tcp.MIN_HEADER_LENGTH > end) {
            return null;
        }
        int thl = (pkt.getUnsignedByte(l4 + 12) >>> 4) << 2;
        int mss = mtu - (l4 - l3) - thl;
        if (thl < Tcp.MIN_HEADER_LENGTH || l4 + thl > end || mss <= 0 || end - (l4 + thl) <= mss) {
            return null;
        }
        if ((pkt.getUnsignedByte(l4 + 13) & Tcp.CWR) != 0) {
            type |= VirtioNetHeader.GSO_ECN;
        }
        return new VirtioNetPacket(pkt, 0, type, l4 + thl - start, mss, l4 - start, 16);
    }
}

package dev.pktkit.codec.adapter;

import dev.pktkit.codec.buffer.Buffers;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.EventExecutor;

import java.net.NoRouteToHostException;
import java.util.Arrays;
import java.util.Locale;

/**
 * The link layer of an {@link L2Adapter}: its MAC and the group MACs it accepts, writing Ethernet headers on
 * outbound packets (in place when the packet is unshared and has headroom, else into a copy), and the services
 * the host parts use ({@link AdapterLink}). One per adapter, on its event loop.
 */
final class EthernetFraming implements AdapterLink {
    private final long mac;
    private final AdapterCounters counters;
    private ChannelHandlerContext ctx;
    private long now;
    private int ipId;
    private long[] groups = new long[8];
    private int groupCount;

    EthernetFraming(long mac, AdapterCounters counters) {
        this.mac = mac;
        this.counters = counters;
    }

    void attach(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        freshNow();
    }

    /** Whether {@code dst} is a group this adapter accepts (broadcast included). */
    boolean isGroup(long dst) {
        long[] g = groups;
        for (int i = 0, n = groupCount; i < n; i++) {
            if (g[i] == dst) {
                return true;
            }
        }
        return false;
    }

    @Override
    public long mac() {
        return mac;
    }

    @Override
    public long now() {
        return now;
    }

    @Override
    public long freshNow() {
        long t = ctx.executor().ticker().nanoTime();
        now = t;
        return t;
    }

    @Override
    public Channel channel() {
        return ctx.channel();
    }

    @Override
    public EventExecutor executor() {
        return ctx.executor();
    }

    @Override
    public ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    @Override
    public ChannelPromise voidPromise() {
        return ctx.voidPromise();
    }

    @Override
    public AdapterCounters counters() {
        return counters;
    }

    @Override
    public ByteBuf packetBuffer(int capacity) {
        ByteBuf b = ctx.alloc().buffer(L2Adapter.HEADROOM + capacity);
        b.writerIndex(L2Adapter.HEADROOM).readerIndex(L2Adapter.HEADROOM);
        return b;
    }

    @Override
    public boolean congested() {
        if (ctx.channel().isWritable()) {
            return false;
        }
        counters.dropped(AdapterDropReason.CONGESTED);
        return true;
    }

    @Override
    public void sendFrame(ByteBuf pkt, long dstMac, int etherType, ChannelPromise promise) {
        int off = pkt.readerIndex();
        ByteBuf frame;
        if (off >= Ethernet.HEADER_LENGTH && Buffers.isExclusive(pkt)) {
            frame = pkt;
            off -= Ethernet.HEADER_LENGTH;
            frame.readerIndex(off);
        } else {
            frame = copyBehindHeader(pkt, promise);
            if (frame == null) {
                return;
            }
            off = 0;
        }
        // dst (6) + the first 2 bytes of src in one store, the last 4 of src and the type in another
        frame.setLong(off, (dstMac << 16) | (mac >>> 32));
        frame.setLong(off + 8, (mac << 32) | ((etherType & 0xFFFFL) << 16) | frame.getUnsignedShort(off + 14));
        counters.packetSent();
        ctx.write(frame, promise);
    }

    /** A new frame buffer with {@code pkt}'s readable bytes after 14 header bytes; releases {@code pkt}. */
    private ByteBuf copyBehindHeader(ByteBuf pkt, ChannelPromise promise) {
        int off = pkt.readerIndex();
        int len = pkt.readableBytes();
        ByteBuf frame;
        try {
            frame = ctx.alloc().buffer(Ethernet.HEADER_LENGTH + len);
        } catch (Throwable t) {
            pkt.release();
            promise.tryFailure(t);
            return null;
        }
        // Not frame.writeBytes(pkt): Netty 4.2's default allocator makes two ByteBuffer views (128 B) for the first
        // bulk copy into each buffer it hands out; Buffers.copy moves packet-sized copies word by word instead.
        Buffers.copy(pkt, off, frame, Ethernet.HEADER_LENGTH, len);
        frame.writerIndex(Ethernet.HEADER_LENGTH + len);
        pkt.release();
        return frame;
    }

    @Override
    public void sendControlFrame(ByteBuf frame) {
        counters.arpSent();
        ctx.writeAndFlush(frame, ctx.voidPromise());
    }

    @Override
    public void sendIpv4To(ByteBuf pkt, long dstMac, ChannelPromise promise) {
        if (congested()) {
            pkt.release();
            promise.tryFailure(new NoRouteToHostException("congested: the port is not writable"));
            return;
        }
        sendFrame(pkt, dstMac, Ethernet.IPV4, promise);
        ctx.flush();
    }

    @Override
    public void sendIpv6To(ByteBuf pkt, long dstMac) {
        if (congested()) {
            pkt.release();
            return;
        }
        counters.ndpSent();
        sendFrame(pkt, dstMac, Ethernet.IPV6, ctx.voidPromise());
        ctx.flush();
    }

    @Override
    public void flush() {
        ctx.flush();
    }

    @Override
    public void dropOut(ByteBuf pkt, ChannelPromise promise, AdapterDropReason reason) {
        counters.dropped(reason);
        pkt.release();
        promise.tryFailure(new NoRouteToHostException(reason.name().toLowerCase(Locale.ROOT)));
    }

    @Override
    public void deliverUp(ByteBuf packet) {
        ctx.fireChannelRead(packet);
        ctx.fireChannelReadComplete();
    }

    @Override
    public void fire(AdapterEvent event) {
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void addGroup(long groupMac) {
        if (groupCount == groups.length) {
            groups = Arrays.copyOf(groups, groups.length * 2);
        }
        groups[groupCount++] = groupMac;
    }

    @Override
    public void removeGroup(long groupMac) {
        for (int i = 0; i < groupCount; i++) {
            if (groups[i] == groupMac) {
                groups[i] = groups[--groupCount];
                return;
            }
        }
    }

    @Override
    public int nextIpId() {
        return ipId = (ipId + 1) & 0xFFFF;
    }

    @Override
    public String toString() {
        return MacAddress.format(mac);
    }
}

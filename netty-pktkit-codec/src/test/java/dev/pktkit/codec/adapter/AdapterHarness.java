package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An {@link L2Adapter} on an {@link EmbeddedChannel}: frames go in with {@link #frameIn}, frames come out with
 * {@link #frameOut}, packets the adapter passes up and user events are recorded. Time moves only by
 * {@link #advance}.
 */
final class AdapterHarness implements AutoCloseable {
    final L2Adapter adapter;
    final EmbeddedChannel channel;
    final List<ByteBuf> packetsUp = new ArrayList<>();
    final List<Object> events = new ArrayList<>();

    AdapterHarness(L2Adapter adapter) {
        this.adapter = adapter;
        this.channel = new EmbeddedChannel();
        channel.freezeTime();
        // The recorder goes in first so it sees the events the adapter fires as soon as it is added.
        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                packetsUp.add((ByteBuf) msg);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add(evt);
            }
        });
        channel.pipeline().addFirst(adapter);
    }

    /** Moves the loop's clock and runs what became due. */
    void advance(long amount, TimeUnit unit) {
        channel.advanceTimeBy(amount, unit);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    void frameIn(ByteBuf frame) {
        channel.writeInbound(frame);
    }

    /** The next frame the adapter sent, or null. */
    ByteBuf frameOut() {
        return channel.readOutbound();
    }

    /** Releases every frame sent so far; returns how many. */
    int discardOut() {
        int n = 0;
        for (Object o; (o = channel.readOutbound()) != null; n++) {
            ReferenceCountUtil.release(o);
        }
        return n;
    }

    ByteBuf packetUp() {
        return packetsUp.isEmpty() ? null : packetsUp.remove(0);
    }

    <T> List<T> events(Class<T> type) {
        List<T> out = new ArrayList<>();
        for (Object e : events) {
            if (type.isInstance(e)) {
                out.add(type.cast(e));
            }
        }
        return out;
    }

    @Override
    public void close() {
        channel.finishAndReleaseAll();
        for (ByteBuf b : packetsUp) {
            b.release();
        }
        packetsUp.clear();
    }

    // ---- packet and frame builders -------------------------------------------------------------------------------

    /** An IPv4 UDP packet with {@code headroom} bytes free before it. */
    static ByteBuf udp4(String src, String dst, int headroom, int payload) {
        ByteBuf b = Unpooled.buffer(headroom + 28 + payload);
        b.writerIndex(headroom).readerIndex(headroom);
        ByteBuf data = Unpooled.buffer(payload).writeZero(payload);
        Ipv4.writeHeader(b, Ip4.parse(src), Ip4.parse(dst), IpProtocol.UDP, 64, 8 + payload, 1, false);
        Udp.writeDatagramV4(b, Ip4.parse(src), Ip4.parse(dst), 1000, 2000, data, 0, payload);
        data.release();
        return b;
    }

    /** An IPv6 UDP packet with {@code headroom} bytes free before it. */
    static ByteBuf udp6(long srcHi, long srcLo, long dstHi, long dstLo, int headroom) {
        ByteBuf b = Unpooled.buffer(headroom + 48 + 4);
        b.writerIndex(headroom).readerIndex(headroom);
        Ipv6.writeHeader(b, 0, 0, 12, IpProtocol.UDP, 64, srcHi, srcLo, dstHi, dstLo);
        ByteBuf data = Unpooled.buffer(4).writeInt(0x01020304);
        Udp.writeDatagramV6(b, srcHi, srcLo, dstHi, dstLo, 1000, 2000, data, 0, 4);
        data.release();
        return b;
    }

    /** An ICMP echo request packet (no headroom). */
    static ByteBuf ping4(String src, String dst, int id, int seq) {
        ByteBuf b = Unpooled.buffer(64);
        ByteBuf data = Unpooled.buffer(8).writeLong(0x1122334455667788L);
        Ipv4.writeHeader(b, Ip4.parse(src), Ip4.parse(dst), IpProtocol.ICMP, 64, 16, 7, false);
        Icmpv4.writeEcho(b, Icmpv4.TYPE_ECHO_REQUEST, id, seq, data, 0, 8);
        data.release();
        return b;
    }

    /** An ICMPv6 echo request packet (no headroom). */
    static ByteBuf ping6(long srcHi, long srcLo, long dstHi, long dstLo) {
        ByteBuf b = Unpooled.buffer(64);
        Ipv6.writeHeader(b, 0, 0, 16, IpProtocol.ICMPV6, 64, srcHi, srcLo, dstHi, dstLo);
        int icmp = b.writerIndex();
        b.writeByte(Icmpv6.TYPE_ECHO_REQUEST).writeByte(0).writeShort(0).writeShort(0x1234).writeShort(1)
                .writeLong(0xAABBCCDDEEFF0011L);
        Icmpv6.fillChecksum(b, icmp, 16, srcHi, srcLo, dstHi, dstLo);
        return b;
    }

    /** {@code packet} in an Ethernet frame (released). */
    static ByteBuf frame(long dst, long src, int etherType, ByteBuf packet) {
        ByteBuf f = Unpooled.buffer(14 + packet.readableBytes());
        Ethernet.writeHeader(f, dst, src, etherType);
        f.writeBytes(packet);
        packet.release();
        return f;
    }

    static ByteBuf arpRequest(long senderMac, String senderIp, String targetIp) {
        ByteBuf f = Unpooled.buffer(42);
        Arp.writeRequestFrame(f, senderMac, Ip4.parse(senderIp), Ip4.parse(targetIp));
        return f;
    }

    static ByteBuf arpReply(long senderMac, String senderIp, long targetMac, String targetIp) {
        ByteBuf f = Unpooled.buffer(42);
        Arp.writeReplyFrame(f, senderMac, Ip4.parse(senderIp), targetMac, Ip4.parse(targetIp));
        return f;
    }

    static long mac(String s) {
        return MacAddress.parse(s);
    }
}

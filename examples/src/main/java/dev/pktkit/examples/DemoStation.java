package dev.pktkit.examples;

import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

import java.util.HashMap;
import java.util.Map;

/**
 * A deliberately small host for the example: one MAC, one IPv4 address, an ARP table, answers ARP requests and
 * ICMP echo requests for its address, and can ping. It shows how a device is written as a handler over wire
 * views; the toolkit's full L2 adapter (ARP/NDP caches with bounds and aging, DHCP, gateway routing) is a
 * separate component. Runs on its channel's event loop only.
 */
final class DemoStation extends ChannelInboundHandlerAdapter {
    private static final int ICMP_ECHO_REPLY = 0;
    private static final int ICMP_ECHO_REQUEST = 8;

    final String name;
    final long mac;
    final int ip;
    private final Map<Integer, Long> arpTable = new HashMap<>();
    private final Map<Integer, Promise<Long>> pendingPings = new HashMap<>();
    private final Map<Integer, Long> sentAt = new HashMap<>();
    /** Pings waiting for an ARP reply: target address → sequence number. */
    private final Map<Integer, Integer> pendingTargets = new HashMap<>();
    private ChannelHandlerContext ctx;
    private int nextSeq;

    DemoStation(String name, long mac, int ip) {
        this.name = name;
        this.mac = mac;
        this.ip = ip;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Pings {@code target}; the promise gets the round-trip time in nanoseconds. Call on the station's loop. */
    void ping(int target, Promise<Long> done) {
        int seq = ++nextSeq;
        pendingPings.put(seq, done);
        sentAt.put(seq, System.nanoTime());
        Long targetMac = arpTable.get(target);
        if (targetMac == null) {
            // Record first: on a shared loop the reply can arrive before writeAndFlush returns.
            pendingTargets.put(target, seq);
            ByteBuf req = ctx.alloc().buffer(60);
            Arp.writeRequestFrame(req, mac, ip, target);
            req.writeZero(60 - req.readableBytes()); // Ethernet minimum frame size
            ctx.writeAndFlush(req);
            return;
        }
        sendEcho(ICMP_ECHO_REQUEST, targetMac, target, seq, null);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            int off = frame.readerIndex();
            long dst = Ethernet.dst(frame, off);
            if (dst != mac && dst != dev.pktkit.codec.wire.MacAddress.BROADCAST) {
                return; // flooded unicast for someone else
            }
            int type = Ethernet.innerEtherType(frame, off);
            int l3 = Ethernet.payloadOffset(frame, off);
            if (type == Ethernet.ARP && Arp.check(frame, l3) >= 0) {
                onArp(frame, l3);
            } else if (type == Ethernet.IPV4 && Ipv4.check(frame, l3) >= 0 && Ipv4.dst(frame, l3) == ip
                    && Ipv4.protocol(frame, l3) == IpProtocol.ICMP) {
                onIcmp(frame, l3, Ethernet.src(frame, off));
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onArp(ByteBuf frame, int arp) {
        int senderIp = Arp.senderIp(frame, arp);
        long senderMac = Arp.senderMac(frame, arp);
        arpTable.put(senderIp, senderMac);
        if (Arp.operation(frame, arp) == Arp.OP_REQUEST && Arp.targetIp(frame, arp) == ip) {
            ByteBuf reply = ctx.alloc().buffer(60);
            Arp.writeReplyFrame(reply, mac, ip, senderMac, senderIp);
            reply.writeZero(60 - reply.readableBytes());
            ctx.writeAndFlush(reply);
        }
        Integer seq = pendingTargets.remove(senderIp);
        if (seq != null) {
            sendEcho(ICMP_ECHO_REQUEST, senderMac, senderIp, seq, null);
        }
    }

    private void onIcmp(ByteBuf frame, int ip4, long fromMac) {
        int icmp = Ipv4.payloadOffset(frame, ip4);
        int len = Ipv4.payloadLength(frame, ip4);
        if (len < 8 || Checksums.internet(frame, icmp, len) != 0) {
            return;
        }
        int type = frame.getUnsignedByte(icmp);
        int seq = frame.getUnsignedShort(icmp + 6);
        int from = Ipv4.src(frame, ip4);
        if (type == ICMP_ECHO_REQUEST) {
            ByteBuf payload = frame.retainedSlice(icmp + 8, len - 8);
            try {
                sendEcho(ICMP_ECHO_REPLY, fromMac, from, seq, payload);
            } finally {
                payload.release();
            }
        } else if (type == ICMP_ECHO_REPLY) {
            Promise<Long> p = pendingPings.remove(seq);
            Long t0 = sentAt.remove(seq);
            if (p != null && t0 != null) {
                p.trySuccess(System.nanoTime() - t0);
            }
        }
    }

    /** An Ethernet/IPv4/ICMP echo request or reply; {@code payload} (not consumed) or 32 bytes of pattern. */
    private void sendEcho(int type, long toMac, int toIp, int seq, ByteBuf payload) {
        int dataLen = payload == null ? 32 : payload.readableBytes();
        ByteBuf f = ctx.alloc().buffer(14 + 20 + 8 + dataLen);
        Ethernet.writeHeader(f, toMac, mac, Ethernet.IPV4);
        Ipv4.writeHeader(f, ip, toIp, IpProtocol.ICMP, Ipv4.DEFAULT_TTL, 8 + dataLen, seq, true);
        int icmp = f.writerIndex();
        f.writeByte(type).writeByte(0).writeShort(0).writeShort(0x7071).writeShort(seq);
        if (payload == null) {
            for (int i = 0; i < dataLen; i++) {
                f.writeByte('a' + i % 26);
            }
        } else {
            f.writeBytes(payload, payload.readerIndex(), dataLen);
        }
        f.setShort(icmp + 2, Checksums.internet(f, icmp, 8 + dataLen));
        ctx.writeAndFlush(f);
    }

    @Override
    public String toString() {
        return name + " " + dev.pktkit.codec.wire.MacAddress.format(mac) + " " + Ip4.format(ip);
    }
}

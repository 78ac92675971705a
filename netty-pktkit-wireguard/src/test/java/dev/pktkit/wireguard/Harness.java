package dev.pktkit.wireguard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Two endpoints on {@link EmbeddedChannel}s with a virtual clock, wired back to back: what one writes is delivered
 * to the other as a datagram from its address, unless a filter drops or captures it.
 */
final class Harness implements AutoCloseable {
    static final InetSocketAddress ADDR_A = new InetSocketAddress("192.0.2.1", 40001);
    static final InetSocketAddress ADDR_B = new InetSocketAddress("192.0.2.2", 51820);

    final WireGuardKey keyA = WireGuardKey.generatePrivate();
    final WireGuardKey keyB = WireGuardKey.generatePrivate();
    EmbeddedChannel chA;
    EmbeddedChannel chB;
    WireGuardEndpoint a;
    WireGuardEndpoint b;
    InetSocketAddress sourceOfA = ADDR_A;
    /** Return false to drop a datagram in flight (arguments: from-A?, content). */
    Predicate<DatagramPacket> dropAtoB = d -> false;
    Predicate<DatagramPacket> dropBtoA = d -> false;
    final List<byte[]> sentByA = new ArrayList<>();
    final List<byte[]> sentByB = new ArrayList<>();

    Harness build(java.util.function.UnaryOperator<WireGuardEndpoint.Builder> ca,
                  java.util.function.UnaryOperator<WireGuardEndpoint.Builder> cb) {
        a = ca.apply(WireGuardEndpoint.builder().privateKey(keyA)).build();
        b = cb.apply(WireGuardEndpoint.builder().privateKey(keyB)).build();
        chA = EmbeddedChannel.builder().handlers(a).build();
        chB = EmbeddedChannel.builder().handlers(b).build();
        chA.freezeTime();
        chB.freezeTime();
        return this;
    }

    /** The usual pair: A knows B at ADDR_B (10.0.0.2/32), B knows A without endpoint (10.0.0.1/32). */
    Harness standard(java.util.function.UnaryOperator<WireGuardEndpoint.Builder> ca,
                     java.util.function.UnaryOperator<WireGuardEndpoint.Builder> cb) {
        return build(x -> ca.apply(x.peer(WireGuardPeerConfig.of(keyB.publicKey(), "10.0.0.2/32", "fd00::2/128")
                        .withEndpoint(ADDR_B))),
                x -> cb.apply(x.peer(WireGuardPeerConfig.of(keyA.publicKey(), "10.0.0.1/32", "fd00::1/128"))));
    }

    Harness standard() {
        return standard(x -> x, x -> x);
    }

    WireGuardPeerChannel peerOfA() {
        return a.peer(keyB.publicKey());
    }

    WireGuardPeerChannel peerOfB() {
        return b.peer(keyA.publicKey());
    }

    /** Moves datagrams both ways until none is left. */
    void pump() {
        for (int round = 0; round < 1000; round++) {
            boolean moved = false;
            chA.runPendingTasks();
            chB.runPendingTasks();
            Object o;
            while ((o = chA.readOutbound()) != null) {
                moved = true;
                DatagramPacket d = (DatagramPacket) o;
                sentByA.add(bytes(d.content()));
                if (dropAtoB.test(d)) {
                    d.release();
                    continue;
                }
                chB.writeInbound(new DatagramPacket(d.content(), ADDR_B, sourceOfA));
            }
            while ((o = chB.readOutbound()) != null) {
                moved = true;
                DatagramPacket d = (DatagramPacket) o;
                sentByB.add(bytes(d.content()));
                if (dropBtoA.test(d)) {
                    d.release();
                    continue;
                }
                if (!d.recipient().equals(sourceOfA) && !d.recipient().equals(ADDR_A)) {
                    d.release(); // sent somewhere else (an old endpoint): lost
                    continue;
                }
                chA.writeInbound(new DatagramPacket(d.content(), d.recipient(), ADDR_B));
            }
            if (!moved) {
                return;
            }
        }
        throw new AssertionError("datagrams kept flowing");
    }

    /** Advances both virtual clocks and runs what became due, then pumps. */
    void advance(long amount, TimeUnit unit) {
        long step = Math.min(unit.toNanos(amount), TimeUnit.MILLISECONDS.toNanos(100));
        long left = unit.toNanos(amount);
        while (left > 0) {
            long s = Math.min(step, left);
            chA.advanceTimeBy(s, TimeUnit.NANOSECONDS);
            chB.advanceTimeBy(s, TimeUnit.NANOSECONDS);
            chA.runScheduledPendingTasks();
            chB.runScheduledPendingTasks();
            pump();
            left -= s;
        }
    }

    static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), out);
        return out;
    }

    /** Delivers raw bytes to B as if from A's address. */
    void injectToB(byte[] datagram) {
        chB.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(datagram), ADDR_B, sourceOfA));
        chB.runPendingTasks();
    }

    void injectToA(byte[] datagram) {
        chA.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(datagram), ADDR_A, ADDR_B));
        chA.runPendingTasks();
    }

    static int type(byte[] d) {
        return d[0];
    }

    long count(List<byte[]> sent, int type, boolean emptyTransport) {
        return sent.stream().filter(d -> d[0] == type && (!emptyTransport || d.length == 32)).count();
    }

    /** An IPv4 packet src → dst with {@code payload} bytes of filler. */
    static ByteBuf ipv4(String src, String dst, int payload) {
        ByteBuf b = Unpooled.buffer(20 + payload);
        b.writeByte(0x45).writeByte(0).writeShort(20 + payload).writeInt(0).writeByte(64).writeByte(17).writeShort(0);
        b.writeInt(ip(src)).writeInt(ip(dst));
        for (int i = 0; i < payload; i++) {
            b.writeByte(i);
        }
        return b;
    }

    static ByteBuf ipv6(String src, String dst, int payload) {
        ByteBuf b = Unpooled.buffer(40 + payload);
        b.writeInt(0x60000000).writeShort(payload).writeByte(17).writeByte(64);
        try {
            b.writeBytes(java.net.InetAddress.getByName(src).getAddress());
            b.writeBytes(java.net.InetAddress.getByName(dst).getAddress());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
        b.writeZero(payload);
        return b;
    }

    static int ip(String s) {
        String[] p = s.split("\\.");
        return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8
                | Integer.parseInt(p[3]);
    }

    /** Collects what a peer channel reads (copies, releasing the originals). */
    static final class Collector extends ChannelInboundHandlerAdapter {
        final List<byte[]> packets = new ArrayList<>();
        int readCompletes;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            packets.add(bytes((ByteBuf) msg));
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readCompletes++;
        }
    }

    Collector collect(WireGuardPeerChannel ch) {
        Collector c = new Collector();
        ch.pipeline().addLast(c);
        return c;
    }

    @Override
    public void close() {
        chA.finishAndReleaseAll();
        chB.finishAndReleaseAll();
    }
}

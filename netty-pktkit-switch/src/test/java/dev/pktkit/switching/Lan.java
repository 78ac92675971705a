package dev.pktkit.switching;

import dev.pktkit.codec.pipe.PacketPipe;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test fixture: hosts joined to a hub through {@link PacketPipe}s, everything on one event loop so that a step run
 * with {@link #run} has finished all its deliveries when it returns (same-loop pipes deliver synchronously).
 *
 * <p>Frames are pooled direct buffers, which the (paranoid) leak detector tracks, and every one sent is kept so
 * that a test can check after a drop or a flood that the hub let go of it ({@link #assertAllReleased}).
 */
final class Lan {
    final EventLoop loop;
    final AbstractHub<?> hub;
    /** Every buffer a host sent, for {@link #assertAllReleased}. */
    final List<ByteBuf> sent = new ArrayList<>();

    Lan(EventLoop loop, AbstractHub<?> hub) {
        this.loop = loop;
        this.hub = hub;
    }

    /** A host end: records every frame it receives as a hex string. */
    static final class Host extends ChannelInboundHandlerAdapter {
        final PacketPipe pipe;
        final List<String> received = new ArrayList<>();
        private final List<ByteBuf> sent;
        HubPort port;

        Host(PacketPipe pipe, List<ByteBuf> sent) {
            this.pipe = pipe;
            this.sent = sent;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                received.add(io.netty.buffer.ByteBufUtil.hexDump(b));
            } finally {
                b.release();
            }
        }

        /** Sends {@code hex} as a pooled frame and returns it (owned by the pipe and the hub: look, don't touch). */
        ByteBuf send(String hex) {
            ByteBuf b = pooled(hex);
            sent.add(b);
            pipe.a().writeAndFlush(b);
            return b;
        }

        List<String> take() {
            List<String> copy = new ArrayList<>(received);
            received.clear();
            return copy;
        }
    }

    /** Adds a host whose hub side is attached by {@code attach} (e.g. with port options). */
    Host host(java.util.function.Function<io.netty.channel.Channel, HubPort> attach) throws Exception {
        PacketPipe pipe = new PacketPipe();
        Host h = new Host(pipe, sent);
        pipe.a().pipeline().addLast(h);
        pipe.register(loop, loop).get(5, TimeUnit.SECONDS);
        h.port = run(() -> attach.apply(pipe.b()));
        return h;
    }

    Host host() throws Exception {
        return host(hub::attach);
    }

    <T> T run(java.util.concurrent.Callable<T> step) throws Exception {
        return loop.submit(step).get(5, TimeUnit.SECONDS);
    }

    void run(Runnable step) throws Exception {
        loop.submit(step).get(5, TimeUnit.SECONDS);
    }

    /** A pooled direct buffer holding {@code hex}: tracked by the leak detector. */
    static ByteBuf pooled(String hex) {
        byte[] bytes = ByteBufUtil.decodeHexDump(hex);
        return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    }

    /** Every frame sent so far has been released by whoever held it (hub, pipes, hosts). */
    void assertAllReleased() throws Exception {
        run(() -> { }); // let same-loop deliveries and releases finish
        for (ByteBuf b : sent) {
            org.junit.jupiter.api.Assertions.assertEquals(0, b.refCnt(), "a sent frame was not released");
        }
    }

    static String mac(int n) {
        return String.format("02000000%04x", n);
    }

    static final String BROADCAST = "ffffffffffff";

    /** An untagged frame: dst, src, IPv4 type, 46 bytes of payload starting with {@code tag}. */
    static String frame(String dst, String src, int tag) {
        return dst + src + "0800" + String.format("%08x", tag) + "00".repeat(42);
    }

    /** The same frame with an 802.1Q tag carrying {@code vid} (priority {@code pcp}). */
    static String tagged(String dst, String src, int vid, int pcp, int tag) {
        return dst + src + "8100" + String.format("%04x", (pcp << 13) | vid) + "0800"
                + String.format("%08x", tag) + "00".repeat(42);
    }
}

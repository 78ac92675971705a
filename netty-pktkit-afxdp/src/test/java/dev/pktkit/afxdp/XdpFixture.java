package dev.pktkit.afxdp;

import dev.pktkit.linux.NetNamespace;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.netns.Netns;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/** Shared bits of the AF_XDP tests: loop kinds, namespace handles, a frame recorder. */
final class XdpFixture {
    private static final Map<Netns, NetNamespace> HANDLES = new ConcurrentHashMap<>();

    private XdpFixture() {
    }

    /** The loop kinds an XdpChannel registers with. */
    static List<String> loops() {
        return TestLoops.available().stream().filter(k -> !k.equals(TestLoops.NIO)).toList();
    }

    /** Every loop kind with every XDP mode. */
    static List<org.junit.jupiter.params.provider.Arguments> loopsAndModes() {
        return loops().stream().flatMap(l -> java.util.stream.Stream.of(XdpMode.values())
                .map(m -> org.junit.jupiter.params.provider.Arguments.of(l, m))).toList();
    }

    /** The {@link NetNamespace} handle of {@code ns}, closed with it. */
    static NetNamespace handle(Netns ns) {
        return HANDLES.computeIfAbsent(ns, n -> n.closeWith(new Closing(n, NetNamespace.open(n.path()))).handle);
    }

    private record Closing(Netns ns, NetNamespace handle) implements AutoCloseable {
        @Override
        public void close() {
            HANDLES.remove(ns);
            handle.close();
        }
    }

    /** Frames from a channel, queued for the test thread. */
    static final class FrameRecorder extends ChannelInboundHandlerAdapter {
        final BlockingQueue<ByteBuf> frames = new LinkedBlockingQueue<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) {
                frames.add(b);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        void releaseAll() {
            ByteBuf b;
            while ((b = frames.poll()) != null) {
                b.release();
            }
        }
    }
}

package dev.pktkit.vtcp.host;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.vtcp.engine.TcpEngineConfig;
import dev.pktkit.codec.pipe.PacketPipe;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.tuntap.vnet.GsoSegmenter;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Segmentation offload follows the device: on for a channel marked {@link OffloadPacket#ACCEPTS} (as tuntap's
 * {@code VirtioNetCodec} marks a TUN), off for any other; a configured size is kept either way, and
 * {@link TcpEngineConfig#LARGE_SEGMENTS_OFF} keeps it off on a marked device.
 */
@org.junit.jupiter.api.Timeout(value = 60, unit = TimeUnit.SECONDS)
class AutoOffloadTest {
    /**
     * A device that takes {@link OffloadPacket}s (as a TUN with {@code VirtioNetCodec} does) in front of host a:
     * it counts them and cuts them into MTU-sized packets in software, as the kernel would, and records the largest
     * plain packet it passes.
     */
    static final class CuttingDevice extends ChannelOutboundHandlerAdapter {
        int offloadPackets;
        int largestPlain;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof OffloadPacket p) {
                offloadPackets++;
                List<ByteBuf> pieces = new ArrayList<>();
                int r = GsoSegmenter.segment(p.content().retain(), false, p.gsoType(), p.gsoSize(), ctx.alloc(),
                        pieces::add);
                p.release();
                assertTrue(r > 0, "segmenter result " + r);
                for (int i = 0; i < pieces.size(); i++) {
                    ctx.write(pieces.get(i), i == pieces.size() - 1 ? promise : ctx.voidPromise());
                }
                return;
            }
            if (msg instanceof ByteBuf b) {
                largestPlain = Math.max(largestPlain, b.readableBytes());
            }
            ctx.write(msg, promise);
        }
    }

    /** Moves 2 MB from host a (on a marked device) to host b; returns the OffloadPackets a wrote. */
    private static int offloadPacketsWritten(TcpEngineConfig config) throws Exception {
        MultiThreadIoEventLoopGroup group = TestLoops.group(TestLoops.NIO, 1);
        PacketPipe pipe = new PacketPipe();
        try {
            VirtualHost a = VirtualHost.builder().address("10.0.0.1").tcp(config).build();
            VirtualHost b = VirtualHost.builder().address("10.0.0.2").build();
            CuttingDevice device = new CuttingDevice();
            pipe.a().attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
            pipe.a().pipeline().addLast(device, a);
            pipe.b().pipeline().addLast(b);
            pipe.register(group.next(), group.next()).sync();
            byte[] data = VirtualSocketChannelTest.random(2_000_000, 10);
            VirtualSocketChannelTest.Sink sink = new VirtualSocketChannelTest.Sink(data.length);
            Channel server = new ServerBootstrap().group(group).channelFactory(b.serverSocketChannels())
                    .childHandler(sink).bind(80).sync().channel();
            Channel c = new Bootstrap().group(group).channelFactory(a.socketChannels())
                    .handler(new VirtualSocketChannelTest.Sink(1)).connect(new InetSocketAddress("10.0.0.2", 80))
                    .sync().channel();
            c.writeAndFlush(Unpooled.wrappedBuffer(data)).sync();
            assertArrayEquals(data, sink.done.get(30, TimeUnit.SECONDS));
            c.close().sync();
            server.close().sync();
            int[] seen = group.next().submit(() -> new int[] {device.offloadPackets, device.largestPlain})
                    .get(10, TimeUnit.SECONDS);
            assertTrue(seen[1] <= 1500, "plain packet of " + seen[1] + " bytes");
            return seen[0];
        } finally {
            pipe.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static int largeBytes(EmbeddedChannel ch, VirtualHost host) {
        ch.pipeline().addLast(host);
        try {
            return host.tcpLayer().engine.largeSegmentBytes();
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void onForADeviceThatTakesOffloadPackets() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        assertEquals(TcpLayer.AUTO_LARGE_SEGMENT_BYTES,
                largeBytes(ch, VirtualHost.builder().address("10.0.0.2").build()));
    }

    @Test
    void offForAPlainPacketChannel() {
        assertEquals(0, largeBytes(new EmbeddedChannel(), VirtualHost.builder().address("10.0.0.2").build()));
    }

    @Test
    void markedAfterTheHostWasAddedBeforeRegistration() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        VirtualHost host = VirtualHost.builder().address("10.0.0.2").build();
        ch.pipeline().addLast(host); // handlerAdded waits for registration
        ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        ch.register();
        assertEquals(TcpLayer.AUTO_LARGE_SEGMENT_BYTES, host.tcpLayer().engine.largeSegmentBytes());
        ch.finishAndReleaseAll();
    }

    @Test
    void aConfiguredSizeIsKept() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        assertEquals(32_000, largeBytes(ch, VirtualHost.builder().address("10.0.0.2")
                .tcp(new TcpEngineConfig().largeSegmentBytes(32_000)).build()));
    }

    @Test
    void forcedOffStaysOffOnAMarkedDevice() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        VirtualHost host = VirtualHost.builder().address("10.0.0.2")
                .tcp(new TcpEngineConfig().largeSegmentBytes(TcpEngineConfig.LARGE_SEGMENTS_OFF)).build();
        ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        ch.pipeline().addLast(host); // handlerAdded waits for registration
        ch.register(); // checked when added and when the channel becomes active
        assertEquals(0, host.tcpLayer().engine.largeSegmentBytes());
        ch.finishAndReleaseAll();
    }

    @Test
    void forcedOffKeepsFullSizedSegmentsOnTheWire() throws Exception {
        // the same bulk write through a marked device: automatic offload emits OffloadPackets, forced off none
        assertTrue(offloadPacketsWritten(new TcpEngineConfig()) > 0);
        assertEquals(0, offloadPacketsWritten(new TcpEngineConfig().largeSegmentBytes(TcpEngineConfig.LARGE_SEGMENTS_OFF)));
    }

    @Test
    void forcedOffOnAnActiveMarkedDevice() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        assertEquals(0, largeBytes(ch, VirtualHost.builder().address("10.0.0.2")
                .tcp(new TcpEngineConfig().largeSegmentBytes(TcpEngineConfig.LARGE_SEGMENTS_OFF)).build()));
    }

    @Test
    void configRejectsValuesBelowOff() {
        assertThrows(IllegalArgumentException.class, () -> new TcpEngineConfig().largeSegmentBytes(-2));
    }

    /**
     * A real TUN with {@code OffloadMode.LARGE} behind tuntap's default {@code new VirtioNetCodec()} (root, a
     * namespace the test creates): the codec marks the channel, so the host's segmentation offload is on with the
     * default config; the same TUN without offloads (no codec) leaves it off. Read on the host's loop after the bind.
     */
    @Test
    void onBehindTheDefaultCodecOnATunWithOffloads() throws Exception {
        try (LinuxPeer p = new LinuxPeer(TestLoops.EPOLL, VirtualHost.builder(), null, 1500,
                dev.pktkit.tuntap.OffloadMode.LARGE)) {
            assertEquals(TcpLayer.AUTO_LARGE_SEGMENT_BYTES, p.tun.eventLoop()
                    .submit(() -> p.host.tcpLayer().engine.largeSegmentBytes()).get(10, TimeUnit.SECONDS));
            assertTrue(p.tun.eventLoop().submit(() -> OffloadPacket.acceptedBy(p.tun)).get(10, TimeUnit.SECONDS));
        }
        try (LinuxPeer p = new LinuxPeer(TestLoops.EPOLL, VirtualHost.builder(), null, 1500,
                dev.pktkit.tuntap.OffloadMode.NONE)) {
            assertEquals(0, (int) p.tun.eventLoop()
                    .submit(() -> p.host.tcpLayer().engine.largeSegmentBytes()).get(10, TimeUnit.SECONDS));
        }
    }
}

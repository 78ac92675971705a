package dev.pktkit.tuntap;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.testkit.Cleanup;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.netns.Netns;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default {@link VirtioNetCodec} marks a TUN or TAP channel {@link OffloadPacket#ACCEPTS} when the channel has
 * offloads (virtio-net headers: {@code LARGE}, {@code SEGMENT}), and not without ({@code NONE}); the mark goes with
 * the codec. Real devices in a namespace the test creates; the mark is read on the channel's loop after the bind
 * (the channel becomes active in the same loop task), so nothing races.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class VirtioNetCodecMarkTest {
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private Netns ns;
    private MultiThreadIoEventLoopGroup group;
    private Channel ch;

    static List<String> loops() {
        return NativeLoops.available();
    }

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeTunUsable();
        ns = cleanup.add(Netns.create());
    }

    private boolean marked() throws Exception {
        return ch.eventLoop().submit(() -> OffloadPacket.acceptedBy(ch)).get(10, TimeUnit.SECONDS);
    }

    private Channel open(String loop, boolean tap, OffloadMode mode, VirtioNetCodec codec) throws Exception {
        group = cleanup.add(TestLoops.group(loop, 1));
        Supplier<AbstractTunTapChannel> factory = tap ? () -> new TapChannel(Namespaces.handle(ns))
                : () -> new TunChannel(Namespaces.handle(ns));
        ch = cleanup.add(new Bootstrap().group(group).channelFactory(factory::get)
                .option(TunTapChannelOption.OFFLOAD, mode)
                .handler(codec != null ? codec : new ChannelInboundHandlerAdapter())
                .bind(TunTapAddress.of(tap ? "pktmarkp" : "pktmarku")).sync().channel());
        return ch;
    }

    @ParameterizedTest
    @MethodSource("loops")
    void tunWithLargeOffloadIsMarkedAndTheMarkLeavesWithTheCodec(String loop) throws Exception {
        VirtioNetCodec codec = new VirtioNetCodec();
        open(loop, false, OffloadMode.LARGE, codec);
        assertEquals(OffloadMode.LARGE, ((TunChannel) ch).offloadMode());
        assertTrue(marked(), "a LARGE TUN behind the default codec takes OffloadPackets");
        ch.eventLoop().submit(() -> ch.pipeline().remove(codec)).get(10, TimeUnit.SECONDS);
        assertFalse(marked(), "unmarked when the codec leaves");
    }

    @ParameterizedTest
    @MethodSource("loops")
    void tapWithLargeOffloadIsMarked(String loop) throws Exception {
        open(loop, true, OffloadMode.LARGE, new VirtioNetCodec());
        assertTrue(marked(), "a LARGE TAP behind the default codec takes OffloadPackets");
    }

    @Test
    void tunWithSegmentOffloadIsMarked() throws Exception {
        open(NativeLoops.available().get(0), false, OffloadMode.SEGMENT, new VirtioNetCodec(1500));
        assertTrue(marked(), "SEGMENT writes virtio-net headers too");
    }

    @ParameterizedTest
    @MethodSource("loops")
    void tunWithoutOffloadIsNotMarked(String loop) throws Exception {
        open(loop, false, OffloadMode.NONE, new VirtioNetCodec());
        assertFalse(marked(), "a TUN without offloads would cut large segments in Java: not marked");
    }

    @Test
    void tapWithoutOffloadIsNotMarked() throws Exception {
        open(NativeLoops.available().get(0), true, OffloadMode.NONE, new VirtioNetCodec());
        assertFalse(marked());
    }

    /** Added after the bind, the codec reads the bound mode at once. */
    @Test
    void codecAddedToAnActiveOffloadChannelMarksItAtOnce() throws Exception {
        open(NativeLoops.available().get(0), false, OffloadMode.LARGE, null);
        assertFalse(marked(), "no codec, no mark");
        VirtioNetCodec codec = new VirtioNetCodec();
        ch.eventLoop().submit(() -> ch.pipeline().addFirst(codec))
                .get(10, TimeUnit.SECONDS);
        assertTrue(marked());
    }

    /** Not a TUN/TAP channel: the default codec cannot know what is behind it and leaves the mark alone. */
    @Test
    void defaultCodecOnAnotherChannelDoesNotMark() {
        EmbeddedChannel e = new EmbeddedChannel(new VirtioNetCodec(1500));
        assertFalse(OffloadPacket.acceptedBy(e));
        e.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE); // someone else's mark stays
        e.pipeline().removeFirst();
        assertTrue(OffloadPacket.acceptedBy(e));
        assertFalse(e.finish());
    }
}

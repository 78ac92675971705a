package dev.pktkit.tuntap;

import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.switching.L2Hub;
import dev.pktkit.switching.L3Hub;
import dev.pktkit.switching.L3PortOptions;
import dev.pktkit.testkit.Tools;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Large kernel TCP transfers (16 MiB each way, IPv4 and IPv6) through a TUN pair with virtio-net headers and TSO
 * on, in each offload mode, on epoll and io_uring. The data must arrive intact, and the kernel must really have
 * handed over large segments.
 *
 * <ul>
 *   <li>{@link OffloadMode#SEGMENT} with an {@link L3Hub}: large segments are cut in Java; the hub and the
 *       writing side see ordinary packets.</li>
 *   <li>{@link OffloadMode#LARGE} with {@link VirtioNetCodec} and an {@link L3Hub}: large segments cross the hub
 *       as oversized packets and leave as large segments the kernel cuts.</li>
 *   <li>{@link OffloadMode#LARGE} with a cross-connect: segments pass through with their header untouched.</li>
 *   <li>The same with TAP devices (frames, one subnet, ARP through Java): {@code SEGMENT} through an
 *       {@code L2Hub}, {@code LARGE} cross-connected.</li>
 * </ul>
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TunOffloadTest {
    private static final int BYTES = 16 << 20;

    @TempDir
    Path dir;

    static List<String> loops() {
        return NativeLoops.available();
    }

    @BeforeEach
    void assume() {
        Netns.assumeTunUsable();
        Tools.assumeCommand("socat", "socat");
        Tools.assumeCommand("ss", "iproute2");
    }

    @ParameterizedTest
    @MethodSource("loops")
    void segmentedInJavaThroughL3Hub(String loop) throws Exception {
        try (TunPair pair = TunPair.create(loop, 2)) {
            pair.open(OffloadMode.SEGMENT, new ChannelInboundHandlerAdapter(), new ChannelInboundHandlerAdapter());
            L3Hub hub = hub(pair);
            pair.echoThrough(dir, TunPair.B_V4, false, BYTES, 11);
            pair.echoThrough(dir, TunPair.B_V6, true, BYTES, 12);
            assertLargeSegmentsRead(pair);
            // the pipeline saw only MTU-sized packets: many more packets than large segments
            assertTrue(pair.tunA.counters().packetsIn() > 2 * pair.tunA.counters().largeSegmentsIn(),
                    pair.tunA.counters().toString());
            assertNoDrops(pair);
            hub.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void largeSegmentsThroughCodecAndL3Hub(String loop) throws Exception {
        try (TunPair pair = TunPair.create(loop, 2)) {
            VirtioNetCodec codecA = new VirtioNetCodec();
            VirtioNetCodec codecB = new VirtioNetCodec();
            pair.open(OffloadMode.LARGE, codecA, codecB);
            L3Hub hub = hub(pair);
            pair.echoThrough(dir, TunPair.B_V4, false, BYTES, 21);
            pair.echoThrough(dir, TunPair.B_V6, true, BYTES, 22);
            assertLargeSegmentsRead(pair);
            assertTrue(codecA.largeSegmentsIn() + codecB.largeSegmentsIn() > 0, "codec saw no large segment");
            assertTrue(codecA.largeSegmentsOut() + codecB.largeSegmentsOut() > 0, "codec sent no large segment");
            assertTrue(pair.tunA.counters().largeSegmentsOut() + pair.tunB.counters().largeSegmentsOut() > 0);
            assertEquals(0, codecA.dropped() + codecB.dropped());
            assertNoDrops(pair);
            hub.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    /**
     * {@link VirtioNetCodec#forwarding()} on both TUN ports of an {@link L3Hub} in router mode: large segments and
     * partial checksums cross the hub with their offload state (the TTL decremented, the checksum left for the
     * kernel), and Linux accepts what arrives (the echoed data is intact).
     */
    @ParameterizedTest
    @MethodSource("loops")
    void largeSegmentsKeepTheirOffloadStateThroughARoutingL3Hub(String loop) throws Exception {
        try (TunPair pair = TunPair.create(loop, 2)) {
            VirtioNetCodec codecA = VirtioNetCodec.forwarding();
            VirtioNetCodec codecB = VirtioNetCodec.forwarding();
            pair.open(OffloadMode.LARGE, codecA, codecB);
            L3Hub hub = L3Hub.builder().name("offload-router").routerMode(true).build();
            hub.attach(pair.tunA, L3PortOptions.prefixes("10.81.1.0/24", "fd81:1::/64"));
            hub.attach(pair.tunB, L3PortOptions.prefixes("10.81.2.0/24", "fd81:2::/64"));
            pair.echoThrough(dir, TunPair.B_V4, false, BYTES, 31);
            pair.echoThrough(dir, TunPair.B_V6, true, BYTES, 32);
            assertLargeSegmentsRead(pair);
            assertTrue(codecA.largeSegmentsIn() + codecB.largeSegmentsIn() > 0, "codec saw no large segment");
            assertTrue(pair.tunA.counters().largeSegmentsOut() + pair.tunB.counters().largeSegmentsOut() > 0,
                    "large segments were written to the kernel as large segments");
            assertEquals(0, codecA.dropped() + codecB.dropped());
            assertEquals(0, hub.port(pair.tunA).counters().drops() + hub.port(pair.tunB).counters().drops());
            assertNoDrops(pair);
            hub.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void largeSegmentsPassThroughACrossConnect(String loop) throws Exception {
        try (TunPair pair = TunPair.create(loop, 1)) {
            CrossConnect aToB = new CrossConnect();
            CrossConnect bToA = new CrossConnect();
            pair.open(OffloadMode.LARGE, aToB, bToA);
            aToB.peer(pair.tunB);
            bToA.peer(pair.tunA);
            pair.echoThrough(dir, TunPair.B_V4, false, BYTES, 31);
            pair.echoThrough(dir, TunPair.B_V6, true, BYTES, 32);
            assertLargeSegmentsRead(pair);
            assertTrue(pair.tunA.counters().largeSegmentsOut() + pair.tunB.counters().largeSegmentsOut() > 0);
            assertEquals(0, aToB.dropped.get() + bToA.dropped.get(), "cross-connect drops");
            assertNoDrops(pair);
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void tapFramesSegmentedInJavaThroughL2Hub(String loop) throws Exception {
        try (TunPair pair = TunPair.create(loop, 2)) {
            pair.openTap(OffloadMode.SEGMENT, new ChannelInboundHandlerAdapter(), new ChannelInboundHandlerAdapter());
            L2Hub hub = L2Hub.builder().name("tap-offload").build();
            hub.add(pair.tunA);
            hub.add(pair.tunB);
            pair.echoThrough(dir, TunPair.TAP_B_V4, false, BYTES, 41);
            assertLargeSegmentsRead(pair);
            assertNoDrops(pair);
            hub.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    /**
     * {@link VirtioNetCodec#forwarding()} on both TAP ports of an {@link L2Hub}: large frames and partial checksums
     * are switched with their offload state (no checksum completed in Java, no segment cut), the kernel on the
     * other side gets them as large segments, and accepts what arrives (the echoed data is intact).
     */
    @ParameterizedTest
    @MethodSource("loops")
    void tapLargeFramesKeepTheirOffloadStateThroughAnL2Hub(String loop) throws Exception {
        try (TunPair pair = TunPair.create(loop, 2)) {
            VirtioNetCodec codecA = VirtioNetCodec.forwarding();
            VirtioNetCodec codecB = VirtioNetCodec.forwarding();
            pair.openTap(OffloadMode.LARGE, codecA, codecB);
            L2Hub hub = L2Hub.builder().name("tap-offload-forwarding").build();
            hub.add(pair.tunA);
            hub.add(pair.tunB);
            pair.echoThrough(dir, TunPair.TAP_B_V4, false, BYTES, 61);
            assertLargeSegmentsRead(pair);
            assertTrue(codecA.largeSegmentsIn() + codecB.largeSegmentsIn() > 0, "codec saw no large segment");
            assertTrue(pair.tunA.counters().largeSegmentsOut() + pair.tunB.counters().largeSegmentsOut() > 0,
                    "large frames were written to the kernel as large segments");
            assertEquals(0, codecA.largeSegmentsOut() + codecB.largeSegmentsOut(),
                    "nothing was re-made into a large segment: the state travelled with the frames");
            assertEquals(0, codecA.dropped() + codecB.dropped());
            assertEquals(0, hub.port(pair.tunA).counters().drops() + hub.port(pair.tunB).counters().drops());
            assertNoDrops(pair);
            hub.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @MethodSource("loops")
    void tapLargeFramesPassThroughACrossConnect(String loop) throws Exception {
        try (TunPair pair = TunPair.create(loop, 1)) {
            CrossConnect aToB = new CrossConnect();
            CrossConnect bToA = new CrossConnect();
            pair.openTap(OffloadMode.LARGE, aToB, bToA);
            aToB.peer(pair.tunB);
            bToA.peer(pair.tunA);
            pair.echoThrough(dir, TunPair.TAP_B_V4, false, BYTES, 51);
            assertLargeSegmentsRead(pair);
            assertTrue(pair.tunA.counters().largeSegmentsOut() + pair.tunB.counters().largeSegmentsOut() > 0);
            assertEquals(0, aToB.dropped.get() + bToA.dropped.get(), "cross-connect drops");
            assertNoDrops(pair);
        }
    }

    private static L3Hub hub(TunPair pair) {
        L3Hub hub = L3Hub.builder().name("offload-forwarder").build();
        hub.attach(pair.tunA, L3PortOptions.prefixes("10.81.1.0/24", "fd81:1::/64"));
        hub.attach(pair.tunB, L3PortOptions.prefixes("10.81.2.0/24", "fd81:2::/64"));
        return hub;
    }

    private static void assertLargeSegmentsRead(TunPair pair) {
        long large = pair.tunA.counters().largeSegmentsIn() + pair.tunB.counters().largeSegmentsIn();
        assertTrue(large > 0, "the kernel handed over no large segment: " + pair.tunA.counters() + " / "
                + pair.tunB.counters());
    }

    private static void assertNoDrops(TunPair pair) {
        assertEquals(0, pair.tunA.counters().drops(), pair.tunA.counters().toString());
        assertEquals(0, pair.tunB.counters().drops(), pair.tunB.counters().toString());
    }
}

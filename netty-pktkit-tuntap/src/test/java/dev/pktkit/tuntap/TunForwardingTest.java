package dev.pktkit.tuntap;

import dev.pktkit.testkit.netns.Netns;
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
 * A kernel TCP connection ({@code socat}) from one namespace crosses a TUN channel, a Java L3 forwarder (an
 * {@link L3Hub} with the two channels as ports) and a second TUN channel into another namespace, to an echo
 * server there, and back the same way; the echo must equal what was sent. IPv4 and IPv6, on epoll and io_uring.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TunForwardingTest {
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
    void kernelTcpCrossesL3HubBetweenTwoTunChannels(String loop) throws Exception {
        try (TunPair pair = TunPair.create(loop, 2)) {
            pair.open(OffloadMode.NONE, new ChannelInboundHandlerAdapter(), new ChannelInboundHandlerAdapter());
            L3Hub hub = L3Hub.builder().name("tun-forwarder").build();
            hub.attach(pair.tunA, L3PortOptions.prefixes("10.81.1.0/24", "fd81:1::/64"));
            hub.attach(pair.tunB, L3PortOptions.prefixes("10.81.2.0/24", "fd81:2::/64"));

            pair.echoThrough(dir, TunPair.B_V4, false, 1 << 20, 1);
            pair.echoThrough(dir, TunPair.B_V6, true, 256 << 10, 2);

            // every byte went through Java in both directions, as MTU-sized packets
            assertTrue(pair.tunA.counters().packetsIn() > 700, pair.tunA.counters().toString());
            assertTrue(pair.tunB.counters().packetsIn() > 700, pair.tunB.counters().toString());
            assertTrue(pair.tunA.counters().bytesIn() > (1 << 20), pair.tunA.counters().toString());
            assertEquals(0, pair.tunA.counters().largeSegmentsIn());
            assertEquals(0, pair.tunA.counters().drops(), pair.tunA.counters().toString());
            assertEquals(0, pair.tunB.counters().drops(), pair.tunB.counters().toString());
            hub.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }
}

package dev.pktkit.tuntap;

import dev.pktkit.testkit.Cleanup;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel pings an L3 device behind a TUN channel: an {@link EchoResponder} directly on the channel's pipeline
 * answers for 10.77.0.2 and fd77::2, the device (10.77.0.1/24, fd77::1/64) lives in a namespace the test
 * creates, and {@code ping} runs there. On epoll and io_uring loops.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TunPingTest {
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private Netns ns;

    static List<String> loops() {
        return NativeLoops.available();
    }

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeTunUsable();
        Tools.assumeCommand("ping", "iputils-ping");
        ns = cleanup.add(Netns.create());
    }

    @ParameterizedTest
    @MethodSource("loops")
    void kernelPingsEchoResponderOverIpv4AndIpv6(String loop) throws Exception {
        MultiThreadIoEventLoopGroup group = cleanup.add(TestLoops.group(loop, 1));
        EchoResponder responder = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.77.0.2"),
                InetAddress.getByName("fd77::2")));
        TunChannel tun = (TunChannel) cleanup.add(new Bootstrap().group(group)
                .channelFactory(() -> new TunChannel(Namespaces.handle(ns)))
                .handler(responder)
                .bind(TunTapAddress.of("pkt0")).sync().channel());
        assertEquals("pkt0", tun.localAddress().name());
        tun.link().addAddress("10.77.0.1/24").addAddress("fd77::1/64").up();

        CommandResult v4 = ns.exec("ping", "-c", "3", "-i", "0.2", "-W", "5", "10.77.0.2");
        assertEquals(0, v4.exit(), v4.output());
        CommandResult v6 = ns.exec("ping", "-6", "-c", "3", "-i", "0.2", "-W", "5", "fd77::2");
        assertEquals(0, v6.exit(), v6.output());
        assertTrue(responder.replies() >= 6, "replies: " + responder.replies());
        assertEquals(0, responder.malformed());
    }
}

package dev.pktkit.nat;

import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.tuntap.TunChannel;
import dev.pktkit.tuntap.TunTapAddress;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The NAT's mapping and filtering classified by a real STUN tool: Debian's {@code stun-client} ({@code stun})
 * against {@code stun-server} ({@code stund}, on two outside addresses and two ports) through the NAT between
 * two namespaces, once per filtering mode. The client must report endpoint-independent mapping and the
 * configured filtering.
 */
class NatStunInteropTest {
    @ParameterizedTest
    @EnumSource(Filtering.class)
    void stunClassifiesMappingAndFiltering(Filtering filtering) throws Exception {
        Netns.assumeUsable();
        Tools.assumeCommand("stun", "stun-client");
        Tools.assumeCommand("stund", "stun-server");
        Assumptions.assumeTrue(TestLoops.available().contains(TestLoops.EPOLL), "epoll natives not available");
        Path dir = Files.createTempDirectory("nat-stun");
        MultiThreadIoEventLoopGroup group = TestLoops.group(TestLoops.EPOLL, 1);
        try (Netns in = Netns.create(); Netns out = Netns.create()) {
            Nat nat = Nat.create(group.next(), NatConfig.builder().outsideAddresses("198.51.100.1")
                    .insideAddress("10.70.0.1").filtering(filtering).build());
            TunChannel tunIn = bind(group, in, "nin0");
            TunChannel tunOut = bind(group, out, "nout0");
            try {
                tunIn.link().addAddress("10.70.0.2/24").up();
                in.exec("ip", "route", "add", "default", "dev", "nin0").check();
                tunOut.link().addAddress("198.51.100.10/24").addAddress("198.51.100.11/24").up();
                nat.attach(tunIn);
                nat.attachOutside(tunOut);
                out.start(dir.resolve("stund.log"), "stund", "-h", "198.51.100.10", "-a", "198.51.100.11");
                out.awaitListening(3478, true);
                Netns.Result r = in.exec("stun", "198.51.100.10", "-v", "-p", "40000");
                String primary = r.output().lines().filter(l -> l.startsWith("Primary:")).findFirst()
                        .orElseThrow(() -> new AssertionError("no classification: " + r.output()));
                assertTrue(primary.contains("Independent Mapping"), primary);
                String filter = switch (filtering) {
                    case ENDPOINT_INDEPENDENT -> "Independent Filter";
                    case ADDRESS_DEPENDENT -> "Address Dependent Filter";
                    case ADDRESS_AND_PORT_DEPENDENT -> "Port Dependent Filter";
                };
                assertTrue(primary.contains(filter), primary + "\n" + r.output());
                assertTrue(primary.contains("preserves ports"), primary);
            } finally {
                nat.close();
                tunIn.close().sync();
                tunOut.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
        }
    }

    private static TunChannel bind(MultiThreadIoEventLoopGroup group, Netns ns, String name) throws Exception {
        return (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(ns.handle))
                .handler(new ChannelInboundHandlerAdapter()).bind(TunTapAddress.of(name)).sync().channel();
    }
}

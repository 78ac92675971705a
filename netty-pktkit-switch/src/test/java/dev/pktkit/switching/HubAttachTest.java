package dev.pktkit.switching;

import dev.pktkit.codec.adapter.DhcpLease;
import dev.pktkit.codec.adapter.Gateway;
import dev.pktkit.codec.adapter.L2Adapter;
import dev.pktkit.codec.pipe.PipeChannel;
import dev.pktkit.testkit.TestLoops;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code hub.attach(EventLoop, ChannelHandler)} and a {@link Gateway}: a LAN with DHCP in a few lines. */
class HubAttachTest {
    private final MultiThreadIoEventLoopGroup group = TestLoops.group(TestLoops.NIO, 2);

    @AfterEach
    void shutdown() {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void gatewayAndTwoDhcpClientsOnOneHub() throws Exception {
        L2Hub lan = L2Hub.builder().name("lan").build();
        try {
            Gateway gw = Gateway.builder("10.0.2.1/24").dnsServer("10.0.2.1").domainName("lan").build();
            EventLoop loop = group.next();
            L2Port gwPort = lan.attach(loop, gw);
            L2Adapter c1 = L2Adapter.builder().dhcp(true).dhcpProbeWait(Duration.ZERO).build();
            L2Adapter c2 = L2Adapter.builder().dhcp(true).dhcpProbeWait(Duration.ZERO).build();
            L2Port p1 = lan.attach(group.next(), c1);
            lan.attach(loop, c2);
            assertEquals(3, lan.ports().size());

            DhcpLease l1 = c1.leaseFuture().get(10, TimeUnit.SECONDS);
            DhcpLease l2 = c2.leaseFuture().get(10, TimeUnit.SECONDS);
            assertNotEquals(l1.address(), l2.address());
            assertEquals("10.0.2.1", l1.routers().get(0).getHostAddress(), "the gateway is the router");
            String a1 = l1.address().getHostAddress();
            assertTrue(a1.equals("10.0.2.2") || a1.equals("10.0.2.3"), "default pool starts next to it: " + a1);
            assertEquals(24, l1.prefixLength());
            assertTrue(gw.dhcpServer().counters().toString().length() > 0);

            // The device's channel is the peer of the port's channel; detaching closes the cable.
            PipeChannel deviceSide = ((PipeChannel) p1.port()).peer();
            assertTrue(deviceSide.isActive());
            p1.detach().get(5, TimeUnit.SECONDS);
            assertTrue(deviceSide.closeFuture().await(5, TimeUnit.SECONDS), "the device's end closed too");
            assertFalse(p1.isAttached());
            assertEquals(2, lan.ports().size());

            // Closing the device's channel detaches its port.
            PipeChannel gwDevice = ((PipeChannel) gwPort.port()).peer();
            gwDevice.close().sync();
            assertTrue(gwPort.port().closeFuture().await(5, TimeUnit.SECONDS));
            // The group's close listener runs on the channel's loop: a task queued after it runs after it.
            gwPort.port().eventLoop().submit(() -> { }).sync();
            assertFalse(gwPort.isAttached());
            assertEquals(1, lan.ports().size());
        } finally {
            lan.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void attachingADeviceToAFullHubLeavesItUsable() throws Exception {
        L2Hub lan = L2Hub.builder().maxPorts(1).build();
        try {
            lan.attach(group.next(), L2Adapter.builder().build());
            L2Adapter second = L2Adapter.builder().build();
            assertThrows(IllegalStateException.class, () -> lan.attach(group.next(), second));
            L2Hub other = L2Hub.builder().build();
            try {
                assertNotNull(other.attach(group.next(), second), "the refused device can go elsewhere");
            } finally {
                other.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            assertThrows(IllegalArgumentException.class,
                    () -> lan.attach(group.next(), L2Adapter.builder().build(), L2PortOptions.mirror()));
        } finally {
            lan.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void oneChannelOnTwoHubsOfTheSameKind() {
        L2Hub a = L2Hub.builder().build();
        L2Hub b = L2Hub.builder().build();
        L3Hub c = L3Hub.builder().build();
        L3Hub d = L3Hub.builder().build();
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            a.attach(ch);
            b.attach(ch); // used to fail: both handlers were named "pktkit-l2hub#0"
            EmbeddedChannel ch3 = new EmbeddedChannel();
            c.attach(ch3);
            d.attach(ch3);
            assertEquals(2, ch3.pipeline().names().stream().filter(n -> n.startsWith("pktkit-l3hub")).count());
            ch3.finishAndReleaseAll();
            assertEquals(2, ch.pipeline().names().stream().filter(n -> n.startsWith("pktkit-l2hub")).count());
        } finally {
            ch.finishAndReleaseAll();
            a.close();
            b.close();
            c.close();
            d.close();
        }
    }
}

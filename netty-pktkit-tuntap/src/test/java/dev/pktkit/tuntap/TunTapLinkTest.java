package dev.pktkit.tuntap;

import dev.pktkit.testkit.Cleanup;
import dev.pktkit.testkit.netns.CommandResult;
import dev.pktkit.testkit.netns.Netns;
import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.device.LocalAddresses;
import dev.pktkit.testkit.TestLoops;
import dev.pktkit.testkit.Tools;
import dev.pktkit.linux.netlink.LinkInfo;
import dev.pktkit.linux.netlink.NetlinkException;
import dev.pktkit.linux.netlink.RtNetlink;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetAddress;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Device setup through rtnetlink ({@link TunTapLink}, {@link RtNetlink}) checked against what {@code ip} reports,
 * in namespaces the test creates: MTU (and reads that follow it), up/down, addresses, routes, MAC address, moving
 * a device between namespaces, errors.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TunTapLinkTest {
    @RegisterExtension
    final Cleanup cleanup = new Cleanup();

    private Netns ns;
    private Netns other;
    private MultiThreadIoEventLoopGroup group;

    @BeforeEach
    void setUp() throws Exception {
        Netns.assumeTunUsable();
        cleanup.add(() -> { // last: a device may have moved there
            if (other != null) {
                other.close();
            }
        });
        ns = cleanup.add(Netns.create());
        group = cleanup.add(TestLoops.group(NativeLoops.available().get(0), 1));
    }

    private TunChannel tun(String name, io.netty.channel.ChannelHandler handler) throws InterruptedException {
        TunChannel t = (TunChannel) new Bootstrap().group(group).channelFactory(() -> new TunChannel(Namespaces.handle(ns)))
                .handler(handler).bind(TunTapAddress.of(name)).sync().channel();
        cleanup.add(t);
        return t;
    }

    @Test
    void addressesRoutesMtuAndStateAsIpSeesThem() throws Exception {
        TunChannel t = tun("pktcfg", new ChannelInboundHandlerAdapter());
        TunTapLink link = t.link();
        assertEquals(1500, t.mtu());
        assertFalse(link.info().isUp());
        link.mtu(1280).addAddress("10.74.0.1/24").addAddress("fd74::1/64").up()
                .addRoute("10.74.8.0/22").addRoute("198.18.0.0/15", "10.74.0.9").addRoute("fd74:8::/48");
        LinkInfo info = link.info();
        assertEquals(1280, info.mtu());
        assertEquals(1280, t.mtu());
        assertTrue(info.isUp());
        assertEquals("pktcfg", info.name());

        String addr = ns.exec("ip", "addr", "show", "dev", "pktcfg").check().output();
        assertTrue(addr.contains("inet 10.74.0.1/24"), addr);
        assertTrue(addr.contains("inet6 fd74::1/64"), addr);
        assertTrue(addr.contains("mtu 1280"), addr);
        String routes = ns.exec("ip", "route", "show").check().output();
        assertTrue(routes.contains("10.74.8.0/22 dev pktcfg"), routes);
        assertTrue(routes.contains("198.18.0.0/15 via 10.74.0.9 dev pktcfg"), routes);
        String routes6 = ns.exec("ip", "-6", "route", "show").check().output();
        assertTrue(routes6.contains("fd74:8::/48 dev pktcfg"), routes6);

        link.deleteAddress("10.74.0.1/24").down();
        assertFalse(link.info().isUp());
        String after = ns.exec("ip", "addr", "show", "dev", "pktcfg").check().output();
        assertFalse(after.contains("inet 10.74.0.1/24"), after);
    }

    @Test
    void tapMacAddress() throws Exception {
        TapChannel t = (TapChannel) new Bootstrap().group(group).channelFactory(() -> new TapChannel(Namespaces.handle(ns)))
                .handler(new ChannelInboundHandlerAdapter()).bind(TunTapAddress.of("pktmac")).sync().channel();
        cleanup.add(t);
        t.link().macAddress(0x02_11_22_33_44_55L);
        assertEquals(0x02_11_22_33_44_55L, t.link().info().macAddress());
        String show = ns.exec("ip", "link", "show", "pktmac").check().output();
        assertTrue(show.contains("link/ether 02:11:22:33:44:55"), show);
    }

    @Test
    void kernelErrorsAreNetlinkExceptionsWithErrno() throws Exception {
        TunChannel t = tun("pkterr", new ChannelInboundHandlerAdapter());
        NetlinkException e = assertThrows(NetlinkException.class, () -> t.link().mtu(70_000));
        assertEquals(22, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("EINVAL"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.link().addAddress("10.0.0.1/33"));
        assertThrows(IllegalArgumentException.class, () -> t.link().addAddress("not-an-address/24"));
        try (RtNetlink nl = RtNetlink.open(Namespaces.handle(ns))) {
            assertTrue(nl.findLink("nosuchdev").isEmpty());
            NetlinkException missing = assertThrows(NetlinkException.class, () -> nl.link("nosuchdev"));
            assertEquals(19, missing.errno());
        }
    }

    @Test
    void deviceMovesToAnotherNamespaceAndKeepsWorking() throws Exception {
        Tools.assumeCommand("ping", "iputils-ping");
        other = Netns.create();
        EchoResponder responder = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.73.0.2")));
        TunChannel t = tun("pktmove", responder);
        t.link().moveTo(Namespaces.handle(other));
        assertEquals(Namespaces.handle(other), t.namespace());
        assertTrue(ns.exec("ip", "link", "show", "pktmove").exit() != 0, "gone from the first namespace");
        t.link().addAddress("10.73.0.1/24").up();
        CommandResult ping = other.exec("ping", "-c", "2", "-i", "0.2", "-w", "10", "10.73.0.2");
        assertEquals(0, ping.exit(), ping.output());
        assertTrue(responder.replies() >= 2);
    }

    @Test
    void readsFollowAnMtuRaisedBehindTheChannelsBack() throws Exception {
        Tools.assumeCommand("ping", "iputils-ping");
        EchoResponder responder = new EchoResponder(LocalAddresses.of(InetAddress.getByName("10.72.0.2")));
        TunChannel t = tun("pktbig", responder);
        t.link().addAddress("10.72.0.1/24").up();
        assertEquals(0, ns.exec("ip", "link", "set", "pktbig", "mtu", "9000").exit());
        // the first 8028-byte request no longer fits the 1501-byte read buffer: dropped, counted, MTU re-read;
        // ping keeps asking until it has its replies
        CommandResult ping = ns.exec("ping", "-c", "2", "-i", "0.2", "-w", "20", "-s", "8000", "10.72.0.2");
        assertEquals(0, ping.exit(), ping.output());
        assertTrue(t.counters().drops(TunTapDropReason.TRUNCATED) >= 1, t.counters().toString());
        assertEquals(9000, t.mtu());
    }
}

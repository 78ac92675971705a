package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Icmpv6;
import dev.pktkit.codec.wire.Ip6;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Ndp;
import dev.pktkit.codec.wire.NdpRepr;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NoRouteToHostException;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.pktkit.codec.adapter.AdapterHarness.frame;
import static dev.pktkit.codec.adapter.AdapterHarness.mac;
import static dev.pktkit.codec.adapter.AdapterHarness.udp6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class L2AdapterIpv6Test {
    static final long ME = mac("02:00:00:00:00:01");
    static final long PEER = mac("02:00:00:00:00:02");
    static final long ROUTER = mac("02:00:00:00:00:fe");
    static final long LL_HI = Ip6.LINK_LOCAL_PREFIX_HI;
    static final long MY_LL = Ip6.linkLocalLoFromMac(ME);
    static final long PEER_LL = Ip6.linkLocalLoFromMac(PEER);
    static final long ROUTER_LL = Ip6.linkLocalLoFromMac(ROUTER);
    static final long DB8 = 0x2001_0db8_0001_0000L;

    static L2Adapter.Builder base() {
        return L2Adapter.builder().mac(ME);
    }

    /** The next frame as an NDP message of {@code type}; returns it (caller releases). */
    static ByteBuf ndp(AdapterHarness h, int type) {
        ByteBuf f = h.frameOut();
        assertNotNull(f, "expected NDP type " + type);
        int ip = f.readerIndex() + 14;
        assertEquals(Ethernet.IPV6, Ethernet.etherType(f, f.readerIndex()));
        assertTrue(Ndp.check(f, ip) >= 0, "valid NDP");
        assertEquals(type, Icmpv6.type(f, ip + 40));
        return f;
    }

    /** Lets DAD of the link-local address finish; discards what was sent. */
    static void settle(AdapterHarness h) {
        h.advance(1, TimeUnit.SECONDS);
        h.discardOut();
    }

    static ByteBuf packetFrame(long dstMac, long srcMac, NdpRepr msg, long srcHi, long srcLo, long dstHi,
                               long dstLo) {
        ByteBuf p = Unpooled.buffer(200);
        msg.emitPacket(p, srcHi, srcLo, dstHi, dstLo);
        return frame(dstMac, srcMac, Ethernet.IPV6, p);
    }

    @Test
    void linkLocalAddressPassesDadBeforeUse() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            ByteBuf ns = ndp(h, Icmpv6.TYPE_NEIGHBOR_SOLICITATION);
            int ip = ns.readerIndex() + 14;
            assertTrue(Ip6.isUnspecified(Ipv6.srcHi(ns, ip), Ipv6.srcLo(ns, ip)), "DAD comes from ::");
            assertEquals(MY_LL, Ndp.targetLo(ns, ip + 40));
            assertEquals(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(MY_LL)), Ethernet.dst(ns, ns.readerIndex()));
            ns.release();
            assertTrue(h.adapter.ipv6Addresses().isEmpty(), "tentative until DAD ends");
            assertFalse(h.adapter.isLocalIpv6(LL_HI, MY_LL));
            h.advance(1, TimeUnit.SECONDS);
            assertEquals(List.of(Ip6.toInet(LL_HI, MY_LL)), h.adapter.ipv6Addresses());
            assertTrue(h.adapter.isLocalIpv6(LL_HI, MY_LL));
            assertEquals(1, h.events(AdapterEvent.Ipv6AddressAdded.class).size());
        }
    }

    @Test
    void dadFailsWhenAnotherNodeAdvertisesTheAddress() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            NdpRepr na = new NdpRepr.NeighborAdvertisement(false, false, true, LL_HI, MY_LL, PEER);
            h.frameIn(packetFrame(MacAddress.ofIpv6Multicast(1), PEER, na, LL_HI, MY_LL, Ip6.ALL_NODES_HI,
                    Ip6.ALL_NODES_LO));
            h.advance(2, TimeUnit.SECONDS);
            assertTrue(h.adapter.ipv6Addresses().isEmpty());
            assertEquals(1, h.events(AdapterEvent.Ipv6DuplicateAddress.class).size());
        }
    }

    @Test
    void dadFailsWhenAnotherNodeProbesTheSameAddress() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            ByteBuf p = Unpooled.buffer(100);
            Ndp.writeNeighborSolicitationPacket(p, 0, 0, LL_HI, MY_LL, -1);
            h.frameIn(frame(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(MY_LL)), PEER, Ethernet.IPV6, p));
            h.advance(2, TimeUnit.SECONDS);
            assertTrue(h.adapter.ipv6Addresses().isEmpty());
            assertEquals(1, h.events(AdapterEvent.Ipv6DuplicateAddress.class).size());
        }
    }

    @Test
    void answersSolicitationForItsAddressAndLearnsTheSolicitor() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            settle(h);
            ByteBuf p = Unpooled.buffer(100);
            Ndp.writeNeighborSolicitationPacket(p, LL_HI, PEER_LL, LL_HI, MY_LL, PEER);
            h.frameIn(frame(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(MY_LL)), PEER, Ethernet.IPV6, p));
            ByteBuf na = ndp(h, Icmpv6.TYPE_NEIGHBOR_ADVERTISEMENT);
            int ip = na.readerIndex() + 14;
            assertEquals(PEER, Ethernet.dst(na, na.readerIndex()));
            assertEquals(PEER_LL, Ipv6.dstLo(na, ip));
            assertEquals(MY_LL, Ipv6.srcLo(na, ip));
            assertEquals(Ndp.NA_FLAG_SOLICITED | Ndp.NA_FLAG_OVERRIDE, Ndp.naFlags(na, ip + 40));
            int opt = Ndp.findOption(na, ip + 64, ip + 40 + Ipv6.payloadLength(na, ip),
                    Ndp.OPT_TARGET_LINK_LAYER_ADDRESS);
            assertEquals(ME, Ndp.linkLayerAddress(na, opt));
            na.release();
            assertEquals(PEER, h.adapter.ndpCache().lookup(LL_HI, PEER_LL));
        }
    }

    @Test
    void ignoresSolicitationForOtherAddressesAndBadHopLimit() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            settle(h);
            ByteBuf p = Unpooled.buffer(100);
            Ndp.writeNeighborSolicitationPacket(p, LL_HI, PEER_LL, LL_HI, 0x1234, PEER);
            h.frameIn(frame(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(0x1234)), PEER, Ethernet.IPV6, p));
            assertEquals(1, h.adapter.counters().drops(AdapterDropReason.NOT_FOR_US), "not our group");
            p = Unpooled.buffer(100);
            Ndp.writeNeighborSolicitationPacket(p, LL_HI, PEER_LL, LL_HI, MY_LL, PEER);
            p.setByte(7, 64); // forwarded: hop limit not 255
            h.frameIn(frame(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(MY_LL)), PEER, Ethernet.IPV6, p));
            assertNull(h.frameOut());
            assertEquals(1, h.adapter.counters().drops(AdapterDropReason.BAD_NEIGHBOR_MESSAGE));
        }
    }

    @Test
    void resolvesLinkLocalNeighbourThenSendsQueuedPacket() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            settle(h);
            ChannelFuture w = h.channel.writeAndFlush(udp6(LL_HI, MY_LL, LL_HI, PEER_LL, 14));
            ByteBuf ns = ndp(h, Icmpv6.TYPE_NEIGHBOR_SOLICITATION);
            assertEquals(MacAddress.ofIpv6Multicast(Ip6.solicitedNodeLo(PEER_LL)), Ethernet.dst(ns, ns.readerIndex()));
            assertEquals(PEER_LL, Ndp.targetLo(ns, ns.readerIndex() + 54));
            ns.release();
            assertFalse(w.isDone());
            NdpRepr na = new NdpRepr.NeighborAdvertisement(false, true, true, LL_HI, PEER_LL, PEER);
            h.frameIn(packetFrame(ME, PEER, na, LL_HI, PEER_LL, LL_HI, MY_LL));
            ByteBuf f = h.frameOut();
            assertTrue(w.isSuccess());
            assertEquals(PEER, Ethernet.dst(f, f.readerIndex()));
            assertEquals(Ethernet.IPV6, Ethernet.etherType(f, f.readerIndex()));
            f.release();
        }
    }

    @Test
    void unresolvedIpv6NeighbourGivesAddressUnreachable() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            settle(h);
            ChannelFuture w = h.channel.writeAndFlush(udp6(LL_HI, MY_LL, LL_HI, PEER_LL, 14));
            h.advance(1, TimeUnit.SECONDS);
            h.advance(1, TimeUnit.SECONDS);
            h.advance(1, TimeUnit.SECONDS);
            assertEquals(3, h.discardOut());
            assertInstanceOf(NoRouteToHostException.class, w.cause());
            ByteBuf err = h.packetUp();
            assertNotNull(err);
            int ip = err.readerIndex();
            assertEquals(IpProtocol.ICMPV6, Ipv6.nextHeader(err, ip));
            assertEquals(Icmpv6.TYPE_DESTINATION_UNREACHABLE, Icmpv6.type(err, ip + 40));
            assertEquals(Icmpv6.CODE_ADDRESS_UNREACHABLE, Icmpv6.code(err, ip + 40));
            assertTrue(Icmpv6.checkInPacket(err, ip) >= 0);
            err.release();
        }
    }

    @Test
    void multicastMapsTo3333AndOffLinkWithoutRouterHasNoRoute() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            settle(h);
            h.channel.writeAndFlush(udp6(LL_HI, MY_LL, 0xFF02_0000_0000_0000L, 0x1_0003L, 14));
            ByteBuf f = h.frameOut();
            assertEquals(mac("33:33:00:01:00:03"), Ethernet.dst(f, f.readerIndex()));
            f.release();
            ChannelFuture w = h.channel.writeAndFlush(udp6(LL_HI, MY_LL, DB8, 1, 14));
            assertInstanceOf(NoRouteToHostException.class, w.cause());
        }
    }

    @Test
    void staticAddressAndGatewayRouteOffLinkTraffic() throws Exception {
        L2Adapter a = base().ipv6Address((Inet6Address) InetAddress.getByName("2001:db8:1::5"), 64)
                .ipv6Gateway(Ip6.toInet(LL_HI, ROUTER_LL)).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            assertEquals(2, h.discardOut(), "DAD for both addresses");
            h.advance(1, TimeUnit.SECONDS);
            assertEquals(2, a.ipv6Addresses().size());
            assertTrue(a.isLocalIpv6(DB8, 5));
            h.channel.writeAndFlush(udp6(DB8, 5, DB8, 9, 14)); // on-link by the static prefix
            ByteBuf ns = ndp(h, Icmpv6.TYPE_NEIGHBOR_SOLICITATION);
            assertEquals(9, Ndp.targetLo(ns, ns.readerIndex() + 54));
            assertEquals(5, Ipv6.srcLo(ns, ns.readerIndex() + 14), "global source for a global target");
            ns.release();
            h.channel.writeAndFlush(udp6(DB8, 5, 0x2001_0db8_0002_0000L, 1, 14)); // off-link: via the gateway
            ns = ndp(h, Icmpv6.TYPE_NEIGHBOR_SOLICITATION);
            assertEquals(ROUTER_LL, Ndp.targetLo(ns, ns.readerIndex() + 54));
            ns.release();
        }
    }

    @Test
    void routerAdvertisementGivesSlaacAddressOnLinkPrefixAndDefaultRouter() {
        L2Adapter a = base().acceptRouterAdvertisements(true).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            h.discardOut();
            h.advance(1, TimeUnit.SECONDS); // link-local preferred: a router solicitation goes out
            ByteBuf rs = ndp(h, Icmpv6.TYPE_ROUTER_SOLICITATION);
            assertEquals(MacAddress.ofIpv6Multicast(2), Ethernet.dst(rs, rs.readerIndex()));
            rs.release();
            NdpRepr ra = new NdpRepr.RouterAdvertisement(64, 0, 1800, 0, 0, ROUTER, 1400,
                    List.of(new NdpRepr.PrefixInformation(64, true, true, 86400, 14400, DB8, 0)), List.of());
            h.frameIn(packetFrame(MacAddress.ofIpv6Multicast(1), ROUTER, ra, LL_HI, ROUTER_LL, Ip6.ALL_NODES_HI,
                    Ip6.ALL_NODES_LO));
            ByteBuf dad = ndp(h, Icmpv6.TYPE_NEIGHBOR_SOLICITATION);
            assertEquals(DB8, Ndp.targetHi(dad, dad.readerIndex() + 54));
            assertEquals(MY_LL, Ndp.targetLo(dad, dad.readerIndex() + 54), "EUI-64 interface id");
            dad.release();
            h.advance(1, TimeUnit.SECONDS);
            assertTrue(a.isLocalIpv6(DB8, MY_LL));
            assertEquals(ROUTER, a.ndpCache().lookup(LL_HI, ROUTER_LL), "router MAC from its SLLA option");
            // Off-link goes to the router; the RA's SLLA made it stale, so the packet goes out at once with a probe.
            h.channel.writeAndFlush(udp6(DB8, MY_LL, 0x2001_0db8_0009_0000L, 1, 14));
            ByteBuf probe = ndp(h, Icmpv6.TYPE_NEIGHBOR_SOLICITATION);
            probe.release();
            ByteBuf f = h.frameOut();
            assertEquals(ROUTER, Ethernet.dst(f, f.readerIndex()));
            f.release();
            assertEquals(1400, a.ipv6Mtu());
        }
    }

    @Test
    void routerAdvertisementIgnoredUnlessEnabled() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            settle(h);
            NdpRepr ra = new NdpRepr.RouterAdvertisement(64, 0, 1800, 0, 0, ROUTER, -1,
                    List.of(new NdpRepr.PrefixInformation(64, true, true, 86400, 14400, DB8, 0)), List.of());
            h.frameIn(packetFrame(MacAddress.ofIpv6Multicast(1), ROUTER, ra, LL_HI, ROUTER_LL, Ip6.ALL_NODES_HI,
                    Ip6.ALL_NODES_LO));
            assertNull(h.frameOut());
            assertEquals(1, h.adapter.ipv6Addresses().size());
            assertInstanceOf(NoRouteToHostException.class,
                    h.channel.writeAndFlush(udp6(LL_HI, MY_LL, DB8, 1, 14)).cause());
        }
    }

    @Test
    void slaacAddressExpiresWithItsValidLifetime() {
        L2Adapter a = base().acceptRouterAdvertisements(true).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            settle(h);
            NdpRepr ra = new NdpRepr.RouterAdvertisement(64, 0, 0, 0, 0, -1, -1,
                    List.of(new NdpRepr.PrefixInformation(64, true, true, 30, 20, DB8, 0)), List.of());
            h.frameIn(packetFrame(MacAddress.ofIpv6Multicast(1), ROUTER, ra, LL_HI, ROUTER_LL, Ip6.ALL_NODES_HI,
                    Ip6.ALL_NODES_LO));
            h.advance(1, TimeUnit.SECONDS);
            assertTrue(a.isLocalIpv6(DB8, MY_LL));
            h.advance(30, TimeUnit.SECONDS);
            assertFalse(a.isLocalIpv6(DB8, MY_LL));
            assertEquals(1, h.events(AdapterEvent.Ipv6AddressRemoved.class).size());
        }
    }

    @Test
    void ipv6OffDropsIpv6Frames() {
        L2Adapter a = base().ipv6(false).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            h.frameIn(frame(ME, PEER, Ethernet.IPV6, udp6(LL_HI, PEER_LL, LL_HI, MY_LL, 0)));
            assertNull(h.packetUp());
            assertEquals(1, a.counters().drops(AdapterDropReason.UNSUPPORTED_ETHERTYPE));
        }
    }

    @Test
    void inboundIpv6PacketGoesUp() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            settle(h);
            h.frameIn(frame(ME, PEER, Ethernet.IPV6, udp6(LL_HI, PEER_LL, LL_HI, MY_LL, 0)));
            ByteBuf up = h.packetUp();
            assertEquals(52, up.readableBytes());
            assertEquals(6, Ipv6.version(up, up.readerIndex()));
            up.release();
        }
    }
}

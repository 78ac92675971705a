package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Icmpv4;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import org.junit.jupiter.api.Test;

import java.net.NoRouteToHostException;
import java.util.concurrent.TimeUnit;

import static dev.pktkit.codec.adapter.AdapterHarness.arpReply;
import static dev.pktkit.codec.adapter.AdapterHarness.arpRequest;
import static dev.pktkit.codec.adapter.AdapterHarness.frame;
import static dev.pktkit.codec.adapter.AdapterHarness.mac;
import static dev.pktkit.codec.adapter.AdapterHarness.udp4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class L2AdapterIpv4Test {
    static final long ME = mac("02:00:00:00:00:01");
    static final long PEER = mac("02:00:00:00:00:02");
    static final long GW = mac("02:00:00:00:00:fe");

    static L2Adapter.Builder base() {
        return L2Adapter.builder().mac(ME).ipv4("10.0.0.1/24").gateway("10.0.0.254").ipv6(false);
    }

    /** Checks that {@code f} is an ARP request from us for {@code target} to {@code dst}, and releases it. */
    static void assertArpRequest(ByteBuf f, long dst, String target) {
        assertNotNull(f, "expected an ARP request for " + target);
        try {
            int off = f.readerIndex();
            assertEquals(Ethernet.ARP, Ethernet.etherType(f, off));
            assertEquals(dst, Ethernet.dst(f, off));
            assertEquals(Arp.OP_REQUEST, Arp.operation(f, off + 14));
            assertEquals(Ip4.parse(target), Arp.targetIp(f, off + 14));
            assertEquals(ME, Arp.senderMac(f, off + 14));
        } finally {
            f.release();
        }
    }

    @Test
    void startAnnouncesTheStaticAddressWithGratuitousArp() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            ByteBuf f = h.frameOut();
            assertEquals(Ip4.parse("10.0.0.1"), Arp.senderIp(f, 14));
            assertEquals(Ip4.parse("10.0.0.1"), Arp.targetIp(f, 14));
            assertArpRequest(f, MacAddress.BROADCAST, "10.0.0.1");
            AdapterEvent.Ipv4AddressChanged e = h.events(AdapterEvent.Ipv4AddressChanged.class).get(0);
            assertNull(e.previous());
            assertEquals("10.0.0.1", e.address().getHostAddress());
            assertEquals(24, e.prefixLength());
            assertTrue(h.adapter.isLocalIpv4(Ip4.parse("10.0.0.1")));
            assertFalse(h.adapter.isLocalIpv4(Ip4.parse("10.0.0.2")));
        }
    }

    @Test
    void inboundFrameForUsBecomesThePacketWithoutPadding() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            ByteBuf pkt = udp4("10.0.0.2", "10.0.0.1", 0, 2); // 30-byte packet
            ByteBuf f = frame(ME, PEER, Ethernet.IPV4, pkt);
            f.writeZero(60 - f.readableBytes()); // Ethernet minimum-size padding
            h.frameIn(f);
            ByteBuf up = h.packetUp();
            assertSame(f, up, "same buffer, no copy");
            assertEquals(30, up.readableBytes());
            assertEquals(Ip4.parse("10.0.0.1"), Ipv4.dst(up, up.readerIndex()));
            up.release();
            assertEquals(1, h.adapter.counters().packetsIn());
        }
    }

    @Test
    void framesForOthersAndBadFramesAreDroppedAndCounted() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            h.frameIn(frame(PEER, GW, Ethernet.IPV4, udp4("10.0.0.254", "10.0.0.2", 0, 4)));
            h.frameIn(frame(mac("01:00:5e:01:02:03"), GW, Ethernet.IPV4, udp4("10.0.0.254", "239.1.2.3", 0, 4)));
            h.frameIn(Unpooled.buffer(10).writeZero(10));
            ByteBuf bad = frame(ME, PEER, Ethernet.IPV4, udp4("10.0.0.2", "10.0.0.1", 0, 4));
            bad.setShort(14 + 2, 200); // total length beyond the frame
            h.frameIn(bad);
            h.frameIn(frame(ME, PEER, 0x88B5, Unpooled.buffer(4).writeInt(1)));
            h.frameIn(frame(ME, ME, Ethernet.IPV4, udp4("10.0.0.1", "10.0.0.1", 0, 4)));
            assertNull(h.packetUp());
            AdapterCounters c = h.adapter.counters();
            assertEquals(2, c.drops(AdapterDropReason.NOT_FOR_US));
            assertEquals(2, c.drops(AdapterDropReason.MALFORMED));
            assertEquals(1, c.drops(AdapterDropReason.UNSUPPORTED_ETHERTYPE));
            assertEquals(1, c.drops(AdapterDropReason.LOOPED));
        }
    }

    @Test
    void joinedMulticastGroupIsAccepted() throws Exception {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            h.adapter.joinGroup(java.net.InetAddress.getByName("239.1.2.3"));
            h.channel.runPendingTasks();
            h.frameIn(frame(mac("01:00:5e:01:02:03"), GW, Ethernet.IPV4, udp4("10.0.0.254", "239.1.2.3", 0, 4)));
            ByteBuf up = h.packetUp();
            assertNotNull(up);
            up.release();
        }
    }

    @Test
    void answersArpForItsOwnAddressOnlyAndLearnsTheAsker() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.99"));
            assertNull(h.frameOut(), "no answer for someone else's address");
            assertEquals(-1, h.adapter.arpCache().lookup(Ip4.parse("10.0.0.2")), "no entry from a foreign request");

            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
            ByteBuf r = h.frameOut();
            assertEquals(PEER, Ethernet.dst(r, 0));
            assertEquals(Arp.OP_REPLY, Arp.operation(r, 14));
            assertEquals(ME, Arp.senderMac(r, 14));
            assertEquals(Ip4.parse("10.0.0.1"), Arp.senderIp(r, 14));
            assertEquals(PEER, Arp.targetMac(r, 14));
            assertEquals(Ip4.parse("10.0.0.2"), Arp.targetIp(r, 14));
            r.release();
            assertEquals(PEER, h.adapter.arpCache().lookup(Ip4.parse("10.0.0.2")));
        }
    }

    @Test
    void resolvesOnLinkNextHopThenSendsQueuedAndLaterPacketsDirectly() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            ChannelFuture first = h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.2", 14, 8));
            assertFalse(first.isDone(), "waits for ARP");
            assertArpRequest(h.frameOut(), MacAddress.BROADCAST, "10.0.0.2");
            assertNull(h.frameOut());

            h.frameIn(arpReply(PEER, "10.0.0.2", ME, "10.0.0.1"));
            ByteBuf f = h.frameOut();
            assertTrue(first.isSuccess());
            assertEquals(PEER, Ethernet.dst(f, 0));
            assertEquals(ME, Ethernet.src(f, 0));
            assertEquals(Ethernet.IPV4, Ethernet.etherType(f, 0));
            assertEquals(Ip4.parse("10.0.0.2"), Ipv4.dst(f, 14));
            f.release();

            ByteBuf pkt = udp4("10.0.0.1", "10.0.0.2", 14, 8);
            h.channel.writeAndFlush(pkt);
            ByteBuf g = h.frameOut();
            assertSame(pkt, g, "headroom used in place");
            assertEquals(PEER, Ethernet.dst(g, g.readerIndex()));
            g.release();
            assertEquals(2, h.adapter.counters().packetsOut());
        }
    }

    @Test
    void packetWithoutHeadroomOrSharedIsCopiedAndOriginalUntouched() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
            h.discardOut();
            ByteBuf shared = udp4("10.0.0.1", "10.0.0.2", 14, 8);
            ByteBuf other = shared.retainedDuplicate();
            byte[] before = new byte[14];
            shared.getBytes(0, before);
            h.channel.writeAndFlush(shared);
            ByteBuf f = h.frameOut();
            assertFalse(f == shared);
            byte[] after = new byte[14];
            other.getBytes(0, after);
            assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(after));
            assertEquals(PEER, Ethernet.dst(f, f.readerIndex()));
            f.release();
            other.release();
        }
    }

    /** A shared packet's copy carries every byte, from direct and heap memory, short and long (bounce or not). */
    @Test
    void sharedPacketsAreCopiedWhole() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
            h.discardOut();
            for (boolean direct : new boolean[] {true, false}) {
                for (int payload : new int[] {8, 1400, 3000}) {
                    ByteBuf src = udp4("10.0.0.1", "10.0.0.2", 14, payload);
                    ByteBuf pkt = direct ? io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(src.capacity())
                            : io.netty.buffer.PooledByteBufAllocator.DEFAULT.heapBuffer(src.capacity());
                    pkt.writerIndex(src.readerIndex()).readerIndex(src.readerIndex());
                    pkt.writeBytes(src, src.readerIndex(), src.readableBytes());
                    for (int i = 28; i < pkt.readableBytes(); i++) {
                        pkt.setByte(pkt.readerIndex() + i, i * 7);
                    }
                    src.release();
                    ByteBuf other = pkt.retainedDuplicate();
                    h.channel.writeAndFlush(pkt);
                    ByteBuf f = h.frameOut();
                    try {
                        assertFalse(f == pkt, "shared: copied");
                        int o = f.readerIndex();
                        assertEquals(PEER, Ethernet.dst(f, o));
                        assertEquals(ME, Ethernet.src(f, o));
                        assertEquals(Ethernet.IPV4, Ethernet.etherType(f, o));
                        assertEquals(other.readableBytes() + 14, f.readableBytes());
                        assertTrue(io.netty.buffer.ByteBufUtil.equals(other, other.readerIndex(), f, o + 14,
                                other.readableBytes()), direct + " " + payload);
                    } finally {
                        f.release();
                        other.release();
                    }
                    assertEquals(0, other.refCnt());
                }
            }
        }
    }

    @Test
    void offLinkGoesThroughGatewayMulticastAndBroadcastMapToGroupMacs() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            h.channel.writeAndFlush(udp4("10.0.0.1", "8.8.8.8", 14, 4));
            assertArpRequest(h.frameOut(), MacAddress.BROADCAST, "10.0.0.254");
            h.frameIn(arpReply(GW, "10.0.0.254", ME, "10.0.0.1"));
            ByteBuf f = h.frameOut();
            assertEquals(GW, Ethernet.dst(f, f.readerIndex()));
            f.release();

            h.channel.writeAndFlush(udp4("10.0.0.1", "239.1.2.3", 14, 4));
            f = h.frameOut();
            assertEquals(mac("01:00:5e:01:02:03"), Ethernet.dst(f, f.readerIndex()));
            f.release();
            h.channel.writeAndFlush(udp4("10.0.0.1", "255.255.255.255", 14, 4));
            f = h.frameOut();
            assertEquals(MacAddress.BROADCAST, Ethernet.dst(f, f.readerIndex()));
            f.release();
            h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.255", 14, 4));
            f = h.frameOut();
            assertEquals(MacAddress.BROADCAST, Ethernet.dst(f, f.readerIndex()));
            f.release();
        }
    }

    @Test
    void staticRouteBeatsTheGateway() throws Exception {
        L2Adapter a = base().route((java.net.Inet4Address) java.net.InetAddress.getByName("192.168.0.0"), 16,
                (java.net.Inet4Address) java.net.InetAddress.getByName("10.0.0.253")).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            h.discardOut();
            h.channel.writeAndFlush(udp4("10.0.0.1", "192.168.7.7", 14, 4));
            assertArpRequest(h.frameOut(), MacAddress.BROADCAST, "10.0.0.253");
            h.channel.writeAndFlush(udp4("10.0.0.1", "172.16.0.1", 14, 4));
            assertArpRequest(h.frameOut(), MacAddress.BROADCAST, "10.0.0.254");
        }
    }

    @Test
    void noGatewayMeansNoRoute() {
        L2Adapter a = L2Adapter.builder().mac(ME).ipv4("10.0.0.1/24").ipv6(false).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            h.discardOut();
            ChannelFuture f = h.channel.writeAndFlush(udp4("10.0.0.1", "8.8.8.8", 14, 4));
            assertInstanceOf(NoRouteToHostException.class, f.cause());
            assertEquals(1, a.counters().drops(AdapterDropReason.NO_ROUTE));
            assertNull(h.frameOut());
        }
    }

    @Test
    void unresolvedNextHopFailsAfterRetriesWithHostUnreachable() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            ChannelFuture w = h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.9", 14, 4));
            assertArpRequest(h.frameOut(), MacAddress.BROADCAST, "10.0.0.9");
            h.advance(1, TimeUnit.SECONDS);
            assertArpRequest(h.frameOut(), MacAddress.BROADCAST, "10.0.0.9");
            h.advance(1, TimeUnit.SECONDS);
            assertArpRequest(h.frameOut(), MacAddress.BROADCAST, "10.0.0.9");
            assertFalse(w.isDone());
            h.advance(1, TimeUnit.SECONDS);
            assertNull(h.frameOut(), "three requests, no more");
            assertInstanceOf(NoRouteToHostException.class, w.cause());
            ByteBuf icmp = h.packetUp();
            assertNotNull(icmp, "ICMP host unreachable goes up to the sender");
            int p = Ipv4.payloadOffset(icmp, icmp.readerIndex());
            assertEquals(IpProtocol.ICMP, Ipv4.protocol(icmp, icmp.readerIndex()));
            assertEquals(Ip4.parse("10.0.0.1"), Ipv4.dst(icmp, icmp.readerIndex()));
            assertEquals(Icmpv4.TYPE_DESTINATION_UNREACHABLE, Icmpv4.type(icmp, p));
            assertEquals(Icmpv4.CODE_HOST_UNREACHABLE, Icmpv4.code(icmp, p));
            assertTrue(Icmpv4.checkInPacket(icmp, icmp.readerIndex()) >= 0);
            icmp.release();
            assertEquals(1, h.adapter.counters().drops(AdapterDropReason.UNRESOLVED));
            assertEquals(0, h.adapter.arpCache().size());
        }
    }

    @Test
    void pendingQueueAndCacheAreBounded() {
        L2Adapter a = base().maxPendingPerNeighbor(2).maxNeighbors(2).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            h.discardOut();
            ChannelFuture w1 = h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.2", 14, 4));
            ChannelFuture w2 = h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.2", 14, 4));
            ChannelFuture w3 = h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.2", 14, 4));
            assertFalse(w1.isDone());
            assertFalse(w2.isDone());
            assertInstanceOf(NoRouteToHostException.class, w3.cause());
            assertEquals(1, a.counters().drops(AdapterDropReason.PENDING_FULL));
            h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.3", 14, 4));
            ChannelFuture w5 = h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.4", 14, 4));
            assertInstanceOf(NoRouteToHostException.class, w5.cause());
            assertEquals(1, a.counters().drops(AdapterDropReason.CACHE_FULL));
            assertEquals(2, a.arpCache().size());
            assertEquals(3, a.arpCache().pendingTotal());
        }
    }

    @Test
    void resolvedEntryIsEvictedForANewOneWhenFull() {
        L2Adapter a = base().maxNeighbors(1).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            h.discardOut();
            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
            h.discardOut();
            assertEquals(PEER, a.arpCache().lookup(Ip4.parse("10.0.0.2")));
            h.frameIn(arpRequest(GW, "10.0.0.254", "10.0.0.1"));
            h.discardOut();
            assertEquals(1, a.arpCache().size());
            assertEquals(GW, a.arpCache().lookup(Ip4.parse("10.0.0.254")));
            assertEquals(-1, a.arpCache().lookup(Ip4.parse("10.0.0.2")));
        }
    }

    @Test
    void staleEntryIsReconfirmedByUnicastProbesAndRemovedWhenSilent() {
        L2Adapter a = base().reachableTime(java.time.Duration.ofSeconds(5)).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            h.discardOut();
            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
            h.discardOut();
            h.advance(6, TimeUnit.SECONDS); // reachable time over: stale
            int s = a.arpCache().find(Ip4.parse("10.0.0.2"));
            assertEquals(NeighborCache.STALE, a.arpCache().state(s));

            h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.2", 14, 4));
            assertArpRequest(h.frameOut(), PEER, "10.0.0.2"); // unicast probe
            ByteBuf f = h.frameOut();
            assertEquals(PEER, Ethernet.dst(f, f.readerIndex()), "the packet still goes to the old MAC");
            f.release();
            h.advance(1, TimeUnit.SECONDS);
            assertArpRequest(h.frameOut(), PEER, "10.0.0.2");
            h.advance(1, TimeUnit.SECONDS);
            assertArpRequest(h.frameOut(), PEER, "10.0.0.2");
            h.advance(1, TimeUnit.SECONDS);
            assertNull(h.frameOut());
            assertEquals(-1, a.arpCache().find(Ip4.parse("10.0.0.2")), "silent neighbour removed");
        }
    }

    @Test
    void reachableAgainAfterProbeAnswered() {
        L2Adapter a = base().reachableTime(java.time.Duration.ofSeconds(5)).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            h.discardOut();
            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
            h.discardOut();
            h.advance(6, TimeUnit.SECONDS);
            h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.2", 14, 4));
            h.discardOut();
            h.frameIn(arpReply(PEER, "10.0.0.2", ME, "10.0.0.1"));
            int s = a.arpCache().find(Ip4.parse("10.0.0.2"));
            assertEquals(NeighborCache.REACHABLE, a.arpCache().state(s));
            h.advance(3, TimeUnit.SECONDS);
            assertNull(h.frameOut(), "no probes once confirmed");
        }
    }

    @Test
    void unusedStaleEntriesAreCollected() {
        L2Adapter a = base().reachableTime(java.time.Duration.ofSeconds(5))
                .staleTime(java.time.Duration.ofSeconds(10)).build();
        try (AdapterHarness h = new AdapterHarness(a)) {
            h.discardOut();
            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
            h.discardOut();
            h.advance(6, TimeUnit.SECONDS);
            assertEquals(1, a.arpCache().size());
            h.advance(10, TimeUnit.SECONDS);
            assertEquals(0, a.arpCache().size());
        }
    }

    @Test
    void conflictingClaimOfOurAddressIsReportedNotLearned() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            h.frameIn(arpRequest(PEER, "10.0.0.1", "10.0.0.254"));
            assertEquals(1, h.events(AdapterEvent.Ipv4AddressConflict.class).size());
            assertEquals(-1, h.adapter.arpCache().lookup(Ip4.parse("10.0.0.1")));
        }
    }

    @Test
    void setIpv4ChangesAddressAndAnnouncesIt() throws Exception {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            h.discardOut();
            h.adapter.setIpv4((java.net.Inet4Address) java.net.InetAddress.getByName("10.0.0.7"), 24, null);
            h.channel.runPendingTasks();
            ByteBuf f = h.frameOut();
            assertEquals(Ip4.parse("10.0.0.7"), Arp.senderIp(f, 14));
            f.release();
            assertEquals("10.0.0.7", h.adapter.ipv4Address().getHostAddress());
            assertEquals(2, h.events(AdapterEvent.Ipv4AddressChanged.class).size());
        }
    }

    @Test
    void closingFailsQueuedWrites() {
        AdapterHarness h = new AdapterHarness(base().build());
        h.discardOut();
        ChannelFuture w = h.channel.writeAndFlush(udp4("10.0.0.1", "10.0.0.2", 14, 4));
        h.close();
        assertInstanceOf(NoRouteToHostException.class, w.cause());
        assertEquals(1, h.adapter.counters().drops(AdapterDropReason.FLUSHED));
    }

    @Test
    void builderRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> L2Adapter.builder().mac(MacAddress.BROADCAST));
        assertThrows(IllegalArgumentException.class, () -> L2Adapter.builder().ipv4("10.0.0.1/33"));
        assertThrows(IllegalStateException.class, () -> L2Adapter.builder().ipv4("10.0.0.1/24").dhcp(true).build());
        assertThrows(IllegalStateException.class, () -> L2Adapter.builder().gateway("10.0.0.1").build());
        assertThrows(IllegalArgumentException.class, () -> L2Adapter.builder().maxNeighbors(0));
        assertTrue(MacAddress.isLocallyAdministered(L2Adapter.builder().build().mac()));
        assertTrue(MacAddress.isUnicast(L2Adapter.builder().build().mac()));
    }
}

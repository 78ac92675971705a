package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Dhcp4Option;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.pktkit.codec.adapter.AdapterHarness.arpReply;
import static dev.pktkit.codec.adapter.AdapterHarness.mac;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DHCP client against a scripted server: every message the client sends is parsed and checked. */
class L2AdapterDhcpTest {
    static final long ME = mac("02:00:00:00:00:01");
    static final long SERVER_MAC = mac("02:00:00:00:00:fe");
    static final int SERVER = Ip4.parse("10.0.0.254");
    static final int OFFERED = Ip4.parse("10.0.0.23");

    /** A message the client sent, parsed. */
    record Sent(long dstMac, int srcIp, int dstIp, int type, long xid, int ciaddr, int requested, int serverId,
                int flags) {
    }

    static Sent parse(ByteBuf f) {
        assertNotNull(f, "expected a DHCP message");
        try {
            int off = f.readerIndex();
            assertEquals(Ethernet.IPV4, Ethernet.etherType(f, off));
            int ip = off + 14;
            assertTrue(Udp.checkInPacket(f, ip) > 0, "valid IPv4/UDP with checksum");
            int udp = Ipv4.payloadOffset(f, ip);
            assertEquals(Dhcp4.CLIENT_PORT, Udp.srcPort(f, udp));
            assertEquals(Dhcp4.SERVER_PORT, Udp.dstPort(f, udp));
            int d = udp + 8;
            int len = Udp.length(f, udp) - 8;
            assertTrue(Dhcp4.check(f, d, len) >= 0);
            assertEquals(Dhcp4.OP_REQUEST, Dhcp4.op(f, d));
            assertEquals(ME, Dhcp4.chaddr(f, d));
            byte[] clientId = Dhcp4.clientId(f, d, len);
            assertArrayEquals(new byte[] {1, 2, 0, 0, 0, 0, 1}, clientId);
            return new Sent(Ethernet.dst(f, off), Ipv4.src(f, ip), Ipv4.dst(f, ip), Dhcp4.messageType(f, d, len),
                    Dhcp4.xid(f, d), Dhcp4.ciaddr(f, d), Dhcp4.requestedIp(f, d, len), Dhcp4.serverId(f, d, len),
                    Dhcp4.flags(f, d));
        } finally {
            f.release();
        }
    }

    /** Next DHCP message sent, skipping ARP. */
    static Sent nextDhcp(AdapterHarness h) {
        for (ByteBuf f; (f = h.frameOut()) != null; ) {
            if (Ethernet.etherType(f, f.readerIndex()) == Ethernet.IPV4) {
                return parse(f);
            }
            f.release();
        }
        return null;
    }

    /** A server reply frame: to the client's MAC, from the server. */
    static ByteBuf reply(int type, long xid, int yiaddr, int leaseSeconds, boolean withRoutes) {
        ByteBuf msg = Unpooled.buffer(400);
        Dhcp4.writeFixed(msg, Dhcp4.OP_REPLY, xid, 0, 0, 0, yiaddr, 0, 0, ME);
        Dhcp4.writeByteOption(msg, Dhcp4Option.MESSAGE_TYPE, type);
        Dhcp4.writeIntOption(msg, Dhcp4Option.SERVER_IDENTIFIER, SERVER);
        if (type != Dhcp4.NAK) {
            Dhcp4.writeIntOption(msg, Dhcp4Option.LEASE_TIME, leaseSeconds);
            Dhcp4.writeIntOption(msg, Dhcp4Option.SUBNET_MASK, Ip4.mask(24));
            Dhcp4.writeAddressListOption(msg, Dhcp4Option.ROUTER, SERVER);
            Dhcp4.writeAddressListOption(msg, Dhcp4Option.DOMAIN_NAME_SERVER, Ip4.parse("10.0.0.53"),
                    Ip4.parse("10.0.0.54"));
            Dhcp4.writeStringOption(msg, Dhcp4Option.DOMAIN_NAME, "lan.example");
            if (withRoutes) {
                Dhcp4.writeClasslessStaticRoutes(msg, List.of(new Dhcp4.Route(Ip4.parse("192.168.0.0"), 16,
                        Ip4.parse("10.0.0.253")), new Dhcp4.Route(0, 0, SERVER)));
            }
        }
        Dhcp4.writeEnd(msg, 0);
        ByteBuf f = Unpooled.buffer(600);
        int dst = type == Dhcp4.NAK ? Ip4.BROADCAST : yiaddr;
        Ethernet.writeHeader(f, type == Dhcp4.NAK ? MacAddress.BROADCAST : ME, SERVER_MAC, Ethernet.IPV4);
        Ipv4.writeHeader(f, SERVER, dst, IpProtocol.UDP, 64, 8 + msg.readableBytes(), 1, false);
        Udp.writeDatagramV4(f, SERVER, dst, Dhcp4.SERVER_PORT, Dhcp4.CLIENT_PORT, msg, 0, msg.readableBytes());
        msg.release();
        return f;
    }

    static L2Adapter.Builder base() {
        return L2Adapter.builder().mac(ME).ipv6(false).dhcp(true);
    }

    /** Runs DISCOVER/OFFER/REQUEST/ACK and the ARP probe; returns the REQUEST's xid. */
    static long bind(AdapterHarness h, int leaseSeconds, boolean withRoutes) {
        Sent discover = nextDhcp(h);
        assertEquals(Dhcp4.DISCOVER, discover.type());
        h.frameIn(reply(Dhcp4.OFFER, discover.xid(), OFFERED, leaseSeconds, withRoutes));
        Sent request = nextDhcp(h);
        assertEquals(Dhcp4.REQUEST, request.type());
        h.frameIn(reply(Dhcp4.ACK, request.xid(), OFFERED, leaseSeconds, withRoutes));
        ByteBuf probe = h.frameOut();
        assertEquals(Ethernet.ARP, Ethernet.etherType(probe, probe.readerIndex()));
        assertEquals(0, Arp.senderIp(probe, probe.readerIndex() + 14), "ARP probe from 0.0.0.0");
        assertEquals(OFFERED, Arp.targetIp(probe, probe.readerIndex() + 14));
        probe.release();
        h.advance(1, TimeUnit.SECONDS);
        return request.xid();
    }

    @Test
    void discoverOfferRequestAckProbeBind() {
        try (AdapterHarness h = new AdapterHarness(base().dhcpHostname("vm1").build())) {
            Sent discover = nextDhcp(h);
            assertEquals(Dhcp4.DISCOVER, discover.type());
            assertEquals(MacAddress.BROADCAST, discover.dstMac());
            assertEquals(0, discover.srcIp());
            assertEquals(Ip4.BROADCAST, discover.dstIp());
            assertEquals(0, discover.flags(), "broadcast flag off by default");
            h.frameIn(reply(Dhcp4.OFFER, discover.xid(), OFFERED, 3600, false));
            Sent request = nextDhcp(h);
            assertEquals(Dhcp4.REQUEST, request.type());
            assertEquals(discover.xid(), request.xid());
            assertEquals(OFFERED, request.requested());
            assertEquals(SERVER, request.serverId());
            assertEquals(0, request.ciaddr());
            assertFalse(h.adapter.leaseFuture().isDone());

            h.frameIn(reply(Dhcp4.ACK, request.xid(), OFFERED, 3600, false));
            ByteBuf probe = h.frameOut();
            assertEquals(0, Arp.senderIp(probe, 14));
            probe.release();
            assertNull(h.adapter.ipv4Address(), "not used before the probe window ends");
            h.advance(1, TimeUnit.SECONDS);

            DhcpLease lease = h.adapter.leaseFuture().getNow();
            assertNotNull(lease);
            assertEquals("10.0.0.23", lease.address().getHostAddress());
            assertEquals(24, lease.prefixLength());
            assertEquals("10.0.0.254", lease.router().getHostAddress());
            assertEquals(2, lease.dnsServers().size());
            assertEquals("lan.example", lease.domainName());
            assertEquals(Duration.ofSeconds(3600), lease.leaseTime());
            assertEquals(Duration.ofSeconds(1800), lease.renewalTime());
            assertEquals(Duration.ofSeconds(3150), lease.rebindingTime());
            assertEquals("10.0.0.23", h.adapter.ipv4Address().getHostAddress());
            ByteBuf garp = h.frameOut();
            assertEquals(OFFERED, Arp.senderIp(garp, 14));
            assertEquals(OFFERED, Arp.targetIp(garp, 14));
            garp.release();
            assertEquals(AdapterEvent.DhcpLeaseChanged.Kind.BOUND,
                    h.events(AdapterEvent.DhcpLeaseChanged.class).get(0).kind());
        }
    }

    @Test
    void offersForOtherTransactionsOrClientsAreIgnored() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            Sent discover = nextDhcp(h);
            h.frameIn(reply(Dhcp4.OFFER, discover.xid() ^ 1, OFFERED, 3600, false));
            ByteBuf other = reply(Dhcp4.OFFER, discover.xid(), OFFERED, 3600, false);
            other.setByte(14 + 20 + 8 + Dhcp4.CHADDR_OFFSET + 5, 9); // another client's chaddr
            int udp = 14 + 20;
            other.setShort(udp + 6, 0); // UDP checksum 0: not computed, still valid over IPv4
            h.frameIn(other);
            ByteBuf corrupt = reply(Dhcp4.OFFER, discover.xid(), OFFERED, 3600, false);
            corrupt.setByte(corrupt.writerIndex() - 1, 0x55); // breaks the UDP checksum
            h.frameIn(corrupt);
            assertNull(nextDhcp(h), "no REQUEST");
            assertEquals(3, h.adapter.counters().drops(AdapterDropReason.BAD_DHCP));
        }
    }

    @Test
    void discoverIsRetransmittedWithBackoff() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            long xid = nextDhcp(h).xid();
            h.advance(5, TimeUnit.SECONDS); // 4 s ± 1 s
            Sent again = nextDhcp(h);
            assertEquals(Dhcp4.DISCOVER, again.type());
            assertEquals(xid, again.xid());
            h.advance(5, TimeUnit.SECONDS);
            assertNull(nextDhcp(h), "second wait is 8 s ± 1 s");
            h.advance(4, TimeUnit.SECONDS);
            assertEquals(Dhcp4.DISCOVER, nextDhcp(h).type());
        }
    }

    @Test
    void renewsAtT1ByUnicastAndRebindsAtT2ByBroadcastThenExpires() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            bind(h, 800, false);
            h.discardOut();
            h.advance(400, TimeUnit.SECONDS); // T1
            Sent renew = nextDhcp(h);
            assertEquals(Dhcp4.REQUEST, renew.type());
            assertEquals(OFFERED, renew.ciaddr());
            assertEquals(OFFERED, renew.srcIp());
            assertEquals(SERVER, renew.dstIp());
            assertEquals(SERVER_MAC, renew.dstMac(), "unicast to the server");
            assertEquals(0, renew.requested(), "no option 50 when renewing");
            assertEquals(0, renew.serverId(), "no option 54 when renewing");

            h.advance(300, TimeUnit.SECONDS); // T2 = 700 s
            Sent rebind = null;
            for (Sent s; (s = nextDhcp(h)) != null; ) {
                rebind = s;
            }
            assertNotNull(rebind);
            assertEquals(Ip4.BROADCAST, rebind.dstIp());
            assertEquals(MacAddress.BROADCAST, rebind.dstMac());
            assertEquals(OFFERED, rebind.ciaddr());
            assertNotNull(h.adapter.ipv4Address(), "address kept until expiry");

            h.advance(100, TimeUnit.SECONDS); // lease over
            assertNull(h.adapter.ipv4Address());
            assertNull(h.adapter.lease());
            List<AdapterEvent.DhcpLeaseChanged> ev = h.events(AdapterEvent.DhcpLeaseChanged.class);
            assertEquals(AdapterEvent.DhcpLeaseChanged.Kind.LOST, ev.get(ev.size() - 1).kind());
            Sent discover = null;
            for (Sent s; (s = nextDhcp(h)) != null; ) {
                discover = s;
            }
            assertEquals(Dhcp4.DISCOVER, discover.type(), "starts over");
        }
    }

    @Test
    void renewalAckExtendsTheLease() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            bind(h, 800, false);
            h.discardOut();
            h.advance(400, TimeUnit.SECONDS);
            Sent renew = nextDhcp(h);
            h.frameIn(reply(Dhcp4.ACK, renew.xid(), OFFERED, 800, false));
            List<AdapterEvent.DhcpLeaseChanged> ev = h.events(AdapterEvent.DhcpLeaseChanged.class);
            assertEquals(AdapterEvent.DhcpLeaseChanged.Kind.RENEWED, ev.get(ev.size() - 1).kind());
            h.advance(399, TimeUnit.SECONDS);
            assertNull(nextDhcp(h), "next renewal is 400 s after this one");
            h.advance(2, TimeUnit.SECONDS);
            assertEquals(Dhcp4.REQUEST, nextDhcp(h).type());
            assertEquals("10.0.0.23", h.adapter.ipv4Address().getHostAddress());
        }
    }

    @Test
    void nakWhileRenewingDropsTheAddressAndRestarts() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            bind(h, 800, false);
            h.discardOut();
            h.advance(400, TimeUnit.SECONDS);
            Sent renew = nextDhcp(h);
            h.frameIn(reply(Dhcp4.NAK, renew.xid(), 0, 0, false));
            assertNull(h.adapter.ipv4Address());
            h.advance(1, TimeUnit.SECONDS);
            assertEquals(Dhcp4.DISCOVER, nextDhcp(h).type());
        }
    }

    @Test
    void conflictDuringProbeSendsDeclineAndWaitsTenSeconds() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            Sent discover = nextDhcp(h);
            h.frameIn(reply(Dhcp4.OFFER, discover.xid(), OFFERED, 3600, false));
            Sent request = nextDhcp(h);
            h.frameIn(reply(Dhcp4.ACK, request.xid(), OFFERED, 3600, false));
            h.discardOut();
            h.frameIn(arpReply(mac("02:00:00:00:00:77"), "10.0.0.23", ME, "0.0.0.0"));
            Sent decline = nextDhcp(h);
            assertEquals(Dhcp4.DECLINE, decline.type());
            assertEquals(OFFERED, decline.requested());
            assertEquals(SERVER, decline.serverId());
            assertEquals(0, decline.ciaddr());
            assertNull(h.adapter.ipv4Address());
            for (int i = 0; i < 9; i++) {
                h.advance(1, TimeUnit.SECONDS);
                assertNull(nextDhcp(h), "quiet for ten seconds after a DECLINE");
            }
            h.advance(1, TimeUnit.SECONDS);
            assertEquals(Dhcp4.DISCOVER, nextDhcp(h).type());
        }
    }

    @Test
    void classlessRoutesReplaceTheRouterOption() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            bind(h, 3600, true);
            h.discardOut();
            assertEquals(2, h.adapter.lease().routes().size());
            h.channel.writeAndFlush(AdapterHarness.udp4("10.0.0.23", "192.168.1.1", 14, 4));
            ByteBuf arp = h.frameOut();
            assertEquals(Ip4.parse("10.0.0.253"), Arp.targetIp(arp, arp.readerIndex() + 14));
            arp.release();
            h.channel.writeAndFlush(AdapterHarness.udp4("10.0.0.23", "1.1.1.1", 14, 4));
            arp = h.frameOut();
            assertEquals(SERVER, Arp.targetIp(arp, arp.readerIndex() + 14), "default route from option 121");
            arp.release();
        }
    }

    @Test
    void closeSendsRelease() {
        AdapterHarness h = new AdapterHarness(base().build());
        try {
            bind(h, 3600, false);
            h.discardOut();
            h.channel.close();
            Sent release = nextDhcp(h);
            assertEquals(Dhcp4.RELEASE, release.type());
            assertEquals(OFFERED, release.ciaddr());
            assertEquals(SERVER, release.serverId());
            assertEquals(SERVER_MAC, release.dstMac());
            List<AdapterEvent.DhcpLeaseChanged> ev = h.events(AdapterEvent.DhcpLeaseChanged.class);
            assertEquals(AdapterEvent.DhcpLeaseChanged.Kind.RELEASED, ev.get(ev.size() - 1).kind());
            assertFalse(h.channel.isOpen());
        } finally {
            h.close();
        }
    }

    @Test
    void dhcpRepliesDoNotReachTheLayerAbove() {
        try (AdapterHarness h = new AdapterHarness(base().build())) {
            Sent discover = nextDhcp(h);
            h.frameIn(reply(Dhcp4.OFFER, discover.xid(), OFFERED, 3600, false));
            assertNull(h.packetUp());
            assertEquals(1, h.adapter.counters().dhcpIn());
        }
    }
}

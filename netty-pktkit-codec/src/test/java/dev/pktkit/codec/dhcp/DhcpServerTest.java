package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Dhcp4Option;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DhcpServerTest {
    static final long SERVER_MAC = MacAddress.parse("02:00:00:00:00:01");
    static final long A = MacAddress.parse("02:00:00:00:00:0a");
    static final long B = MacAddress.parse("02:00:00:00:00:0b");
    static final long C = MacAddress.parse("02:00:00:00:00:0c");
    static final int SERVER = Ip4.parse("10.0.2.1");

    private EmbeddedChannel ch;
    private DhcpServer server;

    static DhcpServer.Builder config() {
        return DhcpServer.builder().serverMac(SERVER_MAC).serverAddress("10.0.2.1", 24)
                .pool("10.0.2.100", "10.0.2.102").router("10.0.2.1").dnsServer("10.0.2.53")
                .domainName("lan.test").leaseTime(Duration.ofSeconds(600));
    }

    private final List<DhcpLeaseEvent> events = new ArrayList<>();

    void start(DhcpServer s) {
        server = s;
        ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(s, new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof DhcpLeaseEvent e) {
                    events.add(e);
                } else {
                    ctx.fireUserEventTriggered(evt);
                }
            }
        });
    }

    List<DhcpLeaseEvent.Kind> eventKinds() {
        return events.stream().map(DhcpLeaseEvent::kind).toList();
    }

    @AfterEach
    void stop() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    /** A client message in a frame: from {@code mac}, to broadcast unless {@code ciaddr} is set. */
    static ByteBuf client(int type, long xid, long mac, int ciaddr, int requested, int serverId, boolean bflag,
                          int... requestOptions) {
        return message(type, xid, mac, ciaddr, requested, serverId, bflag, 0, 0, null, requestOptions);
    }

    /**
     * A message in a pooled (leak-tracked) frame. With {@code giaddr} set it comes from a relay agent: from
     * {@code relayMac} and {@code giaddr} to the server, port 67 to 67, with option 82 {@code agent} if not null.
     */
    static ByteBuf message(int type, long xid, long mac, int ciaddr, int requested, int serverId, boolean bflag,
                           int giaddr, long relayMac, byte[] agent, int... requestOptions) {
        return message(PooledByteBufAllocator.DEFAULT, type, xid, mac, ciaddr, requested, serverId, bflag, giaddr,
                relayMac, agent, requestOptions);
    }

    static ByteBuf message(ByteBufAllocator alloc, int type, long xid, long mac, int ciaddr, int requested,
                           int serverId, boolean bflag, int giaddr, long relayMac, byte[] agent,
                           int... requestOptions) {
        ByteBuf msg = Unpooled.buffer(400);
        Dhcp4.writeFixed(msg, Dhcp4.OP_REQUEST, xid, 0, bflag ? Dhcp4.FLAG_BROADCAST : 0, ciaddr, 0, 0, giaddr, mac);
        Dhcp4.writeByteOption(msg, Dhcp4Option.MESSAGE_TYPE, type);
        if (requested != 0) {
            Dhcp4.writeIntOption(msg, Dhcp4Option.REQUESTED_IP_ADDRESS, requested);
        }
        if (serverId != 0) {
            Dhcp4.writeIntOption(msg, Dhcp4Option.SERVER_IDENTIFIER, serverId);
        }
        Dhcp4.writeStringOption(msg, Dhcp4Option.HOST_NAME, "host-" + Long.toHexString(mac & 0xFF));
        if (requestOptions.length > 0) {
            Dhcp4.writeParameterRequestList(msg, requestOptions);
        }
        if (agent != null) {
            Dhcp4.writeOption(msg, Dhcp4Option.RELAY_AGENT_INFORMATION, agent);
        }
        Dhcp4.writeEnd(msg, 0);
        boolean relayed = giaddr != 0;
        int src = relayed ? giaddr : ciaddr;
        int dst = relayed || ciaddr != 0 ? SERVER : Ip4.BROADCAST;
        ByteBuf f = alloc.buffer(600);
        Ethernet.writeHeader(f, relayed || ciaddr != 0 ? SERVER_MAC : MacAddress.BROADCAST, relayed ? relayMac : mac,
                Ethernet.IPV4);
        Ipv4.writeHeader(f, src, dst, IpProtocol.UDP, 64, 8 + msg.readableBytes(), 1, false);
        Udp.writeDatagramV4(f, src, dst, relayed ? Dhcp4.SERVER_PORT : Dhcp4.CLIENT_PORT, Dhcp4.SERVER_PORT, msg, 0,
                msg.readableBytes());
        msg.release();
        return f;
    }

    /** A reply the server sent, parsed. */
    record Reply(long dstMac, int srcIp, int dstIp, int type, long xid, int yiaddr, int ciaddr, int flags,
                 int serverId, long lease, long t1, long t2, int mask, int router, int dns, String domain,
                 boolean hasRoutes, int dstPort, int giaddr, byte[] agent, int lastOption) {
    }

    Reply reply() {
        ByteBuf f = ch.readOutbound();
        if (f == null) {
            return null;
        }
        try {
            int ip = f.readerIndex() + 14;
            assertEquals(SERVER_MAC, Ethernet.src(f, f.readerIndex()));
            assertTrue(Udp.checkInPacket(f, ip) > 0, "valid UDP with checksum");
            int udp = Ipv4.payloadOffset(f, ip);
            assertEquals(Dhcp4.SERVER_PORT, Udp.srcPort(f, udp));
            int dstPort = Udp.dstPort(f, udp);
            int d = udp + 8;
            int len = Udp.length(f, udp) - 8;
            assertTrue(Dhcp4.check(f, d, len) >= 0);
            assertEquals(Dhcp4.OP_REPLY, Dhcp4.op(f, d));
            return new Reply(Ethernet.dst(f, f.readerIndex()), Ipv4.src(f, ip), Ipv4.dst(f, ip),
                    Dhcp4.messageType(f, d, len), Dhcp4.xid(f, d), Dhcp4.yiaddr(f, d), Dhcp4.ciaddr(f, d),
                    Dhcp4.flags(f, d), Dhcp4.serverId(f, d, len), Dhcp4.leaseTime(f, d, len),
                    Dhcp4.renewalTime(f, d, len), Dhcp4.rebindingTime(f, d, len), Dhcp4.subnetMask(f, d, len),
                    Dhcp4.router(f, d, len), Dhcp4.dnsServerCount(f, d, len) > 0 ? Dhcp4.dnsServer(f, d, len, 0) : 0,
                    Dhcp4.domainName(f, d, len), Dhcp4.hasOption(f, d, len, Dhcp4Option.CLASSLESS_STATIC_ROUTE),
                    dstPort, Dhcp4.giaddr(f, d), Dhcp4.optionBytes(f, d, len, Dhcp4Option.RELAY_AGENT_INFORMATION),
                    lastOption(f, d, len));
        } finally {
            f.release();
        }
    }

    static int lastOption(ByteBuf f, int d, int len) {
        int last = -1;
        for (int p = Dhcp4.nextOption(f, d, len, Dhcp4.DONE); p > 0; p = Dhcp4.nextOption(f, d, len, p)) {
            last = Dhcp4.codeAt(f, p);
        }
        return last;
    }

    /** DISCOVER → OFFER → REQUEST → ACK; returns the address. */
    int lease(long mac) {
        ch.writeInbound(client(Dhcp4.DISCOVER, mac, mac, 0, 0, 0, false));
        Reply offer = reply();
        assertEquals(Dhcp4.OFFER, offer.type());
        ch.writeInbound(client(Dhcp4.REQUEST, mac, mac, 0, offer.yiaddr(), SERVER, false));
        Reply ack = reply();
        assertEquals(Dhcp4.ACK, ack.type());
        assertEquals(offer.yiaddr(), ack.yiaddr());
        return ack.yiaddr();
    }

    void advance(long seconds) {
        ch.advanceTimeBy(seconds, TimeUnit.SECONDS);
    }

    @Test
    void discoverOfferRequestAckWithTheConfiguredOptions() {
        start(config().build());
        ch.writeInbound(client(Dhcp4.DISCOVER, 0x1234, A, 0, 0, 0, false));
        Reply offer = reply();
        assertEquals(Dhcp4.OFFER, offer.type());
        assertEquals(0x1234, offer.xid());
        assertEquals(Ip4.parse("10.0.2.100"), offer.yiaddr());
        assertEquals(A, offer.dstMac(), "unicast to chaddr when the broadcast flag is off");
        assertEquals(Dhcp4.CLIENT_PORT, offer.dstPort());
        assertEquals(0, offer.giaddr());
        assertNull(offer.agent());
        assertEquals(offer.yiaddr(), offer.dstIp());
        assertEquals(SERVER, offer.srcIp());
        assertEquals(SERVER, offer.serverId());
        assertEquals(600, offer.lease());
        assertEquals(300, offer.t1());
        assertEquals(525, offer.t2());
        assertEquals(Ip4.mask(24), offer.mask());
        assertEquals(SERVER, offer.router());
        assertEquals(Ip4.parse("10.0.2.53"), offer.dns());
        assertEquals("lan.test", offer.domain());
        assertEquals(DhcpBinding.State.OFFERED, server.bindings().get(0).state());

        ch.writeInbound(client(Dhcp4.REQUEST, 0x1234, A, 0, offer.yiaddr(), SERVER, false));
        Reply ack = reply();
        assertEquals(Dhcp4.ACK, ack.type());
        assertEquals(offer.yiaddr(), ack.yiaddr());
        DhcpBinding b = server.bindings().get(0);
        assertEquals(DhcpBinding.State.BOUND, b.state());
        assertEquals(A, b.mac());
        assertEquals("host-a", b.hostName());
        assertEquals(Duration.ofSeconds(600), b.remaining());
        assertEquals(1, server.counters().sent(Dhcp4.ACK));
    }

    @Test
    void broadcastFlagMakesRepliesBroadcast() {
        start(config().build());
        ch.writeInbound(client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, true));
        Reply offer = reply();
        assertEquals(MacAddress.BROADCAST, offer.dstMac());
        assertEquals(Ip4.BROADCAST, offer.dstIp());
        assertEquals(Dhcp4.FLAG_BROADCAST, offer.flags());
    }

    @Test
    void clientsKeepTheirAddressAndDoNotShareOffers() {
        start(config().build());
        int a = lease(A);
        ch.writeInbound(client(Dhcp4.DISCOVER, 2, B, 0, 0, 0, false));
        int offeredB = reply().yiaddr();
        ch.writeInbound(client(Dhcp4.DISCOVER, 3, C, 0, 0, 0, false));
        int offeredC = reply().yiaddr();
        assertNotEquals(a, offeredB);
        assertNotEquals(offeredB, offeredC, "an offer is held for its client");
        ch.writeInbound(client(Dhcp4.DISCOVER, 4, A, 0, 0, 0, false));
        assertEquals(a, reply().yiaddr(), "a bound client is offered its address again");
    }

    @Test
    void requestedAddressIsOfferedWhenFree() {
        start(config().build());
        ch.writeInbound(client(Dhcp4.DISCOVER, 1, A, 0, Ip4.parse("10.0.2.102"), 0, false));
        assertEquals(Ip4.parse("10.0.2.102"), reply().yiaddr());
        ch.writeInbound(client(Dhcp4.DISCOVER, 2, B, 0, Ip4.parse("10.0.2.102"), 0, false));
        assertNotEquals(Ip4.parse("10.0.2.102"), reply().yiaddr());
    }

    @Test
    void choosingAnotherServerReleasesTheOffer() {
        start(config().build());
        ch.writeInbound(client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false));
        int offered = reply().yiaddr();
        ch.writeInbound(client(Dhcp4.REQUEST, 1, A, 0, offered, Ip4.parse("10.0.2.254"), false));
        assertNull(reply(), "no answer to a request for another server");
        assertTrue(server.bindings().isEmpty());
    }

    @Test
    void initRebootIsAckedWhenRightAndNakedWhenWrong() {
        start(config().build());
        int a = lease(A);
        ch.writeInbound(client(Dhcp4.REQUEST, 5, A, 0, a, 0, false));
        assertEquals(Dhcp4.ACK, reply().type());
        ch.writeInbound(client(Dhcp4.REQUEST, 6, B, 0, a, 0, false));
        Reply nak = reply();
        assertEquals(Dhcp4.NAK, nak.type(), "taken by another client");
        assertEquals(MacAddress.BROADCAST, nak.dstMac(), "NAKs are broadcast");
        assertEquals(Ip4.BROADCAST, nak.dstIp());
        assertEquals(0, nak.yiaddr());
        ch.writeInbound(client(Dhcp4.REQUEST, 7, B, 0, Ip4.parse("192.168.1.5"), 0, false));
        assertEquals(Dhcp4.NAK, reply().type(), "wrong subnet");
        assertEquals(2, server.counters().sent(Dhcp4.NAK));
    }

    @Test
    void renewingIsUnicastToCiaddrAndExtendsTheLease() {
        start(config().build());
        int a = lease(A);
        advance(300);
        ch.writeInbound(client(Dhcp4.REQUEST, 9, A, a, 0, 0, false));
        Reply ack = reply();
        assertEquals(Dhcp4.ACK, ack.type());
        assertEquals(a, ack.dstIp());
        assertEquals(a, ack.ciaddr());
        assertEquals(A, ack.dstMac());
        assertEquals(Duration.ofSeconds(600), server.bindings().get(0).remaining());
        ch.writeInbound(client(Dhcp4.REQUEST, 10, B, Ip4.parse("10.0.2.101"), 0, 0, false));
        assertEquals(Dhcp4.ACK, reply().type(), "rebinding a free pool address after a server restart is fine");
        ch.writeInbound(client(Dhcp4.REQUEST, 11, C, a, 0, 0, false));
        assertEquals(Dhcp4.NAK, reply().type(), "renewing someone else's address");
    }

    @Test
    void declineQuarantinesTheAddress() {
        start(config().declineHold(Duration.ofSeconds(60)).build());
        ch.writeInbound(client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false));
        int offered = reply().yiaddr();
        ch.writeInbound(client(Dhcp4.REQUEST, 1, A, 0, offered, SERVER, false));
        reply();
        ch.writeInbound(client(Dhcp4.DECLINE, 2, A, 0, offered, SERVER, false));
        assertNull(reply());
        assertTrue(server.bindings().isEmpty());
        ch.writeInbound(client(Dhcp4.DISCOVER, 3, A, 0, offered, 0, false));
        assertNotEquals(offered, reply().yiaddr(), "quarantined");
        advance(61);
        ch.writeInbound(client(Dhcp4.DISCOVER, 4, B, 0, offered, 0, false));
        assertEquals(offered, reply().yiaddr(), "back in the pool after the hold");
    }

    @Test
    void releaseFreesTheAddress() {
        start(config().pool("10.0.2.100", "10.0.2.100").build());
        int a = lease(A);
        ch.writeInbound(client(Dhcp4.DISCOVER, 2, B, 0, 0, 0, false));
        assertNull(reply(), "pool of one is taken");
        ch.writeInbound(client(Dhcp4.RELEASE, 3, A, a, 0, SERVER, false));
        assertTrue(server.bindings().isEmpty());
        ch.writeInbound(client(Dhcp4.DISCOVER, 4, B, 0, 0, 0, false));
        assertEquals(a, reply().yiaddr());
    }

    @Test
    void informGetsConfigurationWithoutALease() {
        start(config().build());
        ch.writeInbound(client(Dhcp4.INFORM, 1, A, Ip4.parse("10.0.2.50"), 0, 0, false));
        Reply ack = reply();
        assertEquals(Dhcp4.ACK, ack.type());
        assertEquals(0, ack.yiaddr());
        assertEquals(-1, ack.lease());
        assertEquals(Ip4.parse("10.0.2.50"), ack.dstIp());
        assertEquals(SERVER, ack.router());
        assertTrue(server.bindings().isEmpty());
    }

    @Test
    void staticLeaseIsAlwaysTheSameAndReservedFromOthers() {
        start(config().staticLease(B, "10.0.2.101").staticLease(C, "10.0.2.20").build());
        assertEquals(Ip4.parse("10.0.2.20"), lease(C), "outside the pool");
        assertEquals(Ip4.parse("10.0.2.101"), lease(B));
        ch.writeInbound(client(Dhcp4.DISCOVER, 1, A, 0, Ip4.parse("10.0.2.101"), 0, false));
        assertNotEquals(Ip4.parse("10.0.2.101"), reply().yiaddr());
        ch.writeInbound(client(Dhcp4.REQUEST, 2, B, 0, Ip4.parse("10.0.2.100"), 0, false));
        assertEquals(Dhcp4.NAK, reply().type(), "a static client may not take another address");
        assertTrue(server.bindings().stream().anyMatch(DhcpBinding::staticLease));
    }

    @Test
    void classlessRoutesOnlyWhenAskedFor() {
        start(config().route("192.168.0.0", 16, "10.0.2.254").build());
        ch.writeInbound(client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false));
        assertFalse(reply().hasRoutes());
        ch.writeInbound(client(Dhcp4.DISCOVER, 2, B, 0, 0, 0, false, Dhcp4Option.CLASSLESS_STATIC_ROUTE));
        assertTrue(reply().hasRoutes());
    }

    @Test
    void poolExhaustionIsCountedAndTheTableStaysBounded() {
        start(config().build());
        for (long mac = 0x10; mac < 0x13; mac++) {
            lease(0x0200_0000_0000L | mac);
        }
        for (long mac = 0x13; mac < 0x20; mac++) {
            ch.writeInbound(client(Dhcp4.DISCOVER, mac, 0x0200_0000_0000L | mac, 0, 0, 0, false));
            assertNull(reply(), "leases are never taken away");
        }
        assertEquals(3, server.bindings().size());
        assertTrue(server.bindings().size() <= server.maxBindings());
        assertEquals(13, server.counters().drops(DhcpDropReason.POOL_EXHAUSTED));
        assertEquals(0, server.counters().offersWithdrawn());
    }

    @Test
    void theOldestOfferIsWithdrawnWhenThePoolIsFull() {
        start(config().build()); // 3 addresses
        int[] offered = new int[3];
        for (int i = 0; i < 3; i++) {
            ch.writeInbound(client(Dhcp4.DISCOVER, i, 0x0200_0000_0010L + i, 0, 0, 0, false));
            offered[i] = reply().yiaddr();
        }
        ch.writeInbound(client(Dhcp4.DISCOVER, 9, A, 0, 0, 0, false));
        Reply r = reply();
        assertEquals(offered[0], r.yiaddr(), "the first (oldest) offer's address goes to the new client");
        assertEquals(1, server.counters().offersWithdrawn());
        ch.writeInbound(client(Dhcp4.REQUEST, 9, A, 0, r.yiaddr(), SERVER, false));
        assertEquals(Dhcp4.ACK, reply().type());
        ch.writeInbound(client(Dhcp4.REQUEST, 0, 0x0200_0000_0010L, 0, offered[0], SERVER, false));
        assertEquals(Dhcp4.NAK, reply().type(), "the withdrawn client's REQUEST is refused; it starts over");
    }

    @Test
    void maxBindingsBoundsTheTable() {
        start(config().pool("10.0.2.100", "10.0.2.200").maxBindings(2).build());
        assertEquals(2, server.maxBindings());
        lease(A);
        lease(B);
        ch.writeInbound(client(Dhcp4.DISCOVER, 3, C, 0, 0, 0, false));
        assertNull(reply());
        assertEquals(1, server.counters().drops(DhcpDropReason.TABLE_FULL));
        assertEquals(2, server.bindings().size());
        assertEquals(DhcpServer.DEFAULT_MAX_BINDINGS,
                config().pool("10.1.0.1", "10.2.255.254").serverAddress("10.0.0.1", 8).build().maxBindings(),
                "the default is bounded");
        assertEquals(3, config().build().maxBindings(), "pool and static addresses when fewer");
    }

    @Test
    void offersAndLeasesExpire() {
        start(config().pool("10.0.2.100", "10.0.2.100").offerHold(Duration.ofSeconds(30)).build());
        ch.writeInbound(client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false));
        assertNotNull(reply());
        advance(31);
        ch.runScheduledPendingTasks();
        assertTrue(server.bindings().isEmpty(), "the offer expired");
        ch.writeInbound(client(Dhcp4.DISCOVER, 3, B, 0, 0, 0, false));
        assertEquals(Ip4.parse("10.0.2.100"), reply().yiaddr());
        assertEquals(0, server.counters().offersWithdrawn(), "expired, not withdrawn");
        ch.writeInbound(client(Dhcp4.REQUEST, 3, B, 0, Ip4.parse("10.0.2.100"), SERVER, false));
        assertEquals(Dhcp4.ACK, reply().type());
        advance(599);
        ch.writeInbound(client(Dhcp4.DISCOVER, 4, A, 0, 0, 0, false));
        assertNull(reply(), "leased to B");
        assertEquals(List.of(DhcpLeaseEvent.Kind.GRANTED), eventKinds());
        advance(2);
        ch.runScheduledPendingTasks();
        assertEquals(List.of(DhcpLeaseEvent.Kind.GRANTED, DhcpLeaseEvent.Kind.EXPIRED), eventKinds(),
                "the sweep expires the lease without any message arriving");
        assertTrue(server.bindings().isEmpty());
        ch.writeInbound(client(Dhcp4.DISCOVER, 5, A, 0, 0, 0, false));
        assertEquals(Ip4.parse("10.0.2.100"), reply().yiaddr(), "B's lease expired");
    }

    @Test
    void leaseEventsFollowTheLeases() {
        start(config().build());
        int a = lease(A);
        DhcpLeaseEvent granted = events.get(0);
        assertEquals(DhcpLeaseEvent.Kind.GRANTED, granted.kind());
        assertEquals(A, granted.mac());
        assertEquals(Ip4.toInet(a), granted.address());
        assertEquals("host-a", granted.hostName());
        assertEquals(Duration.ofSeconds(600), granted.leaseTime());
        assertNull(granted.relay());
        ch.writeInbound(client(Dhcp4.REQUEST, 2, A, a, 0, 0, false));
        reply();
        ch.writeInbound(client(Dhcp4.RELEASE, 3, A, a, 0, SERVER, false));
        int b = lease(B);
        ch.writeInbound(client(Dhcp4.DECLINE, 4, B, 0, b, SERVER, false));
        assertEquals(List.of(DhcpLeaseEvent.Kind.GRANTED, DhcpLeaseEvent.Kind.RENEWED, DhcpLeaseEvent.Kind.RELEASED,
                DhcpLeaseEvent.Kind.GRANTED, DhcpLeaseEvent.Kind.DECLINED), eventKinds());
        assertEquals(Ip4.toInet(b), events.get(4).address());
        assertEquals(Duration.ZERO, events.get(4).leaseTime());
        assertEquals(1, server.counters().leaseEvents(DhcpLeaseEvent.Kind.RENEWED));
    }

    @Test
    void aClientOverItsRateIsDroppedAndOthersAreNot() {
        start(config().clientRateLimit(1, 3).build());
        int a = lease(A); // the DISCOVER finds no binding yet (only the global limit applies), the REQUEST does
        ch.writeInbound(client(Dhcp4.REQUEST, 2, A, a, 0, 0, false));
        ch.writeInbound(client(Dhcp4.REQUEST, 2, A, a, 0, 0, false));
        assertEquals(Dhcp4.ACK, reply().type());
        assertEquals(Dhcp4.ACK, reply().type(), "third metered message: within the burst");
        ch.writeInbound(client(Dhcp4.REQUEST, 3, A, a, 0, 0, false));
        assertNull(reply(), "fourth: over the burst");
        assertEquals(1, server.counters().drops(DhcpDropReason.RATE_LIMITED_CLIENT));
        lease(B);
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.writeInbound(client(Dhcp4.REQUEST, 4, A, a, 0, 0, false));
        assertEquals(Dhcp4.ACK, reply().type(), "one token a second");
        assertEquals(0, server.counters().drops(DhcpDropReason.RATE_LIMITED_GLOBAL));
    }

    @Test
    void theGlobalRateLimitCountsEveryone() {
        start(config().pool("10.0.2.10", "10.0.2.250").globalRateLimit(10, 5).build());
        for (int i = 0; i < 20; i++) {
            ch.writeInbound(client(Dhcp4.DISCOVER, i, 0x0200_0000_1000L + i, 0, 0, 0, false));
        }
        int offers = 0;
        while (reply() != null) {
            offers++;
        }
        assertEquals(5, offers, "the burst");
        assertEquals(15, server.counters().drops(DhcpDropReason.RATE_LIMITED_GLOBAL));
        ch.advanceTimeBy(200, TimeUnit.MILLISECONDS);
        ch.writeInbound(client(Dhcp4.DISCOVER, 30, A, 0, 0, 0, false));
        ch.writeInbound(client(Dhcp4.DISCOVER, 31, B, 0, 0, 0, false));
        ch.writeInbound(client(Dhcp4.DISCOVER, 32, C, 0, 0, 0, false));
        assertNotNull(reply());
        assertNotNull(reply());
        assertNull(reply(), "10/s: two tokens in 200 ms");
    }

    @Test
    void repliesAreBoundedWhileTheChannelStaysUnwritable() {
        DhcpServer s = config().pool("10.0.2.10", "10.0.2.250").maxQueuedReplies(8).globalRateLimit(1e6, 1000)
                .build();
        server = s;
        ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(64, 128));
        // A transport that never drains: writes stay in the channel's outbound buffer, which stays unwritable.
        ch.pipeline().addLast("stuck", new io.netty.channel.ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(ChannelHandlerContext ctx) {
            }
        }).addLast(s);
        for (int i = 0; i < 200; i++) {
            ch.writeInbound(client(Dhcp4.DISCOVER, i, 0x0200_0000_2000L + i, 0, 0, 0, false));
        }
        assertFalse(ch.isWritable());
        assertTrue(ch.unsafe().outboundBuffer().totalPendingWriteBytes() <= 8 * 512,
                "at most maxQueuedReplies replies wait: " + ch.unsafe().outboundBuffer().totalPendingWriteBytes());
        assertEquals(8, s.counters().sent(Dhcp4.OFFER));
        assertEquals(192, s.counters().drops(DhcpDropReason.REPLY_QUEUE_FULL));
        ch.pipeline().remove("stuck");
        ch.flush();
        int drained = 0;
        for (Object o; (o = ch.readOutbound()) != null; drained++) {
            ((ByteBuf) o).release();
        }
        assertEquals(8, drained);
        ch.writeInbound(client(Dhcp4.DISCOVER, 999, A, 0, 0, 0, false));
        assertEquals(Dhcp4.OFFER, reply().type(), "replies flow again once the channel drains");
    }

    static final long RELAY_MAC = MacAddress.parse("02:00:00:00:00:99");
    static final byte[] AGENT = {1, 4, 'e', 't', 'h', '1', 2, 2, 0x12, 0x34}; // circuit id, remote id

    static DhcpServer.Builder withBranches() {
        return config().relayedSubnet(DhcpSubnet.builder("10.80.0.0", 24).pool("10.80.0.100", "10.80.0.101")
                        .router("10.80.0.1").leaseTime(Duration.ofSeconds(300)).build())
                .relayedSubnet(DhcpSubnet.builder("10.90.0.0", 16).pool("10.90.1.1", "10.90.1.9")
                        .router("10.90.0.1").dnsServer("10.90.0.53").domainName("b.test").build());
    }

    @Test
    void relayedRequestsAreServedFromTheGiaddrSubnetThroughTheRelay() {
        start(withBranches().build());
        int giaddr = Ip4.parse("10.80.0.1");
        ch.writeInbound(message(Dhcp4.DISCOVER, 7, A, 0, 0, 0, false, giaddr, RELAY_MAC, AGENT));
        Reply offer = reply();
        assertEquals(Dhcp4.OFFER, offer.type());
        assertEquals(Ip4.parse("10.80.0.100"), offer.yiaddr(), "from the subnet giaddr lies in");
        assertEquals(RELAY_MAC, offer.dstMac(), "back through the frame's source");
        assertEquals(giaddr, offer.dstIp());
        assertEquals(Dhcp4.SERVER_PORT, offer.dstPort(), "to the relay agent's server port");
        assertEquals(giaddr, offer.giaddr());
        assertEquals(Ip4.mask(24), offer.mask());
        assertEquals(giaddr, offer.router());
        assertEquals(SERVER, offer.serverId());
        assertEquals(Ip4.parse("10.0.2.53"), offer.dns(), "the server's DNS when the subnet has none");
        assertEquals(300, offer.lease());
        assertArrayEquals(AGENT, offer.agent(), "option 82 echoed unchanged");
        assertEquals(Dhcp4Option.RELAY_AGENT_INFORMATION, offer.lastOption(), "as the last option");

        ch.writeInbound(message(Dhcp4.REQUEST, 7, A, 0, offer.yiaddr(), SERVER, false, giaddr, RELAY_MAC, AGENT));
        Reply ack = reply();
        assertEquals(Dhcp4.ACK, ack.type());
        assertArrayEquals(AGENT, ack.agent());
        assertEquals(Ip4.toInet(giaddr), events.get(0).relay());

        ch.writeInbound(message(Dhcp4.REQUEST, 8, B, 0, Ip4.parse("10.0.2.100"), 0, false, giaddr, RELAY_MAC,
                null));
        Reply nak = reply();
        assertEquals(Dhcp4.NAK, nak.type(), "an address of another subnet");
        assertEquals(Dhcp4.FLAG_BROADCAST, nak.flags() & Dhcp4.FLAG_BROADCAST, "relayed NAKs ask for broadcast");
        assertEquals(giaddr, nak.dstIp());

        int other = Ip4.parse("10.90.3.4"); // any address of the /16 selects it
        ch.writeInbound(message(Dhcp4.DISCOVER, 9, C, 0, 0, 0, false, other, RELAY_MAC, null));
        Reply o2 = reply();
        assertEquals(Ip4.parse("10.90.1.1"), o2.yiaddr());
        assertEquals(Ip4.parse("10.90.0.53"), o2.dns());
        assertEquals("b.test", o2.domain());
        assertNull(o2.agent());

        ch.writeInbound(client(Dhcp4.DISCOVER, 10, B, 0, 0, 0, false));
        assertEquals(Ip4.parse("10.0.2.100"), reply().yiaddr(), "local clients keep the local pool");
    }

    @Test
    void aRelayedClientRenewsAndReleasesThroughItsRouter() {
        start(withBranches().build());
        int giaddr = Ip4.parse("10.80.0.1");
        ch.writeInbound(message(Dhcp4.DISCOVER, 7, A, 0, 0, 0, false, giaddr, RELAY_MAC, null));
        int a = reply().yiaddr();
        ch.writeInbound(message(Dhcp4.REQUEST, 7, A, 0, a, SERVER, false, giaddr, RELAY_MAC, null));
        assertEquals(Dhcp4.ACK, reply().type());
        // RENEWING: unicast from ciaddr, routed (giaddr 0), so the frame comes from the router's MAC.
        ByteBuf renew = client(Dhcp4.REQUEST, 8, A, a, 0, 0, false);
        Ethernet.writeHeader(renew.duplicate().writerIndex(0), SERVER_MAC, RELAY_MAC, Ethernet.IPV4);
        ch.writeInbound(renew);
        Reply ack = reply();
        assertEquals(Dhcp4.ACK, ack.type(), "the subnet is found by ciaddr");
        assertEquals(a, ack.dstIp());
        assertEquals(RELAY_MAC, ack.dstMac(), "through the router");
        assertEquals(Dhcp4.CLIENT_PORT, ack.dstPort());
        ch.writeInbound(client(Dhcp4.RELEASE, 9, A, a, 0, SERVER, false));
        assertTrue(server.bindings().isEmpty());
        assertEquals(List.of(DhcpLeaseEvent.Kind.GRANTED, DhcpLeaseEvent.Kind.RENEWED, DhcpLeaseEvent.Kind.RELEASED),
                eventKinds());
    }

    @Test
    void relayedFromAnUnknownSubnetIsDroppedAndCounted() {
        start(withBranches().build());
        ByteBuf m = message(Dhcp4.DISCOVER, 7, A, 0, 0, 0, false, Ip4.parse("192.168.7.1"), RELAY_MAC, AGENT);
        ch.writeInbound(m);
        assertNull(reply());
        assertEquals(0, m.refCnt());
        assertEquals(1, server.counters().drops(DhcpDropReason.RELAYED));
    }

    @Test
    void badMessagesAreDroppedCountedAndReleased() {
        start(config().build());
        ByteBuf badSum = client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false);
        badSum.setByte(badSum.writerIndex() - 1, 0x33);
        ByteBuf reply = client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false);
        reply.setByte(14 + 28, Dhcp4.OP_REPLY);
        fixUdpChecksum(reply);
        ByteBuf hlen = client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false);
        hlen.setByte(14 + 28 + 2, 8);
        fixUdpChecksum(hlen);
        ByteBuf noType = client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false);
        noType.setByte(14 + 28 + Dhcp4.OPTIONS_OFFSET, 250); // option 53 turned into an unknown option
        fixUdpChecksum(noType);
        ByteBuf relayed = client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false);
        relayed.setInt(14 + 28 + 24, Ip4.parse("10.9.9.9"));
        fixUdpChecksum(relayed);
        ByteBuf truncated = client(Dhcp4.DISCOVER, 1, A, 0, 0, 0, false);
        truncated.setShort(14 + 20 + 4, 8 + 100); // UDP length cuts the message short
        truncated.setShort(14 + 2, 20 + 8 + 100);
        Ipv4.fillChecksum(truncated, 14);
        truncated.writerIndex(14 + 20 + 8 + 100);
        fixUdpChecksum(truncated);
        List<ByteBuf> all = List.of(badSum, reply, hlen, noType, relayed, truncated);
        for (ByteBuf b : all) {
            ch.writeInbound(b);
        }
        assertNull(reply());
        for (ByteBuf b : all) {
            assertEquals(0, b.refCnt(), "released");
        }
        DhcpServerCounters c = server.counters();
        assertEquals(1, c.drops(DhcpDropReason.BAD_CHECKSUM));
        assertEquals(1, c.drops(DhcpDropReason.WRONG_OP));
        assertEquals(1, c.drops(DhcpDropReason.BAD_HARDWARE));
        assertEquals(1, c.drops(DhcpDropReason.BAD_MESSAGE_TYPE));
        assertEquals(1, c.drops(DhcpDropReason.RELAYED));
        assertEquals(1, c.drops(DhcpDropReason.MALFORMED_DHCP));
        assertTrue(server.bindings().isEmpty());
    }

    @Test
    void micrometerBinderReadsTheLiveCounters() {
        start(config().build());
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        DhcpServerMetrics metrics = new DhcpServerMetrics(server.counters(),
                io.micrometer.core.instrument.Tags.of("server", "lan"));
        metrics.bindTo(registry);
        ch.writeInbound(client(Dhcp4.DISCOVER, 0x1234, A, 0, 0, 0, false));
        Reply offer = reply();
        ch.writeInbound(client(Dhcp4.REQUEST, 0x1234, A, 0, offer.yiaddr(), SERVER, false));
        reply();
        ByteBuf hlen = client(Dhcp4.DISCOVER, 1, B, 0, 0, 0, false);
        hlen.setByte(14 + 28 + 2, 8); // hlen 8: not an Ethernet address
        fixUdpChecksum(hlen);
        ch.writeInbound(hlen);
        assertEquals(1.0, registry.get("pktkit.dhcp.messages.in").tags("server", "lan", "type", "discover")
                .functionCounter().count());
        assertEquals(1.0, registry.get("pktkit.dhcp.messages.in").tag("type", "request").functionCounter().count());
        assertEquals(1.0, registry.get("pktkit.dhcp.messages.out").tag("type", "offer").functionCounter().count());
        assertEquals(1.0, registry.get("pktkit.dhcp.messages.out").tag("type", "ack").functionCounter().count());
        assertEquals(1.0, registry.get("pktkit.dhcp.lease.events").tag("kind", "granted").functionCounter()
                .count());
        assertEquals(1.0, registry.get("pktkit.dhcp.drops").tag("reason", "bad_hardware").functionCounter()
                .count());
        assertEquals(0.0, registry.get("pktkit.dhcp.offers.withdrawn").functionCounter().count());
        assertEquals("in: discover=1 request=1 out: offer=1 ack=1 bad_hardware=1", server.counters().toString());
        metrics.close();
        assertNull(registry.find("pktkit.dhcp.drops").functionCounter());
        assertTrue(registry.getMeters().isEmpty());
    }

    @Test
    void otherFramesPassThrough() {
        start(config().build());
        ByteBuf arp = Unpooled.buffer(42);
        dev.pktkit.codec.wire.Arp.writeRequestFrame(arp, A, Ip4.parse("10.0.2.100"), SERVER);
        ch.writeInbound(arp);
        assertSame(arp, ch.readInbound());
        arp.release();
    }

    @Test
    void builderRejectsNonsense() {
        assertThrows(IllegalStateException.class, () -> DhcpServer.builder().build());
        assertThrows(IllegalStateException.class, () -> config().pool("10.0.3.1", "10.0.3.9").build());
        assertThrows(IllegalStateException.class, () -> config().pool("10.0.2.0", "10.0.2.9").build());
        assertThrows(IllegalStateException.class, () -> config().staticLease(A, "10.0.2.1").build());
        assertThrows(IllegalStateException.class,
                () -> config().staticLease(A, "10.0.2.9").staticLease(B, "10.0.2.9").build());
        assertThrows(IllegalArgumentException.class, () -> config().leaseTime(Duration.ofSeconds(1)));
        assertThrows(IllegalStateException.class, () -> config().relayedSubnet(
                DhcpSubnet.builder("10.0.0.0", 16).pool("10.0.9.1", "10.0.9.9").build()).build(), "overlaps ours");
        assertThrows(IllegalStateException.class, () -> withBranches().relayedSubnet(
                DhcpSubnet.builder("10.80.0.128", 25).pool("10.80.0.130", "10.80.0.139").build()).build());
        assertThrows(IllegalStateException.class, () -> DhcpSubnet.builder("10.80.0.0", 24).build(), "no pool");
        assertThrows(IllegalStateException.class,
                () -> DhcpSubnet.builder("10.80.0.0", 24).pool("10.81.0.1", "10.81.0.9").build());
        assertThrows(IllegalArgumentException.class, () -> config().maxBindings(0));
        assertThrows(IllegalArgumentException.class, () -> config().clientRateLimit(0, 1));
        assertThrows(IllegalArgumentException.class, () -> config().globalRateLimit(1, 0));
        assertThrows(IllegalArgumentException.class, () -> config().maxQueuedReplies(0));
    }

    static void fixUdpChecksum(ByteBuf f) {
        int ip = 14;
        int udp = ip + 20;
        f.setShort(udp + 6, 0);
        Udp.fillChecksumV4(f, udp, Udp.length(f, udp), Ipv4.src(f, ip), Ipv4.dst(f, ip));
    }
}

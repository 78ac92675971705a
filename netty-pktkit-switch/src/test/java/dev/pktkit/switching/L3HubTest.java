package dev.pktkit.switching;

import dev.pktkit.switching.Lan.Host;
import dev.pktkit.testkit.TestLoops;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class L3HubTest {
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private L3Hub hub;
    private Lan lan;

    @BeforeEach
    void setUp() throws Exception {
        group = TestLoops.group(TestLoops.NIO, 1);
        loop = group.next();
        use(L3Hub.builder().build());
    }

    private void use(L3Hub h) throws Exception {
        if (lan != null) {
            lan.assertAllReleased();
        }
        if (hub != null) {
            hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        hub = h;
        lan = new Lan(loop, hub);
    }

    @AfterEach
    void tearDown() throws Exception {
        lan.assertAllReleased();
        hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private Host port(String... cidrs) throws Exception {
        return lan.host(ch -> hub.attach(ch, L3PortOptions.prefixes(cidrs)));
    }

    // ---- hand-built packets -------------------------------------------------------------------------------

    /** RFC 1071 over hex bytes, for building test packets independently of the code under test. */
    static int checksum(byte[] b, int off, int len) {
        long sum = 0;
        for (int i = 0; i < len - 1; i += 2) {
            sum += ((b[off + i] & 0xFF) << 8) | (b[off + i + 1] & 0xFF);
        }
        if ((len & 1) != 0) {
            sum += (b[off + len - 1] & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    /** IPv4/UDP packet src → dst with the given TTL and an 8-byte payload; valid header checksum. */
    static String ipv4(String src, String dst, int ttl) {
        byte[] s = addr(src);
        byte[] d = addr(dst);
        byte[] p = ByteBufUtil.decodeHexDump("45000024" + "12340000" + String.format("%02x", ttl) + "110000"
                + ByteBufUtil.hexDump(s) + ByteBufUtil.hexDump(d)
                + "c000" + "0035" + "0010" + "0000" + "0102030405060708");
        int c = checksum(p, 0, 20);
        p[10] = (byte) (c >>> 8);
        p[11] = (byte) c;
        return ByteBufUtil.hexDump(p);
    }

    /** IPv6/UDP packet src → dst with the given hop limit and an 8-byte payload. */
    static String ipv6(String src, String dst, int hops) {
        return "60000000" + "0010" + "11" + String.format("%02x", hops)
                + ByteBufUtil.hexDump(addr(src))
                + ByteBufUtil.hexDump(addr(dst))
                + "c0000035" + "00100000" + "0102030405060708";
    }

    private static byte[] addr(String literal) {
        try {
            return InetAddress.getByName(literal).getAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static int ip4(String a) throws Exception {
        return java.nio.ByteBuffer.wrap(InetAddress.getByName(a).getAddress()).getInt();
    }

    // ---- routing -------------------------------------------------------------------------------------------

    @Test
    void routesToTheLongestMatchingPrefix() throws Exception {
        Host a = port("10.0.1.0/24");
        Host wide = port("10.0.0.0/16");
        Host narrow = port("10.0.5.0/24");
        String toNarrow = ipv4("10.0.1.2", "10.0.5.9", 64);
        String toWide = ipv4("10.0.1.2", "10.0.6.9", 64);
        lan.run(() -> {
            a.send(toNarrow);
            a.send(toWide);
        });
        assertEquals(List.of(toNarrow), narrow.take());
        assertEquals(List.of(toWide), wide.take(), "forwarded unchanged outside router mode");
        assertEquals(List.of(), a.take());
        assertSame(narrow.port, hub.route(ip4("10.0.5.1")));
    }

    @Test
    void defaultRouteCatchesTheRestAndNoRouteIsCounted() throws Exception {
        Host a = port("10.0.1.0/24");
        Host b = port("10.0.2.0/24");
        String far = ipv4("10.0.1.2", "192.0.2.1", 64);
        lan.run(() -> a.send(far));
        assertEquals(List.of(), b.take());
        assertEquals(1, a.port.counters().drops(DropReason.NO_ROUTE));

        hub.addRoute("0.0.0.0/0", b.pipe.b());
        lan.run(() -> a.send(far));
        assertEquals(List.of(far), b.take());
        assertTrue(hub.removeRoute("0.0.0.0/0"));
        lan.run(() -> a.send(far));
        assertEquals(List.of(), b.take());
    }

    @Test
    void ipv6RoutesByLongestPrefix() throws Exception {
        Host a = port("2001:db8:1::/64");
        Host wide = port("2001:db8::/32");
        Host host = port("2001:db8:2::7/128");
        String toHost = ipv6("2001:db8:1::2", "2001:db8:2::7", 64);
        String toWide = ipv6("2001:db8:1::2", "2001:db8:2::8", 64);
        lan.run(() -> {
            a.send(toHost);
            a.send(toWide);
        });
        assertEquals(List.of(toHost), host.take());
        assertEquals(List.of(toWide), wide.take());
    }

    @Test
    void broadcastAndMulticastReachEveryPortButTheSource() throws Exception {
        Host a = port("10.0.1.0/24");
        Host b = port("10.0.2.0/24");
        Host c = port("2001:db8:3::/64");
        String bcast = ipv4("10.0.1.2", "255.255.255.255", 64);
        String mcast = ipv4("10.0.1.2", "224.0.0.251", 1);
        String mcast6 = ipv6("fe80::1", "ff02::1", 255);
        lan.run(() -> {
            a.send(bcast);
            a.send(mcast);
            a.send(mcast6);
        });
        assertEquals(List.of(bcast, mcast, mcast6), b.take());
        assertEquals(List.of(bcast, mcast, mcast6), c.take());
        assertEquals(List.of(), a.take());
    }

    @Test
    void packetRoutedBackToItsSourceIsDropped() throws Exception {
        Host a = port("10.0.1.0/24");
        port("10.0.2.0/24");
        lan.run(() -> a.send(ipv4("10.0.1.2", "10.0.1.3", 64)));
        assertEquals(1, a.port.counters().drops(DropReason.SAME_PORT));
    }

    @Test
    void malformedPacketsAreDroppedAndCounted() throws Exception {
        Host a = port("10.0.1.0/24");
        Host b = port("10.0.2.0/24");
        String good = ipv4("10.0.1.2", "10.0.2.3", 64);
        lan.run(() -> {
            a.send("45000014"); // truncated header
            a.send("7" + good.substring(1)); // version 7
            a.send("4f" + good.substring(2)); // IHL 60 > length
            a.send(good.substring(0, 4) + "0100" + good.substring(8)); // total length 256 > length
            a.send(ipv6("2001:db8::1", "2001:db8::2", 64).substring(0, 70)); // truncated IPv6
            a.pipe.a().writeAndFlush(Unpooled.EMPTY_BUFFER);
        });
        assertEquals(List.of(), b.take());
        assertEquals(6, a.port.counters().drops(DropReason.MALFORMED));
    }

    @Test
    void leavingPortTakesItsRoutesAlong() throws Exception {
        Host a = port("10.0.1.0/24");
        Host b = port("10.0.2.0/24");
        hub.addRoute("192.0.2.0/24", b.pipe.b());
        assertEquals(3, hub.routes().size());
        b.pipe.b().close().sync();
        lan.run(() -> { });
        assertEquals(1, hub.routes().size());
        assertNull(hub.route(ip4("10.0.2.1")));
        assertNull(hub.route(ip4("192.0.2.1")));
        a.take();
    }

    // ---- router mode ---------------------------------------------------------------------------------------

    private void routerMode() throws Exception {
        use(L3Hub.builder().routerMode(true)
                .routerAddresses((Inet4Address) InetAddress.getByName("10.0.0.1"),
                        (Inet6Address) InetAddress.getByName("2001:db8::1"))
                .build());
    }

    @Test
    void routerModeDecrementsTtlAndKeepsTheChecksumValid() throws Exception {
        routerMode();
        Host a = port("10.0.1.0/24");
        Host b = port("10.0.2.0/24");
        lan.run(() -> a.send(ipv4("10.0.1.2", "10.0.2.3", 64)));
        List<String> got = b.take();
        assertEquals(List.of(ipv4("10.0.1.2", "10.0.2.3", 63)), got, "TTL 63, checksum as if computed afresh");
    }

    @Test
    void routerModeNeverWritesIntoASharedBuffer() throws Exception {
        routerMode();
        Host a = port("10.0.1.0/24");
        Host b = port("10.0.2.0/24");
        ByteBuf original = Unpooled.directBuffer().writeBytes(
                ByteBufUtil.decodeHexDump(ipv4("10.0.1.2", "10.0.2.3", 64)));
        lan.run(() -> a.pipe.a().writeAndFlush(original.retainedDuplicate()));
        assertEquals(64, original.getUnsignedByte(8), "the sender's copy is untouched");
        assertEquals(List.of(ipv4("10.0.1.2", "10.0.2.3", 63)), b.take());
        original.release();
    }

    @Test
    void routerModeDecrementsHopLimit() throws Exception {
        routerMode();
        Host a = port("2001:db8:1::/64");
        Host b = port("2001:db8:2::/64");
        lan.run(() -> a.send(ipv6("2001:db8:1::2", "2001:db8:2::3", 2)));
        assertEquals(List.of(ipv6("2001:db8:1::2", "2001:db8:2::3", 1)), b.take());
    }

    @Test
    void routerModeAnswersTtlExpiryWithIcmpTimeExceeded() throws Exception {
        routerMode();
        Host a = port("10.0.1.0/24");
        Host b = port("10.0.2.0/24");
        String dying = ipv4("10.0.1.2", "10.0.2.3", 1);
        lan.run(() -> a.send(dying));
        assertEquals(List.of(), b.take());
        List<String> replies = a.take();
        assertEquals(1, replies.size());
        byte[] r = ByteBufUtil.decodeHexDump(replies.get(0));
        assertEquals(0x45, r[0] & 0xFF);
        assertEquals(1, r[9], "ICMP");
        assertEquals("0a000001", ByteBufUtil.hexDump(r, 12, 4), "from the router address");
        assertEquals("0a000102", ByteBufUtil.hexDump(r, 16, 4), "to the sender");
        assertEquals(0, checksum(r, 0, 20), "valid IPv4 header checksum");
        assertEquals(11, r[20], "Time Exceeded");
        assertEquals(0, r[21], "in transit");
        int icmpLen = r.length - 20;
        assertEquals(0, checksum(r, 20, icmpLen), "valid ICMP checksum");
        assertEquals(dying.substring(0, 56), ByteBufUtil.hexDump(r, 28, 28),
                "quotes the IP header and the first 8 bytes of the payload");
        assertEquals(1, a.port.counters().drops(DropReason.TTL_EXCEEDED));
    }

    @Test
    void routerModeAnswersNoRouteWithDestinationUnreachable() throws Exception {
        routerMode();
        Host a = port("10.0.1.0/24");
        lan.run(() -> a.send(ipv4("10.0.1.2", "192.0.2.9", 64)));
        List<String> replies = a.take();
        assertEquals(1, replies.size());
        byte[] r = ByteBufUtil.decodeHexDump(replies.get(0));
        assertEquals(3, r[20], "Destination Unreachable");
        assertEquals(0, checksum(r, 20, r.length - 20));
    }

    @Test
    void routerModeAnswersIpv6HopLimitExpiryWithIcmpv6() throws Exception {
        routerMode();
        Host a = port("2001:db8:1::/64");
        port("2001:db8:2::/64");
        String dying = ipv6("2001:db8:1::2", "2001:db8:2::3", 1);
        lan.run(() -> a.send(dying));
        List<String> replies = a.take();
        assertEquals(1, replies.size());
        byte[] r = ByteBufUtil.decodeHexDump(replies.get(0));
        assertEquals(6, (r[0] & 0xFF) >>> 4);
        assertEquals(58, r[6] & 0xFF, "next header ICMPv6");
        assertEquals("20010db8000000000000000000000001", ByteBufUtil.hexDump(r, 8, 16));
        assertEquals("20010db8000100000000000000000002", ByteBufUtil.hexDump(r, 24, 16));
        assertEquals(3, r[40], "Time Exceeded");
        assertEquals(0, r[41]);
        assertEquals(dying, ByteBufUtil.hexDump(r, 48, r.length - 48), "quotes the whole (small) packet");
        // ICMPv6 checksum over the pseudo-header.
        int upper = r.length - 40;
        byte[] pseudo = new byte[40 + upper];
        System.arraycopy(r, 8, pseudo, 0, 32);
        pseudo[34] = (byte) (upper >>> 8);
        pseudo[35] = (byte) upper;
        pseudo[39] = 58;
        System.arraycopy(r, 40, pseudo, 40, upper);
        assertEquals(0, checksum(pseudo, 0, pseudo.length), "valid ICMPv6 checksum");
    }

    /** A packet that gets no error (here an error about an error) does not spend a token of the rate limit. */
    @Test
    void packetsThatGetNoErrorDoNotSpendTheRateLimit() throws Exception {
        use(L3Hub.builder().routerMode(true).icmpErrorsPerSecond(1)
                .routerAddresses((Inet4Address) InetAddress.getByName("10.0.0.1"), null)
                .build());
        Host a = port("10.0.1.0/24");
        port("10.0.2.0/24");
        byte[] p = ByteBufUtil.decodeHexDump(ipv4("10.0.1.2", "10.0.2.3", 1));
        p[9] = 1; // ICMP
        p[20] = 3; // destination unreachable: an error message, which never gets an error
        p[10] = 0;
        p[11] = 0;
        int c = checksum(p, 0, 20);
        p[10] = (byte) (c >>> 8);
        p[11] = (byte) c;
        lan.run(() -> {
            for (int i = 0; i < 5; i++) {
                a.send(ByteBufUtil.hexDump(p));
            }
            a.send(ipv4("10.0.1.2", "10.0.2.3", 1)); // a UDP packet dying here: this one gets its error
        });
        List<String> replies = a.take();
        assertEquals(1, replies.size(), "the one token of this second went to the packet that got an error");
        assertEquals(11, ByteBufUtil.decodeHexDump(replies.get(0))[20], "Time Exceeded");
        assertEquals(6, a.port.counters().drops(DropReason.TTL_EXCEEDED));
    }

    @Test
    void noIcmpErrorAboutAnIcmpError() throws Exception {
        routerMode();
        Host a = port("10.0.1.0/24");
        port("10.0.2.0/24");
        byte[] p = ByteBufUtil.decodeHexDump(ipv4("10.0.1.2", "10.0.2.3", 1));
        p[9] = 1; // ICMP
        p[20] = 3; // ... destination unreachable: an error message
        p[10] = 0;
        p[11] = 0;
        int c = checksum(p, 0, 20);
        p[10] = (byte) (c >>> 8);
        p[11] = (byte) c;
        io.netty.buffer.ByteBuf sent = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(p.length)
                .writeBytes(p);
        lan.run(() -> a.pipe.a().writeAndFlush(sent));
        assertEquals(0, sent.refCnt(), "the dropped packet was released");
        assertEquals(List.of(), a.take());
        assertEquals(1, a.port.counters().drops(DropReason.TTL_EXCEEDED));
    }
}

package dev.pktkit.switching;

import dev.pktkit.switching.Lan.Host;
import dev.pktkit.testkit.TestLoops;
import io.netty.buffer.ByteBufUtil;
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
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link L3PortOptions#mtu}: the egress MTU of an {@link L3Hub} port, with ICMP errors in router mode. */
class L3HubEgressMtuTest {
    private MultiThreadIoEventLoopGroup group;
    private L3Hub hub;
    private Lan lan;

    @BeforeEach
    void setUp() throws Exception {
        group = TestLoops.group(TestLoops.NIO, 1);
        EventLoop loop = group.next();
        hub = L3Hub.builder().routerMode(true)
                .routerAddresses((Inet4Address) InetAddress.getByName("10.0.0.1"),
                        (Inet6Address) InetAddress.getByName("2001:db8::1"))
                .build();
        lan = new Lan(loop, hub);
    }

    @AfterEach
    void tearDown() throws Exception {
        lan.assertAllReleased();
        hub.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** IPv4/UDP of {@code total} bytes, DF as given, valid header checksum. */
    static String ipv4(String src, String dst, int total, boolean df) throws Exception {
        byte[] p = new byte[total];
        p[0] = 0x45;
        p[2] = (byte) (total >>> 8);
        p[3] = (byte) total;
        p[4] = 0x12;
        p[5] = 0x34;
        p[6] = (byte) (df ? 0x40 : 0);
        p[8] = 64;
        p[9] = 17;
        System.arraycopy(InetAddress.getByName(src).getAddress(), 0, p, 12, 4);
        System.arraycopy(InetAddress.getByName(dst).getAddress(), 0, p, 16, 4);
        int udp = total - 20;
        p[20] = (byte) 0xC0;
        p[23] = 0x35;
        p[24] = (byte) (udp >>> 8);
        p[25] = (byte) udp;
        int c = L3HubTest.checksum(p, 0, 20);
        p[10] = (byte) (c >>> 8);
        p[11] = (byte) c;
        return ByteBufUtil.hexDump(p);
    }

    /** IPv6/UDP of {@code total} bytes. */
    static String ipv6(String src, String dst, int total) throws Exception {
        byte[] p = new byte[total];
        p[0] = 0x60;
        int payload = total - 40;
        p[4] = (byte) (payload >>> 8);
        p[5] = (byte) payload;
        p[6] = 17;
        p[7] = 64;
        System.arraycopy(InetAddress.getByName(src).getAddress(), 0, p, 8, 16);
        System.arraycopy(InetAddress.getByName(dst).getAddress(), 0, p, 24, 16);
        p[40] = (byte) 0xC0;
        p[43] = 0x35;
        p[44] = (byte) (payload >>> 8);
        p[45] = (byte) payload;
        return ByteBufUtil.hexDump(p);
    }

    @Test
    void ipv4WithDfLargerThanTheEgressMtuIsAnsweredWithFragmentationNeeded() throws Exception {
        Host a = lan.host(ch -> hub.attach(ch, L3PortOptions.prefixes("10.0.1.0/24")));
        Host b = lan.host(ch -> hub.attach(ch, L3PortOptions.prefixes("10.0.2.0/24").mtu(1280)));
        String fits = ipv4("10.0.1.2", "10.0.2.3", 1280, true);
        String big = ipv4("10.0.1.2", "10.0.2.3", 1281, true);
        lan.run(() -> {
            a.send(fits);
            a.send(big);
        });
        List<String> passed = b.take();
        assertEquals(1, passed.size(), "only the packet that fits");
        assertEquals(1280, passed.get(0).length() / 2);
        List<String> replies = a.take();
        assertEquals(1, replies.size());
        byte[] r = ByteBufUtil.decodeHexDump(replies.get(0));
        assertEquals(1, r[9], "ICMP");
        assertEquals("0a000001", ByteBufUtil.hexDump(r, 12, 4), "from the router address");
        assertEquals("0a000102", ByteBufUtil.hexDump(r, 16, 4), "to the sender");
        assertEquals(0, L3HubTest.checksum(r, 0, 20));
        assertEquals(3, r[20], "Destination Unreachable");
        assertEquals(4, r[21], "fragmentation needed and DF set");
        assertEquals(1280, ((r[26] & 0xFF) << 8) | (r[27] & 0xFF), "next-hop MTU (RFC 1191 §4)");
        assertEquals(0, L3HubTest.checksum(r, 20, r.length - 20));
        assertEquals(big.substring(0, 56), ByteBufUtil.hexDump(r, 28, 28), "quotes the header and 8 bytes");
        assertEquals(1, a.port.counters().drops(DropReason.PACKET_TOO_BIG));
    }

    @Test
    void ipv4WithoutDfIsDroppedAndCountedNotFragmented() throws Exception {
        Host a = lan.host(ch -> hub.attach(ch, L3PortOptions.prefixes("10.0.1.0/24")));
        Host b = lan.host(ch -> hub.attach(ch, L3PortOptions.prefixes("10.0.2.0/24").mtu(1280)));
        String big = ipv4("10.0.1.2", "10.0.2.3", 1500, false);
        lan.run(() -> a.send(big));
        assertEquals(List.of(), b.take(), "the hub does not fragment");
        assertEquals(List.of(), a.take(), "no error without DF");
        assertEquals(1, a.port.counters().drops(DropReason.PACKET_TOO_BIG));
    }

    @Test
    void ipv6LargerThanTheEgressMtuIsAnsweredWithPacketTooBig() throws Exception {
        Host a = lan.host(ch -> hub.attach(ch, L3PortOptions.prefixes("2001:db8:1::/64")));
        Host b = lan.host(ch -> hub.attach(ch, L3PortOptions.prefixes("2001:db8:2::/64").mtu(1280)));
        String big = ipv6("2001:db8:1::2", "2001:db8:2::3", 1500);
        String fits = ipv6("2001:db8:1::2", "2001:db8:2::3", 1280);
        lan.run(() -> {
            a.send(fits);
            a.send(big);
        });
        assertEquals(1, b.take().size());
        List<String> replies = a.take();
        assertEquals(1, replies.size());
        byte[] r = ByteBufUtil.decodeHexDump(replies.get(0));
        assertEquals(58, r[6] & 0xFF, "ICMPv6");
        assertEquals("20010db8000000000000000000000001", ByteBufUtil.hexDump(r, 8, 16));
        assertEquals("20010db8000100000000000000000002", ByteBufUtil.hexDump(r, 24, 16));
        assertEquals(2, r[40], "Packet Too Big");
        assertEquals(0, r[41]);
        assertEquals(1280, java.nio.ByteBuffer.wrap(r, 44, 4).getInt(), "MTU");
        assertEquals(1280, r.length, "as much of the packet as fits in the minimum MTU (RFC 4443 §3.2)");
        assertEquals(big.substring(0, 1280 * 2 - 96), ByteBufUtil.hexDump(r, 48, r.length - 48));
        int upper = r.length - 40;
        byte[] pseudo = new byte[40 + upper];
        System.arraycopy(r, 8, pseudo, 0, 32);
        pseudo[34] = (byte) (upper >>> 8);
        pseudo[35] = (byte) upper;
        pseudo[39] = 58;
        System.arraycopy(r, 40, pseudo, 40, upper);
        assertEquals(0, L3HubTest.checksum(pseudo, 0, pseudo.length), "valid ICMPv6 checksum");
        assertEquals(1, a.port.counters().drops(DropReason.PACKET_TOO_BIG));
    }

    @Test
    void mtuOutsideItsRangeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> L3PortOptions.none().mtu(67));
        assertThrows(IllegalArgumentException.class, () -> L3PortOptions.none().mtu(65536));
        assertEquals(0, L3PortOptions.none().mtu());
        assertEquals(9000, L3PortOptions.none().mtu(9000).mtu());
    }
}

package dev.pktkit.slirp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The gateway's router advertisement, byte for byte against the layouts of RFC 4861 §4.2 (with the source
 * link-layer address, MTU and prefix information options of §4.6) and RFC 8106 §5.1 (RDNSS), its checksum
 * verified independently; solicitations answered at most once per {@code MIN_DELAY_BETWEEN_RAS} (on the
 * channel's frozen clock); ARP and neighbour solicitations for the DNS address answered with the gateway's MAC.
 */
class RouterAdvertiserTest {
    private static final long MAC = 0x0200_0000_0001L;
    private static final long GUEST_MAC = 0x5254_0012_3456L;
    private EmbeddedChannel ch;

    @BeforeEach
    void setUp() throws Exception {
        ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(new RouterAdvertiser(MAC, (Inet6Address) InetAddress.getByName("fec0::"),
                (Inet6Address) InetAddress.getByName("fec0::3"), InetAddress.getByName("10.0.2.3"), 1500, 60_000));
        ch.runPendingTasks();
    }

    @AfterEach
    void tearDown() {
        for (Object m; (m = ch.readOutbound()) != null; ) {
            ((ByteBuf) m).release();
        }
        ch.finishAndReleaseAll();
    }

    private static final String EXPECTED_RA = String.join("",
            "333300000001", "020000000001", "86dd",                                  // Ethernet: all-nodes, gateway, IPv6
            "60000000", "0058", "3a", "ff",                                           // IPv6: 88 bytes, ICMPv6, hop limit 255
            "fe80000000000000", "000000fffe000001",                                   // from the gateway's EUI-64 link-local
            "ff02000000000000", "0000000000000001",                                   // to all nodes
            "86", "00", "XXXX", "40", "00", "0708", "00000000", "00000000",          // RA: hop limit 64, no M/O, 1800 s, unspecified timers
            "01", "01", "020000000001",                                               // source link-layer address
            "05", "01", "0000", "000005dc",                                           // MTU 1500
            "03", "04", "40", "c0", "00015180", "00003840", "00000000",               // prefix /64, L and A, 86400 s / 14400 s
            "fec0000000000000", "0000000000000000",
            "19", "03", "0000", "00000708", "fec0000000000000", "0000000000000003"); // RDNSS: 1800 s, fec0::3

    @Test
    void theAdvertisementIsByteForByteRfc4861AndRfc8106() {
        ByteBuf ra = ch.readOutbound();
        assertNotNull(ra, "an advertisement at start");
        try {
            String hex = ByteBufUtil.hexDump(ra);
            int ck = 14 + 40 + 2;
            assertEquals(EXPECTED_RA.replace("XXXX", hex.substring(ck * 2, ck * 2 + 4)), hex);
            assertEquals(0, icmpv6ChecksumOver(ra), "the ICMPv6 checksum sums to zero with its pseudo-header");
        } finally {
            ra.release();
        }
        assertNull(ch.readOutbound(), "one at start");
    }

    /** RFC 4443 §2.3 over the frame's IPv6 packet, computed here with no help from the codec. */
    private static int icmpv6ChecksumOver(ByteBuf frame) {
        byte[] b = ByteBufUtil.getBytes(frame);
        int ip = 14;
        int len = ((b[ip + 4] & 0xFF) << 8) | (b[ip + 5] & 0xFF);
        long sum = 0;
        for (int i = ip + 8; i < ip + 40; i += 2) { // source and destination
            sum += ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
        }
        sum += len + 58;
        for (int i = ip + 40; i < ip + 40 + len; i += 2) {
            sum += ((b[i] & 0xFF) << 8) | (i + 1 < ip + 40 + len ? b[i + 1] & 0xFF : 0);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    private static ByteBuf routerSolicitation() {
        // from the guest's link-local address to all routers, no options (RFC 4861 §4.1); the advertiser reads
        // the type only
        return Unpooled.wrappedBuffer(HexFormat.of().parseHex(String.join("",
                "333300000002", "525400123456", "86dd",
                "60000000", "0008", "3a", "ff",
                "fe80000000000000", "505400fffe123456",
                "ff02000000000000", "0000000000000002",
                "85", "00", "0000", "00000000")));
    }

    @Test
    void solicitationsAreAnsweredAtMostOncePerThreeSeconds() {
        ((ByteBuf) ch.readOutbound()).release(); // the one at start
        ch.writeInbound(routerSolicitation());
        ((ByteBuf) ch.readInbound()).release(); // passed on to the adapter behind it
        ch.runPendingTasks();
        assertNull(ch.readOutbound(), "not within 3 s of the last one");
        ch.writeInbound(routerSolicitation());
        ((ByteBuf) ch.readInbound()).release();
        ch.advanceTimeBy(2_999, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertNull(ch.readOutbound());
        ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        ByteBuf ra = ch.readOutbound();
        assertNotNull(ra, "the delayed answer, once for both solicitations");
        assertEquals(134, ra.getUnsignedByte(14 + 40));
        ra.release();
        assertNull(ch.readOutbound());
        ch.advanceTimeBy(3, TimeUnit.SECONDS);
        ch.writeInbound(routerSolicitation());
        ((ByteBuf) ch.readInbound()).release();
        ra = ch.readOutbound();
        assertNotNull(ra, "answered at once after 3 s of quiet");
        ra.release();
    }

    @Test
    void unsolicitedAdvertisementsRepeatAtTheInterval() {
        ((ByteBuf) ch.readOutbound()).release();
        ch.advanceTimeBy(59, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertNull(ch.readOutbound());
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        ByteBuf ra = ch.readOutbound();
        assertNotNull(ra);
        ra.release();
    }

    @Test
    void arpForTheDnsAddressIsAnsweredWithTheGatewaysMac() {
        ((ByteBuf) ch.readOutbound()).release();
        ByteBuf req = Unpooled.wrappedBuffer(HexFormat.of().parseHex(String.join("",
                "ffffffffffff", "525400123456", "0806",
                "0001", "0800", "06", "04", "0001", "525400123456", "0a00020f", "000000000000", "0a000203",
                "000000000000000000000000000000000000")));
        ch.writeInbound(req);
        ByteBuf passed = ch.readInbound();
        assertSame(req, passed, "passed on unchanged");
        passed.release();
        ByteBuf reply = ch.readOutbound();
        assertNotNull(reply);
        try {
            assertEquals(String.join("", "525400123456", "020000000001", "0806",
                    "0001", "0800", "06", "04", "0002", "020000000001", "0a000203", "525400123456", "0a00020f"),
                    ByteBufUtil.hexDump(reply, 0, 42));
        } finally {
            reply.release();
        }
    }

    @Test
    void neighbourSolicitationsForTheDnsAddressAreAnswered() {
        ((ByteBuf) ch.readOutbound()).release();
        ByteBuf ns = Unpooled.wrappedBuffer(HexFormat.of().parseHex(String.join("",
                "3333ff000003", "525400123456", "86dd",
                "60000000", "0020", "3a", "ff",
                "fec0000000000000", "0000000000000015",
                "ff02000000000000", "00000001ff000003",
                "87", "00", "0000", "00000000", "fec0000000000000", "0000000000000003",
                "01", "01", "525400123456")));
        ch.writeInbound(ns);
        ((ByteBuf) ch.readInbound()).release();
        ByteBuf na = ch.readOutbound();
        assertNotNull(na);
        try {
            String hex = ByteBufUtil.hexDump(na);
            int ck = 14 + 40 + 2;
            assertEquals(String.join("", "525400123456", "020000000001", "86dd",
                    "60000000", "0020", "3a", "ff",
                    "fec0000000000000", "0000000000000003", "fec0000000000000", "0000000000000015",
                    "88", "00", hex.substring(ck * 2, ck * 2 + 4), "e0000000",            // router, solicited, override
                    "fec0000000000000", "0000000000000003", "02", "01", "020000000001"), hex);
            assertEquals(0, icmpv6ChecksumOver(na));
        } finally {
            na.release();
        }
    }
}

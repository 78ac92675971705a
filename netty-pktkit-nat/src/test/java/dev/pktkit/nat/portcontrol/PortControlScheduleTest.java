package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Udp;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The timed parts of port control on a virtual clock: the inside port is an {@link EmbeddedChannel} with its time
 * frozen, the NAT, port control and the control endpoints' vtcp host all run on its loop, and the test moves the
 * clock. What the endpoints send leaves through the port and is counted there, so nothing waits on real time.
 */
class PortControlScheduleTest {
    static final int HOST = Ip4.parse("10.77.0.2");
    static final int GW = Ip4.parse("10.77.0.1");
    static final int ALL_HOSTS = Ip4.parse("224.0.0.1");
    static final int SSDP_GROUP = Ip4.parse("239.255.255.250");

    private EmbeddedChannel port;
    private Nat nat;
    private PortControl pc;
    /** Port control's own clock (leases, the epoch), moved with the loop's. */
    private final java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong(1L << 40);

    /** One UDP datagram the port sent: where to, and its payload. */
    record Sent(int dst, int sport, int dport, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.US_ASCII);
        }
    }

    /** Random delays at the top of their range: the first NOTIFY after 99 ms, an MX of n after n s - 1 ms. */
    static final class Latest extends Random {
        @Override
        public long nextLong(long bound) {
            return bound - 1;
        }
    }

    /** Returns the given values in turn (each capped below its bound: Long.MAX_VALUE is the top of the range). */
    static final class Steps extends Random {
        private final long[] values;
        private int next;

        Steps(long... values) {
            this.values = values;
        }

        @Override
        public long nextLong(long bound) {
            return Math.min(values[next++], bound - 1);
        }
    }

    private void start(PortControlConfig.Builder b) {
        start(b, new Latest());
    }

    private void start(PortControlConfig.Builder b, Random random) {
        port = new EmbeddedChannel();
        port.freezeTime();
        nat = Nat.create(port.eventLoop(), NatConfig.builder().outsideAddresses("198.51.100.1")
                .insideAddress("10.77.0.1").build());
        pc = PortControl.create(nat, b.random(random).clock(clock::get).build());
        pc.attach(port, "lan");
        port.runPendingTasks();
    }

    @AfterEach
    void tearDown() {
        if (pc != null) {
            pc.close();
            nat.close();
            port.runPendingTasks();
            drain();
            port.finishAndReleaseAll();
        }
    }

    /** Moves the virtual clock by {@code millis} and runs what fell due (and what that queued). */
    private void advance(long millis) {
        port.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
        port.runScheduledPendingTasks();
        port.runPendingTasks();
    }

    /** The UDP datagrams the port sent since the last call (other packets are released and skipped). */
    private List<Sent> drain() {
        List<Sent> out = new ArrayList<>();
        Object m;
        while ((m = port.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) m;
            try {
                int o = b.readerIndex();
                if ((b.getUnsignedByte(o) >> 4) == 4 && b.getUnsignedByte(o + 9) == IpProtocol.UDP) {
                    int l4 = o + (b.getUnsignedByte(o) & 0x0F) * 4;
                    byte[] d = new byte[b.getUnsignedShort(l4 + 4) - 8];
                    b.getBytes(l4 + 8, d);
                    out.add(new Sent(b.getInt(o + 16), b.getUnsignedShort(l4), b.getUnsignedShort(l4 + 2), d));
                }
            } finally {
                b.release();
            }
        }
        return out;
    }

    private List<Sent> announcements() {
        return drain().stream().filter(s -> s.dst() == ALL_HOSTS && s.sport() == 5351 && s.dport() == 5350).toList();
    }

    private List<Sent> notifies() {
        return drain().stream().filter(s -> s.dst() == SSDP_GROUP && s.dport() == 1900).toList();
    }

    /** An IPv4 UDP datagram from the inside host. */
    static ByteBuf udp(int src, int sport, int dst, int dport, ByteBuf payload) {
        int n = payload.readableBytes();
        ByteBuf pkt = Unpooled.buffer(28 + n);
        Ipv4.writeHeader(pkt, src, dst, IpProtocol.UDP, 64, 8 + n, 1, false);
        pkt.writeShort(sport).writeShort(dport).writeShort(8 + n).writeShort(0).writeBytes(payload);
        payload.release();
        Udp.fillChecksumV4(pkt, 20, 8 + n, src, dst);
        return pkt;
    }

    private static int epoch(byte[] pcp) {
        return ((pcp[8] & 0xFF) << 24) | ((pcp[9] & 0xFF) << 16) | ((pcp[10] & 0xFF) << 8) | (pcp[11] & 0xFF);
    }

    /**
     * RFC 6887 §14.1.3 / RFC 6886 §3.2.1: when the endpoints start (epoch 0) they multicast NAT-PMP's address
     * response and PCP's ANNOUNCE response to 224.0.0.1:5350, ten of each, the first at once and then after
     * 250 ms, 500 ms, ... 64 s; nothing before each is due, nothing after the tenth. The epoch in each is the time
     * since start. An ANNOUNCE request from the host is answered with the same layout, unicast.
     */
    @Test
    void pcpAndNatPmpAnnounceTenTimesAtDoublingIntervals() {
        start(PortControlConfig.builder().upnp(false));
        List<Sent> first = announcements();
        assertEquals(2, first.size(), "one NAT-PMP and one PCP announcement at once");
        long at = 0;
        long interval = 250;
        for (int i = 2; i <= 10; i++) {
            advance(interval - 1);
            assertEquals(List.of(), announcements(), "nothing before announcement " + i);
            advance(1);
            at += interval;
            List<Sent> a = announcements();
            assertEquals(2, a.size(), "announcement " + i + " at " + at + " ms");
            for (Sent s : a) {
                if (s.payload()[0] == 0) {
                    assertEquals(12, s.payload().length);               // RFC 6886 §3.2: address response
                    assertEquals((byte) 128, s.payload()[1]);
                } else {
                    byte[] p = s.payload();
                    assertEquals(24, p.length);                         // RFC 6887 §7.2, opcode ANNOUNCE
                    assertEquals(2, p[0]);
                    assertEquals((byte) 0x80, p[1]);
                    assertEquals(0, p[3], "SUCCESS");
                    assertEquals(0, p[4] | p[5] | p[6] | p[7], "lifetime 0");
                    assertEquals(at / 1000, epoch(p), "epoch = seconds since start");
                }
            }
            interval *= 2;
        }
        assertEquals(127_750, at, "the tenth after 250 ms + 500 ms + ... + 64 s");
        advance(TimeUnit.HOURS.toMillis(1));
        assertEquals(List.of(), announcements(), "ten, then no more");
        assertEquals(20, pc.counters().get(PortControlCounter.ANNOUNCEMENTS_SENT));

        // §14.1.1: an ANNOUNCE request is answered unicast, lifetime 0, the epoch of now
        ByteBuf req = PcpServerTest.pcpHeader(PcpServer.OP_ANNOUNCE, 0, HOST);
        port.writeInbound(udp(HOST, 40000, GW, 5351, req));
        port.runPendingTasks();
        List<Sent> answers = drain();
        assertEquals(1, answers.size());
        Sent r = answers.get(0);
        assertEquals(HOST, r.dst());
        assertEquals(40000, r.dport());
        assertEquals(24, r.payload().length);
        assertEquals((byte) 0x80, r.payload()[1]);
        assertEquals(0, r.payload()[3]);
        assertEquals((127_750 + 3_600_000) / 1000, epoch(r.payload()));
    }

    /** Closing port control mid-series stops it: no announcement after close, and the count is configurable. */
    @Test
    void announcementsStopOnCloseAndFollowTheConfiguredSchedule() {
        start(PortControlConfig.builder().upnp(false).natPmp(false).announcements(4, 1000));
        assertEquals(1, announcements().size(), "PCP only");
        advance(1000);
        assertEquals(1, announcements().size());
        advance(2000);
        assertEquals(1, announcements().size());
        pc.close();
        port.runPendingTasks();
        advance(TimeUnit.HOURS.toMillis(1));
        assertEquals(List.of(), announcements(), "the fourth, due at 7 s, never goes");
        assertEquals(3, pc.counters().get(PortControlCounter.ANNOUNCEMENTS_SENT));
    }

    /**
     * UDA 1.1 §1.2: the alive set (root device: upnp:rootdevice, uuid, type; two embedded devices: uuid, type;
     * two services: type — nine NOTIFYs) goes a random 0–100 ms after start (99 ms here), twice 200 ms apart, and
     * again every ssdpNotifyInterval; byebye for the same nine on close, and no alive after it.
     */
    @Test
    void ssdpAliveAtStartAndEveryIntervalAndByebyeOnClose() {
        start(PortControlConfig.builder().natPmp(false).pcp(false).ssdpNotifyInterval(60));
        assertEquals(List.of(), notifies(), "none before the random start delay");
        advance(98);
        assertEquals(List.of(), notifies());
        advance(1);
        List<Sent> set = notifies();
        assertAliveSet(set);
        advance(199);
        assertEquals(List.of(), notifies());
        advance(1);
        assertAliveSet(notifies());                                      // the copy
        advance(60_000 - 299 - 1);
        assertEquals(List.of(), notifies(), "the refresh is due 60 s after start");
        advance(1);
        assertAliveSet(notifies());
        advance(200);
        assertAliveSet(notifies());
        assertEquals(36, pc.counters().get(PortControlCounter.SSDP_NOTIFY_SENT));

        pc.close();
        port.runPendingTasks();
        List<Sent> bye = notifies();
        assertEquals(9, bye.size());
        Set<String> nts = new HashSet<>();
        for (Sent s : bye) {
            String m = s.text();
            assertTrue(m.startsWith("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"), m);
            assertTrue(m.contains("\r\nNTS: ssdp:byebye\r\n"), m);
            assertFalse(m.contains("LOCATION:") || m.contains("CACHE-CONTROL:"), m);
            nts.add(m.split("\r\nNT: ")[1].split("\r\n")[0]);
        }
        assertEquals(9, nts.size());
        advance(TimeUnit.HOURS.toMillis(1));
        assertEquals(List.of(), notifies(), "no alive after byebye");
        assertEquals(45, pc.counters().get(PortControlCounter.SSDP_NOTIFY_SENT));
    }

    /**
     * UDA 1.1 §1.2.2: by default each period to the next alive set is drawn anew, uniform in [max-age / 4,
     * max-age / 2) — here the bottom of the range (450 s for max-age 1800), then its top (900 s - 1 ms): two
     * different periods, each alive set exactly when due and none before.
     */
    @Test
    void ssdpRefreshPeriodsAreRandomBelowHalfTheMaxAge() {
        start(PortControlConfig.builder().natPmp(false).pcp(false), new Steps(99, 0, Long.MAX_VALUE, 0));
        assertRefreshes(99, 450_000, 899_999);
    }

    /** The same with a seeded source: the periods are the ones its draws give, in range and not equal. */
    @Test
    void ssdpRefreshPeriodsFollowASeededRandom() {
        Random replay = new Random(20261204);
        long first = replay.nextLong(100);
        long p1 = 450_000 + replay.nextLong(450_000);
        long p2 = 450_000 + replay.nextLong(450_000);
        assertNotEquals(p1, p2);
        start(PortControlConfig.builder().natPmp(false).pcp(false), new Random(20261204));
        assertRefreshes(first, p1, p2);
    }

    /** A fixed interval must be below half the max-age (§1.2.2); the default has no fixed interval. */
    @Test
    void ssdpNotifyIntervalMustBeBelowHalfTheMaxAge() {
        assertThrows(IllegalArgumentException.class, () -> PortControlConfig.builder().ssdpNotifyInterval(900).build());
        assertEquals(899, PortControlConfig.builder().ssdpNotifyInterval(899).build().ssdpNotifyIntervalSeconds());
        assertThrows(IllegalArgumentException.class,
                () -> PortControlConfig.builder().ssdpMaxAge(100).ssdpNotifyInterval(50).build());
        assertEquals(49, PortControlConfig.builder().ssdpMaxAge(100).ssdpNotifyInterval(49).build()
                .ssdpNotifyIntervalSeconds());
        assertEquals(0, PortControlConfig.builder().build().ssdpNotifyIntervalSeconds());
    }

    /** The first alive set (and its copy) {@code first} ms after start, then one each period, nothing between. */
    private void assertRefreshes(long first, long... periods) {
        advance(first - 1);
        assertEquals(List.of(), notifies());
        advance(1);
        assertAliveSet(notifies());
        long since = first; // ms since start
        long due = 0;       // the last set's time
        for (long p : periods) {
            long at = due + p;
            advance(at - 1 - since);
            assertAliveSet(notifies());                                  // the previous set's copy, nothing else
            advance(1);
            assertAliveSet(notifies());
            since = at;
            due = at;
        }
        advance(200);
        assertAliveSet(notifies());                                      // the last set's copy
        assertEquals(9L * 2 * (periods.length + 1), pc.counters().get(PortControlCounter.SSDP_NOTIFY_SENT));
    }

    /** Nine alive NOTIFYs from 1900 with UDA 1.1 §1.2.2's headers, one per notification type. */
    private void assertAliveSet(List<Sent> set) {
        assertEquals(9, set.size(), set.toString());
        Set<String> nts = new HashSet<>();
        String uuid = "uuid:" + pc.config().uuid();
        for (Sent s : set) {
            assertEquals(1900, s.sport());
            String m = s.text();
            assertTrue(m.startsWith("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"), m);
            assertTrue(m.contains("\r\nCACHE-CONTROL: max-age=1800\r\n"), m);
            assertTrue(m.contains("\r\nLOCATION: http://10.77.0.1:5000/rootDesc.xml\r\n"), m);
            assertTrue(m.contains("\r\nNTS: ssdp:alive\r\n"), m);
            assertTrue(m.contains("\r\nSERVER: "), m);
            assertTrue(m.endsWith("\r\n\r\n"), m);
            String nt = m.split("\r\nNT: ")[1].split("\r\n")[0];
            String usn = m.split("\r\nUSN: ")[1].split("\r\n")[0];
            assertTrue(usn.equals(nt) || usn.endsWith("::" + nt), m);
            nts.add(nt);
        }
        assertEquals(9, nts.size(), nts.toString());
        assertTrue(nts.contains("upnp:rootdevice"));
        assertTrue(nts.contains(uuid), "the root device's own uuid");
        assertTrue(nts.contains("urn:schemas-upnp-org:device:InternetGatewayDevice:2"));
        assertTrue(nts.contains("urn:schemas-upnp-org:device:WANDevice:2"));
        assertTrue(nts.contains("urn:schemas-upnp-org:device:WANConnectionDevice:2"));
        assertTrue(nts.contains("urn:schemas-upnp-org:service:WANIPConnection:2"));
        assertTrue(nts.contains("urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"));
        assertEquals(3, nts.stream().filter(t -> t.startsWith("uuid:")).count());
    }

    /** An M-SEARCH to the group through the port is answered after its MX delay (at the top: MX s - 1 ms). */
    @Test
    void mSearchThroughThePortWaitsForItsMx() {
        start(PortControlConfig.builder().natPmp(false).pcp(false).ssdpCopies(1));
        advance(100);
        assertEquals(9, notifies().size());
        port.writeInbound(udp(HOST, 40000, SSDP_GROUP, 1900, Unpooled.copiedBuffer(
                SsdpHandlerTest.msearch("upnp:rootdevice").replace("MX: 2", "MX: 3"), StandardCharsets.US_ASCII)));
        port.runPendingTasks();
        advance(2998);
        assertEquals(List.of(), drain(), "not before the MX delay");
        advance(1);
        List<Sent> r = drain();
        assertEquals(1, r.size());
        assertEquals(HOST, r.get(0).dst());
        assertEquals(40000, r.get(0).dport());
        assertTrue(r.get(0).text().startsWith("HTTP/1.1 200 OK\r\n"));
        assertTrue(r.get(0).text().contains("\r\nST: upnp:rootdevice\r\n"));
    }
}

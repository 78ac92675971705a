package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.MacAddress;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A DISCOVER flood from random MACs fills a /16 pool, and keeps coming once it is full; the work per message is
 * counted (hash entries, bitmap words and expiry heads the lease table visits, {@link DhcpServer#work()}) and must
 * stay under one constant from the first message to the last, while a real client, DISCOVER → OFFER → REQUEST →
 * ACK in the middle of the flood, still gets its lease: before the pool is full, and after (when each new client
 * takes the oldest pending offer's place). Work is counted in operations, not time.
 */
class DhcpServerFloodTest {
    /** The most lease-table work one message may cost, whatever the table holds. */
    static final long MAX_WORK_PER_MESSAGE = 32; // measured: 10 (empty), 11 (filling), 18 (full, withdrawing offers)
    static final int SERVER = Ip4.parse("10.1.0.1");
    static final long SERVER_MAC = DhcpServerTest.SERVER_MAC;

    private EmbeddedChannel ch;

    /**
     * A channel whose replies come from an allocator the leak detector does not track: at the paranoid level every
     * access to a tracked buffer records a stack trace, which would make 70,000 messages take minutes. Leaks of the
     * server's replies and drops are covered by {@link DhcpServerTest}, on tracked buffers.
     */
    private static EmbeddedChannel channel(DhcpServer server) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(UNTRACKED);
        ch.freezeTime();
        ch.pipeline().addLast(server);
        return ch;
    }

    private static final ByteBufAllocator UNTRACKED = new UnpooledByteBufAllocator(false, true);

    static ByteBuf client(int type, long xid, long mac, int requested, int serverId) {
        return DhcpServerTest.message(UNTRACKED, type, xid, mac, 0, requested, serverId, false, 0, 0, null);
    }

    @AfterEach
    void stop() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    /** Sends one message, drains the replies; returns the last reply's type and yiaddr (0, 0 if none). */
    private long exchange(ByteBuf frame) {
        ch.writeInbound(frame);
        long last = 0;
        for (ByteBuf f; (f = ch.readOutbound()) != null; ) {
            try {
                int d = Ipv4.payloadOffset(f, f.readerIndex() + Ethernet.HEADER_LENGTH) + Udp.HEADER_LENGTH;
                int len = f.writerIndex() - d;
                last = ((long) Dhcp4.messageType(f, d, len) << 32) | Integer.toUnsignedLong(Dhcp4.yiaddr(f, d));
            } finally {
                f.release();
            }
        }
        return last;
    }

    /** The real client's exchange, with {@code floodBetween} flood DISCOVERs between its OFFER and its REQUEST. */
    private int realClient(DhcpServer server, long mac, Random flood, int floodBetween, long[] maxWork) {
        long offer = exchange(client(Dhcp4.DISCOVER, 77, mac, 0, 0));
        assertEquals(Dhcp4.OFFER, (int) (offer >>> 32), "the real client is offered an address");
        for (int i = 0; i < floodBetween; i++) {
            floodOne(server, flood, maxWork);
        }
        long ack = exchange(client(Dhcp4.REQUEST, 77, mac, (int) offer, SERVER));
        assertEquals(Dhcp4.ACK, (int) (ack >>> 32), "the real client's REQUEST is ACKed");
        assertEquals((int) offer, (int) ack);
        return (int) ack;
    }

    private void floodOne(DhcpServer server, Random r, long[] maxWork) {
        long mac = (r.nextLong() & 0xFEFF_FFFF_FFFFL) | 0x0200_0000_0000L; // unicast, locally administered
        ByteBuf f = client(Dhcp4.DISCOVER, r.nextInt(), mac, 0, 0);
        long before = server.work();
        exchange(f);
        maxWork[0] = Math.max(maxWork[0], server.work() - before);
        ch.advanceTimeBy(10, TimeUnit.MICROSECONDS); // 100,000 messages per second of the loop's clock
    }

    @Test
    void discoverFloodFillsASlash16WithBoundedWorkAndARealClientStillLeases() {
        DhcpServer server = DhcpServer.builder().serverMac(SERVER_MAC).serverAddress("10.1.0.1", 16)
                .pool("10.1.0.2", "10.1.255.254").router("10.1.0.1").leaseTime(Duration.ofHours(1))
                .offerHold(Duration.ofMinutes(10)) // the flood's offers all stay pending while it runs
                .globalRateLimit(200_000, 10_000) // let the whole flood in: this test is about the table
                .build();
        ch = channel(server);
        int pool = 65_533;
        Random r = new Random(0x5eed);
        long[] early = {0};
        for (int i = 0; i < 1000; i++) {
            floodOne(server, r, early);
        }
        long[] maxWork = {0};
        for (int i = 1000; i < 40_000; i++) {
            floodOne(server, r, maxWork);
        }
        int first = realClient(server, MacAddress.parse("52:54:00:00:00:01"), r, 100, maxWork);
        for (int i = 40_100; i < pool - 1; i++) { // with the real client's lease: every address
            floodOne(server, r, maxWork);
        }
        assertEquals(pool, server.bindings().size(), "the pool is full: flood offers and the real lease");
        assertEquals(0, server.counters().offersWithdrawn());
        long[] full = {0};
        for (int i = 0; i < 5000; i++) {
            floodOne(server, r, full);
        }
        assertTrue(server.counters().offersWithdrawn() >= 5000, String.valueOf(server.counters()));
        assertEquals(0, server.counters().drops(), "nothing dropped: " + server.counters());
        int second = realClient(server, MacAddress.parse("52:54:00:00:00:02"), r, 100, full);
        assertTrue(second != first);
        assertNotNull(server.bindings().stream()
                .filter(b -> b.mac() == MacAddress.parse("52:54:00:00:00:01") && b.state() == DhcpBinding.State.BOUND)
                .findFirst().orElse(null), "the first real client keeps its lease through the flood");
        assertTrue(early[0] <= MAX_WORK_PER_MESSAGE, "work per message, empty table: " + early[0]);
        assertTrue(maxWork[0] <= MAX_WORK_PER_MESSAGE, "work per message while filling: " + maxWork[0]);
        assertTrue(full[0] <= MAX_WORK_PER_MESSAGE, "work per message, pool full: " + full[0]);
        assertEquals(2, server.counters().leaseEvents(DhcpLeaseEvent.Kind.GRANTED));
    }

    /**
     * Above the global limit the server handles at most burst + rate × time messages, whatever arrives. (New
     * clients then compete with the flood for the same tokens: a flood at ten times the limit gives a real client's
     * DISCOVER a one-in-ten chance per try. A flood from one port is for the hub's port limits to stop.)
     */
    @Test
    void theDefaultGlobalLimitCapsWhatAFloodCosts() {
        DhcpServer server = DhcpServer.builder().serverMac(SERVER_MAC).serverAddress("10.1.0.1", 16)
                .pool("10.1.0.2", "10.1.255.254").build();
        ch = channel(server);
        Random r = new Random(7);
        long[] work = {0};
        for (int i = 0; i < 20_000; i++) { // 2 s at 10,000 messages per second
            floodOne(server, r, work);
            ch.advanceTimeBy(90, TimeUnit.MICROSECONDS);
        }
        long handled = server.counters().received(Dhcp4.DISCOVER);
        assertTrue(handled <= DhcpServer.DEFAULT_GLOBAL_BURST + 2L * DhcpServer.DEFAULT_GLOBAL_RATE + 1,
                "at most burst + rate × 2 s handled: " + server.counters());
        assertTrue(handled >= 2L * DhcpServer.DEFAULT_GLOBAL_RATE, "the rate itself is served: " + handled);
        assertEquals(20_000 - handled, server.counters().drops(DhcpDropReason.RATE_LIMITED_GLOBAL));
        assertTrue(work[0] <= MAX_WORK_PER_MESSAGE, "work per message: " + work[0]);
    }
}

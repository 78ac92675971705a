package dev.pktkit.codec.dhcp;

import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Udp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random, seeded interleavings of DISCOVER, REQUEST (selecting, init-reboot, renewing, for right and wrong
 * addresses), DECLINE, RELEASE and INFORM from many clients, with the clock moving on, against a model of the
 * leases the server granted. After every step: no address is leased (ACKed and not yet ended) to two clients, no
 * two bindings share an address, static addresses go only to their owners and their owners get only them,
 * quarantined addresses are neither offered nor ACKed for the hold, every address given lies in the pool or is
 * static, the table stays within its bounds, and the lease events match the ACKs, releases and declines.
 * A failure names the seed and the step.
 */
class DhcpServerModelTest {
    static final long SERVER_MAC = DhcpServerTest.SERVER_MAC;
    static final int SERVER = DhcpServerTest.SERVER;
    static final int POOL_START = Ip4.parse("10.0.2.100");
    static final int POOL_END = Ip4.parse("10.0.2.115");
    static final long STATIC_IN = 0x0200_0000_0100L;
    static final long STATIC_OUT = 0x0200_0000_0101L;
    static final int STATIC_IN_IP = Ip4.parse("10.0.2.105");
    static final int STATIC_OUT_IP = Ip4.parse("10.0.2.20");
    static final long LEASE_S = 120;
    static final long OFFER_S = 30;
    static final long DECLINE_S = 60;
    static final int CLIENTS = 40;

    static final ByteBufAllocator UNTRACKED = new UnpooledByteBufAllocator(false, true);

    /** A lease the server ACKed, as the model keeps it. */
    record Lease(long mac, long until) {
    }

    private EmbeddedChannel ch;
    private final List<DhcpLeaseEvent> events = new ArrayList<>();
    private long now; // seconds since the start, the model's clock (the channel's moves with it)

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void randomInterleavingsKeepTheInvariants(long seed) {
        DhcpServer server = DhcpServer.builder().serverMac(SERVER_MAC).serverAddress("10.0.2.1", 24)
                .pool("10.0.2.100", "10.0.2.115").router("10.0.2.1")
                .staticLease(STATIC_IN, "10.0.2.105").staticLease(STATIC_OUT, "10.0.2.20")
                .leaseTime(Duration.ofSeconds(LEASE_S)).offerHold(Duration.ofSeconds(OFFER_S))
                .declineHold(Duration.ofSeconds(DECLINE_S)).maxBindings(24)
                .clientRateLimit(1e6, 1_000_000).globalRateLimit(1e6, 1_000_000).build();
        ch = new EmbeddedChannel();
        ch.config().setAllocator(UNTRACKED); // see DhcpServerFloodTest: paranoid tracking costs a stack trace per access
        ch.freezeTime();
        ch.pipeline().addLast(server, new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof DhcpLeaseEvent e) {
                    events.add(e);
                }
            }
        });
        try {
            run(server, new Random(seed), seed);
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private void run(DhcpServer server, Random r, long seed) {
        long[] macs = new long[CLIENTS];
        for (int i = 0; i < CLIENTS; i++) {
            macs[i] = 0x0200_0000_0000L | (i + 1);
        }
        macs[0] = STATIC_IN;
        macs[1] = STATIC_OUT;
        Map<Integer, Lease> leases = new HashMap<>();      // address → lease, from the ACKs
        Map<Long, Integer> offered = new HashMap<>();      // mac → last offered address
        Map<Integer, Long> quarantine = new HashMap<>();   // address → until, from the DECLINED events
        long acks = 0;
        for (int step = 0; step < 2000; step++) {
            String where = "seed " + seed + " step " + step;
            if (r.nextInt(8) == 0) {
                int s = r.nextInt(20);
                ch.advanceTimeBy(s, TimeUnit.SECONDS);
                ch.runScheduledPendingTasks();
                now += s;
            }
            leases.values().removeIf(l -> l.until <= now);
            quarantine.values().removeIf(until -> until <= now);
            long mac = macs[r.nextInt(CLIENTS)];
            Integer held = heldBy(leases, mac);
            int anyAddress = POOL_START - 3 + r.nextInt(POOL_END - POOL_START + 7); // some outside the pool
            int op = r.nextInt(10);
            int eventsBefore = events.size();
            ByteBuf msg;
            int xid = step;
            switch (op) {
                case 0, 1, 2 -> msg = client(Dhcp4.DISCOVER, xid, mac, 0, r.nextInt(3) == 0 ? anyAddress : 0, 0);
                case 3, 4 -> {
                    Integer o = offered.get(mac);
                    msg = client(Dhcp4.REQUEST, xid, mac, 0, o != null ? o : anyAddress, SERVER); // selecting
                }
                case 5 -> msg = client(Dhcp4.REQUEST, xid, mac, 0, r.nextBoolean() && held != null ? held : anyAddress,
                        0); // init-reboot
                case 6 -> msg = client(Dhcp4.REQUEST, xid, mac, held != null && r.nextInt(4) != 0 ? held : anyAddress,
                        0, 0); // renewing
                case 7 -> {
                    Integer o = offered.get(mac);
                    int a = held != null ? held : o != null ? o : anyAddress;
                    msg = client(Dhcp4.DECLINE, xid, mac, 0, a, SERVER);
                }
                case 8 -> msg = client(Dhcp4.RELEASE, xid, mac, held != null && r.nextInt(4) != 0 ? held : anyAddress,
                        0, SERVER);
                default -> msg = client(Dhcp4.INFORM, xid, mac, anyAddress, 0, 0);
            }
            ch.writeInbound(msg);
            assertEquals(0, msg.refCnt(), where + ": the request is released");
            int type = 0;
            int yiaddr = 0;
            for (ByteBuf f; (f = ch.readOutbound()) != null; ) {
                int d = Ipv4.payloadOffset(f, f.readerIndex() + Ethernet.HEADER_LENGTH) + Udp.HEADER_LENGTH;
                type = Dhcp4.messageType(f, d, f.writerIndex() - d);
                yiaddr = Dhcp4.yiaddr(f, d);
                f.release();
            }
            // What the reply gives must be allowed.
            if (type == Dhcp4.OFFER || type == Dhcp4.ACK && yiaddr != 0) {
                checkAllowed(where, mac, yiaddr, quarantine);
            }
            if (type == Dhcp4.OFFER) {
                offered.put(mac, yiaddr);
            }
            if (type == Dhcp4.ACK && yiaddr != 0) {
                acks++;
                Lease other = leases.get(yiaddr);
                if (other != null && other.mac != mac) {
                    fail(where + ": " + Ip4.format(yiaddr) + " ACKed to " + Long.toHexString(mac)
                            + " while leased to " + Long.toHexString(other.mac));
                }
                if (held != null && held != yiaddr) {
                    leases.remove(held); // a client holds one lease
                }
                leases.put(yiaddr, new Lease(mac, now + LEASE_S));
            }
            // The model follows the releases and declines the server reported.
            for (DhcpLeaseEvent e : events.subList(eventsBefore, events.size())) {
                int a = Ip4.of(e.address());
                switch (e.kind()) {
                    case RELEASED -> {
                        assertEquals(8, op, where + ": RELEASED only on RELEASE");
                        leases.remove(a);
                    }
                    case DECLINED -> {
                        assertEquals(7, op, where + ": DECLINED only on DECLINE");
                        leases.remove(a);
                        quarantine.put(a, now + DECLINE_S);
                    }
                    case EXPIRED -> {
                        Lease l = leases.get(a);
                        assertTrue(l == null || l.until <= now, where + ": " + a + " expired early");
                    }
                    case GRANTED, RENEWED -> assertEquals(Dhcp4.ACK, type, where + ": lease events come with ACKs");
                }
            }
            checkTable(where, server, leases, quarantine);
        }
        assertTrue(acks > 50, "the walk exercised leases: " + acks);
        assertTrue(server.counters().sent(Dhcp4.NAK) > 0 && server.counters().leaseEvents(DhcpLeaseEvent.Kind.DECLINED) > 0
                && server.counters().leaseEvents(DhcpLeaseEvent.Kind.RELEASED) > 0, String.valueOf(server.counters()));
    }

    private static Integer heldBy(Map<Integer, Lease> leases, long mac) {
        for (Map.Entry<Integer, Lease> e : leases.entrySet()) {
            if (e.getValue().mac == mac) {
                return e.getKey();
            }
        }
        return null;
    }

    private static void checkAllowed(String where, long mac, int a, Map<Integer, Long> quarantine) {
        String what = where + ": " + Ip4.format(a) + " to " + Long.toHexString(mac);
        assertTrue(!quarantine.containsKey(a), what + " is quarantined");
        if (mac == STATIC_IN || mac == STATIC_OUT) {
            assertEquals(mac == STATIC_IN ? STATIC_IN_IP : STATIC_OUT_IP, a, what + ": statics get their address");
        } else {
            assertTrue(a != STATIC_IN_IP && a != STATIC_OUT_IP, what + ": someone's static address");
            assertTrue(Integer.compareUnsigned(a, POOL_START) >= 0 && Integer.compareUnsigned(a, POOL_END) <= 0,
                    what + ": outside the pool");
        }
    }

    private void checkTable(String where, DhcpServer server, Map<Integer, Lease> leases,
                            Map<Integer, Long> quarantine) {
        List<DhcpBinding> table = server.bindings();
        assertTrue(table.size() <= server.maxBindings(), where + ": bound");
        Set<Integer> addresses = new HashSet<>();
        Set<Long> clients = new HashSet<>();
        for (DhcpBinding b : table) {
            int a = Ip4.of(b.address());
            assertTrue(addresses.add(a), where + ": " + Ip4.format(a) + " in two bindings: " + table);
            assertTrue(clients.add(b.mac()), where + ": a client with two bindings: " + table);
            checkAllowed(where, b.mac(), a, quarantine);
            assertEquals(a == STATIC_IN_IP || a == STATIC_OUT_IP, b.staticLease(), where);
            assertTrue(!b.remaining().isNegative() && !b.remaining().isZero(), where + ": expired binding shown");
            assertTrue(b.remaining().compareTo(Duration.ofSeconds(Math.max(LEASE_S, OFFER_S))) <= 0, where);
        }
        for (Map.Entry<Integer, Lease> e : leases.entrySet()) {
            DhcpBinding b = table.stream().filter(x -> Ip4.of(x.address()) == e.getKey()).findFirst().orElse(null);
            assertTrue(b != null && b.mac() == e.getValue().mac() && b.state() == DhcpBinding.State.BOUND,
                    where + ": the server forgot the lease of " + Ip4.format(e.getKey()) + ": " + table);
        }
    }

    static ByteBuf client(int type, long xid, long mac, int ciaddr, int requested, int serverId) {
        return DhcpServerTest.message(UNTRACKED, type, xid, mac, ciaddr, requested, serverId, false, 0, 0, null);
    }
}

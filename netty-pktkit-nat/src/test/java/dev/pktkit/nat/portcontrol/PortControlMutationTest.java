package dev.pktkit.nat.portcontrol;

import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hostile input in bulk, seeded and repeatable: mutations (bit flips, byte overwrites, truncation, extension,
 * random length fields) of valid NAT-PMP, PCP, SOAP and SSDP messages. Nothing may throw, every answer keeps to
 * its protocol's shape, the leases stay within their bounds and every buffer is released (paranoid leak
 * detection). Jazzer is not used here because its JUnit integration fuzzes one {@code @FuzzTest} per run, and
 * this module's is {@code NatFuzzTest}.
 */
class PortControlMutationTest {
    static final int HOST = Ip4.parse("10.75.0.2");
    static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;
    private EmbeddedChannel loop;
    private Nat nat;
    private PortControl pc;
    private PortContext ctx;
    private final AtomicLong clock = new AtomicLong();

    @BeforeEach
    void setUp() {
        loop = new EmbeddedChannel();
        nat = Nat.create(loop.eventLoop(), NatConfig.builder().outsideAddresses("198.51.100.1")
                .insideAddress("10.75.0.1").maxStaticMappings(64).build());
        pc = PortControl.create(nat, PortControlConfig.builder().maxLeases(32, 16).clock(clock::get).build());
        ctx = new PortContext("lan", nat.namespace("lan").getNow());
    }

    @AfterEach
    void tearDown() {
        pc.close();
        nat.close();
        loop.finishAndReleaseAll();
    }

    private static byte[] mutate(Random rnd, byte[] seed, int max) {
        byte[] b = seed.clone();
        int kind = rnd.nextInt(6);
        switch (kind) {
            case 0 -> b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
            case 1 -> {
                for (int i = 0, n = 1 + rnd.nextInt(4); i < n; i++) {
                    b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                }
            }
            case 2 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length + 1));
            case 3 -> {
                byte[] e = java.util.Arrays.copyOf(b, Math.min(max, b.length + 1 + rnd.nextInt(64)));
                for (int i = b.length; i < e.length; i++) {
                    e[i] = (byte) rnd.nextInt(256);
                }
                b = e;
            }
            case 4 -> {
                b = new byte[rnd.nextInt(max)];
                rnd.nextBytes(b);
                if (b.length > 0) {
                    b[0] = (byte) (rnd.nextBoolean() ? 0 : 2);
                }
            }
            default -> {
                if (b.length > 26) { // an option with a random length field
                    b = java.util.Arrays.copyOf(b, b.length + 8);
                    b[b.length - 8] = (byte) rnd.nextInt(256);
                    b[b.length - 6] = (byte) rnd.nextInt(256);
                    b[b.length - 5] = (byte) rnd.nextInt(256);
                }
            }
        }
        return b;
    }

    @Test
    void natPmpAndPcpSurviveMutations() {
        List<byte[]> seeds = List.of(
                bytes(PcpServerTest.pmpAddress()),
                bytes(PcpServerTest.pmpMap(2, 8080, 18080, 3600)),
                bytes(PcpServerTest.pmpMap(1, 5000, 0, 0)),
                bytes(PcpServerTest.pcpMap(3600, HOST, (byte) 1, IpProtocol.TCP, 8080, 18080, 0)),
                bytes(PcpServerTest.pcpPeer(60, HOST, IpProtocol.UDP, 4000, Ip4.parse("198.51.100.9"), 3478)),
                bytes(PcpServerTest.pcpHeader(PcpServer.OP_ANNOUNCE, 0, HOST)),
                bytes(PcpServerTest.filter(PcpServerTest.filter(PcpServerTest.pcpMap(600, HOST, (byte) 2, IpProtocol.UDP,
                        9000, 19000, 0), 128, 3478, Ip4.parse("198.51.100.9")), 120, 0, Ip4.parse("203.0.113.0"))));
        Random rnd = new Random(13);
        int answered = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] m = mutate(rnd, seeds.get(rnd.nextInt(seeds.size())), 1200);
            ByteBuf req = Unpooled.wrappedBuffer(m);
            ByteBuf resp = pc.pcpServer().handle(req, rnd.nextInt(4) == 0 ? HOST + 1 : HOST, ctx, ALLOC);
            req.release();
            if (resp != null) {
                answered++;
                int v = resp.getUnsignedByte(0);
                assertTrue(v == 0 || v == 2, "version");
                assertTrue((resp.getUnsignedByte(1) & 0x80) != 0, "R bit / opcode + 128");
                assertTrue(resp.readableBytes() <= PcpServer.MAX_MESSAGE);
                assertEquals(0, resp.readableBytes() & 3, "a multiple of 4");
                resp.release();
            }
            if (i % 1000 == 0) {
                clock.addAndGet(600_000_000_000L);
                pc.expireLeases();
            }
            assertTrue(pc.leaseTable().size() <= 32);
            if (i % 100 == 0) {
                for (Lease l : pc.leaseTable().all()) {
                    assertTrue(l.filters().size() <= pc.config().maxFiltersPerMapping(), l.toString());
                }
            }
        }
        assertTrue(answered > 5_000, "most mutations still get an answer: " + answered);
        assertTrue(nat.engine().mappings().size() <= 64 + nat.engine().expectationCount());
    }

    @Test
    void soapParserSurvivesMutations() {
        String body = "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                + "<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:1\">"
                + IgdHttpHandlerTest.add("18080", "TCP", "8080", "10.75.0.2", "60")
                + "</u:AddPortMapping></s:Body></s:Envelope>";
        byte[] seed = body.getBytes(StandardCharsets.UTF_8);
        Random rnd = new Random(17);
        int parsed = 0;
        for (int i = 0; i < 5_000; i++) {
            try {
                SoapRequest r = SoapRequest.parse(mutate(rnd, seed, 4096));
                assertNotNull(r.action());
                parsed++;
            } catch (SoapRequest.Malformed expected) {
                // refused: fine
            }
        }
        assertTrue(parsed > 100, "some mutations still parse: " + parsed);
    }

    @Test
    void ssdpSurvivesMutations() {
        EmbeddedChannel ch = new EmbeddedChannel(new SsdpHandler(pc, "http://10.75.0.1:5000/rootDesc.xml"));
        byte[] seed = SsdpHandlerTest.msearch("urn:schemas-upnp-org:device:InternetGatewayDevice:1")
                .getBytes(StandardCharsets.US_ASCII);
        Random rnd = new Random(19);
        InetSocketAddress from = new InetSocketAddress("10.75.0.2", 40000);
        for (int i = 0; i < 5_000; i++) {
            ch.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(mutate(rnd, seed, 2000)),
                    new InetSocketAddress("239.255.255.250", 1900), from));
            ch.advanceTimeBy(5, java.util.concurrent.TimeUnit.SECONDS); // past any MX delay
            ch.runScheduledPendingTasks();
            DatagramPacket p;
            while ((p = ch.readOutbound()) != null) {
                assertTrue(p.content().toString(StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200 OK\r\n"));
                p.release();
            }
        }
        assertEquals(5_000, pc.counters().get(PortControlCounter.SSDP_ANSWERED)
                + pc.counters().get(PortControlCounter.SSDP_DROPPED));
        assertEquals(0, pc.counters().get(PortControlCounter.SSDP_PENDING_FULL), "each answered before the next");
        assertFalse(ch.finish());
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), a);
        b.release();
        return a;
    }
}

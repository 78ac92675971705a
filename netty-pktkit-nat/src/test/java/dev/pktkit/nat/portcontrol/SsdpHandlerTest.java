package dev.pktkit.nat.portcontrol;

import dev.pktkit.nat.Nat;
import dev.pktkit.nat.NatConfig;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** SSDP M-SEARCH answers (UDA 1.1 §1.3.2–1.3.3) and what is dropped. */
class SsdpHandlerTest {
    static final InetSocketAddress CLIENT = new InetSocketAddress("10.74.0.2", 40000);
    private EmbeddedChannel ch;
    private Nat nat;
    private PortControl pc;

    @BeforeEach
    void setUp() {
        ch = new EmbeddedChannel();
        nat = Nat.create(ch.eventLoop(), NatConfig.builder().outsideAddresses("198.51.100.1")
                .insideAddress("10.74.0.1").build());
        setUp(PortControlConfig.builder());
    }

    private void setUp(PortControlConfig.Builder b) {
        ch.freezeTime();
        pc = PortControl.create(nat, b.random(new PortControlScheduleTest.Latest()).build());
        ch.pipeline().addLast(new SsdpHandler(pc, "http://10.74.0.1:5000/rootDesc.xml"));
    }

    private void send(String text, String to) {
        ch.writeInbound(new DatagramPacket(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII),
                new InetSocketAddress(to, 1900), CLIENT));
    }

    private void advance(long millis) {
        ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
    }

    /**
     * UDA 1.1 §1.3.3: a search to the group is answered after a random delay below min(MX, 5) s (the random source
     * here picks the top: MX s - 1 ms), a unicast one at once; a multicast search without a valid MX is dropped.
     */
    @Test
    void multicastSearchesWaitForTheirMxAndUnicastOnesDoNot() {
        send(msearch("upnp:rootdevice").replace("MX: 2", "MX: 3"), "239.255.255.250");
        assertTrue(answers().isEmpty(), "not at once");
        advance(2998);
        assertTrue(answers().isEmpty());
        advance(1);
        assertEquals(1, answers().size(), "at 3 s - 1 ms");
        send(msearch("upnp:rootdevice").replace("MX: 2", "MX: 120"), "239.255.255.250");
        advance(4998);
        assertTrue(answers().isEmpty());
        advance(1);
        assertEquals(1, answers().size(), "an MX above 5 counts as 5");
        send(msearch("upnp:rootdevice").replace("MX: 2\r\n", ""), "10.74.0.1");
        assertEquals(1, answers().size(), "unicast: at once, MX not needed");
        for (String mx : new String[]{"MX: 2\r\n", "MX: 0\r\n", "MX: two\r\n", "MX: -1\r\n"}) {
            String m = msearch("upnp:rootdevice").replace("MX: 2\r\n", mx.equals("MX: 2\r\n") ? "" : mx);
            send(m, "239.255.255.250");
        }
        advance(10_000);
        assertTrue(answers().isEmpty(), "multicast without a valid MX: dropped");
        assertEquals(3, pc.counters().get(PortControlCounter.SSDP_ANSWERED));
        assertEquals(4, pc.counters().get(PortControlCounter.SSDP_DROPPED));
    }

    /** At most maxSsdpPending searches wait; more meanwhile are dropped and counted, and room comes back. */
    @Test
    void pendingAnswersAreBounded() {
        tearDown();
        ch = new EmbeddedChannel();
        nat = Nat.create(ch.eventLoop(), NatConfig.builder().outsideAddresses("198.51.100.1")
                .insideAddress("10.74.0.1").build());
        setUp(PortControlConfig.builder().maxSsdpPending(2));
        for (int i = 0; i < 5; i++) {
            send(msearch("ssdp:all"), "239.255.255.250");
        }
        assertEquals(3, pc.counters().get(PortControlCounter.SSDP_PENDING_FULL));
        advance(2000);
        assertEquals(12, answers().size(), "two searches, six answers each");
        send(msearch("ssdp:all"), "239.255.255.250");
        advance(2000);
        assertEquals(6, answers().size());
        assertEquals(3, pc.counters().get(PortControlCounter.SSDP_ANSWERED));
    }

    @AfterEach
    void tearDown() {
        pc.close();
        nat.close();
        ch.finishAndReleaseAll();
    }

    /** A search to the group, and what it got once its MX delay (at most 5 s) is over. */
    private List<String> search(String text) {
        ch.writeInbound(new DatagramPacket(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII),
                new InetSocketAddress("239.255.255.250", 1900), CLIENT));
        ch.advanceTimeBy(5, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        return answers();
    }

    private List<String> answers() {
        List<String> out = new ArrayList<>();
        DatagramPacket p;
        while ((p = ch.readOutbound()) != null) {
            assertEquals(CLIENT, p.recipient());
            out.add(p.content().toString(StandardCharsets.US_ASCII));
            p.release();
        }
        return out;
    }

    static String msearch(String st) {
        return "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: " + st + "\r\n\r\n";
    }

    @Test
    void answersTheTypesItHasInTheVersionAsked() {
        List<String> r = search(msearch("urn:schemas-upnp-org:device:InternetGatewayDevice:1"));
        assertEquals(1, r.size());
        assertTrue(r.get(0).startsWith("HTTP/1.1 200 OK\r\n"), r.get(0));
        assertTrue(r.get(0).contains("\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"), r.get(0));
        assertTrue(r.get(0).contains("\r\nLOCATION: http://10.74.0.1:5000/rootDesc.xml\r\n"), r.get(0));
        assertTrue(r.get(0).contains("\r\nUSN: uuid:" + pc.config().uuid() + "::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"));
        assertEquals(1, search(msearch("urn:schemas-upnp-org:service:WANIPConnection:2")).size());
        assertEquals(6, search(msearch("ssdp:all")).size());
        assertEquals(1, search(msearch("upnp:rootdevice")).size());
        assertEquals(4, pc.counters().get(PortControlCounter.SSDP_ANSWERED));
    }

    @Test
    void dropsWhatIsNotASearchForUs() {
        assertTrue(search(msearch("urn:schemas-upnp-org:service:WANIPConnection:3")).isEmpty());
        assertTrue(search(msearch("urn:schemas-upnp-org:service:WANPPPConnection:1")).isEmpty());
        assertTrue(search("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n\r\n").isEmpty());
        assertTrue(search(msearch("upnp:rootdevice").replace("MAN: \"ssdp:discover\"\r\n", "")).isEmpty());
        assertTrue(search("M-SEARCH * HTTP/1.1\r\nST: " + "x".repeat(2000) + "\r\n\r\n").isEmpty());
        assertTrue(search("M-SEARCH * HTTP/1.1\r\n\u0001\u0002\u0003 binary junk here\r\n").isEmpty());
        assertEquals(6, pc.counters().get(PortControlCounter.SSDP_DROPPED));
    }
}

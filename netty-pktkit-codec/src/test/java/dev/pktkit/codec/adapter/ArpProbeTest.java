package dev.pktkit.codec.adapter;

import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Dhcp4;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import static dev.pktkit.codec.adapter.AdapterHarness.arpRequest;
import static dev.pktkit.codec.adapter.AdapterHarness.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** RFC 5227 probes (sender 0.0.0.0): the adapter answers those for its own address so the prober sees it. */
class ArpProbeTest {
    static final long HOLDER = mac("02:00:00:00:00:0a");
    static final long PROBER = mac("02:00:00:00:00:0b");

    static L2Adapter holder(String cidr) {
        return L2Adapter.builder().mac(HOLDER).ipv4(cidr).ipv6(false).build();
    }

    @Test
    void probeForOwnAddressGetsAUnicastReplyWithTargetZero() {
        try (AdapterHarness h = new AdapterHarness(holder("10.0.0.23/24"))) {
            h.discardOut(); // gratuitous ARP
            h.frameIn(arpRequest(PROBER, "0.0.0.0", "10.0.0.23"));
            ByteBuf r = h.frameOut();
            assertNotNull(r, "a probe for our address is answered");
            try {
                int off = r.readerIndex();
                assertEquals(PROBER, Ethernet.dst(r, off));
                assertEquals(HOLDER, Ethernet.src(r, off));
                assertEquals(Arp.OP_REPLY, Arp.operation(r, off + 14));
                assertEquals(HOLDER, Arp.senderMac(r, off + 14));
                assertEquals(Ip4.parse("10.0.0.23"), Arp.senderIp(r, off + 14));
                assertEquals(PROBER, Arp.targetMac(r, off + 14));
                assertEquals(0, Arp.targetIp(r, off + 14));
            } finally {
                r.release();
            }
            assertEquals(1, h.adapter.counters().arpProbesAnswered());
            assertEquals(-1, h.adapter.arpCache().find(0, 0), "a probe teaches no neighbour");
            assertEquals(0, h.adapter.arpCache().size());
        }
    }

    @Test
    void probesForOtherAddressesAndProbeRepliesAreNotAnswered() {
        try (AdapterHarness h = new AdapterHarness(holder("10.0.0.23/24"))) {
            h.discardOut();
            h.frameIn(arpRequest(PROBER, "0.0.0.0", "10.0.0.24"));
            assertNull(h.frameOut());
            h.frameIn(AdapterHarness.arpReply(PROBER, "0.0.0.0", HOLDER, "10.0.0.23"));
            assertNull(h.frameOut());
            assertEquals(0, h.adapter.counters().arpProbesAnswered());
        }
        try (AdapterHarness h = new AdapterHarness(L2Adapter.builder().mac(HOLDER).ipv6(false).build())) {
            h.frameIn(arpRequest(PROBER, "0.0.0.0", "0.0.0.0"));
            assertNull(h.frameOut(), "no address, nothing to defend");
        }
    }

    /** This project's DHCP client probes an offered address that a static host holds; the answer makes it decline. */
    @Test
    void dhcpClientSeesTheHolderAndDeclines() {
        L2Adapter client = L2AdapterDhcpTest.base().build();
        try (AdapterHarness c = new AdapterHarness(client);
             AdapterHarness holder = new AdapterHarness(holder("10.0.0.23/24"))) {
            holder.discardOut();
            L2AdapterDhcpTest.Sent discover = L2AdapterDhcpTest.nextDhcp(c);
            c.frameIn(L2AdapterDhcpTest.reply(Dhcp4.OFFER, discover.xid(), L2AdapterDhcpTest.OFFERED, 3600, false));
            L2AdapterDhcpTest.Sent request = L2AdapterDhcpTest.nextDhcp(c);
            c.frameIn(L2AdapterDhcpTest.reply(Dhcp4.ACK, request.xid(), L2AdapterDhcpTest.OFFERED, 3600, false));
            ByteBuf probe = c.frameOut();
            assertEquals(0, Arp.senderIp(probe, probe.readerIndex() + 14));
            assertEquals(MacAddress.BROADCAST, Ethernet.dst(probe, probe.readerIndex()));
            holder.frameIn(probe); // the cable: the probe reaches the holder ...
            ByteBuf answer = holder.frameOut();
            assertNotNull(answer, "the holder answers the probe");
            c.frameIn(answer); // ... and its answer the prober
            L2AdapterDhcpTest.Sent decline = L2AdapterDhcpTest.nextDhcp(c);
            assertNotNull(decline);
            assertEquals(Dhcp4.DECLINE, decline.type());
            assertEquals(L2AdapterDhcpTest.OFFERED, decline.requested());
            assertNull(client.ipv4Address());
        }
    }
}

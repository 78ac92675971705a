package dev.pktkit.codec.adapter;

import dev.pktkit.codec.device.EchoResponder;
import dev.pktkit.codec.wire.Arp;
import dev.pktkit.codec.wire.Ethernet;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import static dev.pktkit.codec.adapter.AdapterHarness.arpRequest;
import static dev.pktkit.codec.adapter.AdapterHarness.frame;
import static dev.pktkit.codec.adapter.AdapterHarness.ping4;
import static dev.pktkit.codec.adapter.L2AdapterIpv4Test.ME;
import static dev.pktkit.codec.adapter.L2AdapterIpv4Test.PEER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** While the port stays unwritable the adapter (and an echo responder behind it) answer nothing and count it. */
class AdapterWritabilityTest {
    static void setWritable(AdapterHarness h, boolean writable) {
        h.channel.unsafe().outboundBuffer().setUserDefinedWritability(1, writable);
    }

    @Test
    void repliesAreDroppedAndCountedWhileTheChannelStaysUnwritable() {
        L2Adapter adapter = L2AdapterIpv4Test.base().build();
        try (AdapterHarness h = new AdapterHarness(adapter)) {
            EchoResponder echo = new EchoResponder(adapter);
            h.channel.pipeline().addAfter(h.channel.pipeline().context(adapter).name(), "echo", echo);
            h.discardOut();
            // Learn the peer first so the ping reply would need no resolution.
            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
            ByteBuf r = h.frameOut();
            assertNotNull(r);
            r.release();

            setWritable(h, false);
            for (int i = 0; i < 100; i++) {
                h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
                h.frameIn(arpRequest(PEER, "0.0.0.0", "10.0.0.1"));
                h.frameIn(frame(ME, PEER, Ethernet.IPV4, ping4("10.0.0.2", "10.0.0.1", 1, i)));
            }
            assertNull(h.frameOut(), "nothing queued while unwritable");
            assertEquals(200, adapter.counters().drops(AdapterDropReason.CONGESTED));
            assertEquals(100, echo.congested());
            assertEquals(0, echo.replies());

            setWritable(h, true);
            h.frameIn(arpRequest(PEER, "10.0.0.2", "10.0.0.1"));
            ByteBuf reply = h.frameOut();
            assertNotNull(reply, "answers again once writable");
            assertEquals(Arp.OP_REPLY, Arp.operation(reply, reply.readerIndex() + 14));
            reply.release();
            h.frameIn(frame(ME, PEER, Ethernet.IPV4, ping4("10.0.0.2", "10.0.0.1", 1, 1000)));
            ByteBuf pong = h.frameOut();
            assertNotNull(pong);
            pong.release();
            assertEquals(1, echo.replies());
        }
    }

    @Test
    void resolutionRequestsAreNotQueuedWhileUnwritable() {
        L2Adapter adapter = L2AdapterIpv4Test.base().build();
        try (AdapterHarness h = new AdapterHarness(adapter)) {
            h.discardOut();
            setWritable(h, false);
            io.netty.channel.ChannelFuture w = h.channel.writeAndFlush(
                    AdapterHarness.udp4("10.0.0.1", "10.0.0.9", L2Adapter.HEADROOM, 4));
            assertEquals(1, adapter.counters().drops(AdapterDropReason.CONGESTED), "no ARP request queued");
            setWritable(h, true);
            // The retransmission timer asks again once the port drains.
            h.advance(1, java.util.concurrent.TimeUnit.SECONDS);
            L2AdapterIpv4Test.assertArpRequest(h.frameOut(), dev.pktkit.codec.wire.MacAddress.BROADCAST, "10.0.0.9");
            assertEquals(false, w.isDone());
        }
    }
}

package dev.pktkit.vtcp.host;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.vtcp.engine.TcpEngineConfig;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Segmentation offload follows the device: on for a channel marked {@link OffloadPacket#ACCEPTS} (as tuntap's
 * {@code VirtioNetCodec} marks a TUN), off for any other; a configured size is kept either way.
 */
class AutoOffloadTest {
    private static int largeBytes(EmbeddedChannel ch, VirtualHost host) {
        ch.pipeline().addLast(host);
        try {
            return host.tcpLayer().engine.largeSegmentBytes();
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void onForADeviceThatTakesOffloadPackets() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        assertEquals(TcpLayer.AUTO_LARGE_SEGMENT_BYTES,
                largeBytes(ch, VirtualHost.builder().address("10.0.0.2").build()));
    }

    @Test
    void offForAPlainPacketChannel() {
        assertEquals(0, largeBytes(new EmbeddedChannel(), VirtualHost.builder().address("10.0.0.2").build()));
    }

    @Test
    void markedAfterTheHostWasAddedBeforeRegistration() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        VirtualHost host = VirtualHost.builder().address("10.0.0.2").build();
        ch.pipeline().addLast(host); // handlerAdded waits for registration
        ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        ch.register();
        assertEquals(TcpLayer.AUTO_LARGE_SEGMENT_BYTES, host.tcpLayer().engine.largeSegmentBytes());
        ch.finishAndReleaseAll();
    }

    @Test
    void aConfiguredSizeIsKept() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        assertEquals(32_000, largeBytes(ch, VirtualHost.builder().address("10.0.0.2")
                .tcp(new TcpEngineConfig().largeSegmentBytes(32_000)).build()));
    }
}

package dev.pktkit.switching;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.wire.Ethernet;
import dev.pktkit.codec.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Offload state through an {@link L2Hub}: a frame whose TCP checksum is partial (and which may be a large segment)
 * is switched with its state to ports whose channel accepts it ({@link OffloadPacket#ACCEPTS}), and completed in
 * Java for the others; unicast, flood, VLAN tag changes and the mirror.
 */
class L2HubOffloadTest {
    private static final long MAC_A = 0x0200_0000_000AL;
    private static final long MAC_B = 0x0200_0000_000BL;
    private static final long MAC_UNKNOWN = 0x0200_0000_00FFL;
    private static final int SRC = 0x0A00_000A; // 10.0.0.10
    private static final int DST = 0x0A00_000B; // 10.0.0.11
    private static final int PAYLOAD = 3000;

    private L2Hub hub;
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final List<ByteBuf> originals = new ArrayList<>();

    @BeforeEach
    void setUp() {
        hub = L2Hub.builder().executor(ImmediateEventExecutor.INSTANCE).tickInterval(Duration.ZERO).build();
    }

    @AfterEach
    void tearDown() {
        hub.close();
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
        for (ByteBuf b : originals) {
            assertEquals(0, b.refCnt(), "every frame the test sent was released");
        }
    }

    private EmbeddedChannel port(boolean accepts, L2PortOptions options) {
        EmbeddedChannel ch = new EmbeddedChannel();
        if (accepts) {
            ch.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        }
        hub.attach(ch, options);
        channels.add(ch);
        return ch;
    }

    /**
     * An Ethernet frame (optionally with an 802.1Q tag) carrying an IPv4 TCP segment of {@code PAYLOAD} bytes whose
     * checksum field holds only the pseudo-header sum, as Linux hands a CHECKSUM_PARTIAL frame to a TAP device.
     */
    private ByteBuf partialFrame(long dstMac, long srcMac, int vid) {
        int l2 = vid < 0 ? Ethernet.HEADER_LENGTH : Ethernet.HEADER_LENGTH + 4;
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(l2 + 40 + PAYLOAD);
        MacAddress.write(b, dstMac);
        MacAddress.write(b, srcMac);
        if (vid >= 0) {
            b.writeShort(Ethernet.TYPE_VLAN).writeShort(vid);
        }
        b.writeShort(Ethernet.IPV4);
        PartialTcp.write(b, SRC, DST, PAYLOAD);
        originals.add(b);
        return b;
    }

    private static OffloadPacket offloaded(ByteBuf frame, int l2) {
        return new OffloadPacket(frame, OffloadPacket.FLAG_NEEDS_CSUM, OffloadPacket.GSO_TCPV4, l2 + 40, 1448,
                l2 + 20, 16);
    }

    /** Where the IPv4 header of {@code frame} starts, from its reader index: 14, or 18 with one tag. */
    private static int l2Length(ByteBuf frame) {
        return frame.getUnsignedShort(frame.readerIndex() + 12) == Ethernet.TYPE_VLAN ? 18 : 14;
    }

    /** The TCP checksum over the whole segment of {@code frame}, as a receiver checks it: 0 when correct. */
    private static int verify(ByteBuf frame) {
        return PartialTcp.verify(frame, frame.readerIndex() + l2Length(frame));
    }

    private static int tcpChecksum(ByteBuf frame) {
        return frame.getUnsignedShort(frame.readerIndex() + l2Length(frame) + 20 + 16);
    }

    private void learn(EmbeddedChannel ch, long mac) {
        learn(ch, mac, -1);
    }

    /**
     * Makes the hub learn {@code mac} on {@code ch}'s port (a broadcast from it, tagged with {@code vid} unless
     * -1), and drains what it flooded.
     */
    private void learn(EmbeddedChannel ch, long mac, int vid) {
        ByteBuf hello = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        MacAddress.write(hello, -1L & 0xFFFF_FFFF_FFFFL);
        MacAddress.write(hello, mac);
        if (vid >= 0) {
            hello.writeShort(Ethernet.TYPE_VLAN).writeShort(vid);
        }
        hello.writeShort(0x88B5).writeZero(46);
        originals.add(hello);
        ch.writeInbound(hello);
        for (EmbeddedChannel c : channels) {
            for (Object m; (m = c.readOutbound()) != null; ) {
                io.netty.util.ReferenceCountUtil.release(m);
            }
        }
    }

    @Test
    void unicastToAPortThatAcceptsOffloadsKeepsThePacketAndItsPartialChecksum() {
        EmbeddedChannel a = port(false, L2PortOptions.defaults());
        EmbeddedChannel b = port(true, L2PortOptions.defaults());
        learn(b, MAC_B);
        ByteBuf frame = partialFrame(MAC_B, MAC_A, -1);
        int partial = tcpChecksum(frame);
        OffloadPacket in = offloaded(frame, 14);
        a.writeInbound(in);
        OffloadPacket out = assertInstanceOf(OffloadPacket.class, b.readOutbound());
        try {
            assertSame(in, out, "switched as it came: no copy, no new holder");
            assertEquals(partial, tcpChecksum(out.content()), "the TCP checksum is still partial");
            assertNotEquals(0, verify(out.content()), "and not complete");
            assertEquals(OffloadPacket.GSO_TCPV4, out.gsoType());
            assertEquals(1448, out.gsoSize());
            assertEquals(34, out.checksumStart());
            assertEquals(1, hub.port(b).counters().framesOut(), "the learning flood went to a only");
        } finally {
            out.release();
        }
        assertNull(b.readOutbound());
    }

    @Test
    void unicastToAPlainPortCompletesTheChecksumInJava() {
        EmbeddedChannel a = port(false, L2PortOptions.defaults());
        EmbeddedChannel b = port(false, L2PortOptions.defaults());
        learn(b, MAC_B);
        a.writeInbound(offloaded(partialFrame(MAC_B, MAC_A, -1), 14));
        ByteBuf out = assertInstanceOf(ByteBuf.class, b.readOutbound());
        try {
            assertFalse(((Object) out) instanceof OffloadPacket);
            assertEquals(0, verify(out), "a complete TCP checksum over the whole (large) segment");
        } finally {
            out.release();
        }
    }

    @Test
    void aFloodGivesEachPortTheFormItWants() {
        EmbeddedChannel a = port(false, L2PortOptions.defaults());
        EmbeddedChannel offloading1 = port(true, L2PortOptions.defaults());
        EmbeddedChannel plain = port(false, L2PortOptions.defaults());
        EmbeddedChannel offloading2 = port(true, L2PortOptions.defaults());
        ByteBuf frame = partialFrame(MAC_UNKNOWN, MAC_A, -1);
        int partial = tcpChecksum(frame);
        a.writeInbound(offloaded(frame, 14));
        for (EmbeddedChannel ch : List.of(offloading1, offloading2)) {
            OffloadPacket out = assertInstanceOf(OffloadPacket.class, ch.readOutbound());
            try {
                assertEquals(partial, tcpChecksum(out.content()), "still partial for " + ch
                        + " (completing the plain port's copy did not touch the shared frame)");
                assertEquals(34, out.checksumStart());
                assertEquals(OffloadPacket.FLAG_NEEDS_CSUM, out.flags());
            } finally {
                out.release();
            }
        }
        ByteBuf out = assertInstanceOf(ByteBuf.class, plain.readOutbound());
        try {
            assertEquals(0, verify(out), "the plain port got a completed copy");
        } finally {
            out.release();
        }
        assertNull(a.readOutbound(), "never back to the source");
    }

    @Test
    void aTagAddedOrRemovedOnTheWayMovesTheOffsets() {
        EmbeddedChannel access = port(true, L2PortOptions.access(10));
        EmbeddedChannel trunk = port(true, L2PortOptions.trunk(0, 10));
        learn(trunk, MAC_B, 10);

        // access (untagged) -> trunk (tagged): the tag goes in front of the IP header, the offsets move by 4
        ByteBuf untagged = partialFrame(MAC_B, MAC_A, -1);
        int partial = tcpChecksum(untagged);
        access.writeInbound(offloaded(untagged, 14));
        OffloadPacket out = assertInstanceOf(OffloadPacket.class, trunk.readOutbound());
        try {
            ByteBuf c = out.content();
            assertEquals(Ethernet.TYPE_VLAN, c.getUnsignedShort(c.readerIndex() + 12));
            assertEquals(10, c.getUnsignedShort(c.readerIndex() + 14) & 0x0FFF);
            assertEquals(38, out.checksumStart());
            assertEquals(58, out.headerLength());
            assertEquals(partial, tcpChecksum(c), "still partial behind the tag");
        } finally {
            out.release();
        }

        // trunk (tagged) -> access (untagged): the tag comes off, the offsets move back
        learn(access, MAC_A);
        ByteBuf tagged = partialFrame(MAC_A, MAC_B, 10);
        trunk.writeInbound(offloaded(tagged, 18));
        OffloadPacket back = assertInstanceOf(OffloadPacket.class, access.readOutbound());
        try {
            ByteBuf c = back.content();
            assertEquals(Ethernet.IPV4, c.getUnsignedShort(c.readerIndex() + 12));
            assertEquals(34, back.checksumStart());
            assertEquals(54, back.headerLength());
            assertEquals(partial, tcpChecksum(c));
        } finally {
            back.release();
        }
    }

    @Test
    void theMirrorSeesOffloadedFramesInTheFormItWants() {
        EmbeddedChannel a = port(false, L2PortOptions.defaults());
        EmbeddedChannel b = port(true, L2PortOptions.defaults());
        EmbeddedChannel mirror = port(false, L2PortOptions.mirror());
        learn(b, MAC_B);
        ByteBuf frame = partialFrame(MAC_B, MAC_A, -1);
        int partial = tcpChecksum(frame);
        a.writeInbound(offloaded(frame, 14));
        ByteBuf seen = assertInstanceOf(ByteBuf.class, mirror.readOutbound());
        try {
            assertEquals(0, verify(seen), "a capture sees a valid frame");
        } finally {
            seen.release();
        }
        OffloadPacket out = assertInstanceOf(OffloadPacket.class, b.readOutbound());
        try {
            assertEquals(partial, tcpChecksum(out.content()), "the destination's frame is untouched by the mirror");
        } finally {
            out.release();
        }
    }

    @Test
    void offloadStateThatDoesNotFitIsDroppedAndCountedAtAPlainPort() {
        EmbeddedChannel a = port(false, L2PortOptions.defaults());
        EmbeddedChannel b = port(false, L2PortOptions.defaults());
        learn(b, MAC_B);
        a.writeInbound(new OffloadPacket(partialFrame(MAC_B, MAC_A, -1), OffloadPacket.FLAG_NEEDS_CSUM,
                OffloadPacket.GSO_NONE, 0, 0, 60_000, 16)); // checksum start beyond the frame
        assertNull(b.readOutbound());
        assertEquals(1, hub.port(a).counters().drops(DropReason.MALFORMED));
    }
}

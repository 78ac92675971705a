package dev.pktkit.switching;

import dev.pktkit.codec.offload.OffloadPacket;
import dev.pktkit.codec.wire.Checksums;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Offload state through an {@link L3Hub}: kept for ports that accept it, completed for the others. */
class L3HubOffloadTest {
    private static final int SRC = 0x0A00_010A; // 10.0.1.10
    private static final int DST = 0x0A00_020A; // 10.0.2.10
    private static final int PAYLOAD = 3000;

    private L3Hub hub;
    private EmbeddedChannel a;
    private EmbeddedChannel offloading;
    private EmbeddedChannel plain;

    @BeforeEach
    void setUp() {
        hub = L3Hub.builder().routerMode(true).executor(ImmediateEventExecutor.INSTANCE).build();
        a = new EmbeddedChannel();
        offloading = new EmbeddedChannel();
        offloading.attr(OffloadPacket.ACCEPTS).set(Boolean.TRUE);
        plain = new EmbeddedChannel();
        hub.attach(a, L3PortOptions.prefixes("10.0.1.0/24"));
        hub.attach(offloading, L3PortOptions.prefixes("10.0.2.0/24"));
        hub.attach(plain, L3PortOptions.prefixes("10.0.3.0/24"));
    }

    @AfterEach
    void tearDown() {
        hub.close();
        a.finishAndReleaseAll();
        offloading.finishAndReleaseAll();
        plain.finishAndReleaseAll();
    }

    /**
     * An IPv4 TCP packet to {@code dst} with {@code PAYLOAD} bytes whose TCP checksum field holds only the
     * pseudo-header sum (as Linux hands a CHECKSUM_PARTIAL packet to a TUN device with virtio-net headers).
     */
    private static ByteBuf partialTcp(int dst) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(20 + 20 + PAYLOAD);
        PartialTcp.write(b, SRC, dst, PAYLOAD);
        return b;
    }

    /** The TCP checksum over the whole segment, as a receiver checks it: 0 when correct. */
    private static int verify(ByteBuf pkt) {
        return PartialTcp.verify(pkt, pkt.readerIndex());
    }

    private static OffloadPacket offloaded(ByteBuf pkt) {
        return new OffloadPacket(pkt, OffloadPacket.FLAG_NEEDS_CSUM, OffloadPacket.GSO_TCPV4, 40, 1448, 20, 16);
    }

    @Test
    void aPortThatAcceptsOffloadsGetsThePacketWithItsPartialChecksumStillPartial() {
        ByteBuf pkt = partialTcp(DST);
        int partial = pkt.getUnsignedShort(20 + 16);
        OffloadPacket in = offloaded(pkt);
        a.writeInbound(in);
        OffloadPacket out = assertInstanceOf(OffloadPacket.class, offloading.readOutbound());
        try {
            assertSame(in, out, "forwarded as it came: no copy, no new holder");
            ByteBuf c = out.content();
            assertEquals(63, c.getUnsignedByte(c.readerIndex() + 8), "the router decremented the TTL");
            assertEquals(0, Checksums.finish(Checksums.partial(c, c.readerIndex(), 20, 0)), "IPv4 header valid");
            assertEquals(partial, c.getUnsignedShort(c.readerIndex() + 36), "the TCP checksum is still partial");
            assertEquals(1448, out.gsoSize());
            assertEquals(20, out.checksumStart());
            assertEquals(1, hub.port(offloading).counters().framesOut());
            assertEquals(40 + PAYLOAD, hub.port(offloading).counters().bytesOut());
        } finally {
            out.release();
        }
        assertEquals(0, pkt.refCnt(), "released with the holder");
    }

    @Test
    void aPlainPortGetsAValidPacketWithTheChecksumCompletedInJava() {
        ByteBuf pkt = partialTcp(0x0A00_030A);
        a.writeInbound(offloaded(pkt));
        ByteBuf out = assertInstanceOf(ByteBuf.class, plain.readOutbound());
        try {
            assertFalse(((Object) out) instanceof OffloadPacket);
            assertEquals(0, verify(out), "a complete TCP checksum over the whole (large) segment");
            assertEquals(63, out.getUnsignedByte(out.readerIndex() + 8));
        } finally {
            out.release();
        }
        assertEquals(0, pkt.refCnt());
    }

    @Test
    void aSharedPacketIsCopiedBeforeTheTtlChangeAndKeepsItsState() {
        ByteBuf pkt = partialTcp(DST);
        pkt.retain(); // someone else holds it too
        a.writeInbound(offloaded(pkt));
        OffloadPacket out = assertInstanceOf(OffloadPacket.class, offloading.readOutbound());
        try {
            assertEquals(64, pkt.getUnsignedByte(8), "the shared original is untouched");
            assertEquals(63, out.content().getUnsignedByte(out.content().readerIndex() + 8));
            assertEquals(OffloadPacket.FLAG_NEEDS_CSUM, out.flags());
            assertEquals(OffloadPacket.GSO_TCPV4, out.gsoType());
        } finally {
            out.release();
        }
        assertEquals(1, pkt.refCnt(), "the hub gave up its reference to the original");
        pkt.release();
    }

    @Test
    void offloadStateThatDoesNotFitIsDroppedAndCounted() {
        ByteBuf pkt = partialTcp(0x0A00_030A);
        a.writeInbound(new OffloadPacket(pkt, OffloadPacket.FLAG_NEEDS_CSUM, OffloadPacket.GSO_NONE, 0, 0,
                60_000, 16)); // checksum start beyond the packet
        assertNull(plain.readOutbound());
        assertEquals(0, pkt.refCnt());
        assertEquals(1, hub.port(a).counters().drops(DropReason.MALFORMED));
    }
}

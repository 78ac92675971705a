package dev.pktkit.nat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.nat.defrag.DefragConfig;
import dev.pktkit.nat.defrag.Defragmenter;
import dev.pktkit.nat.defrag.Fragmenter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing of the NAT's wire input: the translator in both directions (IPv4 NAPT and NAT64, one
 * engine kept across inputs so that mappings, sessions and expiry build up state) and the defragmenter with the
 * fragmenter behind it. The first byte picks the entry point and a mutation: fix up the IPv4 header checksum
 * (so that inputs get past validation), steer the destination to the outside address, or advance the clock.
 * Nothing may throw; every buffer is released (paranoid leak detection and LeakGuard fail the class otherwise).
 * {@code mvn verify} fuzzes for {@link #MAX_DURATION} (JAZZER_FUZZ=1 in this module's POM).
 */
class NatFuzzTest {
    static final String MAX_DURATION = "10s";
    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final NatEngine ENGINE = new NatEngine(NatConfig.builder().outsideAddresses("203.0.113.1")
            .insideAddress("10.0.0.1").filtering(Filtering.ADDRESS_DEPENDENT).maxMappings(512).nat64()
            .ipv6Policy(Ipv6Policy.ROUTE).build());
    private static final int PORT_A;
    private static final int PORT_B;
    private static final Defragmenter DEFRAG = new Defragmenter(DefragConfig.builder().ipv6(true).maxDatagrams(8)
            .maxBytes(1 << 18).build());
    private static int clock;

    static {
        int ns = ENGINE.openNamespace();
        PORT_A = ENGINE.addPort(ns);
        PORT_B = ENGINE.addPort(ENGINE.openNamespace());
        ENGINE.addStaticMapping(ns, IpProtocol.TCP, 0x0A000002, 80, 0, 8080, true);
    }

    @FuzzTest(maxDuration = MAX_DURATION)
    void fuzz(byte[] input) {
        if (input.length < 2) {
            return;
        }
        int mode = input[0] & 0xFF;
        int headroom = (mode & 0x40) != 0 ? NatEngine.NAT64_HEADROOM : 0;
        ByteBuf b = (mode & 0x80) != 0 ? ALLOC.directBuffer(headroom + input.length)
                : ALLOC.heapBuffer(headroom + input.length);
        b.writerIndex(headroom).readerIndex(headroom);
        b.writeBytes(input, 1, input.length - 1);
        int off = b.readerIndex();
        if ((mode & 0x08) != 0 && b.readableBytes() >= 20 && (b.getUnsignedByte(off) >>> 4) == 4) {
            if ((mode & 0x10) != 0) {
                b.setInt(off + 16, 0xCB007101); // to the outside address
            }
            int hl = (b.getUnsignedByte(off) & 0x0F) << 2;
            if (hl >= 20 && hl <= b.readableBytes()) {
                b.setShort(off + 10, 0);
                b.setShort(off + 10, Checksums.internet(b, off, hl));
            }
        }
        if ((mode & 0x20) != 0) {
            clock += 1 + (mode & 7) * 60;
            ENGINE.tick(clock);
            DEFRAG.expire(clock);
        }
        switch (mode & 3) {
            case 0 -> finish(ENGINE.outbound(b, (mode & 4) != 0 ? PORT_A : PORT_B, (mode & 0x10) != 0), b);
            case 1 -> finish(ENGINE.inbound(b), b);
            case 2 -> {
                ByteBuf whole = DEFRAG.offer(b, ALLOC);
                if (whole != null) {
                    List<ByteBuf> out = new ArrayList<>();
                    new Fragmenter().fragment(whole, 576 + (mode & 4) * 100, out::add);
                    out.forEach(ByteBuf::release);
                }
            }
            default -> {
                ByteBuf whole = DEFRAG.offer(b, ALLOC);
                if (whole != null) {
                    finish(ENGINE.inbound(whole), whole);
                }
            }
        }
    }

    private static void finish(int verdict, ByteBuf b) {
        if (verdict < NatEngine.DROP && verdict != NatEngine.NEED_HEADROOM) {
            throw new AssertionError("unknown verdict " + verdict);
        }
        b.release();
    }
}

package dev.pktkit.tuntap;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Tcp;
import dev.pktkit.tuntap.vnet.GsoSegmenter;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;
import dev.pktkit.tuntap.vnet.VirtioNetPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;

/**
 * One coverage-guided fuzz target for what reads offload state from the wire: {@link GsoSegmenter} (segmentation,
 * large-segment and partial checksums) and {@link VirtioNetCodec} (inbound {@link VirtioNetPacket}s, outbound
 * oversized packets).
 *
 * <p>The input describes a TCP packet (IPv4 or IPv6, as a TUN packet or a TAP frame with or without an 802.1Q
 * tag, TCP options and payload of fuzzed sizes) built correctly, then damaged: fuzzed bytes overwritten, the end
 * cut off, and a virtio-net header (GSO type, size, checksum offsets) that may not match it. Nothing may throw;
 * every buffer handed in or out must be released exactly once; and when the packet was not damaged and the
 * header matches, the output must be right: segments valid by the codec's own TCP validator, no larger than
 * asked, and together the original payload; an outbound oversized packet must come back as a large segment that
 * cuts into MTU-sized, valid packets.
 *
 * <p>{@code mvn verify} runs it in Jazzer's fuzzing mode ({@code JAZZER_FUZZ=1}, set by this module's surefire
 * configuration) for {@link #MAX_DURATION}; the corpus goes under {@code target/} ({@code jazzer.internal.basedir}).
 * A finding fails the test and is written to {@code target/crash-<sha1>}; copy it into
 * {@code src/test/resources/dev/pktkit/tuntap/OffloadFuzzTestInputs/offloads/} to keep it as a regression seed.
 * Only one {@code @FuzzTest} may run per module in fuzzing mode (a Jazzer limit), hence one harness for both.
 */
class OffloadFuzzTest {
    /** Fuzzing time inside the normal test run; raise it locally for a longer campaign. */
    static final String MAX_DURATION = "10s";
    /**
     * Buffers not tracked by the leak detector (paranoid tracking would slow fuzzing a hundredfold); the harness
     * checks every reference count itself.
     */
    static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(true, true);

    private static final int[] GSO_TYPES = {VirtioNetHeader.GSO_TCPV4, VirtioNetHeader.GSO_TCPV6,
            VirtioNetHeader.GSO_UDP, VirtioNetHeader.GSO_UDP_L4, VirtioNetHeader.GSO_NONE};

    /** The packet a fuzz input describes. */
    private record Packet(ByteBuf buf, boolean v6, boolean ethernet, int l3, int l4, int tcpHeader, byte[] payload,
                          boolean damaged) {
        int matchingGsoType() {
            return v6 ? VirtioNetHeader.GSO_TCPV6 : VirtioNetHeader.GSO_TCPV4;
        }
    }

    @FuzzTest(maxDuration = MAX_DURATION)
    void offloads(FuzzedDataProvider data) {
        int mode = data.consumeInt(0, 3);
        Packet p = packet(data);
        switch (mode) {
            case 0 -> segment(p, data);
            case 1 -> checksums(p, data);
            case 2 -> codecInbound(p, data);
            default -> codecOutbound(p, data);
        }
    }

    private static Packet packet(FuzzedDataProvider data) {
        boolean v6 = data.consumeBoolean();
        boolean ethernet = data.consumeBoolean();
        boolean vlan = ethernet && data.consumeBoolean();
        int optionWords = data.consumeInt(0, 10);
        int payloadLength = data.consumeInt(0, 9000);
        int flags = data.consumeInt(0, 0xFF);
        int damage = data.consumeInt(0, 3);
        int[] at = new int[damage];
        byte[] value = new byte[damage];
        for (int i = 0; i < damage; i++) {
            at[i] = data.consumeInt(0, 200);
            value[i] = data.consumeByte();
        }
        int cut = data.consumeBoolean() ? data.consumeInt(1, 80) : 0;
        byte[] seed = data.consumeBytes(64);
        byte[] payload = new byte[payloadLength];
        for (int i = 0; i < payloadLength; i++) {
            payload[i] = seed.length == 0 ? (byte) i : (byte) (seed[i % seed.length] + i / seed.length);
        }

        ByteBuf b = ALLOC.directBuffer(payloadLength + 140);
        if (ethernet) {
            b.writeLong(0x0200_0000_0002_0200L);
            b.writeInt(0x0000_0001);
            if (vlan) {
                b.writeShort(0x8100).writeShort(7);
            }
            b.writeShort(v6 ? 0x86DD : 0x0800);
        }
        int l3 = b.writerIndex();
        int tcpHeader = 20 + 4 * optionWords;
        int tcpLen = tcpHeader + payloadLength;
        if (v6) {
            Ipv6.writeHeader(b, 0, 0, tcpLen, IpProtocol.TCP, 64, 0xfd00_0001_0000_0000L, 1,
                    0xfd00_0002_0000_0000L, 1);
        } else {
            Ipv4.writeHeader(b, 0x0a01_0001, 0x0a02_0001, IpProtocol.TCP, 64, tcpLen, 0x1234, true);
        }
        int l4 = b.writerIndex();
        ByteBuf opts = ALLOC.heapBuffer(4 * optionWords);
        for (int i = 0; i < 4 * optionWords; i++) {
            opts.writeByte(1); // NOP
        }
        Tcp.writeHeader(b, 40000, 5001, 0xFFFF_F000L, 77, flags, 512, 0, opts, 0, 4 * optionWords);
        opts.release();
        b.writeBytes(payload);
        long pseudo = v6
                ? Checksums.pseudoHeaderV6(0xfd00_0001_0000_0000L, 1, 0xfd00_0002_0000_0000L, 1, IpProtocol.TCP,
                tcpLen)
                : Checksums.pseudoHeaderV4(0x0a01_0001, 0x0a02_0001, IpProtocol.TCP, tcpLen);
        b.setShort(l4 + 16, Checksums.fold(pseudo)); // partial, as Linux hands a TSO segment over
        for (int i = 0; i < damage; i++) {
            b.setByte(at[i] % b.writerIndex(), value[i]);
        }
        if (cut > 0) {
            b.writerIndex(Math.max(0, b.writerIndex() - cut));
        }
        return new Packet(b, v6, ethernet, l3, l4, tcpHeader, payload, damage > 0 || cut > 0);
    }

    private static int gsoType(Packet p, FuzzedDataProvider data) {
        int t = data.consumeBoolean() ? p.matchingGsoType() : data.pickValue(GSO_TYPES);
        return data.consumeBoolean() ? t | VirtioNetHeader.GSO_ECN : t;
    }

    private static void segment(Packet p, FuzzedDataProvider data) {
        int type = gsoType(p, data);
        int gsoSize = data.consumeInt(0, 3000);
        List<ByteBuf> out = new ArrayList<>();
        int r = GsoSegmenter.segment(p.buf(), p.ethernet(), type, gsoSize, ALLOC, out::add);
        try {
            check(r == GsoSegmenter.MALFORMED || r == GsoSegmenter.UNSUPPORTED || r >= 1 && r == out.size(),
                    "result " + r + " with " + out.size() + " segments");
            boolean passedOn = out.size() == 1 && out.get(0) == p.buf();
            check(passedOn || p.buf().refCnt() == 0, "input neither released nor passed on");
            boolean right = !p.damaged() && gsoSize > 0
                    && VirtioNetHeader.baseGsoType(type) == p.matchingGsoType();
            if (right) {
                check(r >= 1, "a correct large segment was refused: " + r);
                int at = 0;
                for (ByteBuf s : out) {
                    int l3 = GsoSegmenter.ipOffset(s, s.readerIndex(), p.ethernet());
                    int len = Tcp.checkInPacket(s, l3);
                    check(len > 0, "invalid segment: " + len);
                    int payload = len - p.tcpHeader();
                    check(payload <= gsoSize || out.size() == 1, "segment payload " + payload + " > " + gsoSize);
                    int from = s.writerIndex() - payload;
                    for (int i = 0; i < payload; i++) {
                        check(s.getByte(from + i) == p.payload()[at + i], "payload differs at " + (at + i));
                    }
                    at += payload;
                }
                check(at == p.payload().length, "payload " + at + " of " + p.payload().length);
            }
        } finally {
            for (ByteBuf s : out) {
                s.release();
                check(s.refCnt() == 0, "segment still referenced");
            }
        }
    }

    private static void checksums(Packet p, FuzzedDataProvider data) {
        ByteBuf b = p.buf();
        try {
            int type = gsoType(p, data);
            ByteBuf copy = b.copy();
            try {
                boolean ok = GsoSegmenter.checksumLarge(copy, p.ethernet(), type);
                if (!p.damaged() && VirtioNetHeader.baseGsoType(type) == p.matchingGsoType()) {
                    check(ok, "checksumLarge refused a correct segment");
                    check(Tcp.checkInPacket(copy, p.l3()) > 0, "checksumLarge left a bad checksum");
                }
            } finally {
                copy.release();
            }
            boolean right = data.consumeBoolean();
            int start = right ? p.l4() : data.consumeInt(-4, 200);
            int offset = right ? 16 : data.consumeInt(-4, 40);
            boolean ok = GsoSegmenter.completeChecksum(b, start, offset);
            if (!p.damaged() && right) {
                check(ok, "completeChecksum refused correct offsets");
                check(Tcp.checkInPacket(b, p.l3()) > 0, "completeChecksum left a bad checksum");
            }
            GsoSegmenter.ipOffset(b, b.readerIndex(), p.ethernet());
        } finally {
            b.release();
        }
    }

    private static EmbeddedChannel channel(VirtioNetCodec codec) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(ALLOC);
        ch.pipeline().addLast(codec);
        return ch;
    }

    private static void codecInbound(Packet p, FuzzedDataProvider data) {
        boolean gso = data.consumeBoolean();
        int type = gso ? gsoType(p, data) : VirtioNetHeader.GSO_NONE;
        int flags = data.consumeBoolean() ? VirtioNetHeader.FLAG_NEEDS_CSUM : data.consumeInt(0, 0xFF);
        boolean rightOffsets = data.consumeBoolean();
        int start = rightOffsets ? p.l4() : data.consumeInt(0, 0xFFFF);
        int offset = rightOffsets ? 16 : data.consumeInt(0, 0xFFFF);
        VirtioNetPacket in = new VirtioNetPacket(p.buf(), flags, type, p.l4() + p.tcpHeader(),
                data.consumeInt(0, 0xFFFF), start, offset);
        VirtioNetCodec codec = new VirtioNetCodec();
        EmbeddedChannel ch = channel(codec);
        try {
            ch.writeInbound(in);
            ch.checkException();
            Object out = ch.readInbound();
            check(ch.readInbound() == null, "more than one message from one");
            if (out == null) {
                check(codec.dropped() == 1, "dropped without counting");
                check(in.refCnt() == 0, "dropped without releasing");
            } else {
                check(out instanceof ByteBuf, "inbound produced " + out.getClass());
                ByteBuf pkt = (ByteBuf) out;
                boolean right = !p.damaged() && (gso ? VirtioNetHeader.baseGsoType(type) == p.matchingGsoType()
                        : rightOffsets && (flags & VirtioNetHeader.FLAG_NEEDS_CSUM) != 0);
                if (right && !p.ethernet()) {
                    check(Tcp.checkInPacket(pkt, p.l3()) > 0, "inbound packet left with a bad checksum");
                }
                pkt.release();
                check(pkt.refCnt() == 0 && in.refCnt() == 0, "not released");
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private static void codecOutbound(Packet p, FuzzedDataProvider data) {
        int mtu = data.consumeInt(1, 3000);
        ByteBuf b = p.buf();
        // as the L3 path hands it on: complete checksum over the (oversized) packet
        if (!p.damaged() && !p.ethernet()) {
            GsoSegmenter.checksumLarge(b, false, p.matchingGsoType());
        }
        VirtioNetCodec codec = new VirtioNetCodec(mtu);
        EmbeddedChannel ch = channel(codec);
        try {
            check(ch.writeOutbound(b.retain()), "nothing written");
            Object out = ch.readOutbound();
            check(ch.readOutbound() == null, "more than one message from one");
            if (out instanceof VirtioNetPacket large) {
                check(large.content() == b, "a copy was made");
                check(large.isGso() && large.gsoSize() > 0, "not a large segment: " + large);
                check(b.readableBytes() > mtu, "a packet that fits was made a large segment");
                if (!p.damaged() && !p.ethernet()) {
                    // what the kernel does with it: MTU-sized valid packets
                    List<ByteBuf> segs = new ArrayList<>();
                    int r = GsoSegmenter.segment(large.content().retain(), false, large.gsoType(), large.gsoSize(),
                            ALLOC, segs::add);
                    try {
                        check(r >= 2, "cut into " + r);
                        for (ByteBuf s : segs) {
                            check(s.readableBytes() <= mtu, "segment of " + s.readableBytes() + " > MTU " + mtu);
                            check(Tcp.checkInPacket(s, s.readerIndex()) > 0, "invalid segment");
                        }
                    } finally {
                        segs.forEach(ByteBuf::release);
                    }
                }
                large.release();
            } else {
                check(out == b, "outbound changed a packet it left alone");
                ReferenceCountUtil.release(out);
            }
        } finally {
            ch.finishAndReleaseAll();
            b.release();
            check(b.refCnt() == 0, "outbound packet still referenced");
        }
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }
}

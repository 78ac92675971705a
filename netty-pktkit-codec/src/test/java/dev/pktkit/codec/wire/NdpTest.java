package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.pktkit.codec.wire.WireTestBuffers.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NdpTest {
    static final long FD77 = 0xfd77_0000_0000_0000L;
    static final long LL = Ip6.LINK_LOCAL_PREFIX_HI;
    static final long MAC_A = 0x0200_0000_0a01L;
    static final long MAC_B = 0x0200_0000_0b01L;
    static final long LL_A = Ip6.linkLocalLoFromMac(MAC_A); // fe80::ff:fe00:a01
    static final long LL_B = Ip6.linkLocalLoFromMac(MAC_B); // fe80::ff:fe00:b01

    static byte[] ip(String capture) {
        return WireTestBuffers.frame(capture, 14);
    }

    /** The RA from radvd after its IPv6 header, annotated field by field. */
    static final String RA_ICMP = """
            86 00 375e          # type 134, code 0, checksum
            40 00 000c          # cur hop limit 64, flags 0, router lifetime 12 s
            00000000 00000000   # reachable time, retrans timer: unspecified
            03 04 40 c0         # prefix information, length 4 (32 bytes), /64, flags L|A
            00015180            #   valid lifetime 86400
            00003840            #   preferred lifetime 14400
            00000000            #   reserved
            fd770000000000000000000000000000   # prefix fd77::
            19 05 0000          # RDNSS, length 5 (40 bytes)
            00000258            #   lifetime 600
            fd770000000000000000000000000053   # fd77::53
            fd770000000000000000000000000054   # fd77::54
            05 01 0000 00000578 # MTU 1400
            01 01 020000000b01  # source link-layer address
            """;

    @Test
    void capturedRouterAdvertisement() {
        byte[] pkt = ip(Captures.NDP_RA);
        assertEquals(WireTestBuffers.toHex(hex(RA_ICMP)), WireTestBuffers.toHex(pkt).substring(80));
        WireTestBuffers.forEachKind(pkt, b -> {
            int ip = b.readerIndex();
            assertEquals(104, Ndp.check(b, ip));
            int off = ip + 40;
            assertEquals(64, Ndp.raCurHopLimit(b, off));
            assertEquals(0, Ndp.raFlags(b, off));
            assertEquals(12, Ndp.raRouterLifetime(b, off));
            assertEquals(0, Ndp.raReachableTime(b, off));
            assertEquals(0, Ndp.raRetransTimer(b, off));
            int opts = Ndp.optionsOffset(b, off);
            assertEquals(off + 16, opts);
            int end = off + 104;
            assertEquals(4, Ndp.checkOptions(b, opts, end));
            int p = Ndp.findOption(b, opts, end, Ndp.OPT_PREFIX_INFORMATION);
            assertEquals(opts, p);
            assertEquals(32, Ndp.optionLength(b, p));
            assertEquals(64, Ndp.prefixLength(b, p));
            assertEquals(0xc0, Ndp.prefixFlags(b, p));
            assertEquals(86400, Ndp.prefixValidLifetime(b, p));
            assertEquals(14400, Ndp.prefixPreferredLifetime(b, p));
            assertEquals(FD77, Ndp.prefixHi(b, p));
            assertEquals(0, Ndp.prefixLo(b, p));
            int r = Ndp.nextOption(b, p, end);
            assertEquals(Ndp.OPT_RDNSS, Ndp.optionType(b, r));
            assertEquals(600, Ndp.rdnssLifetime(b, r));
            assertEquals(2, Ndp.rdnssCount(b, r));
            assertEquals(FD77, Ndp.rdnssAddressHi(b, r, 0));
            assertEquals(0x53, Ndp.rdnssAddressLo(b, r, 0));
            assertEquals(0x54, Ndp.rdnssAddressLo(b, r, 1));
            assertEquals(0, Ndp.rdnssAddressLo(b, r, 2));
            int m = Ndp.findOption(b, opts, end, Ndp.OPT_MTU);
            assertEquals(1400, Ndp.mtu(b, m));
            int s = Ndp.findOption(b, opts, end, Ndp.OPT_SOURCE_LINK_LAYER_ADDRESS);
            assertEquals(MAC_B, Ndp.linkLayerAddress(b, s));
            assertEquals(-1, Ndp.nextOption(b, s, end));
            assertEquals(-1, Ndp.findOption(b, opts, end, Ndp.OPT_TARGET_LINK_LAYER_ADDRESS));
        });
    }

    @Test
    void routerAdvertisementReprRoundTripsToTheCapturedBytes() {
        ByteBuf b = Unpooled.wrappedBuffer(ip(Captures.NDP_RA));
        ByteBuf out = Unpooled.buffer();
        try {
            NdpRepr r = NdpRepr.parse(b, 0);
            NdpRepr want = new NdpRepr.RouterAdvertisement(64, 0, 12, 0, 0, MAC_B, 1400,
                    List.of(new NdpRepr.PrefixInformation(64, true, true, 86400, 14400, FD77, 0)),
                    List.of(new NdpRepr.Rdnss(600, List.of(new NdpRepr.Address(FD77, 0x53),
                            new NdpRepr.Address(FD77, 0x54)))));
            assertEquals(want, r);
            assertEquals(104, r.emittedLength());
            assertEquals(144, r.emitPacket(out, LL, LL_B, Ip6.ALL_NODES_HI, Ip6.ALL_NODES_LO));
            // radvd set flow label 0xfedc2; ours is 0. Everything else, checksum included, is identical.
            assertEquals(WireTestBuffers.toHex(b, 4, 140), WireTestBuffers.toHex(out, 4, 140));
            assertEquals(104, Ndp.check(out, 0));
        } finally {
            b.release();
            out.release();
        }
    }

    @Test
    void capturedSolicitationsAndAdvertisementAndBuilders() {
        ByteBuf out = Unpooled.buffer();
        try {
            // Router Solicitation: 85 00 672c 00000000 | 01 01 020000000a01
            byte[] rs = ip(Captures.NDP_RS);
            ByteBuf b = Unpooled.wrappedBuffer(rs);
            assertEquals(16, Ndp.check(b, 0));
            assertEquals(new NdpRepr.RouterSolicitation(MAC_A), NdpRepr.parse(b, 0));
            Ndp.writeRouterSolicitationPacket(out, LL, LL_A, MAC_A);
            assertEquals(WireTestBuffers.toHex(rs), WireTestBuffers.toHex(out));
            b.release();

            // Neighbor Solicitation: 87 00 72a9 00000000 | target fd77::2 | 01 01 020000000a01
            out.clear();
            byte[] ns = ip(Captures.NDP_NS);
            b = Unpooled.wrappedBuffer(ns);
            assertEquals(32, Ndp.check(b, 0));
            assertEquals(new NdpRepr.NeighborSolicitation(FD77, 2, MAC_A), NdpRepr.parse(b, 0));
            assertEquals(72, Ndp.writeNeighborSolicitationPacket(out, FD77, 1, FD77, 2, MAC_A));
            assertEquals(WireTestBuffers.toHex(ns), WireTestBuffers.toHex(out));
            b.release();

            // Neighbor Advertisement: 88 00 9035 e0000000 (R|S|O) | target fd77::2 | 02 01 020000000b01
            out.clear();
            byte[] na = ip(Captures.NDP_NA);
            b = Unpooled.wrappedBuffer(na);
            assertEquals(32, Ndp.check(b, 0));
            assertEquals(0xe0, Ndp.naFlags(b, 40));
            assertEquals(new NdpRepr.NeighborAdvertisement(true, true, true, FD77, 2, MAC_B), NdpRepr.parse(b, 0));
            Ndp.writeNeighborAdvertisementPacket(out, FD77, 2, FD77, 1,
                    Ndp.NA_FLAG_ROUTER | Ndp.NA_FLAG_SOLICITED | Ndp.NA_FLAG_OVERRIDE, FD77, 2, MAC_B);
            assertEquals(WireTestBuffers.toHex(na), WireTestBuffers.toHex(out));
            b.release();

            // DAD: from ::, to the solicited-node group, a nonce option (type 14) and no source link-layer address
            out.clear();
            byte[] dad = ip(Captures.NDP_NS_DAD);
            b = Unpooled.wrappedBuffer(dad);
            assertEquals(32, Ndp.check(b, 0));
            assertEquals(new NdpRepr.NeighborSolicitation(FD77, LL_A, -1), NdpRepr.parse(b, 0));
            assertEquals(Ndp.OPT_NONCE, Ndp.optionType(b, 64));
            assertEquals(64, Ndp.findOption(b, 64, 72, Ndp.OPT_NONCE));
            b.release();
            // our DAD probe: same addresses, no option at all
            Ndp.writeNeighborSolicitationPacket(out, 0, 0, FD77, LL_A, MAC_A);
            assertEquals(24, Ndp.check(out, 0));
            assertEquals(Ipv6.dstLo(out, 0), Ip6.solicitedNodeLo(LL_A));
        } finally {
            out.release();
        }
    }

    /** An IPv6/ICMPv6 packet around {@code icmp} with a correct checksum. */
    static ByteBuf nd(long srcHi, long srcLo, long dstHi, long dstLo, int hopLimit, String icmpHex) {
        byte[] icmp = hex(icmpHex);
        ByteBuf b = Unpooled.buffer();
        Ipv6.writeHeader(b, 0, 0, icmp.length, IpProtocol.ICMPV6, hopLimit, srcHi, srcLo, dstHi, dstLo);
        b.writeBytes(icmp);
        Icmpv6.fillChecksum(b, 40, icmp.length, srcHi, srcLo, dstHi, dstLo);
        return b;
    }

    static final String NS_BODY = "87 00 0000 00000000 fd770000000000000000000000000002";

    @Test
    void malformedMessages() {
        long snHi = Ip6.solicitedNodeHi();
        long snLo = Ip6.solicitedNodeLo(2);
        Object[][] cases = {
                {FD77, 1L, snHi, snLo, 255, NS_BODY + "01 00 020000000a01", WireError.BAD_OPTION, "zero-length option"},
                {FD77, 1L, snHi, snLo, 255, NS_BODY + "01 02 020000000a01", WireError.BAD_OPTION, "option overruns"},
                {FD77, 1L, snHi, snLo, 255, NS_BODY + "01", WireError.BAD_OPTION, "half an option header"},
                {FD77, 1L, snHi, snLo, 255, NS_BODY + "05 02 0000 00000578 0000000000000000", WireError.BAD_OPTION,
                        "MTU option of length 2"},
                {LL, LL_B, Ip6.ALL_NODES_HI, 1L, 255, "86 00 0000 40000000 00000000 00000000"
                        + "03 03 40c0 00000000 00000000 00000000 0000000000000000", WireError.BAD_OPTION,
                        "prefix option of length 3"},
                {LL, LL_B, Ip6.ALL_NODES_HI, 1L, 255, "86 00 0000 40000000 00000000 00000000"
                        + "19 04 0000 00000258 fd770000000000000000000000000053 0000000000000000",
                        WireError.BAD_OPTION, "RDNSS of even length"},
                {FD77, 1L, snHi, snLo, 254, NS_BODY, WireError.BAD_FIELD, "hop limit 254"},
                {FD77, 1L, snHi, snLo, 255, NS_BODY.replaceFirst("87 00", "87 01"), WireError.BAD_FIELD, "code 1"},
                {FD77, 1L, snHi, snLo, 255, "87 00 0000 00000000 fd7700000000", WireError.BAD_TOTAL_LENGTH,
                        "NS shorter than 24"},
                {FD77, 1L, snHi, snLo, 255, "87 00 0000 00000000 ff020000000000000000000000000001",
                        WireError.BAD_ADDRESS, "multicast target"},
                {0L, 0L, snHi, snLo, 255, NS_BODY + "01 01 020000000a01", WireError.BAD_OPTION, "DAD with SLLA"},
                {0L, 0L, FD77, 2L, 255, NS_BODY, WireError.BAD_ADDRESS, "DAD not to solicited-node"},
                {FD77, 2L, Ip6.ALL_NODES_HI, 1L, 255, "88 00 0000 40000000 fd770000000000000000000000000002",
                        WireError.BAD_FIELD, "solicited NA to multicast"},
                {FD77, 2L, Ip6.ALL_NODES_HI, 1L, 255, "86 00 0000 40000000 00000000 00000000",
                        WireError.BAD_ADDRESS, "RA from a global address"},
                {0L, 0L, Ip6.ALL_ROUTERS_HI, 2L, 255, "85 00 0000 00000000 01 01 020000000a01", WireError.BAD_OPTION,
                        "RS from :: with SLLA"},
                {FD77, 1L, FD77, 2L, 255, "80 00 0000 00000000", WireError.BAD_TYPE, "echo request is not ND"},
        };
        for (Object[] c : cases) {
            ByteBuf b = nd((Long) c[0], (Long) c[1], (Long) c[2], (Long) c[3], (Integer) c[4], (String) c[5]);
            try {
                assertEquals((int) (Integer) c[6], Ndp.check(b, 0), (String) c[7]);
                assertNull(NdpRepr.parse(b, 0), (String) c[7]);
            } finally {
                b.release();
            }
        }
        // the same NS well-formed passes
        ByteBuf ok = nd(FD77, 1, snHi, snLo, 255, NS_BODY + "01 01 020000000a01");
        try {
            assertEquals(32, Ndp.check(ok, 0));
            ok.setByte(60, 0x99); // corrupt the target after the checksum was computed
            assertEquals(WireError.BAD_CHECKSUM, Ndp.check(ok, 0));
        } finally {
            ok.release();
        }
    }

    @Test
    void zeroLengthOptionStopsEveryAccessor() {
        // a zero-length option first, then a valid one: the whole list is malformed, nothing is found, no loop
        ByteBuf b = Unpooled.wrappedBuffer(hex("01 00 000000000000 01 01 020000000a01"));
        try {
            assertEquals(WireError.BAD_OPTION, Ndp.checkOptions(b, 0, 16));
            assertEquals(-1, Ndp.findOption(b, 0, 16, 1));
            assertEquals(-1, Ndp.nextOption(b, 0, 16));
            assertEquals(WireError.TRUNCATED, Ndp.checkOptions(b, 0, 17));
            assertEquals(WireError.TRUNCATED, Ndp.checkOptions(b, -1, 8));
            assertEquals(0, Ndp.checkOptions(b, 16, 16));
        } finally {
            b.release();
        }
    }

    @Test
    void truncatedAtEveryLength() {
        byte[] pkt = ip(Captures.NDP_RA);
        WireTestBuffers.forEachTruncation(pkt, (b, len) -> {
            int ip = b.readerIndex();
            assertEquals(WireError.TRUNCATED, Ndp.check(b, ip), "len " + len);
            assertNull(NdpRepr.parse(b, ip));
            int off = ip + 40;
            if (len < 56) {
                assertEquals(-1, Ndp.raCurHopLimit(b, off));
                assertEquals(-1, Ndp.raRouterLifetime(b, off));
                assertEquals(-1, Ndp.raReachableTime(b, off));
                assertEquals(-1, Ndp.optionsOffset(b, off));
            }
            int p = ip + 56; // prefix option
            if (len < 88) {
                assertEquals(-1, Ndp.prefixLength(b, p));
                assertEquals(-1, Ndp.prefixValidLifetime(b, p));
                assertEquals(0, Ndp.prefixHi(b, p));
            }
            int r = ip + 88; // RDNSS option
            if (len < 128) {
                assertEquals(-1, Ndp.rdnssCount(b, r));
                assertEquals(0, Ndp.rdnssAddressHi(b, r, 0));
            }
        });
        byte[] na = ip(Captures.NDP_NA);
        WireTestBuffers.forEachTruncation(na, (b, len) -> {
            int off = b.readerIndex() + 40;
            if (len < 64) {
                assertEquals(-1, Ndp.naFlags(b, off));
                assertEquals(0, Ndp.targetHi(b, off));
                assertEquals(0, Ndp.targetLo(b, off));
            }
            if (len < 72) {
                assertEquals(-1, Ndp.linkLayerAddress(b, off + 24));
            }
        });
    }

    @Test
    void redirectRoundTripAndRules() {
        ByteBuf out = Unpooled.buffer();
        try {
            NdpRepr.Redirect r = new NdpRepr.Redirect(LL, 0x1234, FD77, 0x99, MAC_B);
            assertEquals(48, r.emittedLength());
            r.emitPacket(out, LL, LL_B, FD77, 1);
            assertEquals(48, Ndp.check(out, 0));
            assertEquals(r, NdpRepr.parse(out, 0));
            assertEquals(FD77, Ndp.redirectDestinationHi(out, 40));
            assertEquals(0x99, Ndp.redirectDestinationLo(out, 40));
            out.clear();
            // target neither link-local nor the destination
            new NdpRepr.Redirect(FD77, 0x1234, FD77, 0x99, -1).emitPacket(out, LL, LL_B, FD77, 1);
            assertEquals(WireError.BAD_ADDRESS, Ndp.check(out, 0));
            out.clear();
            // target equal to the destination is fine (the destination is a neighbor)
            new NdpRepr.Redirect(FD77, 0x99, FD77, 0x99, -1).emitPacket(out, LL, LL_B, FD77, 1);
            assertEquals(40, Ndp.check(out, 0));
        } finally {
            out.release();
        }
        assertThrows(IllegalArgumentException.class, () -> new NdpRepr.Rdnss(1, List.of()));
        assertEquals(-1, Ndp.fixedLength(Icmpv6.TYPE_ECHO_REQUEST));
    }
}

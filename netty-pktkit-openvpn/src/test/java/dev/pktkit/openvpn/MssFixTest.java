package dev.pktkit.openvpn;

import dev.pktkit.codec.wire.Checksums;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MssFixTest {
    static final int SRC = 0x0a080002;
    static final int DST = 0x0a080001;

    /** 1492 - 20 (IPv4) - 8 (UDP) - 24 (P_DATA_V2 AEAD) - 40 (inner IPv4 + TCP), as OpenVPN 2.6 for AES-GCM. */
    @Test
    void theLimitFollowsTheEncapsulation() {
        assertEquals(1400, MssFix.maxMss(1492, 24, Compression.NONE, false, false, false));
        assertEquals(1380, MssFix.maxMss(1492, 24, Compression.STUB_V2, false, true, false));
        assertEquals(1385, MssFix.maxMss(1492, 24, Compression.LZO_NO, true, false, false));
        assertEquals(0, MssFix.maxMss(0, 24, Compression.NONE, false, false, false));
        assertEquals(1386, MssFix.maxMss(1492, 24, Compression.NONE, false, false, true),
                "TAP: the Ethernet header is sealed with the packet (1386 + 40 + 14 + 24 + 28 = 1492)");
        assertEquals(0, MssFix.maxMss(60, 24, Compression.NONE, false, false, false));
    }

    /** {@code mssfix} as both readers take it (OpenVPN 2.6's forms; {@code fixed} refused with its line). */
    @Test
    void theDirectiveIsReadAsOpenVpnReadsIt() {
        assertEquals(1492, ConfigText.mssfix(3, java.util.List.of("mssfix")));
        assertEquals(1400, ConfigText.mssfix(3, java.util.List.of("mssfix", "1400", "mtu")));
        assertEquals(1478, ConfigText.mssfix(3, java.util.List.of("mssfix", "1450"))); // + IPv4 and UDP headers
        assertEquals(0, ConfigText.mssfix(3, java.util.List.of("mssfix", "0")));
        OpenVpnConfigException e = org.junit.jupiter.api.Assertions.assertThrows(OpenVpnConfigException.class,
                () -> ConfigText.mssfix(3, java.util.List.of("mssfix", "1400", "fixed")));
        assertEquals(3, e.line());
        e = org.junit.jupiter.api.Assertions.assertThrows(OpenVpnConfigException.class,
                () -> ConfigText.mssfix(4, java.util.List.of("mssfix", "-1")));
        assertEquals(4, e.line());
        org.junit.jupiter.api.Assertions.assertThrows(OpenVpnConfigException.class,
                () -> ConfigText.mssfix(4, java.util.List.of("mssfix", "1400", "mtu", "x")));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> OpenVpnServer.builder().mssfix(70000));
    }

    @Test
    void anIpv4SynIsLoweredWithAValidChecksum() {
        ByteBuf p = v4(0x02, new int[] {2, 4, 0x05, 0xb4, 1, 1, 4, 2}); // MSS 1460 first, as Linux lays it out
        assertTrue(MssFix.needed(p, false, 1400));
        assertTrue(MssFix.apply(p, false, 1400));
        assertEquals(1400, p.getUnsignedShort(20 + 22));
        assertV4ChecksumValid(p);
        assertFalse(MssFix.apply(p, false, 1400)); // at the limit now
        p.release();
    }

    @Test
    void anMssAtAnOddOffsetKeepsTheChecksumValid() {
        ByteBuf p = v4(0x12, new int[] {1, 2, 4, 0x05, 0xb4, 1, 1, 0}); // NOP first: the value at an odd offset
        assertTrue(MssFix.apply(p, false, 1400));
        assertEquals(1400, p.getUnsignedShort(20 + 23));
        assertV4ChecksumValid(p);
        p.release();
    }

    @Test
    void anIpv6SynGetsTwentyLess() {
        int tcpLen = 24;
        ByteBuf p = Unpooled.buffer();
        p.writeInt(0x60000000).writeShort(tcpLen).writeByte(6).writeByte(64);
        p.writeLong(0xfd00000800000000L).writeLong(2).writeLong(0xfd00000800000000L).writeLong(1);
        tcp(p, 0x02, new int[] {2, 4, 0x05, 0xa0});
        long pseudo = Checksums.pseudoHeaderV6(0xfd00000800000000L, 2, 0xfd00000800000000L, 1, 6, tcpLen);
        p.setShort(40 + 16, Checksums.finish(Checksums.partial(p, 40, tcpLen, pseudo)));
        assertTrue(MssFix.apply(p, false, 1400));
        assertEquals(1380, p.getUnsignedShort(40 + 22));
        assertTrue(Checksums.verify(p, 40, tcpLen, pseudo));
        p.release();
    }

    @Test
    void aTapFrameIsLookedIntoBehindItsEthernetHeader() {
        ByteBuf ip = v4(0x02, new int[] {2, 4, 0x05, 0xb4});
        ByteBuf f = Unpooled.buffer();
        f.writeLong(0x4600_0000_0001_5254L).writeInt(0x0012_3456).writeShort(0x0800).writeBytes(ip);
        assertTrue(MssFix.apply(f, true, 1400));
        assertEquals(1400, f.getUnsignedShort(14 + 20 + 22));
        assertFalse(MssFix.apply(f.resetReaderIndex(), false, 1400)); // an Ethernet frame is no IP packet
        ip.release();
        f.release();
    }

    @Test
    void otherPacketsAreLeftAlone() {
        ByteBuf ack = v4(0x10, new int[] {2, 4, 0x05, 0xb4});
        ByteBuf small = v4(0x02, new int[] {2, 4, 0x05, 0x00});
        ByteBuf truncated = v4(0x02, new int[] {1, 1, 2, 9}); // option length past the header
        ByteBuf noMss = v4(0x02, new int[] {1, 1, 4, 2});
        ByteBuf fragment = v4(0x02, new int[] {2, 4, 0x05, 0xb4});
        fragment.setShort(6, 0x0010);
        ByteBuf udp = v4(0x02, new int[] {2, 4, 0x05, 0xb4});
        udp.setByte(9, 17);
        ByteBuf zeroLength = v4(0x02, new int[] {2, 0, 0x05, 0xb4}); // an option of length 0 ends the parse
        ByteBuf longerThanSent = v4(0x02, new int[] {2, 4, 0x05, 0xb4});
        longerThanSent.setShort(2, longerThanSent.readableBytes() + 8); // IPv4 total length past the bytes
        for (ByteBuf b : new ByteBuf[] {ack, small, truncated, noMss, fragment, udp, zeroLength, longerThanSent}) {
            ByteBuf before = b.copy();
            assertFalse(MssFix.needed(b, false, 1400));
            assertFalse(MssFix.apply(b, false, 1400));
            assertFalse(MssFix.apply(b, false, 0));
            assertEquals(before, b);
            before.release();
            b.release();
        }
        ByteBuf tiny = Unpooled.wrappedBuffer(new byte[] {0x45, 0, 0, 20});
        assertFalse(MssFix.apply(tiny, false, 1400));
        assertFalse(MssFix.apply(tiny, true, 1400));
        tiny.release();
    }

    @Test
    void anOutgoingSharedSynIsClampedInACopy() {
        ByteBuf shared = v4(0x02, new int[] {2, 4, 0x05, 0xb4});
        shared.retain(); // the hub's other holder
        ByteBuf before = shared.copy();
        ByteBuf out = MssFix.clampOutgoing(shared, false, 1400);
        assertTrue(out != shared, "a copy");
        assertEquals(1, shared.refCnt(), "our reference to the shared buffer is released");
        assertEquals(before, shared, "the other holder's bytes are untouched");
        assertEquals(1400, out.getUnsignedShort(20 + 22));
        assertV4ChecksumValid(out);
        ByteBuf ack = v4(0x10, new int[] {2, 4, 0x05, 0xb4});
        assertTrue(MssFix.clampOutgoing(ack, false, 1400) == ack, "anything else passes as it is");
        for (ByteBuf b : new ByteBuf[] {shared, before, out, ack}) {
            b.release();
        }
    }

    @Test
    void anMssOptionOfAnotherLengthIsSkippedAndTheRealOneLowered() {
        ByteBuf p = v4(0x02, new int[] {2, 3, 0x05, 2, 4, 0x05, 0xb4, 0}); // a 3-byte "MSS", then a real one
        assertTrue(MssFix.apply(p, false, 1400));
        assertEquals(0x05, p.getUnsignedByte(20 + 22), "the odd-length option untouched");
        assertEquals(1400, p.getUnsignedShort(20 + 25));
        assertV4ChecksumValid(p);
        p.release();
    }

    @Test
    void aTapFrameIsReadToItsIpLengthAndItsEtherTypeMustMatch() {
        ByteBuf ip = v4(0x02, new int[] {2, 4, 0x05, 0xb4});
        ByteBuf padded = Unpooled.buffer();
        padded.writeLong(0x4600_0000_0001_5254L).writeInt(0x0012_3456).writeShort(0x0800).writeBytes(ip, 0,
                ip.readableBytes()).writeZero(6); // Ethernet padding behind the IP packet
        assertTrue(MssFix.apply(padded, true, 1400));
        assertEquals(1400, padded.getUnsignedShort(14 + 20 + 22));
        ByteBuf mislabelled = Unpooled.buffer();
        mislabelled.writeLong(0x4600_0000_0001_5254L).writeInt(0x0012_3456).writeShort(0x86DD).writeBytes(ip);
        ByteBuf before = mislabelled.copy();
        assertFalse(MssFix.apply(mislabelled, true, 1400), "an IPv4 packet behind an IPv6 EtherType");
        assertEquals(before, mislabelled);
        before.release();
        mislabelled.release();
        padded.release();
        ip.release();
    }

    /** An IPv4 packet with a TCP header of {@code flags} and {@code options} (padded to a multiple of 4). */
    private static ByteBuf v4(int flags, int[] options) {
        int optLen = (options.length + 3) & ~3;
        int tcpLen = 20 + optLen;
        ByteBuf p = Unpooled.buffer();
        p.writeByte(0x45).writeByte(0).writeShort(20 + tcpLen).writeShort(1).writeShort(0x4000).writeByte(64)
                .writeByte(6).writeShort(0).writeInt(SRC).writeInt(DST);
        p.setShort(10, Checksums.internet(p, 0, 20));
        tcp(p, flags, options);
        long pseudo = Checksums.pseudoHeaderV4(SRC, DST, 6, tcpLen);
        p.setShort(20 + 16, Checksums.finish(Checksums.partial(p, 20, tcpLen, pseudo)));
        return p;
    }

    private static void tcp(ByteBuf p, int flags, int[] options) {
        int optLen = (options.length + 3) & ~3;
        p.writeShort(40000).writeShort(5201).writeInt(1000).writeInt(0).writeByte(((20 + optLen) / 4) << 4)
                .writeByte(flags).writeShort(64240).writeShort(0).writeShort(0);
        for (int o : options) {
            p.writeByte(o);
        }
        p.writeZero(optLen - options.length);
    }

    private static void assertV4ChecksumValid(ByteBuf p) {
        int tcpLen = p.getUnsignedShort(2) - 20;
        assertTrue(Checksums.verify(p, 20, tcpLen, Checksums.pseudoHeaderV4(SRC, DST, 6, tcpLen)));
    }
}

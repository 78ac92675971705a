package dev.pktkit.tuntap.vnet;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.Ip4;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import dev.pktkit.codec.wire.Ipv6;
import dev.pktkit.codec.wire.Tcp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Synthetic large TCP segments, as Linux hands them to a TUN/TAP reader with TSO on. */
public final class TestSegments {
    private TestSegments() {
    }

    public static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    public static final int SRC4 = Ip4.parse("10.1.0.1");
    public static final int DST4 = Ip4.parse("10.2.0.1");
    public static final long SRC6_HI = 0xfd00_0001_0000_0000L;
    public static final long DST6_HI = 0xfd00_0002_0000_0000L;
    public static final long SEQ = 0xFFFF_F000L; // wraps inside the segment

    /**
     * A large TCP segment with a partial checksum (pseudo-header sum only), as Linux hands it over with TSO:
     * {@code ethernet} adds a 14-byte header (TAP), {@code vlan} an 802.1Q tag.
     */
    public static ByteBuf largeSegment(boolean v6, boolean ethernet, boolean vlan, byte[] payload, int flags) {
        ByteBuf b = ALLOC.directBuffer(payload.length + 100);
        if (ethernet) {
            b.writeLong(0x0200_0000_0002_0200L); // dst 02:00:00:00:00:02, src starts 02:00
            b.writeInt(0x0000_0001);
            if (vlan) {
                b.writeShort(0x8100);
                b.writeShort(7);
            }
            b.writeShort(v6 ? 0x86DD : 0x0800);
        }
        int l3 = b.writerIndex();
        int tcpLen = 20 + 12 + payload.length;
        if (v6) {
            Ipv6.writeHeader(b, 0, 0, tcpLen, IpProtocol.TCP, 64, SRC6_HI, 1, DST6_HI, 1);
        } else {
            Ipv4.writeHeader(b, SRC4, DST4, IpProtocol.TCP, 64, tcpLen, 0xFFFE, true);
        }
        int l4 = b.writerIndex();
        ByteBuf opts = ALLOC.heapBuffer(12);
        opts.writeBytes(new byte[] {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}); // NOP NOP timestamps
        Tcp.writeHeader(b, 40000, 5001, SEQ, 77, flags, 512, 0, opts, 0, 12);
        opts.release();
        b.writeBytes(payload);
        long pseudo = v6
                ? Checksums.pseudoHeaderV6(SRC6_HI, 1, DST6_HI, 1, IpProtocol.TCP, tcpLen)
                : Checksums.pseudoHeaderV4(SRC4, DST4, IpProtocol.TCP, tcpLen);
        b.setShort(l4 + 16, Checksums.fold(pseudo)); // partial: what NEEDS_CSUM means
        assertEquals(l3 + (v6 ? 40 : 20), l4);
        return b;
    }

    public static byte[] payload(int n, long seed) {
        byte[] p = new byte[n];
        new Random(seed).nextBytes(p);
        return p;
    }

}

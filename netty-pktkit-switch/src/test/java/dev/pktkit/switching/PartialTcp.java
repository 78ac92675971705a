package dev.pktkit.switching;

import dev.pktkit.codec.wire.Checksums;
import dev.pktkit.codec.wire.IpProtocol;
import dev.pktkit.codec.wire.Ipv4;
import io.netty.buffer.ByteBuf;

/** IPv4 TCP segments with a partial checksum, as Linux hands CHECKSUM_PARTIAL packets to a TUN/TAP device. */
final class PartialTcp {
    private PartialTcp() {
    }

    /**
     * Appends an IPv4 TCP segment from {@code src} to {@code dst} with {@code payload} bytes whose TCP checksum
     * field holds only the folded pseudo-header sum (not complemented).
     */
    static void write(ByteBuf b, int src, int dst, int payload) {
        Ipv4.writeHeader(b, src, dst, IpProtocol.TCP, 64, 20 + payload, 7, true);
        int l4 = b.writerIndex();
        b.writeShort(40000).writeShort(5201).writeInt(1).writeInt(0).writeShort(0x5010).writeShort(65535)
                .writeShort(0).writeShort(0);
        for (int i = 0; i < payload; i++) {
            b.writeByte(i * 7);
        }
        long pseudo = Checksums.pseudoHeaderV4(src, dst, IpProtocol.TCP, 20 + payload);
        b.setShort(l4 + 16, ~Checksums.finish(pseudo) & 0xFFFF);
    }

    /** The TCP checksum over the segment whose IPv4 header is at {@code ip}, as a receiver checks it: 0 if correct. */
    static int verify(ByteBuf b, int ip) {
        int len = b.writerIndex() - ip - 20;
        long pseudo = Checksums.pseudoHeaderV4(b.getInt(ip + 12), b.getInt(ip + 16), IpProtocol.TCP, len);
        return Checksums.finish(Checksums.partial(b, ip + 20, len, pseudo));
    }
}

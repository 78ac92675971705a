package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A parsed ICMPv6 message, for control paths and tests: type, code, the 32 bits after the checksum and the rest.
 * The checksum depends on the addresses, so {@link #parse} and {@link #emit} take them.
 *
 * @param type         ICMPv6 type
 * @param code         code
 * @param restOfHeader the 32 bits after the checksum, unsigned
 * @param data         bytes after the 8-byte header
 */
public record Icmpv6Repr(int type, int code, long restOfHeader, byte[] data) {

    /** Copies {@code data}. */
    public Icmpv6Repr {
        data = data == null ? new byte[0] : data.clone();
    }

    /**
     * The message of {@code len} bytes at {@code off} whose checksum verifies against {@code pseudoHeaderSum}, or
     * null.
     */
    public static Icmpv6Repr parse(ByteBuf buf, int off, int len, long pseudoHeaderSum) {
        if (Icmpv6.check(buf, off, len, pseudoHeaderSum) < 0) {
            return null;
        }
        byte[] d = new byte[len - Icmpv6.HEADER_LENGTH];
        buf.getBytes(off + Icmpv6.HEADER_LENGTH, d);
        return new Icmpv6Repr(Icmpv6.type(buf, off), Icmpv6.code(buf, off), Icmpv6.restOfHeader(buf, off), d);
    }

    /** The ICMPv6 message in the IPv6 packet at {@code ipOff}, or null when {@link Icmpv6#checkInPacket} fails. */
    public static Icmpv6Repr parsePacket(ByteBuf buf, int ipOff) {
        int len = Icmpv6.checkInPacket(buf, ipOff);
        if (len < 0) {
            return null;
        }
        int off = Ipv6.upperLayerOffset(buf, ipOff);
        return parse(buf, off, len, Ipv6.pseudoHeaderSum(buf, ipOff, IpProtocol.ICMPV6, len));
    }

    /** Echo identifier (high 16 bits of the rest of header). */
    public int echoIdentifier() {
        return (int) (restOfHeader >>> 16) & 0xFFFF;
    }

    /** Echo sequence number (low 16 bits of the rest of header). */
    public int echoSequence() {
        return (int) restOfHeader & 0xFFFF;
    }

    /** 8 plus the data length. */
    public int emittedLength() {
        return Icmpv6.HEADER_LENGTH + data.length;
    }

    /** Appends the message at {@code out.writerIndex()}, checksum computed for the given addresses. */
    public void emit(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo) {
        ByteBuf d = Unpooled.wrappedBuffer(data);
        try {
            Icmpv6.writeMessage(out, type, code, restOfHeader, d, 0, data.length, srcHi, srcLo, dstHi, dstLo);
        } finally {
            d.release();
        }
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Icmpv6Repr r && type == r.type && code == r.code && restOfHeader == r.restOfHeader
                && Arrays.equals(data, r.data);
    }

    @Override
    public int hashCode() {
        return ((type * 31 + code) * 31 + Long.hashCode(restOfHeader)) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "ICMPv6 type " + type + " code " + code + " rest " + Long.toHexString(restOfHeader) + " data "
                + HexFormat.of().formatHex(data);
    }
}

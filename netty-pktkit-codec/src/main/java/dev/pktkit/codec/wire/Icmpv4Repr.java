package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A parsed ICMPv4 message, for control paths and tests: type, code, the 32-bit rest of header and the data
 * (echo payload or quoted invoking packet). The checksum is computed by {@link #emit} and verified by
 * {@link #parse}.
 *
 * @param type         ICMP type
 * @param code         ICMP code
 * @param restOfHeader the 32 bits after the checksum, unsigned
 * @param data         bytes after the 8-byte header
 */
public record Icmpv4Repr(int type, int code, long restOfHeader, byte[] data) {

    /** Copies {@code data}. */
    public Icmpv4Repr {
        data = data == null ? new byte[0] : data.clone();
    }

    /** An echo request. */
    public static Icmpv4Repr echoRequest(int identifier, int sequence, byte[] data) {
        return new Icmpv4Repr(Icmpv4.TYPE_ECHO_REQUEST, 0, ((long) identifier << 16) | sequence, data);
    }

    /** An echo reply. */
    public static Icmpv4Repr echoReply(int identifier, int sequence, byte[] data) {
        return new Icmpv4Repr(Icmpv4.TYPE_ECHO_REPLY, 0, ((long) identifier << 16) | sequence, data);
    }

    /** The message of {@code len} bytes at {@code off}, or null when {@link Icmpv4#check} fails. */
    public static Icmpv4Repr parse(ByteBuf buf, int off, int len) {
        if (Icmpv4.check(buf, off, len) < 0) {
            return null;
        }
        byte[] d = new byte[len - Icmpv4.HEADER_LENGTH];
        buf.getBytes(off + Icmpv4.HEADER_LENGTH, d);
        return new Icmpv4Repr(Icmpv4.type(buf, off), Icmpv4.code(buf, off), Icmpv4.restOfHeader(buf, off), d);
    }

    /** Echo identifier (the high 16 bits of the rest of header). */
    public int echoIdentifier() {
        return (int) (restOfHeader >>> 16) & 0xFFFF;
    }

    /** Echo sequence number (the low 16 bits of the rest of header). */
    public int echoSequence() {
        return (int) restOfHeader & 0xFFFF;
    }

    /** 8 plus the data length. */
    public int emittedLength() {
        return Icmpv4.HEADER_LENGTH + data.length;
    }

    /** Appends the message with its checksum at {@code out.writerIndex()}. */
    public void emit(ByteBuf out) {
        ByteBuf d = Unpooled.wrappedBuffer(data);
        try {
            Icmpv4.writeMessage(out, type, code, restOfHeader, d, 0, data.length);
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
        return o instanceof Icmpv4Repr r && type == r.type && code == r.code && restOfHeader == r.restOfHeader
                && Arrays.equals(data, r.data);
    }

    @Override
    public int hashCode() {
        return ((type * 31 + code) * 31 + Long.hashCode(restOfHeader)) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "ICMPv4 type " + type + " code " + code + " rest " + Long.toHexString(restOfHeader) + " data "
                + HexFormat.of().formatHex(data);
    }
}

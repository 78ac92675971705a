package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A parsed UDP datagram, payload included, for control paths and tests. The length and checksum are not
 * components: the emitters compute them.
 *
 * @param srcPort source port 0..65535
 * @param dstPort destination port 0..65535
 * @param payload payload bytes (copied in and out)
 */
public record UdpRepr(int srcPort, int dstPort, byte[] payload) {

    /** Checks ranges and copies {@code payload}. */
    public UdpRepr {
        payload = payload == null ? new byte[0] : payload.clone();
        if ((srcPort & ~0xFFFF) != 0 || (dstPort & ~0xFFFF) != 0 || payload.length > 0xFFFF - Udp.HEADER_LENGTH) {
            throw new IllegalArgumentException("ports " + srcPort + "/" + dstPort + " payload " + payload.length);
        }
    }

    /**
     * The datagram at {@code off} that the IP layer says occupies {@code len} bytes, without checking the
     * checksum; null when {@link Udp#check} fails. The payload ends where the UDP length field says.
     */
    public static UdpRepr parse(ByteBuf buf, int off, int len) {
        int udpLen = Udp.check(buf, off, len);
        return udpLen < 0 ? null : read(buf, off, udpLen);
    }

    /** {@link #parse}, accepting only datagrams whose IPv4 checksum verifies ({@link Udp#checkV4}). */
    public static UdpRepr parseV4(ByteBuf buf, int off, int len, int src, int dst) {
        int udpLen = Udp.checkV4(buf, off, len, src, dst);
        return udpLen < 0 ? null : read(buf, off, udpLen);
    }

    /** {@link #parse}, accepting only datagrams whose IPv6 checksum verifies ({@link Udp#checkV6}). */
    public static UdpRepr parseV6(ByteBuf buf, int off, int len, long srcHi, long srcLo, long dstHi, long dstLo) {
        int udpLen = Udp.checkV6(buf, off, len, srcHi, srcLo, dstHi, dstLo);
        return udpLen < 0 ? null : read(buf, off, udpLen);
    }

    private static UdpRepr read(ByteBuf buf, int off, int udpLen) {
        byte[] data = new byte[udpLen - Udp.HEADER_LENGTH];
        buf.getBytes(off + Udp.HEADER_LENGTH, data);
        return new UdpRepr(buf.getUnsignedShort(off), buf.getUnsignedShort(off + 2), data);
    }

    /** Datagram length in bytes (8 plus payload). */
    public int emittedLength() {
        return Udp.HEADER_LENGTH + payload.length;
    }

    /** Appends the datagram at {@code out.writerIndex()} with a zero checksum (IPv4: no checksum). */
    public void emit(ByteBuf out) {
        Udp.writeHeader(out, srcPort, dstPort, payload.length);
        out.writeBytes(payload);
    }

    /** Appends the datagram with its IPv4 checksum. */
    public void emitV4(ByteBuf out, int src, int dst) {
        ByteBuf p = Unpooled.wrappedBuffer(payload);
        try {
            Udp.writeDatagramV4(out, src, dst, srcPort, dstPort, p, 0, payload.length);
        } finally {
            p.release();
        }
    }

    /** Appends the datagram with its IPv6 checksum. */
    public void emitV6(ByteBuf out, long srcHi, long srcLo, long dstHi, long dstLo) {
        ByteBuf p = Unpooled.wrappedBuffer(payload);
        try {
            Udp.writeDatagramV6(out, srcHi, srcLo, dstHi, dstLo, srcPort, dstPort, p, 0, payload.length);
        } finally {
            p.release();
        }
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UdpRepr r && srcPort == r.srcPort && dstPort == r.dstPort
                && Arrays.equals(payload, r.payload);
    }

    @Override
    public int hashCode() {
        return (srcPort * 31 + dstPort) * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "UDP " + srcPort + " > " + dstPort + " len " + payload.length
                + (payload.length > 0 ? " " + HexFormat.of().formatHex(payload, 0, Math.min(payload.length, 32))
                + (payload.length > 32 ? "..." : "") : "");
    }
}

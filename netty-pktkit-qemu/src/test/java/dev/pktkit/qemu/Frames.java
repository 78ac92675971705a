package dev.pktkit.qemu;

import dev.pktkit.codec.wire.Ethernet;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

/** Test frames: Ethernet headers with a recognisable payload, and their stream encoding. */
final class Frames {
    private Frames() {
    }

    static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    /** Locally administered unicast MAC number {@code n}. */
    static long mac(int n) {
        return 0x0200_0000_0000L | n;
    }

    /** A frame of {@code length} bytes (at least 14) from {@code src} to {@code dst}; payload bytes count from tag. */
    static byte[] frame(long dst, long src, int length, int tag) {
        ByteBuf b = Unpooled.buffer(length);
        try {
            Ethernet.writeHeader(b, dst, src, Ethernet.IPV4);
            for (int i = 0; b.writerIndex() < length; i++) {
                b.writeByte(tag + i);
            }
            return ByteBufUtil.getBytes(b, 0, length);
        } finally {
            b.release();
        }
    }

    /** A broadcast frame of {@code length} bytes from MAC 1. */
    static byte[] frame(int length, int tag) {
        return frame(BROADCAST, mac(1), length, tag);
    }

    /** The stream encoding of {@code frames}: each after its 4-byte big-endian length. */
    static byte[] stream(byte[]... frames) {
        ByteBuf b = Unpooled.buffer();
        try {
            for (byte[] f : frames) {
                b.writeInt(f.length).writeBytes(f);
            }
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    /** A stream holding only a length field of {@code length} (an unsigned 32-bit value). */
    static byte[] lengthOnly(long length) {
        return new byte[] {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** The readable bytes of {@code buf}, releasing it. */
    static byte[] take(ByteBuf buf) {
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }
}

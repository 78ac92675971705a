package dev.pktkit.codec.wire;

import io.netty.buffer.ByteBuf;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Big-endian reads for the views, after the caller has checked the bytes lie in {@code [0, writerIndex())}.
 *
 * <p>A buffer backed by an array (pooled or unpooled heap) is read straight from the array through a
 * big-endian {@link VarHandle}: one array bounds check per read instead of {@code ByteBuf}'s capacity check,
 * its reference-count check and byte-by-byte assembly. Every other buffer (direct, composite, read-only,
 * wrapped) goes through its own getters. A released buffer still throws Netty's
 * {@code IllegalReferenceCountException} on either path ({@link ByteBuf#array()} checks it, as the getters do):
 * reading a buffer one no longer owns is the caller's bug, not bad input.
 */
final class Peek {
    private Peek() {
    }

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    static int u8(ByteBuf buf, int i) {
        if (buf.hasArray()) {
            return buf.array()[buf.arrayOffset() + i] & 0xFF;
        }
        return buf.getUnsignedByte(i);
    }

    static int u16(ByteBuf buf, int i) {
        if (buf.hasArray()) {
            return (short) SHORT.get(buf.array(), buf.arrayOffset() + i) & 0xFFFF;
        }
        return buf.getUnsignedShort(i);
    }

    static int i32(ByteBuf buf, int i) {
        if (buf.hasArray()) {
            return (int) INT.get(buf.array(), buf.arrayOffset() + i);
        }
        return buf.getInt(i);
    }

    static long i64(ByteBuf buf, int i) {
        if (buf.hasArray()) {
            return (long) LONG.get(buf.array(), buf.arrayOffset() + i);
        }
        return buf.getLong(i);
    }
}

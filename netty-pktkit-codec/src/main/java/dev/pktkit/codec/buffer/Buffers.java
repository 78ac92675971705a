package dev.pktkit.codec.buffer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Ownership helpers for devices that rewrite packets in place (TTL, NAT, MAC rewrite).
 *
 * <p>A hub that floods sends {@code retainedDuplicate()}s that share memory; a device that received one of them
 * must not write into it, or every other receiver sees the change. {@link #exclusive} hands back a buffer the
 * caller may modify: the same one when nobody else can see its memory, otherwise a copy.
 */
public final class Buffers {
    private Buffers() {
    }

    /**
     * Whether {@code buf}'s readable bytes are seen by no other holder: its reference count is 1 and so is that
     * of every buffer it derives from, and it is writable.
     */
    public static boolean isExclusive(ByteBuf buf) {
        if (buf.isReadOnly()) {
            return false;
        }
        for (ByteBuf b = buf; b != null; b = b.unwrap()) {
            if (b.refCnt() != 1) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns {@code buf} if {@link #isExclusive exclusive}, else a copy of its readable bytes from {@code alloc}
     * (releasing {@code buf}). Either way the caller owns the result and may modify its readable bytes.
     */
    public static ByteBuf exclusive(ByteBuf buf, ByteBufAllocator alloc) {
        if (isExclusive(buf)) {
            return buf;
        }
        ByteBuf copy = alloc.buffer(buf.readableBytes());
        try {
            copy.writeBytes(buf, buf.readerIndex(), buf.readableBytes());
        } catch (RuntimeException e) {
            copy.release();
            throw e;
        }
        buf.release();
        return copy;
    }
}

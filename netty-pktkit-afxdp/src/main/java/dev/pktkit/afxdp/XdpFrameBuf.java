package dev.pktkit.afxdp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;

import java.nio.ByteBuffer;

/**
 * A received frame in place in its UMEM chunk: the buffer the pipeline gets without a copy. One instance per
 * chunk, made at open and reused: the last {@code release()} hands the chunk back to its socket (which puts it on
 * the fill ring, from any thread) and the instance waits, with a reference count of one, for the next frame the
 * kernel writes into the chunk. Its capacity is the chunk and cannot change.
 */
final class XdpFrameBuf extends UnpooledDirectByteBuf {
    private final XdpSocket socket;
    final int chunk;
    private final long address;

    XdpFrameBuf(ByteBufAllocator alloc, ByteBuffer chunkView, long address, XdpSocket socket, int chunk) {
        super(alloc, chunkView, chunkView.remaining());
        this.socket = socket;
        this.chunk = chunk;
        this.address = address;
    }

    /** For the next frame: one reference, the frame between {@code from} and {@code to}. */
    XdpFrameBuf lend(int from, int to) {
        resetRefCnt();
        setIndex(from, to);
        return this;
    }

    @Override
    protected void deallocate() {
        socket.frameReleased(this);
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
        if (newCapacity != capacity()) {
            throw new UnsupportedOperationException("a received AF_XDP frame lives in its UMEM chunk and cannot "
                    + "be resized; copy it");
        }
        return this;
    }

    @Override
    public boolean hasMemoryAddress() {
        return true;
    }

    @Override
    public long memoryAddress() {
        ensureAccessible();
        return address;
    }
}

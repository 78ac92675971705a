package dev.pktkit.switching.vxlan;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.util.Recycler;

import java.net.InetSocketAddress;

/**
 * The envelope of one sent VXLAN datagram: a recycled {@link AddressedEnvelope} (Netty's unconnected UDP channels
 * take any envelope whose content is a direct {@code ByteBuf}), so that encapsulation allocates nothing per frame.
 * Its reference count is its content's; when the content is freed (the channel releases the envelope once it
 * wrote it, or dropped it), the envelope goes back to its recycler. Used on the tunnel's loop only.
 */
final class VxlanDatagram implements AddressedEnvelope<ByteBuf, InetSocketAddress> {
    private static final Recycler<VxlanDatagram> RECYCLER = new Recycler<>() {
        @Override
        protected VxlanDatagram newObject(Handle<VxlanDatagram> handle) {
            return new VxlanDatagram(handle);
        }
    };

    private final Recycler.Handle<VxlanDatagram> handle;
    private ByteBuf content;
    private InetSocketAddress recipient;

    private VxlanDatagram(Recycler.Handle<VxlanDatagram> handle) {
        this.handle = handle;
    }

    /** An envelope taking over {@code content} (one reference), addressed to {@code recipient}. */
    static VxlanDatagram of(ByteBuf content, InetSocketAddress recipient) {
        VxlanDatagram d = RECYCLER.get();
        d.content = content;
        d.recipient = recipient;
        return d;
    }

    @Override
    public ByteBuf content() {
        return content;
    }

    @Override
    public InetSocketAddress sender() {
        return null;
    }

    @Override
    public InetSocketAddress recipient() {
        return recipient;
    }

    @Override
    public int refCnt() {
        ByteBuf c = content;
        return c == null ? 0 : c.refCnt();
    }

    @Override
    public VxlanDatagram retain() {
        content.retain();
        return this;
    }

    @Override
    public VxlanDatagram retain(int increment) {
        content.retain(increment);
        return this;
    }

    @Override
    public VxlanDatagram touch() {
        content.touch();
        return this;
    }

    @Override
    public VxlanDatagram touch(Object hint) {
        content.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return release(1);
    }

    @Override
    public boolean release(int decrement) {
        ByteBuf c = content;
        if (c == null) {
            throw new io.netty.util.IllegalReferenceCountException(0, -decrement);
        }
        boolean freed = c.release(decrement);
        if (freed) {
            content = null;
            recipient = null;
            handle.recycle(this);
        }
        return freed;
    }

    @Override
    public String toString() {
        return "VxlanDatagram(=> " + recipient + ", " + content + ")";
    }
}

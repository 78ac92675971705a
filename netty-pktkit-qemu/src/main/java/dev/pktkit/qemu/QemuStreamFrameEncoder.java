package dev.pktkit.qemu;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.EncoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.StringUtil;

/**
 * Writes Ethernet frames to a QEMU stream netdev: each frame goes out after a 4-byte big-endian length.
 *
 * <p>Input: {@code ByteBuf}s holding one frame each from {@code readerIndex()}. The frame is not copied: the
 * encoder writes a 4-byte prefix buffer (from the channel's allocator) and then the frame itself, so the
 * transport sends both with one gathering write. Ownership of the frame passes to the transport, as with any
 * write.
 *
 * <p>Bad output: a frame shorter than {@value QemuFraming#MIN_FRAME_LENGTH} bytes or longer than the maximum
 * ({@link QemuFraming#DEFAULT_MAX_FRAME_LENGTH} by default; QEMU would cut us off), or a message that is not a
 * {@code ByteBuf}, is released, counted ({@link QemuFrameCounters}) and not sent; its promise fails with an
 * {@link EncoderException} unless it is a void promise (then nothing else happens: the drop is in the counters).
 *
 * <p>Not sharable: it holds its channel's counters.
 */
public class QemuStreamFrameEncoder extends ChannelOutboundHandlerAdapter {
    private final int maxFrameLength;
    private QemuFrameCounters counters;
    /** For the prefix writes: a failure shows on the frame's own promise, so the prefix's must stay silent. */
    private ChannelPromise silentPromise;

    /** An encoder for frames up to {@value QemuFraming#DEFAULT_MAX_FRAME_LENGTH} bytes. */
    public QemuStreamFrameEncoder() {
        this(QemuFraming.DEFAULT_MAX_FRAME_LENGTH);
    }

    /** An encoder for frames of {@value QemuFraming#MIN_FRAME_LENGTH} to {@code maxFrameLength} bytes. */
    public QemuStreamFrameEncoder(int maxFrameLength) {
        this.maxFrameLength = QemuFraming.checkMaxFrameLength(maxFrameLength);
    }

    /** The largest frame this encoder sends. */
    public int maxFrameLength() {
        return maxFrameLength;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        counters = QemuFrameCounters.of(ctx.channel());
        silentPromise = new VoidChannelPromise(ctx.channel(), false);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf frame)) {
            drop(msg, promise, QemuDropReason.UNSUPPORTED_MESSAGE,
                    "not a frame: " + StringUtil.simpleClassName(msg));
            return;
        }
        int length = frame.readableBytes();
        QemuDropReason bad = QemuFraming.checkLength(length, maxFrameLength);
        if (bad != null) {
            drop(frame, promise, bad, "frame of " + length + " bytes is outside [" + QemuFraming.MIN_FRAME_LENGTH
                    + ", " + maxFrameLength + "]");
            return;
        }
        ByteBuf prefix;
        try {
            prefix = ctx.alloc().ioBuffer(QemuFraming.LENGTH_FIELD_LENGTH);
        } catch (Throwable t) {
            frame.release();
            promise.tryFailure(t);
            return;
        }
        prefix.writeInt(length);
        counters.frameOut(length);
        ctx.write(prefix, silentPromise);
        ctx.write(frame, promise);
    }

    private void drop(Object msg, ChannelPromise promise, QemuDropReason reason, String why) {
        ReferenceCountUtil.release(msg);
        counters.dropped(reason);
        if (!promise.isVoid()) {
            promise.tryFailure(new EncoderException(why));
        }
    }
}

package dev.pktkit.qemu;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.nio.ByteOrder;
import java.util.List;

/**
 * Splits a QEMU stream netdev byte stream ({@code -netdev stream}, legacy {@code -netdev socket,listen=/connect=})
 * into Ethernet frames: each frame follows a 4-byte big-endian length.
 *
 * <p>Output: one {@code ByteBuf} per frame, holding exactly the frame from {@code readerIndex()} (no prefix). It
 * is a retained slice of the read buffer, so frames from one read share memory; a handler that rewrites bytes in
 * place takes {@link dev.pktkit.codec.buffer.Buffers#exclusive} first. Whoever receives a frame owns it.
 *
 * <p>Bad input: an announced length below {@value QemuFraming#MIN_FRAME_LENGTH} (an Ethernet header) or above
 * the configured maximum ({@link QemuFraming#DEFAULT_MAX_FRAME_LENGTH} by default) means the peer is broken or
 * hostile, and the stream cannot be resynchronised: the decoder discards every byte from there on, counts the
 * drop, records and logs the reason ({@link QemuFrameCounters#cutOffReason()}) and closes the channel. Frames
 * decoded before the bad length are passed on. No exception leaves the decoder for wire input. A stream that ends
 * inside a frame counts one {@link QemuDropReason#TRUNCATED} drop.
 *
 * <p>Bounds: the decoder never holds more than one frame plus one read ({@code maxFrameLength + 4} bytes plus
 * the receive buffer), because the length is checked before any frame bytes are accumulated.
 *
 * <p>Not sharable: it keeps the partial frame of its channel. Counters go to {@link QemuFrameCounters#of}.
 */
public class QemuStreamFrameDecoder extends LengthFieldBasedFrameDecoder {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(QemuStreamFrameDecoder.class);

    private final int maxFrameLength;
    private QemuFrameCounters counters;
    private boolean cutOff;

    /** A decoder accepting frames up to QEMU's own limit, {@value QemuFraming#DEFAULT_MAX_FRAME_LENGTH} bytes. */
    public QemuStreamFrameDecoder() {
        this(QemuFraming.DEFAULT_MAX_FRAME_LENGTH);
    }

    /** A decoder accepting frames of {@value QemuFraming#MIN_FRAME_LENGTH} to {@code maxFrameLength} bytes. */
    public QemuStreamFrameDecoder(int maxFrameLength) {
        super(ByteOrder.BIG_ENDIAN,
                QemuFraming.checkMaxFrameLength(maxFrameLength) + QemuFraming.LENGTH_FIELD_LENGTH,
                0, QemuFraming.LENGTH_FIELD_LENGTH, 0, QemuFraming.LENGTH_FIELD_LENGTH, true);
        this.maxFrameLength = maxFrameLength;
    }

    /** The largest frame this decoder accepts. */
    public int maxFrameLength() {
        return maxFrameLength;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        counters = QemuFrameCounters.of(ctx.channel());
        super.handlerAdded(ctx);
    }

    @Override
    protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
        if (cutOff) {
            in.skipBytes(in.readableBytes());
            return null;
        }
        if (in.readableBytes() < QemuFraming.LENGTH_FIELD_LENGTH) {
            return null;
        }
        // Checked here, before the superclass waits for (and buffers) the frame it announces.
        long length = in.getUnsignedInt(in.readerIndex());
        QemuDropReason bad = QemuFraming.checkLength(length, maxFrameLength);
        if (bad != null) {
            cutOff(ctx, in, bad, length);
            return null;
        }
        ByteBuf frame = (ByteBuf) super.decode(ctx, in);
        if (frame != null) {
            counters.frameIn(frame.readableBytes());
        }
        return frame;
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decodeLast(ctx, in, out);
        if (in.isReadable() && !cutOff) {
            counters.dropped(QemuDropReason.TRUNCATED);
            in.skipBytes(in.readableBytes());
        }
    }

    private void cutOff(ChannelHandlerContext ctx, ByteBuf in, QemuDropReason reason, long length) {
        cutOff = true;
        in.skipBytes(in.readableBytes());
        String why = reason == QemuDropReason.TOO_SHORT
                ? "announced frame length " + length + " is shorter than an Ethernet header ("
                        + QemuFraming.MIN_FRAME_LENGTH + " bytes)"
                : "announced frame length " + length + " exceeds the maximum of " + maxFrameLength + " bytes";
        counters.dropped(reason);
        counters.cutOff(why);
        logger.warn("{} QEMU stream peer cut off: {}", ctx.channel(), why);
        ctx.close();
    }
}

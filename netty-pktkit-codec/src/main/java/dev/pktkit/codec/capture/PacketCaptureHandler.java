package dev.pktkit.codec.capture;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * Records every {@code ByteBuf} that passes its pipeline position into a {@link PacketCapture}: messages read
 * ({@code channelRead}, {@link CaptureDirection#INBOUND}) and messages written ({@code write},
 * {@link CaptureDirection#OUTBOUND}).
 *
 * <p>It never consumes or modifies a message: it copies up to the snap length of its readable bytes (indices and
 * reference count untouched) and passes the same message on; messages that are not {@code ByteBuf}s pass without
 * being recorded. The copy goes to the capture's bounded queue; when the queue is full the packet is dropped from
 * the capture only (see {@link PacketCapture#packetsDropped()}). No file I/O happens on the event loop.
 *
 * <p>An outbound message is recorded when its write passes this handler, whether or not the write later succeeds.
 * What a message looks like depends on where the handler sits: put it nearest the port ({@code addFirst}) to see
 * frames as they leave and arrive.
 *
 * <p>{@link Sharable}: it has no per-channel state. Every channel it is added to records under its one interface
 * (pcapng {@code if_name}); create a handler per channel with distinct names to tell channels apart in the file.
 * Made by {@link PacketCapture#newHandler}.
 */
@Sharable
public final class PacketCaptureHandler extends ChannelDuplexHandler {
    private final PacketCapture capture;
    private final int interfaceId;
    private final String interfaceName;
    private final LinkType linkType;

    PacketCaptureHandler(PacketCapture capture, int interfaceId, String interfaceName, LinkType linkType) {
        this.capture = capture;
        this.interfaceId = interfaceId;
        this.interfaceName = interfaceName;
        this.linkType = linkType;
    }

    /** The capture this handler records into. */
    public PacketCapture capture() {
        return capture;
    }

    /** The pcapng interface id of this handler's records (0 for classic pcap). */
    public int interfaceId() {
        return interfaceId;
    }

    public String interfaceName() {
        return interfaceName;
    }

    public LinkType linkType() {
        return linkType;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            capture.record(interfaceId, CaptureDirection.INBOUND, buf, ctx.alloc());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            capture.record(interfaceId, CaptureDirection.OUTBOUND, buf, ctx.alloc());
        }
        ctx.write(msg, promise);
    }
}

package dev.pktkit.qemu;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultAddressedEnvelope;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.EncoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.StringUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Turns a datagram channel (UDP, or Unix datagram on epoll/kqueue) into a channel of Ethernet frames for a QEMU
 * datagram netdev ({@code -netdev dgram}, legacy {@code -netdev socket,udp=}): one frame per datagram, no prefix.
 *
 * <p>Inbound: each datagram ({@code DatagramPacket}, {@code DomainDatagramPacket} or any
 * {@code AddressedEnvelope} of a {@code ByteBuf}) becomes its content, a plain frame.
 *
 * <p>The peer is locked: it is the configured remote, or, without one, the first (named) sender, and it never
 * changes afterwards. A datagram from any other address is dropped, released and counted
 * ({@link QemuDropReason#FOREIGN_SENDER}), so another local process cannot take a VM's traffic over, or inject
 * frames into its LAN, by sending one datagram to the socket. QEMU always sends from the address it bound
 * ({@code local} / {@code localaddr}), so a restarted QEMU with the same options is the same peer; one that comes
 * back on another address needs a new endpoint. Addresses compare with {@code equals}: an
 * {@code InetSocketAddress} by IP and port, a Unix socket by the path string the peer bound (give QEMU the same
 * path text as the remote here). Datagrams from an unnamed (unbound) Unix socket are never accepted: nothing can
 * be sent back to it. On a connected channel the kernel already filters by sender and the check is skipped.
 *
 * <p>Outbound: each frame goes to the peer. On a connected channel the frame is written as is (the transport
 * sends it to the connected address, and nothing is allocated); otherwise it is wrapped in an envelope addressed
 * to the peer. Before any peer is known, frames are dropped and counted
 * ({@link QemuDropReason#NO_PEER}).
 *
 * <p>Bad input: a datagram shorter than {@value QemuFraming#MIN_FRAME_LENGTH} bytes or longer than the maximum
 * is dropped, released and counted; the channel stays open (one bad datagram says nothing about the next). To
 * see oversized datagrams at all, the receive buffer must be larger than the maximum:
 * {@link QemuNetdev#datagram} sets a fixed receive allocator of {@code maxFrameLength + 1} bytes (Netty's default,
 * 2048, would silently truncate). Because such buffers are large, a frame that uses a small part of its buffer
 * is copied into a right-sized one, so queued frames do not each pin 64 KiB. Send errors that the kernel reports
 * later (ICMP port unreachable, a missing Unix socket) are counted as {@link QemuDropReason#SEND_FAILED} and do
 * not travel down the pipeline; the channel stays open.
 *
 * <p>Not sharable: it holds its channel's peer and counters.
 */
public class QemuDatagramCodec extends ChannelDuplexHandler {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(QemuDatagramCodec.class);
    /** A received frame whose buffer has more unused room than this is copied to a right-sized buffer. */
    static final int MAX_WASTED_RECEIVE_BYTES = 4096;

    private final int maxFrameLength;
    private final SocketAddress remote;
    /** The locked peer: {@link #remote}, or the first named sender; null until then. */
    private SocketAddress peer;
    private boolean connected;
    private QemuFrameCounters counters;

    /** Frames up to {@value QemuFraming#DEFAULT_MAX_FRAME_LENGTH} bytes; the peer is the first sender. */
    public QemuDatagramCodec() {
        this(QemuFraming.DEFAULT_MAX_FRAME_LENGTH, null);
    }

    /**
     * @param maxFrameLength largest frame either way
     * @param remote         where frames go (a transport address: {@code InetSocketAddress}, or Netty's
     *                       {@code DomainSocketAddress} for Unix sockets), and the only sender accepted; null to
     *                       lock onto the first sender
     */
    public QemuDatagramCodec(int maxFrameLength, SocketAddress remote) {
        this.maxFrameLength = QemuFraming.checkMaxFrameLength(maxFrameLength);
        this.remote = remote;
        this.peer = remote;
    }

    /** The largest frame this codec accepts and sends. */
    public int maxFrameLength() {
        return maxFrameLength;
    }

    /**
     * Where outbound frames go, and the only sender accepted: the configured remote, else the first named sender,
     * else null. Read it on the channel's event loop.
     */
    public SocketAddress peer() {
        return peer;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        counters = QemuFrameCounters.of(ctx.channel());
        connected = QemuTransports.isConnectedDatagram(ctx.channel());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        connected = QemuTransports.isConnectedDatagram(ctx.channel());
        ctx.fireChannelActive();
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress,
                        ChannelPromise promise) {
        if (promise.isVoid()) {
            promise = promise.unvoid();
        }
        promise.addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                connected = QemuTransports.isConnectedDatagram(f.channel());
            }
        });
        ctx.connect(remoteAddress, localAddress, promise);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame;
        SocketAddress sender;
        if (msg instanceof AddressedEnvelope<?, ?> envelope && envelope.content() instanceof ByteBuf content) {
            frame = content;
            sender = envelope.sender();
        } else if (msg instanceof ByteBuf content) {
            frame = content;
            sender = null;
        } else {
            counters.dropped(QemuDropReason.UNSUPPORTED_MESSAGE);
            ReferenceCountUtil.release(msg);
            return;
        }
        int length = frame.readableBytes();
        QemuDropReason bad = QemuFraming.checkLength(length, maxFrameLength);
        if (bad != null) {
            counters.dropped(bad);
            frame.release();
            return;
        }
        if (sender != null && !connected && !isPeer(sender)) {
            counters.dropped(QemuDropReason.FOREIGN_SENDER);
            frame.release();
            return;
        }
        if (frame.capacity() - length > MAX_WASTED_RECEIVE_BYTES) {
            frame = compact(ctx, frame);
        }
        counters.frameIn(length);
        ctx.fireChannelRead(frame); // the envelope's one reference is its content's: it moves on with the frame
    }

    /** Whether {@code sender} is the peer, locking onto it if no peer is known yet. */
    private boolean isPeer(SocketAddress sender) {
        SocketAddress p = peer;
        if (p != null) {
            return p.equals(sender);
        }
        if (!QemuTransports.isNamed(sender)) {
            return false;
        }
        peer = sender;
        return true;
    }

    private static ByteBuf compact(ChannelHandlerContext ctx, ByteBuf frame) {
        try {
            ByteBuf copy = ctx.alloc().buffer(frame.readableBytes());
            copy.writeBytes(frame, frame.readerIndex(), frame.readableBytes());
            return copy;
        } finally {
            frame.release();
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf frame)) {
            drop(msg, promise, QemuDropReason.UNSUPPORTED_MESSAGE, "not a frame: " + StringUtil.simpleClassName(msg));
            return;
        }
        int length = frame.readableBytes();
        QemuDropReason bad = QemuFraming.checkLength(length, maxFrameLength);
        if (bad != null) {
            drop(frame, promise, bad, "frame of " + length + " bytes is outside [" + QemuFraming.MIN_FRAME_LENGTH
                    + ", " + maxFrameLength + "]");
            return;
        }
        if (connected) {
            counters.frameOut(length);
            ctx.write(frame, promise);
            return;
        }
        SocketAddress to = peer;
        if (to == null) {
            drop(frame, promise, QemuDropReason.NO_PEER, "no QEMU peer address known yet");
            return;
        }
        counters.frameOut(length);
        ctx.write(to instanceof InetSocketAddress inet
                ? new DatagramPacket(frame, inet)
                : new DefaultAddressedEnvelope<ByteBuf, SocketAddress>(frame, to), promise);
    }

    private void drop(Object msg, ChannelPromise promise, QemuDropReason reason, String why) {
        ReferenceCountUtil.release(msg);
        counters.dropped(reason);
        if (!promise.isVoid()) {
            promise.tryFailure(new EncoderException(why));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A datagram socket has no connection to lose: a send the kernel refused (or reports refused on a later
        // read, as ICMP port unreachable) is a lost frame, not a broken channel.
        if (cause instanceof IOException && ctx.channel().isOpen()) {
            counters.dropped(QemuDropReason.SEND_FAILED);
            if (logger.isDebugEnabled()) {
                logger.debug("{} QEMU datagram send failed: {}", ctx.channel(), cause.toString());
            }
            return;
        }
        ctx.fireExceptionCaught(cause);
    }
}

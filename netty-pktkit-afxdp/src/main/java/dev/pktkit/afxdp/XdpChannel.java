package dev.pktkit.afxdp;

import dev.pktkit.codec.stats.EnumCounters;
import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;
import dev.pktkit.linux.Xsk;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.AlreadyBoundException;
import java.util.concurrent.TimeUnit;

/**
 * An AF_XDP socket bound to one receive queue of a network interface, as a Netty channel carrying Ethernet
 * frames ({@code ByteBuf}s from {@code readerIndex()}, destination MAC first), on an epoll or io_uring event loop
 * through Netty's {@code IoHandle} API. It can be a port of an {@code L2Hub} like a {@code TapChannel}.
 *
 * <h2>Life cycle</h2>
 * {@link #open(XdpSocketConfig)} does the whole setup on the calling thread (it blocks: socket, UMEM
 * registration or sharing, ring mappings, bind, XSKMAP entry and, if asked, the redirect program's load and
 * attach, all inside the interface's namespace) and returns an open, bound channel; register it with a loop
 * ({@code group.register(ch)}, or {@code Bootstrap.channelFactory(() -> XdpChannel.open(cfg)).register()}) and it
 * becomes active at once. {@code bind} and {@code connect} are not used. Closing the channel removes its socket
 * from the XSKMAP, detaches the program it attached, and closes the socket; its UMEM share goes when the last
 * frame it lent has been released.
 *
 * <h2>Receiving</h2>
 * A read batch takes up to {@code MAX_MESSAGES_PER_READ} frames off the RX ring. Each is a buffer over its UMEM
 * chunk, without a copy; releasing it (on any thread) returns the chunk to the fill ring. At most
 * {@link XdpSocketConfig#maxLent()} frames are out at once: past that, frames are copied into the channel
 * allocator's buffers ({@link XdpCounter#FRAMES_COPIED_OUT}), so a slow consumer never starves the fill ring.
 * Bad descriptors are dropped and counted ({@link #counters()}).
 *
 * <h2>Sending</h2>
 * A write copies the frame into a free TX chunk and queues its descriptor; the flush publishes them and, when
 * the TX ring's need-wakeup flag asks (always in copy mode), kicks the kernel with {@code sendto}. Completions
 * return chunks. Without a free chunk the flush waits for completions (retried shortly on the loop). A frame
 * larger than a chunk or shorter than an Ethernet header fails its promise and is counted; the channel stays
 * open. A kick that finds the device gone ({@code ENXIO}/{@code ENETDOWN}) closes the channel with an
 * {@code IOException}.
 *
 * <h2>A device that goes away</h2>
 * When the device unregisters (deleted, or moved to another namespace) the kernel unbinds the socket and leaves
 * {@code ENETDOWN} as its pending error; its poll reports nothing from then on. A write notices at once (its
 * kick fails); a receive-only channel notices on the loop's timer, which asks {@code getsockopt(SO_ERROR)} every
 * {@link XdpSocketConfig#deviceCheckMillis()} (one system call, default once a second). Either way the channel
 * counts {@link XdpCounter#DEVICE_GONE}, fires an {@code IOException} down the pipeline, keeps it as
 * {@link #closeCause()}, and closes.
 *
 * <h2>Not done</h2>
 * Frames are not sent from a UMEM chunk in place (a frame received on one XdpChannel and written to another
 * sharing the UMEM is still copied); no multi-buffer frames ({@code XDP_USE_SG}); two sockets on one queue
 * sharing a UMEM (the kernel's shared-fill-ring case) are not supported.
 */
public final class XdpChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);
    /** How long a write waits before retrying when every TX chunk is with the kernel. */
    static final long TX_RETRY_MICROS = 20;

    private final DefaultChannelConfig config;
    private final EnumCounters<XdpCounter> counters = EnumCounters.of(XdpCounter.class);
    final XdpSocket socket;
    private final XdpAddress.Socket local;
    private volatile boolean open = true;
    private boolean readPending;
    private XdpIo io;
    private final Runnable flushTask = () -> ((XdpUnsafe) unsafe()).resumeFlush();
    private boolean retryScheduled;
    private final Runnable retryTask = () -> {
        retryScheduled = false;
        ((XdpUnsafe) unsafe()).resumeFlush();
    };
    private final XdpSocket.FrameSink sink;
    private final long deviceCheckMillis;
    private io.netty.util.concurrent.ScheduledFuture<?> deviceCheck;
    private volatile Throwable closeCause;

    private XdpChannel(XdpSocketConfig cfg) {
        super(null);
        config = new DefaultChannelConfig(this);
        ChannelPipeline p = pipeline();
        sink = frame -> {
            readPending = false;
            p.fireChannelRead(frame);
        };
        socket = openSocket(cfg);
        deviceCheckMillis = cfg.deviceCheckMillis();
        local = new XdpAddress.Socket(new XdpAddress(cfg.ifname(), cfg.queue()));
    }

    private XdpSocket openSocket(XdpSocketConfig cfg) {
        if (!LibC.isAvailable()) {
            throw new XdpException(XdpException.Reason.UNSUPPORTED, LibC.unavailabilityCause().getMessage(), 0,
                    null);
        }
        if (cfg.namespace() == null) {
            return XdpSocket.open(cfg, config.getAllocator(), counters);
        }
        try {
            return cfg.namespace().call(() -> XdpSocket.open(cfg, config.getAllocator(), counters));
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new XdpException(XdpException.Reason.SYSTEM_ERROR, "opening an AF_XDP socket in "
                    + cfg.namespace() + ": " + e, 0, e);
        }
    }

    /**
     * Sets up an AF_XDP socket as {@code cfg} says, on the calling thread (blocking; not on an event loop), and
     * returns it as a bound channel, ready to register.
     *
     * @throws XdpException if a step fails ({@link XdpException#reason()} says which kind of failure)
     */
    public static XdpChannel open(XdpSocketConfig cfg) {
        return new XdpChannel(cfg);
    }

    /** This channel's counters. */
    public EnumCounters<XdpCounter> counters() {
        return counters;
    }

    /** The kernel's counters for the socket (drops for a full RX ring, an empty fill ring, invalid descriptors). */
    public Xsk.Statistics kernelStatistics() {
        return socket.statistics();
    }

    /** Whether the kernel bound the socket in zero-copy mode. */
    public boolean isZeroCopy() {
        return socket.zeroCopy;
    }

    /** Frames the pipeline holds now (lent UMEM chunks). */
    public int lentFrames() {
        return socket.lent();
    }

    /** The program this channel loaded and attached ({@link XdpSocketConfig#attachMode()}), or null. */
    public XdpProgram program() {
        return socket.ownProgram;
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open;
    }

    /** The interface and queue. */
    public XdpAddress address() {
        return local.address;
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop io && XdpIo.isCompatible(io);
    }

    @Override
    protected SocketAddress localAddress0() {
        return local;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return null;
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new XdpUnsafe();
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        IoEventLoop loop = (IoEventLoop) eventLoop();
        XdpIo engine;
        try {
            engine = XdpIo.create(this, loop);
        } catch (Throwable t) {
            promise.setFailure(t);
            return;
        }
        io = engine;
        socket.loop = loop;
        loop.register(engine.handle()).addListener(f -> {
            if (f.isSuccess()) {
                engine.registered((IoRegistration) f.getNow());
                if (deviceCheckMillis > 0 && open) {
                    deviceCheck = loop.scheduleAtFixedRate(this::checkDevice, deviceCheckMillis, deviceCheckMillis,
                            TimeUnit.MILLISECONDS);
                }
                promise.setSuccess();
            } else {
                promise.setFailure(f.cause());
            }
        });
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new AlreadyBoundException(); // bound at open
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        if (!open) {
            return;
        }
        open = false;
        io.netty.util.concurrent.ScheduledFuture<?> check = deviceCheck;
        if (check != null) {
            deviceCheck = null;
            check.cancel(false);
        }
        XdpIo engine = io;
        if (engine != null) {
            engine.channelClosed(socket::close);
        } else {
            socket.close();
        }
    }

    @Override
    protected void doBeginRead() {
        if (!open) {
            return;
        }
        readPending = true;
        io.beginRead();
    }

    boolean wantsRead() {
        return open && (config.isAutoRead() || readPending);
    }

    private int maxMessagesPerRead() {
        RecvByteBufAllocator a = config.getRecvByteBufAllocator();
        int max = a instanceof MaxMessagesRecvByteBufAllocator m ? m.maxMessagesPerRead() : 16;
        return Math.max(1, max);
    }

    /** The RX ring has frames: read a batch. */
    void readReady() {
        if (!open) {
            return;
        }
        int max = maxMessagesPerRead();
        int delivered = 0;
        while (delivered < max && wantsRead()) {
            int n = socket.receive(max - delivered, config.getAllocator(), sink);
            if (n == 0) {
                break;
            }
            delivered += n;
        }
        if (delivered > 0) {
            pipeline().fireChannelReadComplete();
        }
        if (socket.txOutstanding()) {
            socket.reapCompletions();
        }
    }

    /** Waiting for readiness failed with {@code errno}: report and close. */
    void readFailed(int errno) {
        if (!open) {
            return;
        }
        failAndClose(new IOException("polling the AF_XDP socket on " + local + " failed: " + Errno.name(errno)));
    }

    /**
     * On the loop's timer: asks the socket for a pending error. The kernel leaves {@code ENETDOWN} there when the
     * device unregisters (and unbinds the socket, whose poll then stays quiet), so a receive-only channel learns
     * of it here; the channel counts {@link XdpCounter#DEVICE_GONE} and closes.
     */
    private void checkDevice() {
        if (!open) {
            return;
        }
        int err = socket.pendingError();
        if (err == 0) {
            return;
        }
        if (err > 0) {
            counters.increment(XdpCounter.DEVICE_GONE);
            failAndClose(new IOException("the device of " + local + " went away (the kernel unbound the socket: "
                    + Errno.name(err) + ")"));
        } else {
            failAndClose(new IOException("checking the AF_XDP socket on " + local + " failed: "
                    + Errno.name(-err)));
        }
    }

    private void failAndClose(IOException cause) {
        closeCause = cause;
        pipeline().fireExceptionCaught(cause);
        unsafe().close(voidPromise());
    }

    /**
     * Why the channel closed on its own (its device went away, polling failed), or null if it is open or was
     * closed by a caller.
     */
    public Throwable closeCause() {
        return closeCause;
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        counters.increment(XdpCounter.DROPPED_UNSUPPORTED_MESSAGE);
        throw new UnsupportedOperationException("an XdpChannel writes ByteBuf frames, not "
                + (msg == null ? "null" : msg.getClass().getName()));
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        int budget = config.getMaxMessagesPerWrite();
        try {
            for (;;) {
                Object msg = in.current();
                if (msg == null) {
                    return;
                }
                if (budget-- <= 0) {
                    eventLoop().execute(flushTask); // let the loop serve others, then go on
                    return;
                }
                ByteBuf frame = (ByteBuf) msg;
                int r = socket.queueTx(frame);
                switch (r) {
                    case XdpSocket.TX_QUEUED -> in.remove();
                    case XdpSocket.TX_NO_ROOM -> {
                        counters.increment(XdpCounter.TX_CHUNKS_EXHAUSTED);
                        socket.flushTx();
                        if (socket.queueTx(frame) == XdpSocket.TX_QUEUED) {
                            in.remove();
                            continue;
                        }
                        if (!retryScheduled) {
                            retryScheduled = true;
                            eventLoop().schedule(retryTask, TX_RETRY_MICROS, TimeUnit.MICROSECONDS);
                        }
                        return;
                    }
                    case XdpSocket.TX_TOO_BIG -> {
                        counters.increment(XdpCounter.DROPPED_TOO_BIG);
                        in.remove(new IOException("a " + frame.readableBytes() + "-byte frame does not fit a UMEM "
                                + "chunk on " + local));
                    }
                    default -> {
                        counters.increment(XdpCounter.DROPPED_TOO_SHORT);
                        in.remove(new IOException("a " + frame.readableBytes() + "-byte frame is shorter than an "
                                + "Ethernet header"));
                    }
                }
            }
        } finally {
            int r = socket.flushTx();
            if (r < 0) {
                counters.increment(XdpCounter.DEVICE_GONE);
                IOException e = new IOException("sending on " + local + " failed, the device is gone: "
                        + Errno.name(-r));
                closeCause = e;
                throw e;
            }
        }
    }

    /** Netty's unsafe, with a hook to resume flushing. */
    private final class XdpUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remote, SocketAddress localAddress, ChannelPromise promise) {
            safeSetFailure(promise, new UnsupportedOperationException("an XdpChannel has no peer to connect to"));
        }

        void resumeFlush() {
            flush0();
        }
    }

    @Override
    public String toString() {
        return "XdpChannel(" + local + (open ? ")" : ", closed)");
    }
}

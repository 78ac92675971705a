package dev.pktkit.tuntap;

import dev.pktkit.linux.LibC;
import dev.pktkit.linux.NetNamespace;
import dev.pktkit.linux.netlink.RtNetlink;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;
import dev.pktkit.tuntap.vnet.VirtioNetPacket;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.unix.FileDescriptor;

import java.net.SocketAddress;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What {@link TunChannel} and {@link TapChannel} share: a Linux TUN/TAP device file descriptor as a Netty
 * channel on an epoll or io_uring event loop.
 *
 * <h2>Life cycle</h2>
 * The constructor opens {@code /dev/net/tun} (non-blocking, close-on-exec) through the Foreign Function &amp;
 * Memory API, in the given network namespace or the caller's; registering puts the descriptor on the loop
 * through Netty's public {@code IoHandle} API ({@code EpollIoHandle} with {@code EpollIoOps}, or
 * {@code IoUringIoHandle} with {@code IoUringIoOps}), so the channel shares the application's
 * {@code MultiThreadIoEventLoopGroup} with its sockets; {@code bind(TunTapAddress)} creates or attaches the
 * device ({@code TUNSETIFF}) and makes the channel active; closing the channel closes the descriptor, and a
 * device that is not persistent disappears with it. NIO and kqueue loops are not compatible: registering there
 * fails with Netty's "incompatible event loop type".
 *
 * <h2>Messages</h2>
 * Inbound and outbound messages are {@code ByteBuf}s holding one IP packet ({@link TunChannel}) or one Ethernet
 * frame ({@link TapChannel}) from {@code readerIndex()}, and with {@link OffloadMode#LARGE}
 * {@link VirtioNetPacket}s too. Inbound buffers are direct, from the channel's allocator; the receiver owns them.
 * A write hands the message to the channel; heap or composite buffers are copied into a direct one first.
 *
 * <h2>Reading and writing</h2>
 * A read batch reads until the device is empty ({@code EAGAIN}) or {@code MAX_MESSAGES_PER_READ} packets were
 * read, and ends with one {@code channelReadComplete}. Writes happen on flush, one system call per packet on
 * epoll ({@code write}/{@code writev}; a TUN device has no batched write), and on io_uring up to
 * {@code MAX_MESSAGES_PER_WRITE} writes submitted at once, linked so that the kernel runs them in order.
 * A packet written while the interface is down is dropped and counted ({@link TunTapDropReason#LINK_DOWN}) as a
 * NIC without carrier would; a packet the kernel refuses for another reason is counted and its promise fails;
 * either way the channel stays open. Losing the device (its descriptor detached) closes the channel with an
 * {@code IOException} in the pipeline; without auto-read, when the pipeline next asks to read.
 *
 * <h2>Device setup</h2>
 * {@link #link()} configures the interface through rtnetlink in the device's namespace: MTU, up/down,
 * addresses, routes, MAC address, moving to another namespace. Binding (creating or attaching the device) and
 * re-reading the MTU run on a small setup executor, never on the event loop, and hand their results to the
 * loop: the kernel's rtnetlink lock can make them wait for seconds. {@code link()} calls run on the caller's
 * thread and block it until the kernel answers, so do not call them on an event loop.
 *
 * <h2>Inside</h2>
 * The class keeps the channel's state and life cycle; {@link TunTapReader} is the read path,
 * {@link TunTapWriter} the write path, {@link DeviceSetup} the setup side, and {@link TunTapIo} the
 * loop-specific engine (epoll or io_uring) that drives the first two.
 */
public abstract class AbstractTunTapChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private static final int STATE_OPEN = 0;
    private static final int STATE_BOUND = 1;
    private static final int STATE_CLOSED = 2;

    private final boolean tap;
    final int fd;
    private final TunTapChannelConfig config;
    private final TunTapCounters counters = new TunTapCounters();
    /**
     * Netty's view of the descriptor: the data path reads and writes through its JNI calls ({@code readAddress},
     * {@code writeAddress}, {@code writevAddresses}), which allocate nothing (an FFM call that captures
     * {@code errno} allocates a slice per call). Never closed through this object: {@link #closeFd()} closes
     * the descriptor once the loop and the setup executor have let go of it.
     */
    final FileDescriptor fileDescriptor;
    final TunTapReader reader;
    final TunTapWriter writer;
    final DeviceSetup setup;
    /** Set in {@link #newUnsafe()}, which the super constructor calls (so: no initializer). */
    private TunTapUnsafe core;
    /** What {@link #unsafe()} hands out: {@link #core} with {@code bind} taken off the loop. */
    private Unsafe view;
    private volatile int state;
    private volatile TunTapAddress local;
    private volatile int mtu;
    private volatile int readLength;
    /** Counts MTU changes made through {@link #link()}: a refresh that started before one does not overwrite it. */
    private final AtomicInteger mtuGeneration = new AtomicInteger();
    private boolean fdClosed;
    /** A bind's setup runs on the setup executor with {@link #fd}: the loop must not close it meanwhile. */
    private boolean binding;
    private boolean closeFdAfterBind;
    /** 0 or {@link VirtioNetHeader#LENGTH}; fixed at bind. */
    int vnetLength;
    /** Fixed at bind. */
    OffloadMode offload = OffloadMode.NONE;
    /** The loop-specific I/O of the current registration. */
    TunTapIo io;

    /**
     * Opens {@code devicePath} (normally {@code /dev/net/tun}) and an rtnetlink socket in {@code namespace} (the
     * caller's if null), on the calling thread.
     *
     * @throws TunTapException if the device node cannot be opened (with {@code NOT_LINUX},
     *                         {@code NO_TUN_DEVICE}, {@code PERMISSION_DENIED}, ...)
     */
    AbstractTunTapChannel(boolean tap, NetNamespace namespace, String devicePath) {
        super(null);
        this.tap = tap;
        this.config = new TunTapChannelConfig(this);
        TunDevice.ensurePlatform();
        int[] fdOut = new int[1];
        RtNetlink[] nlOut = new RtNetlink[1];
        Runnable open = () -> {
            fdOut[0] = TunDevice.open(devicePath, null);
            try {
                nlOut[0] = RtNetlink.open();
            } catch (RuntimeException e) {
                LibC.close(fdOut[0]);
                throw new TunTapException(TunTapException.Reason.SYSTEM_ERROR,
                        "cannot open an rtnetlink socket next to " + devicePath + ": " + e.getMessage(), e);
            }
        };
        if (namespace == null) {
            open.run();
        } else {
            namespace.run(open);
        }
        this.fd = fdOut[0];
        this.fileDescriptor = new FileDescriptor(fd);
        this.setup = new DeviceSetup(namespace, nlOut[0]);
        this.reader = new TunTapReader(this, fileDescriptor, counters);
        this.writer = new TunTapWriter(this, fileDescriptor, counters);
    }

    // ---- Channel ----

    @Override
    public TunTapChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isOpen() {
        return state != STATE_CLOSED;
    }

    @Override
    public boolean isActive() {
        return state == STATE_BOUND;
    }

    /** Whether {@code bind} attached the channel to a device (and it has not closed since). */
    boolean isBound() {
        return state == STATE_BOUND;
    }

    @Override
    public TunTapAddress localAddress() {
        return (TunTapAddress) super.localAddress();
    }

    @Override
    public SocketAddress remoteAddress() {
        return null;
    }

    /** This channel's traffic counters. */
    public TunTapCounters counters() {
        return counters;
    }

    /** The device's MTU as last seen (at bind, through {@link #link()}, or after a truncated read); 0 before bind. */
    public int mtu() {
        return mtu;
    }

    /** The offload mode the channel was bound with. */
    public OffloadMode offloadMode() {
        return offload;
    }

    /** The namespace the device lives in, as far as this channel knows; null for the JVM's own. */
    public NetNamespace namespace() {
        return setup.namespace();
    }

    /**
     * The device's network interface, for configuration through rtnetlink; only once bound. Its calls block the
     * calling thread until the kernel answers: not on an event loop.
     */
    public TunTapLink link() {
        TunTapAddress a = local;
        if (a == null || !isActive()) {
            throw new IllegalStateException("the channel is not bound to a device");
        }
        return new TunTapLink(this);
    }

    /** Whether this channel carries Ethernet frames (TAP) rather than IP packets (TUN). */
    boolean isTap() {
        return tap;
    }

    /** After {@link TunTapLink#moveTo}: the device lives in {@code target}, with index {@code newIndex}. */
    void movedTo(NetNamespace target, RtNetlink targetNetlink, int newIndex) {
        setup.movedTo(target, targetNetlink);
        TunTapAddress a = local;
        local = TunTapAddress.bound(a.name(), a.mode(), newIndex);
    }

    /** After {@link TunTapLink#mtu}: the MTU is {@code newMtu} now. */
    void mtuSet(int newMtu) {
        mtuGeneration.incrementAndGet();
        mtuChanged(newMtu);
    }

    /** Size later reads for {@code newMtu}. */
    private void mtuChanged(int newMtu) {
        mtu = newMtu;
        readLength = DeviceSetup.readLengthFor(newMtu, tap, config.getOffload());
    }

    /** A read did not fit: re-read the MTU off the loop; the loop gets the answer as a task. */
    void refreshMtu() {
        TunTapAddress a = local;
        if (a != null && isOpen()) {
            int generation = mtuGeneration.get();
            setup.refreshMtu(a.index(), eventLoop(), m -> {
                if (mtuGeneration.get() == generation) {
                    mtuChanged(m);
                }
            });
        }
    }

    /** Bytes per read buffer (see {@link DeviceSetup#readLengthFor}). */
    int readLength() {
        return readLength;
    }

    void persistChanged(boolean persist) {
        if (isBound()) {
            TunDevice.setPersist(fd, persist, local.name());
        }
    }

    // ---- AbstractChannel ----

    @Override
    protected AbstractUnsafe newUnsafe() {
        core = new TunTapUnsafe();
        return core;
    }

    /** The channel's {@code Unsafe}: Netty's, except that {@code bind} does the device setup off the loop. */
    @Override
    public Unsafe unsafe() {
        Unsafe v = view;
        if (v == null) {
            // first called from AbstractChannel's constructor (the pipeline's head), after newUnsafe()
            v = new OffLoopBindUnsafe(super.unsafe());
            view = v;
        }
        return v;
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop io && TunTapIo.isCompatible(io);
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
    protected void doRegister(ChannelPromise promise) {
        IoEventLoop loop = (IoEventLoop) eventLoop();
        TunTapIo engine;
        try {
            engine = TunTapIo.create(this, loop);
        } catch (Throwable t) {
            promise.setFailure(t);
            return;
        }
        io = engine;
        loop.register(engine.handle()).addListener(f -> {
            if (f.isSuccess()) {
                engine.registered((IoRegistration) f.getNow());
                promise.setSuccess();
            } else {
                promise.setFailure(f.cause());
            }
        });
    }

    /** Not used: {@link OffLoopBindUnsafe#bind} does the work off the loop. */
    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("TUN/TAP channels bind through their Unsafe");
    }

    /** On the loop: starts a bind (validated, nothing in progress); the setup runs on the setup executor. */
    private void startBind(SocketAddress localAddress, ChannelPromise promise) {
        if (!promise.setUncancellable()) {
            return;
        }
        if (!isOpen()) {
            promise.setFailure(new ClosedChannelException());
            return;
        }
        if (!(localAddress instanceof TunTapAddress req)) {
            promise.setFailure(new UnsupportedAddressTypeException());
            return;
        }
        if (binding) {
            promise.setFailure(new ConnectionPendingException());
            return;
        }
        if (state != STATE_OPEN) {
            promise.setFailure(new AlreadyBoundException());
            return;
        }
        binding = true;
        OffloadMode off = config.getOffload();
        setup.bind(fd, tap, req, off, config.isMultiQueue(), config.getOwner(), config.getGroup(),
                config.isPersist()).whenComplete((bound, failure) -> {
                    try {
                        eventLoop().execute(() -> bindDone(req, off, bound, failure, promise));
                    } catch (RejectedExecutionException e) {
                        // the loop is gone: nobody else will close the descriptor
                        DeviceSetup.closeQuietly(fd);
                        promise.tryFailure(failure != null ? failure : e);
                    }
                });
    }

    /** On the loop: the setup finished (or failed); the channel becomes active, or the promise fails. */
    private void bindDone(TunTapAddress req, OffloadMode off, DeviceSetup.Bound bound, Throwable failure,
                          ChannelPromise promise) {
        binding = false;
        if (closeFdAfterBind) {
            closeFdAfterBind = false;
            closeFd(); // the channel closed while the setup used the descriptor
        }
        Throwable cause = failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                ? c.getCause() : failure;
        if (!isOpen()) {
            // closed meanwhile: that is the reason, whatever the setup ran into after it
            ClosedChannelException closed = new ClosedChannelException();
            if (cause != null) {
                closed.initCause(cause);
            }
            promise.tryFailure(closed);
            return;
        }
        if (cause != null) {
            promise.tryFailure(cause);
            return;
        }
        vnetLength = off != OffloadMode.NONE ? VirtioNetHeader.LENGTH : 0;
        offload = off;
        mtuChanged(bound.mtu());
        local = TunTapAddress.bound(bound.name(), req.mode(), bound.index());
        state = STATE_BOUND;
        promise.trySuccess();
        pipeline().fireChannelActive();
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        state = STATE_CLOSED;
        TunTapIo engine = io;
        if (engine != null) {
            engine.channelClosed(); // closes the descriptor once the loop holds no operation on it
        } else {
            closeFd();
        }
        setup.close();
    }

    @Override
    protected void doDeregister() {
        TunTapIo engine = io;
        if (engine != null) {
            engine.deregister();
        }
    }

    @Override
    protected void doBeginRead() {
        if (!isActive()) {
            return;
        }
        reader.readPending = true;
        io.beginRead();
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        io.write(in);
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        return writer.filter(msg);
    }

    /**
     * Closes the device descriptor (once); the engines call it on the loop when it holds no operation on it. While
     * a bind's setup still uses the descriptor, the close waits for it.
     */
    final void closeFd() {
        if (binding) {
            closeFdAfterBind = true;
            return;
        }
        if (!fdClosed) {
            fdClosed = true;
            LibC.close(fd);
        }
    }

    final String where() {
        return setup.where();
    }

    /** Netty's unsafe, with a hook the engines use to resume flushing. */
    final class TunTapUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remote, SocketAddress localAddress, ChannelPromise promise) {
            safeSetFailure(promise, new UnsupportedOperationException("a TUN/TAP channel has no peer to connect "
                    + "to; bind it to a TunTapAddress"));
        }

        /** Continues writing what was flushed (after EPOLLOUT, or after io_uring write completions). */
        void resumeFlush() {
            flush0();
        }
    }

    /** The engines call this to resume flushing. */
    final void resumeFlush() {
        core.resumeFlush();
    }

    /**
     * Netty's {@code AbstractUnsafe.bind} is final and runs {@code doBind} on the loop, completing the promise
     * as it returns; device setup must not run there. This view passes every call to Netty's unsafe except
     * {@code bind}, which starts the setup off the loop and completes the promise (and fires
     * {@code channelActive}) when the loop gets the result.
     */
    private final class OffLoopBindUnsafe implements Unsafe {
        private final Unsafe netty;

        OffLoopBindUnsafe(Unsafe netty) {
            this.netty = netty;
        }

        @Override
        public void bind(SocketAddress localAddress, ChannelPromise promise) {
            startBind(localAddress, promise);
        }

        @Override
        @SuppressWarnings("deprecation") // Channel.Unsafe's own signature
        public RecvByteBufAllocator.Handle recvBufAllocHandle() {
            return netty.recvBufAllocHandle();
        }

        @Override
        public SocketAddress localAddress() {
            return netty.localAddress();
        }

        @Override
        public SocketAddress remoteAddress() {
            return netty.remoteAddress();
        }

        @Override
        public void register(EventLoop eventLoop, ChannelPromise promise) {
            netty.register(eventLoop, promise);
        }

        @Override
        public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
            netty.connect(remoteAddress, localAddress, promise);
        }

        @Override
        public void disconnect(ChannelPromise promise) {
            netty.disconnect(promise);
        }

        @Override
        public void close(ChannelPromise promise) {
            netty.close(promise);
        }

        @Override
        public void closeForcibly() {
            netty.closeForcibly();
        }

        @Override
        public void deregister(ChannelPromise promise) {
            netty.deregister(promise);
        }

        @Override
        public void beginRead() {
            netty.beginRead();
        }

        @Override
        public void write(Object msg, ChannelPromise promise) {
            netty.write(msg, promise);
        }

        @Override
        public void flush() {
            netty.flush();
        }

        @Override
        public ChannelPromise voidPromise() {
            return netty.voidPromise();
        }

        @Override
        public ChannelOutboundBuffer outboundBuffer() {
            return netty.outboundBuffer();
        }
    }

    /**
     * Binds a channel from {@code factory} to the device {@code name} on a loop of {@code group}, with
     * {@code handlers} added to its pipeline (none is fine: a hub port brings its own handler). The future succeeds
     * with the bound channel or fails with the bind's cause; it is bound to the channel's loop, so {@code sync()} on
     * that loop fails fast instead of hanging.
     */
    static <C extends AbstractTunTapChannel> io.netty.util.concurrent.Future<C> openWith(
            io.netty.channel.EventLoopGroup group, java.util.function.Supplier<C> factory, String name,
            io.netty.channel.ChannelHandler... handlers) {
        java.util.Objects.requireNonNull(group, "group");
        io.netty.channel.ChannelHandler[] copy = handlers.clone();
        for (io.netty.channel.ChannelHandler h : copy) {
            java.util.Objects.requireNonNull(h, "handler");
        }
        io.netty.channel.ChannelFuture bound = new io.netty.bootstrap.Bootstrap().group(group)
                .channelFactory(factory::get)
                .handler(new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
                    @Override
                    protected void initChannel(io.netty.channel.Channel ch) {
                        ch.pipeline().addLast(copy);
                    }
                })
                .bind(TunTapAddress.of(name));
        io.netty.util.concurrent.Promise<C> done = bound.channel().eventLoop().newPromise();
        bound.addListener(f -> {
            if (f.isSuccess()) {
                @SuppressWarnings("unchecked")
                C ch = (C) bound.channel();
                done.trySuccess(ch);
            } else {
                done.tryFailure(f.cause());
            }
        });
        return done;
    }
}

package dev.pktkit.tuntap;

import dev.pktkit.tuntap.linux.LibC;
import dev.pktkit.tuntap.netlink.LinkInfo;
import dev.pktkit.tuntap.netlink.NetNamespace;
import dev.pktkit.tuntap.netlink.RtNetlink;
import dev.pktkit.tuntap.vnet.GsoSegmenter;
import dev.pktkit.tuntap.vnet.VirtioNetHeader;
import dev.pktkit.tuntap.vnet.VirtioNetPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.SocketAddress;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.UnsupportedAddressTypeException;

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
 * addresses, routes, MAC address, moving to another namespace.
 */
public abstract class AbstractTunTapChannel extends AbstractChannel {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(AbstractTunTapChannel.class);
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    /**
     * Packets up to this many bytes read into a large (offload) read buffer are copied into a buffer of their
     * size, so that small packets do not each pin 64 KiB and the read buffer is reused.
     */
    static final int COPY_OUT_THRESHOLD = 2048;
    /** The largest packet a device with offloads hands over: a 64 KiB GSO segment. */
    static final int MAX_OFFLOAD_PACKET = 65536;
    /** Ethernet header with one 802.1Q tag: the most a TAP frame adds in front of its MTU-sized payload. */
    static final int MAX_LINK_HEADER = 18;

    /** The virtio-net header's 16-bit fields: little-endian (the channel asks for that on big-endian hosts). */
    private static final ValueLayout.OfShort LE16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private static final int STATE_OPEN = 0;
    private static final int STATE_BOUND = 1;
    private static final int STATE_CLOSED = 2;

    private final boolean tap;
    private final String devicePath;
    final int fd;
    private final TunTapChannelConfig config;
    private final TunTapCounters counters = new TunTapCounters();
    /**
     * Netty's view of the descriptor: the data path reads and writes through its JNI calls ({@code readAddress},
     * {@code writeAddress}, {@code writevAddresses}), which allocate nothing (an FFM call that captures
     * {@code errno} allocates a slice per call). Never closed through this object: {@link #closeFd()} closes
     * the descriptor once the loop has let go of it.
     */
    final FileDescriptor fileDescriptor;
    /** Header and iovecs for synchronous vectored writes; used only on the channel's loop. */
    private final MemorySegment writeScratch;
    private final SegmentSink segmentSink = new SegmentSink();
    private volatile NetNamespace namespace;
    private volatile RtNetlink netlink;
    private volatile int state;
    private volatile TunTapAddress local;
    private volatile int mtu;
    private volatile int readLength;
    private volatile boolean fdClosed;
    /** 0 or {@link VirtioNetHeader#LENGTH}; fixed at bind. */
    int vnetLength;
    /** Fixed at bind. */
    OffloadMode offload = OffloadMode.NONE;
    /** The loop-specific I/O of the current registration. */
    TunTapIo io;
    boolean readPending;

    /**
     * Opens {@code devicePath} (normally {@code /dev/net/tun}) in {@code namespace} (the caller's if null).
     *
     * @throws TunTapException if the device node cannot be opened (with {@code NOT_LINUX},
     *                         {@code NO_TUN_DEVICE}, {@code PERMISSION_DENIED}, ...)
     */
    AbstractTunTapChannel(boolean tap, NetNamespace namespace, String devicePath) {
        super(null);
        this.tap = tap;
        this.devicePath = devicePath;
        this.namespace = namespace;
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
        this.netlink = nlOut[0];
        this.fileDescriptor = new FileDescriptor(fd);
        this.writeScratch = Arena.ofAuto().allocate(16 + 2L * LibC.IOVEC_SIZE, 16);
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
        return namespace;
    }

    /** The device's network interface, for configuration through rtnetlink; only once bound. */
    public TunTapLink link() {
        TunTapAddress a = local;
        if (a == null || !isOpen()) {
            throw new IllegalStateException("the channel is not bound to a device");
        }
        return new TunTapLink(this);
    }

    /** Whether this channel carries Ethernet frames (TAP) rather than IP packets (TUN). */
    boolean isTap() {
        return tap;
    }

    RtNetlink netlink() {
        RtNetlink nl = netlink;
        if (nl == null) {
            throw new IllegalStateException("the channel is closed");
        }
        return nl;
    }

    /** After {@link TunTapLink#moveTo}: the device lives in {@code target}; configure it there from now on. */
    void movedTo(NetNamespace target, RtNetlink targetNetlink, int newIndex) {
        RtNetlink old = netlink;
        netlink = targetNetlink;
        namespace = target;
        TunTapAddress a = local;
        local = TunTapAddress.bound(a.name(), a.mode(), newIndex);
        if (old != null) {
            old.close();
        }
    }

    /** After {@link TunTapLink#mtu}: size later reads for {@code newMtu}. */
    void mtuChanged(int newMtu) {
        mtu = newMtu;
        readLength = readLengthFor(newMtu);
    }

    void persistChanged(boolean persist) {
        if (isBound()) {
            TunDevice.setPersist(fd, persist, local.name());
        }
    }

    // ---- AbstractChannel ----

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new TunTapUnsafe();
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

    @Override
    protected void doBind(SocketAddress localAddress) {
        if (!(localAddress instanceof TunTapAddress req)) {
            throw new UnsupportedAddressTypeException();
        }
        if (state != STATE_OPEN) {
            throw new AlreadyBoundException();
        }
        OffloadMode off = config.getOffload();
        boolean multiQueue = config.isMultiQueue();
        RtNetlink nl = netlink();
        if (req.mode() == TunTapAddress.OpenMode.ATTACH && nl.findLink(req.name()).isEmpty()) {
            throw new TunTapException(TunTapException.Reason.NO_SUCH_DEVICE, "no interface named " + req.name()
                    + " to attach to in " + where() + " (create it persistent first, or bind with "
                    + "TunTapAddress.of to create it)", LibC.ENODEV);
        }
        int flags = (tap ? TunDevice.IFF_TAP : TunDevice.IFF_TUN) | TunDevice.IFF_NO_PI
                | (off != OffloadMode.NONE ? TunDevice.IFF_VNET_HDR : 0)
                | (multiQueue ? TunDevice.IFF_MULTI_QUEUE : 0)
                | (req.mode() == TunTapAddress.OpenMode.CREATE ? TunDevice.IFF_TUN_EXCL : 0);
        int wanted = flags & (TunDevice.IFF_VNET_HDR | TunDevice.IFF_MULTI_QUEUE);
        int features = TunDevice.features(fd);
        if (features != 0 && (features & wanted) != wanted) {
            throw new TunTapException(TunTapException.Reason.UNSUPPORTED, "this kernel's TUN/TAP driver lacks "
                    + ((wanted & ~features & TunDevice.IFF_MULTI_QUEUE) != 0 ? "multi-queue " : "")
                    + ((wanted & ~features & TunDevice.IFF_VNET_HDR) != 0 ? "virtio-net headers " : "")
                    + "(features 0x" + Integer.toHexString(features) + ")", LibC.EINVAL);
        }
        String name = TunDevice.setIff(fd, req.name(), flags, n -> nl.findLink(n).isPresent());
        if (off != OffloadMode.NONE) {
            TunDevice.enableOffloads(fd, name);
        }
        if (config.getOwner() >= 0) {
            TunDevice.setOwner(fd, config.getOwner(), name);
        }
        if (config.getGroup() >= 0) {
            TunDevice.setGroup(fd, config.getGroup(), name);
        }
        if (config.isPersist()) {
            TunDevice.setPersist(fd, true, name);
        }
        LinkInfo info = nl.link(name);
        vnetLength = off != OffloadMode.NONE ? VirtioNetHeader.LENGTH : 0;
        offload = off;
        mtu = info.mtu();
        readLength = readLengthFor(info.mtu());
        local = TunTapAddress.bound(name, req.mode(), info.index());
        state = STATE_BOUND;
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
        RtNetlink nl = netlink;
        netlink = null;
        if (nl != null) {
            nl.close();
        }
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
        readPending = true;
        io.beginRead();
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        io.write(in);
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf buf) {
            if (!buf.isReadable()) {
                counters.dropped(TunTapDropReason.TOO_SHORT);
                throw new IllegalArgumentException("empty packet");
            }
            return writable(buf);
        }
        if (msg instanceof VirtioNetPacket p) {
            if (!p.content().isReadable()) {
                counters.dropped(TunTapDropReason.TOO_SHORT);
                throw new IllegalArgumentException("empty packet");
            }
            ByteBuf c = writable(p.content());
            return c == p.content() ? p : p.replace(c);
        }
        counters.dropped(TunTapDropReason.UNSUPPORTED_MESSAGE);
        throw new UnsupportedOperationException("a TUN/TAP channel writes ByteBuf and VirtioNetPacket, not "
                + (msg == null ? "null" : msg.getClass().getName()));
    }

    /** {@code buf} if the kernel can read it in place (direct, one piece, with an address); else a direct copy. */
    private ByteBuf writable(ByteBuf buf) {
        if (buf.hasMemoryAddress() && buf.nioBufferCount() == 1) {
            return buf;
        }
        ByteBuf copy = alloc().directBuffer(buf.readableBytes());
        copy.writeBytes(buf, buf.readerIndex(), buf.readableBytes());
        ReferenceCountUtil.safeRelease(buf);
        return copy;
    }

    // ---- read side, used by the I/O engines on the loop ----

    /** Bytes per read buffer: header, link header and MTU (or a 64 KiB segment with offloads), plus one. */
    final int readLength() {
        return readLength;
    }

    private int readLengthFor(int deviceMtu) {
        int link = tap ? MAX_LINK_HEADER : 0;
        int packet = config.getOffload() != OffloadMode.NONE ? Math.max(deviceMtu, MAX_OFFLOAD_PACKET) : deviceMtu;
        // one spare byte: a read that fills the buffer may have been cut short
        return (config.getOffload() != OffloadMode.NONE ? VirtioNetHeader.LENGTH : 0) + link + packet + 1;
    }

    final ByteBuf newReadBuffer() {
        return alloc().directBuffer(readLength);
    }

    /** How many packets one read batch may deliver. */
    final int maxMessagesPerRead() {
        RecvByteBufAllocator a = config.getRecvByteBufAllocator();
        int max = a instanceof MaxMessagesRecvByteBufAllocator m ? m.maxMessagesPerRead() : 16;
        return Math.max(1, max);
    }

    /** Whether the pipeline wants more packets now. */
    final boolean wantsRead() {
        return isActive() && (config.isAutoRead() || readPending);
    }

    /**
     * Handles one read of {@code n} bytes at index 0 of {@code buf}: parses the virtio-net header, segments or
     * wraps as the offload mode says, counts, and fires {@code channelRead}. Returns true if {@code buf} was
     * handed on (the caller must not touch it again), false if the caller still owns it (copied out, dropped).
     */
    final boolean onRead(ByteBuf buf, int n) {
        if (n >= buf.capacity()) {
            counters.dropped(TunTapDropReason.TRUNCATED);
            refreshMtu();
            return false;
        }
        int hdr = vnetLength;
        if (n <= hdr) {
            counters.dropped(TunTapDropReason.TOO_SHORT);
            return false;
        }
        ChannelPipeline p = pipeline();
        if (hdr == 0) {
            buf.setIndex(0, n);
            deliver(p, buf, n);
            return true;
        }
        if (VirtioNetHeader.isPlain(buf, 0)) {
            return deliverMaybeCopy(p, buf, hdr, n);
        }
        int gsoType = VirtioNetHeader.gsoType(buf, 0);
        boolean gso = VirtioNetHeader.baseGsoType(gsoType) != VirtioNetHeader.GSO_NONE;
        if (gso) {
            counters.largeIn();
        }
        if (offload == OffloadMode.LARGE) {
            int flags = VirtioNetHeader.flags(buf, 0);
            int hdrLen = VirtioNetHeader.headerLength(buf, 0);
            int gsoSize = VirtioNetHeader.gsoSize(buf, 0);
            int csumStart = VirtioNetHeader.checksumStart(buf, 0);
            int csumOffset = VirtioNetHeader.checksumOffset(buf, 0);
            int len = n - hdr;
            boolean copied = !gso && len <= COPY_OUT_THRESHOLD;
            ByteBuf content;
            if (copied) {
                content = alloc().directBuffer(len);
                content.writeBytes(buf, hdr, len);
            } else {
                content = buf.setIndex(hdr, n);
            }
            counters.packetIn(len);
            readPending = false;
            p.fireChannelRead(new VirtioNetPacket(content, flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset));
            return !copied;
        }
        buf.setIndex(hdr, n);
        if (gso) {
            readPending = false;
            int r = GsoSegmenter.segment(buf, tap, gsoType, VirtioNetHeader.gsoSize(buf, 0), alloc(), segmentSink);
            if (r < 0) {
                counters.dropped(r == GsoSegmenter.UNSUPPORTED ? TunTapDropReason.UNSUPPORTED_OFFLOAD
                        : TunTapDropReason.BAD_OFFLOAD);
            }
            return true; // segmented (and released) or passed on
        }
        if (!GsoSegmenter.completeChecksum(buf, VirtioNetHeader.checksumStart(buf, 0),
                VirtioNetHeader.checksumOffset(buf, 0))) {
            counters.dropped(TunTapDropReason.BAD_OFFLOAD);
            return false;
        }
        return deliverMaybeCopy(p, buf, hdr, n);
    }

    private boolean deliverMaybeCopy(ChannelPipeline p, ByteBuf buf, int from, int to) {
        int len = to - from;
        if (len <= COPY_OUT_THRESHOLD) {
            ByteBuf copy = alloc().directBuffer(len);
            copy.writeBytes(buf, from, len);
            deliver(p, copy, len);
            return false;
        }
        buf.setIndex(from, to);
        deliver(p, buf, len);
        return true;
    }

    private void deliver(ChannelPipeline p, ByteBuf packet, int len) {
        counters.packetIn(len);
        readPending = false;
        p.fireChannelRead(packet);
    }

    /** Ends a read batch: one {@code channelReadComplete} if anything was delivered. */
    final void readBatchDone(int delivered) {
        if (delivered > 0) {
            counters.readBatch();
            pipeline().fireChannelReadComplete();
        }
    }

    /** A read failed with {@code errno} (not {@code EAGAIN}): the device is gone; report and close. */
    final void readFailed(int errno) {
        if (!isOpen()) {
            return;
        }
        IOException e = new IOException("reading from " + local + " failed: " + LibC.errnoName(errno));
        pipeline().fireExceptionCaught(e);
        unsafe().close(voidPromise());
    }

    private void refreshMtu() {
        try {
            TunTapAddress a = local;
            RtNetlink nl = netlink;
            if (a != null && nl != null) {
                mtuChanged(nl.link(a.index()).mtu());
            }
        } catch (RuntimeException e) {
            logger.debug("cannot re-read the MTU of {}", local, e);
        }
    }

    private final class SegmentSink implements GsoSegmenter.SegmentConsumer {
        @Override
        public void accept(ByteBuf segment) {
            counters.packetIn(segment.readableBytes());
            pipeline().fireChannelRead(segment);
        }
    }

    // ---- write side, used by the I/O engines on the loop ----

    /** The packet (or frame) bytes of a filtered outbound message. */
    static ByteBuf packetOf(Object msg) {
        return msg instanceof VirtioNetPacket p ? p.content() : (ByteBuf) msg;
    }

    /** Address of the first readable byte of a filtered outbound buffer. */
    static long addressOf(ByteBuf buf) {
        return buf.memoryAddress() + buf.readerIndex();
    }

    /** Writes the virtio-net header of {@code msg} (all zero for a plain buffer) at {@code off} of {@code seg}. */
    static void writeHeader(MemorySegment seg, long off, Object msg) {
        if (msg instanceof VirtioNetPacket p) {
            seg.set(ValueLayout.JAVA_BYTE, off, (byte) p.flags());
            seg.set(ValueLayout.JAVA_BYTE, off + 1, (byte) p.gsoType());
            seg.set(LE16, off + 2, (short) p.headerLength());
            seg.set(LE16, off + 4, (short) p.gsoSize());
            seg.set(LE16, off + 6, (short) p.checksumStart());
            seg.set(LE16, off + 8, (short) p.checksumOffset());
        } else {
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED, off, 0L);
            seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, off + 8, (short) 0);
        }
    }

    /**
     * Whether {@code msg} must be cut or checksummed in Java before it can be written: a
     * {@link VirtioNetPacket} with offload state, on a channel without virtio-net headers.
     */
    final boolean needsSoftwareOffload(Object msg) {
        return vnetLength == 0 && msg instanceof VirtioNetPacket p && (p.isGso() || p.needsChecksum());
    }

    /**
     * Writes {@code msg} now with {@code write}/{@code writev} (cutting it in Java first if
     * {@link #needsSoftwareOffload}); returns the bytes written, or {@code -errno}.
     */
    final long writeNow(Object msg) {
        if (needsSoftwareOffload(msg)) {
            return writeSoftwareOffload((VirtioNetPacket) msg);
        }
        ByteBuf pkt = packetOf(msg);
        int len = pkt.readableBytes();
        if (vnetLength == 0) {
            return write(addressOf(pkt), len);
        }
        MemorySegment s = writeScratch;
        writeHeader(s, 0, msg);
        long iov = s.address() + 16;
        s.set(ValueLayout.JAVA_LONG, 16, s.address());
        s.set(ValueLayout.JAVA_LONG, 24, VirtioNetHeader.LENGTH);
        s.set(ValueLayout.JAVA_LONG, 32, addressOf(pkt));
        s.set(ValueLayout.JAVA_LONG, 40, len);
        long r = writev(iov, 2);
        return r > 0 ? r - VirtioNetHeader.LENGTH : r;
    }

    // ---- system calls of the data path: bytes, or -errno (-EAGAIN when the device has nothing / no room) ----

    /** {@code read(2)} of up to {@code length} bytes at {@code address}. */
    final long read(long address, int length) {
        try {
            int n = fileDescriptor.readAddress(address, 0, length);
            return n == 0 ? -LibC.EAGAIN : n; // Netty reports EAGAIN as 0; a TUN/TAP read is never empty
        } catch (IOException e) {
            return errnoOf(e);
        }
    }

    /** {@code write(2)} of {@code length} bytes at {@code address}. */
    final long write(long address, int length) {
        try {
            int n = fileDescriptor.writeAddress(address, 0, length);
            return n == 0 ? -LibC.EAGAIN : n;
        } catch (IOException e) {
            return errnoOf(e);
        }
    }

    /** {@code writev(2)} of the {@code count} iovecs at {@code iov}. */
    final long writev(long iov, int count) {
        try {
            long n = fileDescriptor.writevAddresses(iov, count);
            return n == 0 ? -LibC.EAGAIN : n;
        } catch (IOException e) {
            return errnoOf(e);
        }
    }

    private static long errnoOf(IOException e) {
        if (e instanceof Errors.NativeIoException n) {
            return n.expectedErr(); // already negative
        }
        if (e instanceof java.nio.channels.ClosedChannelException) {
            return -LibC.EBADF;
        }
        return -LibC.EIO;
    }

    /** Cuts (or checksums) {@code msg} in Java and writes each piece; {@code msg} is left to the caller. */
    private long writeSoftwareOffload(VirtioNetPacket msg) {
        ByteBuf content = msg.content().retainedDuplicate();
        if (!msg.isGso()) {
            ByteBuf own = dev.pktkit.codec.buffer.Buffers.exclusive(content, alloc());
            try {
                if (!GsoSegmenter.completeChecksum(own, msg.checksumStart(), msg.checksumOffset())) {
                    return -LibC.EINVAL;
                }
                return write(addressOf(own), own.readableBytes());
            } finally {
                own.release();
            }
        }
        SoftwareSegmentWriter w = new SoftwareSegmentWriter();
        int r = GsoSegmenter.segment(content, tap, msg.gsoType(), msg.gsoSize(), alloc(), w);
        if (r < 0) {
            return -LibC.EINVAL;
        }
        return w.error != 0 ? w.error : w.bytes;
    }

    /** Writes each segment it receives; remembers the first error. Cold path (software offload only). */
    private final class SoftwareSegmentWriter implements GsoSegmenter.SegmentConsumer {
        long bytes;
        int error;

        @Override
        public void accept(ByteBuf segment) {
            try {
                if (error == 0) {
                    long r = write(addressOf(segment), segment.readableBytes());
                    if (r < 0) {
                        error = (int) r;
                    } else {
                        bytes += r;
                    }
                }
            } finally {
                segment.release();
            }
        }
    }

    /**
     * Accounts for a finished write of {@code msg} with result {@code res} (bytes, or {@code -errno}); returns
     * null on success, else the failure for the message's promise.
     */
    final Throwable writeDone(Object msg, long res) {
        if (res >= 0) {
            counters.packetOut(packetOf(msg).readableBytes());
            if (msg instanceof VirtioNetPacket p && p.isGso() && vnetLength != 0) {
                counters.largeOut();
            }
            return null;
        }
        if (res == -LibC.EIO) {
            counters.dropped(TunTapDropReason.LINK_DOWN); // the interface is down: a drop, not an error
            return null;
        }
        counters.dropped(TunTapDropReason.WRITE_FAILED);
        return new IOException("the kernel refused a " + packetOf(msg).readableBytes() + "-byte packet on "
                + local + ": " + LibC.errnoName((int) -res));
    }

    /** Whether a write error means the device is gone for this descriptor (the channel must close). */
    static boolean isFatalWriteError(long res) {
        int e = (int) -res;
        return e == LibC.EBADF || e == LibC.EBADFD || e == LibC.ENODEV || e == LibC.ENXIO;
    }

    /** Closes the device descriptor (once); the engines call it when the loop holds no operation on it. */
    final void closeFd() {
        if (!fdClosed) {
            fdClosed = true;
            LibC.close(fd);
        }
    }

    final String where() {
        NetNamespace ns = namespace;
        return ns == null ? "the current network namespace" : ns.toString();
    }

    /** Unsafe with a hook the engines use to resume flushing. */
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
        ((TunTapUnsafe) unsafe()).resumeFlush();
    }
}

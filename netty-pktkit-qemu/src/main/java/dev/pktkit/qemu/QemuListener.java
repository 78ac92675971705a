package dev.pktkit.qemu;

import dev.pktkit.codec.pipe.PortConnector;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.PromiseCombiner;
import io.netty.util.internal.ObjectUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A QEMU netdev endpoint whose every guest becomes a port of a {@link PortConnector} (an {@code L2Hub}, or one
 * connector of its own per guest), and leaves it when it disconnects.
 *
 * <p>Stream ({@link #stream}): a server socket; each QEMU that connects is a guest channel carrying frames
 * through the stream codec, attached to the connector; closing (or losing) the connection detaches it, as the
 * {@link PortConnector} contract says. Datagram ({@link #datagram}): one socket is one guest, attached once
 * bound.
 *
 * <pre>{@code
 * L2Hub hub = L2Hub.builder().name("vms").build();
 * QemuListener vms = QemuListener.stream(QemuAddress.unix("/run/vms/lan.sock"))
 *         .group(group).connector(hub).closeWith(hub)
 *         .socketPermissions(PosixFilePermissions.fromString("rw-rw----"))   // owner and group may connect
 *         .bind().sync().getNow();
 * String arg = vms.netdevArgument("n0");   // stream,id=n0,server=off,addr.type=unix,addr.path=/run/vms/lan.sock
 * ...
 * vms.close();                             // the listener, every guest, and the hub
 * }</pre>
 *
 * <p>Who may connect to a Unix stream listener: by default the socket file's mode comes from the process umask
 * (with the usual 022, {@code rwxr-xr-x}: only the owner may connect, since connecting needs write permission;
 * with umask 000, every local user). {@link Builder#socketPermissions}, {@link Builder#socketOwner} and
 * {@link Builder#socketGroup} set them explicitly, with no window in which the socket is reachable with other
 * permissions: Netty's Unix server channels (epoll, io_uring, NIO) bind and listen in one step and take no file
 * mode, and the umask is per process (not per thread), so the listener binds in a fresh private directory
 * ({@code rwx------}, created beside the socket path), sets mode, owner and group on the socket file there,
 * then hard-links it to the requested path ({@code link(2)} fails if the path exists, so nothing is replaced) and
 * removes the private name and directory. The private path ({@code DIR/.pktkit-bind-NNN/s}) is about 32 bytes
 * longer than the socket's directory and must fit a Unix socket address (107 bytes), or the bind fails saying so.
 * The listening channel's own {@code localAddress()} therefore names the private path; {@link #localAddress()}
 * and the netdev arguments name the requested one. On close the socket file is removed if it is still the
 * listener's own (same inode).
 *
 * <p>Bounds: at most {@link Builder#maxGuests} guests at once ({@value #DEFAULT_MAX_GUESTS} by default); a
 * further connection is closed at once and counted ({@link #refusedGuests()}), as is one the connector refuses
 * (for example a full hub).
 */
public final class QemuListener {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(QemuListener.class);

    /** Default cap on simultaneous guests. */
    public static final int DEFAULT_MAX_GUESTS = 1024;

    private final boolean stream;
    private final QemuAddress remote;
    /** The requested Unix path when the socket was bound elsewhere and linked there; null otherwise. */
    private volatile QemuAddress.Unix linkedAddress;
    private volatile Object linkedFileKey;
    private final List<Object> closeWith;
    private final AtomicReference<Future<Void>> closing = new AtomicReference<>();
    private final Function<Channel, PortConnector> connectors;
    private final int maxGuests;
    private final AtomicInteger guestCount = new AtomicInteger();
    private final LongAdder refused = new LongAdder();
    /** The listening channel and every guest, so that {@link #close()} takes them all. */
    private final ChannelGroup members = new DefaultChannelGroup("qemu-listener", GlobalEventExecutor.INSTANCE);
    private volatile Channel channel;

    private QemuListener(Builder b) {
        this.stream = b.stream;
        this.remote = b.remote;
        this.connectors = b.connectors;
        this.maxGuests = b.maxGuests;
        this.closeWith = List.copyOf(b.closeWith);
    }

    /** A listener for QEMU stream netdevs ({@code -netdev stream,server=off}, {@code socket,connect=}). */
    public static Builder stream(QemuAddress listen) {
        return new Builder(true, ObjectUtil.checkNotNull(listen, "listen"));
    }

    /** A datagram endpoint bound at {@code local}, for one QEMU {@code -netdev dgram} / {@code socket,udp=}. */
    public static Builder datagram(QemuAddress local) {
        return new Builder(false, ObjectUtil.checkNotNull(local, "local"));
    }

    /** The listening (stream) or the bound (datagram) channel. */
    public Channel channel() {
        return channel;
    }

    /**
     * The bound address, with the actual port if an ephemeral one was asked for; for a Unix socket bound with
     * {@link Builder#socketPermissions} (or owner, group), the requested path.
     */
    public QemuAddress localAddress() {
        QemuAddress.Unix linked = linkedAddress;
        return linked != null ? linked : QemuAddress.of(channel.localAddress());
    }

    /** The guest channels attached now (for a datagram endpoint, its channel). */
    public List<Channel> guests() {
        List<Channel> list = new ArrayList<>();
        for (Channel c : members) {
            if (!(c instanceof ServerChannel)) {
                list.add(c);
            }
        }
        return list;
    }

    /** Number of guests attached now. */
    public int guestCount() {
        return guestCount.get();
    }

    /** Connections closed at once because the listener was full or the connector refused them. */
    public long refusedGuests() {
        return refused.sum();
    }

    /**
     * The {@code -netdev} argument that makes QEMU join this listener: for a stream,
     * {@code stream,id=ID,server=off,addr...}; for a datagram endpoint with a remote (QEMU's local address),
     * {@code dgram,id=ID,local...,remote...}.
     *
     * @throws IllegalStateException for a datagram endpoint without a remote (use
     *                               {@link #netdevArgument(String, QemuAddress)})
     */
    public String netdevArgument(String id) {
        if (stream) {
            return QemuNetdev.streamArgument(id, localAddress());
        }
        return QemuNetdev.datagramArgument(id, requireRemote(), localAddress());
    }

    /** The {@code -netdev dgram} argument for a QEMU bound at {@code qemuLocal} that sends to this endpoint. */
    public String netdevArgument(String id, QemuAddress qemuLocal) {
        if (stream) {
            throw new IllegalStateException("a stream listener's QEMU has no local address; use netdevArgument(id)");
        }
        return QemuNetdev.datagramArgument(id, qemuLocal, localAddress());
    }

    /**
     * The legacy {@code -netdev socket} argument for this listener (inet only): {@code socket,id=ID,connect=h:p}
     * for a stream, {@code socket,id=ID,udp=h:p,localaddr=h:p} for a datagram endpoint with a remote.
     */
    public String legacyNetdevArgument(String id) {
        if (stream) {
            return QemuNetdev.socketConnectArgument(id, localAddress());
        }
        return QemuNetdev.socketUdpArgument(id, requireRemote(), localAddress());
    }

    private QemuAddress requireRemote() {
        if (remote == null) {
            throw new IllegalStateException("this datagram endpoint has no remote; pass QEMU's local address");
        }
        return remote;
    }

    /**
     * Closes the listening channel and every guest, then whatever {@link Builder#closeWith} named (for example
     * the hub). Idempotent: every call returns the same future, which completes once all of it has closed, and
     * fails if any of it failed to close.
     */
    public Future<Void> close() {
        Future<Void> f = closing.get();
        if (f != null) {
            return f;
        }
        Promise<Void> done = GlobalEventExecutor.INSTANCE.newPromise();
        if (!closing.compareAndSet(null, done)) {
            return closing.get();
        }
        members.close().addListener(guests -> {
            PromiseCombiner all = new PromiseCombiner(GlobalEventExecutor.INSTANCE);
            all.add(guests);
            for (Object r : closeWith) {
                if (r instanceof ChannelGroup g) {
                    all.add(g.close());
                } else {
                    Promise<Void> closed = ImmediateEventExecutor.INSTANCE.newPromise();
                    try {
                        ((AutoCloseable) r).close();
                        closed.setSuccess(null);
                    } catch (Exception e) {
                        logger.warn("{}: closing {} failed", this, r, e);
                        closed.setFailure(e);
                    }
                    all.add(closed);
                }
            }
            all.finish(done);
        });
        return done;
    }

    @Override
    public String toString() {
        Channel ch = channel;
        return "QemuListener(" + (stream ? "stream " : "dgram ") + (ch == null ? "unbound" : ch.localAddress())
                + ", guests=" + guestCount() + ")";
    }

    /** Attaches a new guest, or closes it if the listener is full or the connector refuses it. */
    private void admit(Channel guest) {
        if (guestCount.incrementAndGet() > maxGuests) {
            guestCount.decrementAndGet();
            refuse(guest, "the listener is full (" + maxGuests + " guests)", null);
            return;
        }
        guest.closeFuture().addListener(f -> guestCount.decrementAndGet());
        members.add(guest);
        try {
            PortConnector connector = ObjectUtil.checkNotNull(connectors.apply(guest), "connector for " + guest);
            connector.attach(guest);
        } catch (RuntimeException e) {
            refuse(guest, "the connector refused it: " + e.getMessage(), e);
        }
    }

    private void refuse(Channel guest, String why, Throwable cause) {
        refused.increment();
        logger.warn("{} QEMU guest refused: {}", guest, why, cause);
        guest.close();
    }

    private void ready(Channel ch, Promise<QemuListener> ready) {
        channel = ch;
        if (stream) {
            members.add(ch);
        }
        ready.setSuccess(this);
    }

    /**
     * A Unix socket bound in a private directory beside its path, given its mode and owner there, and then
     * hard-linked to the path: nobody can connect before the file carries its final permissions.
     */
    private static final class SocketFile {
        /** {@code sun_path} holds 108 bytes with the terminating NUL on Linux. */
        static final int MAX_SOCKET_PATH_BYTES = 107;

        final Path path;
        final Path privateDir;
        final Path privatePath;

        private SocketFile(Path path, Path privateDir) {
            this.path = path;
            this.privateDir = privateDir;
            this.privatePath = privateDir.resolve("s");
        }

        static SocketFile prepare(Path path) throws IOException {
            Path absolute = path.toAbsolutePath();
            if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
                throw new BindException("Address already in use: " + absolute + " exists");
            }
            // rwx------ (Files.createTempDirectory's POSIX default), in the same directory so link(2) works
            Path dir = Files.createTempDirectory(absolute.getParent(), ".pktkit-bind-");
            SocketFile f = new SocketFile(absolute, dir);
            int length = f.privatePath.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (length > MAX_SOCKET_PATH_BYTES) {
                f.discard();
                throw new IOException("the private bind path " + f.privatePath + " is " + length + " bytes, more "
                        + "than a Unix socket address holds (" + MAX_SOCKET_PATH_BYTES + "); use a shorter directory"
                        + " for " + absolute + " (the private path is about 32 bytes longer than the directory)");
            }
            return f;
        }

        /** Sets mode, owner and group on the private name, links it to the path; returns the file's key. */
        Object publish(Set<PosixFilePermission> mode, UserPrincipal owner, GroupPrincipal group) throws IOException {
            try {
                // by path (chmod/chown): the JDK's no-follow variants open the file, which a socket refuses; the
                // private directory holds nothing but our socket
                PosixFileAttributeView view = Files.getFileAttributeView(privatePath, PosixFileAttributeView.class);
                if (owner != null) {
                    view.setOwner(owner);
                }
                if (group != null) {
                    view.setGroup(group);
                }
                if (mode != null) {
                    view.setPermissions(mode);   // after chown, which may clear set-ID bits
                }
                try {
                    Files.createLink(path, privatePath);
                } catch (FileAlreadyExistsException e) {
                    BindException b = new BindException("Address already in use: " + path + " exists");
                    b.initCause(e);
                    throw b;
                }
                return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            } finally {
                discard();
            }
        }

        /** Removes the private name and directory (the socket stays reachable through its path, if linked). */
        void discard() {
            try {
                Files.deleteIfExists(privatePath);
                Files.deleteIfExists(privateDir);
            } catch (IOException e) {
                logger.warn("could not remove {}", privateDir, e);
            }
        }

        /** On close: removes the path if it still names the listener's socket. */
        void removeIfStillOurs(Object fileKey) {
            try {
                Object now = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                        .fileKey();
                if (fileKey != null && Objects.equals(now, fileKey)) {
                    Files.deleteIfExists(path);
                }
            } catch (IOException gone) {
                // already removed
            }
        }
    }

    /** Configuration of a {@link QemuListener}. */
    public static final class Builder {
        private final boolean stream;
        private final QemuAddress address;
        private QemuAddress remote;
        private EventLoopGroup group;
        private Function<Channel, PortConnector> connectors;
        private int maxGuests = DEFAULT_MAX_GUESTS;
        private int maxFrameLength = QemuFraming.DEFAULT_MAX_FRAME_LENGTH;
        private final List<Object> closeWith = new ArrayList<>();
        private Set<PosixFilePermission> socketPermissions;
        private UserPrincipal socketOwner;
        private GroupPrincipal socketGroup;

        private Builder(boolean stream, QemuAddress address) {
            this.stream = stream;
            this.address = address;
        }

        /** The event loops for the listener and its guests (NIO, epoll, io_uring or kqueue). Required. */
        public Builder group(EventLoopGroup group) {
            this.group = ObjectUtil.checkNotNull(group, "group");
            return this;
        }

        /** Every guest becomes a port of {@code connector} (e.g. one {@code L2Hub}). */
        public Builder connector(PortConnector connector) {
            ObjectUtil.checkNotNull(connector, "connector");
            this.connectors = ch -> connector;
            return this;
        }

        /**
         * Each guest becomes a port of the connector {@code perGuest} returns for it: one isolated network (hub,
         * NAT namespace) per guest. The function runs on the guest's event loop when it connects; to dispose of
         * a per-guest connector when its guest leaves, listen to {@code guest.closeFuture()}.
         */
        public Builder connectorPerGuest(Function<Channel, PortConnector> perGuest) {
            this.connectors = ObjectUtil.checkNotNull(perGuest, "perGuest");
            return this;
        }

        /**
         * Datagram only: QEMU's local address, where frames go and the only sender accepted; without it, the
         * first sender becomes the peer for good. Datagrams from anyone else are dropped and counted
         * ({@link QemuDropReason#FOREIGN_SENDER}).
         */
        public Builder remote(QemuAddress remote) {
            if (stream) {
                throw new IllegalStateException("a stream listener has no remote");
            }
            this.remote = remote;
            return this;
        }

        /** Cap on simultaneous guests; default {@value #DEFAULT_MAX_GUESTS}. */
        public Builder maxGuests(int maxGuests) {
            this.maxGuests = ObjectUtil.checkPositive(maxGuests, "maxGuests");
            return this;
        }

        /** Largest frame either way; default {@value QemuFraming#DEFAULT_MAX_FRAME_LENGTH} (QEMU's own). */
        public Builder maxFrameLength(int maxFrameLength) {
            this.maxFrameLength = QemuFraming.checkMaxFrameLength(maxFrameLength);
            return this;
        }

        /**
         * Closes {@code group} (for example the {@code L2Hub} given to {@link #connector}) when the listener is
         * closed, after the listener and its guests; {@link QemuListener#close()} completes once it has closed.
         * May be given several times. If the bind fails, nothing given here is closed: it stays the caller's.
         */
        public Builder closeWith(ChannelGroup group) {
            closeWith.add(ObjectUtil.checkNotNull(group, "group"));
            return this;
        }

        /**
         * Closes {@code resource} (a capture, a NAT, anything the LAN needs) when the listener is closed, after the
         * listener and its guests, on {@code GlobalEventExecutor}'s thread (it may block). A failure is logged
         * and fails {@link QemuListener#close()}'s future. May be given several times.
         */
        public Builder closeWith(AutoCloseable resource) {
            closeWith.add(ObjectUtil.checkNotNull(resource, "resource"));
            return this;
        }

        /**
         * Unix stream listener only: the socket file's mode, for example
         * {@code PosixFilePermissions.fromString("rw-rw----")} (connecting needs write permission; execute bits
         * mean nothing on a socket). Default: whatever the process umask gives. Set before anyone can connect
         * (see the class documentation for how).
         */
        public Builder socketPermissions(Set<PosixFilePermission> permissions) {
            ObjectUtil.checkNotNull(permissions, "permissions");
            this.socketPermissions = permissions.isEmpty() ? EnumSet.noneOf(PosixFilePermission.class)
                    : EnumSet.copyOf(permissions);
            return unixStreamOnly("socketPermissions");
        }

        /**
         * Unix stream listener only: the socket file's owner (changing it to another user needs root or
         * {@code CAP_CHOWN}); look one up with
         * {@code FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("qemu")} (a
         * numeric uid works too). Default: the process's user.
         */
        public Builder socketOwner(UserPrincipal owner) {
            this.socketOwner = ObjectUtil.checkNotNull(owner, "owner");
            return unixStreamOnly("socketOwner");
        }

        /**
         * Unix stream listener only: the socket file's group (one the process belongs to, unless it has
         * {@code CAP_CHOWN}), for example the group QEMU runs as, with {@code rw-rw----}. Default: the process's
         * group (or the directory's, for a set-group-ID directory).
         */
        public Builder socketGroup(GroupPrincipal group) {
            this.socketGroup = ObjectUtil.checkNotNull(group, "group");
            return unixStreamOnly("socketGroup");
        }

        private Builder unixStreamOnly(String option) {
            if (!stream || !(address instanceof QemuAddress.Unix)) {
                throw new IllegalStateException(option + " applies to Unix stream listeners only, not to "
                        + (stream ? "" : "datagram ") + address + (stream ? "" : " (a datagram endpoint accepts "
                        + "only its peer's datagrams: give it a remote)"));
            }
            return this;
        }

        private boolean restrictsSocketFile() {
            return socketPermissions != null || socketOwner != null || socketGroup != null;
        }

        /**
         * Binds (and for a UDP endpoint with a remote, connects) and returns the listener once it is ready. A
         * Unix datagram endpoint is not connected, because QEMU's socket does not exist before QEMU starts.
         */
        public Future<QemuListener> bind() {
            ObjectUtil.checkNotNull(group, "group");
            ObjectUtil.checkNotNull(connectors, "connector");
            QemuListener listener = new QemuListener(this);
            ChannelHandler admit = new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    listener.admit(ch);
                }
            };
            SocketFile file = null;
            QemuAddress bindAt = address;
            if (restrictsSocketFile()) {
                try {
                    file = SocketFile.prepare(((QemuAddress.Unix) address).path());
                } catch (IOException e) {
                    return GlobalEventExecutor.INSTANCE.newFailedFuture(e);
                }
                bindAt = QemuAddress.unix(file.privatePath);
            }
            ChannelFuture bound;
            if (stream) {
                bound = QemuNetdev.streamServer(group, bindAt, maxFrameLength, admit).bind();
            } else {
                Bootstrap b = QemuNetdev.datagram(group, address, remote, maxFrameLength, admit);
                bound = remote instanceof QemuAddress.Inet ? b.connect() : b.bind();
            }
            Channel ch = bound.channel();
            Promise<QemuListener> ready = ch.eventLoop().newPromise();
            SocketFile socketFile = file;
            bound.addListener(f -> {
                if (!f.isSuccess()) {
                    ch.close();
                    if (socketFile != null) {
                        socketFile.discard();
                    }
                    ready.setFailure(f.cause());
                } else if (socketFile == null) {
                    listener.ready(ch, ready);
                } else {
                    // file-system calls, off the event loop
                    GlobalEventExecutor.INSTANCE.execute(() -> {
                        try {
                            listener.linkedFileKey = socketFile.publish(socketPermissions, socketOwner, socketGroup);
                            listener.linkedAddress = (QemuAddress.Unix) address;
                            ch.closeFuture().addListener(c -> socketFile.removeIfStillOurs(listener.linkedFileKey));
                            listener.ready(ch, ready);
                        } catch (IOException | RuntimeException e) {
                            socketFile.discard();
                            ch.close();
                            ready.setFailure(e);
                        }
                    });
                }
            });
            return ready;
        }
    }
}

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
import io.netty.channel.group.ChannelGroupFuture;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.Promise;
import io.netty.util.internal.ObjectUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
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
 * QemuListener vms = QemuListener.stream(QemuAddress.unix("/tmp/vms.sock"))
 *         .group(group).connector(hub).bind().sync().getNow();
 * String arg = vms.netdevArgument("n0");   // stream,id=n0,server=off,addr.type=unix,addr.path=/tmp/vms.sock
 * ...
 * vms.close();                             // the listener and every guest
 * }</pre>
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

    /** The bound address, with the actual port if an ephemeral one was asked for. */
    public QemuAddress localAddress() {
        return QemuAddress.of(channel.localAddress());
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

    /** Closes the listening channel and every guest. */
    public ChannelGroupFuture close() {
        return members.close();
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

    /** Configuration of a {@link QemuListener}. */
    public static final class Builder {
        private final boolean stream;
        private final QemuAddress address;
        private QemuAddress remote;
        private EventLoopGroup group;
        private Function<Channel, PortConnector> connectors;
        private int maxGuests = DEFAULT_MAX_GUESTS;
        private int maxFrameLength = QemuFraming.DEFAULT_MAX_FRAME_LENGTH;

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
            ChannelFuture bound;
            if (stream) {
                bound = QemuNetdev.streamServer(group, address, maxFrameLength, admit).bind();
            } else {
                Bootstrap b = QemuNetdev.datagram(group, address, remote, maxFrameLength, admit);
                bound = remote instanceof QemuAddress.Inet ? b.connect() : b.bind();
            }
            Channel ch = bound.channel();
            Promise<QemuListener> ready = ch.eventLoop().newPromise();
            bound.addListener(f -> {
                if (f.isSuccess()) {
                    listener.channel = ch;
                    if (stream) {
                        listener.members.add(ch);
                    }
                    ready.setSuccess(listener);
                } else {
                    ch.close();
                    ready.setFailure(f.cause());
                }
            });
            return ready;
        }
    }
}

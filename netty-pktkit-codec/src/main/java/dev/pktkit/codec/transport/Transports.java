package dev.pktkit.codec.transport;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.util.Locale;

/**
 * Picks the best event-loop implementation present at run time: io_uring, then epoll, then kqueue, then NIO.
 *
 * <p>The native transports are optional dependencies: an application that ships
 * {@code netty-transport-native-io_uring} (or epoll, kqueue) for its platform gets it; otherwise NIO is used.
 * The system property {@value #PROPERTY} ({@code io_uring}, {@code epoll}, {@code kqueue}, {@code nio}) forces
 * a choice; forcing one that is not available fails with an {@link IllegalStateException} naming the reason,
 * rather than silently falling back.
 *
 * <pre>{@code
 * EventLoopGroup group = Transports.newEventLoopGroup(0);
 * new ServerBootstrap().group(group).channel(Transports.serverSocketChannelClass()) ...
 * }</pre>
 */
public final class Transports {
    /** System property that overrides the automatic choice. */
    public static final String PROPERTY = "pktkit.transport";

    private Transports() {
    }

    /** The kind chosen for this JVM: the {@value #PROPERTY} override if set, else the best available. */
    public static TransportKind chosen() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank()) {
            TransportKind kind = parse(forced);
            Throwable why = unavailabilityCause(kind);
            if (why != null) {
                throw new IllegalStateException("-D" + PROPERTY + "=" + forced + " asks for " + kind
                        + ", which is not available here: " + why, why);
            }
            return kind;
        }
        for (TransportKind kind : TransportKind.values()) {
            if (isAvailable(kind)) {
                return kind;
            }
        }
        return TransportKind.NIO;
    }

    /** Parses a property value such as {@code io_uring}, {@code iouring}, {@code epoll}, {@code nio}. */
    public static TransportKind parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace("-", "_");
        return switch (n) {
            case "io_uring", "iouring", "uring" -> TransportKind.IO_URING;
            case "epoll" -> TransportKind.EPOLL;
            case "kqueue" -> TransportKind.KQUEUE;
            case "nio" -> TransportKind.NIO;
            default -> throw new IllegalArgumentException(
                    "unknown transport '" + name + "'; expected io_uring, epoll, kqueue or nio");
        };
    }

    /** Whether {@code kind}'s classes and native library load on this machine. */
    public static boolean isAvailable(TransportKind kind) {
        return unavailabilityCause(kind) == null;
    }

    /** Why {@code kind} cannot be used here, or null if it can. */
    public static Throwable unavailabilityCause(TransportKind kind) {
        try {
            return switch (kind) {
                case IO_URING -> Native.ioUringCause();
                case EPOLL -> Native.epollCause();
                case KQUEUE -> Native.kqueueCause();
                case NIO -> null;
            };
        } catch (LinkageError e) {
            return new UnsupportedOperationException("the " + kind + " transport jar is not on the class path", e);
        }
    }

    /** An {@link IoHandlerFactory} for {@code kind}; fails if it is not available. */
    public static IoHandlerFactory ioHandlerFactory(TransportKind kind) {
        requireAvailable(kind);
        return switch (kind) {
            case IO_URING -> Native.ioUringFactory();
            case EPOLL -> Native.epollFactory();
            case KQUEUE -> Native.kqueueFactory();
            case NIO -> NioIoHandler.newFactory();
        };
    }

    /** A group of {@code threads} loops (0 = Netty's default) of the {@linkplain #chosen() chosen} kind. */
    public static MultiThreadIoEventLoopGroup newEventLoopGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory(chosen()));
    }

    /** A group of {@code threads} loops of the given kind. */
    public static MultiThreadIoEventLoopGroup newEventLoopGroup(int threads, TransportKind kind) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory(kind));
    }

    /** The TCP server channel class matching {@link #chosen()}. */
    public static Class<? extends ServerSocketChannel> serverSocketChannelClass() {
        return serverSocketChannelClass(chosen());
    }

    public static Class<? extends ServerSocketChannel> serverSocketChannelClass(TransportKind kind) {
        requireAvailable(kind);
        return switch (kind) {
            case IO_URING -> Native.ioUringServerSocket();
            case EPOLL -> Native.epollServerSocket();
            case KQUEUE -> Native.kqueueServerSocket();
            case NIO -> NioServerSocketChannel.class;
        };
    }

    /** The TCP client channel class matching {@link #chosen()}. */
    public static Class<? extends SocketChannel> socketChannelClass() {
        return socketChannelClass(chosen());
    }

    public static Class<? extends SocketChannel> socketChannelClass(TransportKind kind) {
        requireAvailable(kind);
        return switch (kind) {
            case IO_URING -> Native.ioUringSocket();
            case EPOLL -> Native.epollSocket();
            case KQUEUE -> Native.kqueueSocket();
            case NIO -> NioSocketChannel.class;
        };
    }

    /** The UDP channel class matching {@link #chosen()}. */
    public static Class<? extends DatagramChannel> datagramChannelClass() {
        return datagramChannelClass(chosen());
    }

    public static Class<? extends DatagramChannel> datagramChannelClass(TransportKind kind) {
        requireAvailable(kind);
        return switch (kind) {
            case IO_URING -> Native.ioUringDatagram();
            case EPOLL -> Native.epollDatagram();
            case KQUEUE -> Native.kqueueDatagram();
            case NIO -> NioDatagramChannel.class;
        };
    }

    private static void requireAvailable(TransportKind kind) {
        Throwable why = unavailabilityCause(kind);
        if (why != null) {
            throw new IllegalStateException(kind + " transport is not available: " + why, why);
        }
    }

    /**
     * Every reference to an optional transport lives here, so that a missing jar surfaces as a
     * {@link LinkageError} inside {@link #unavailabilityCause} instead of breaking this class.
     */
    private static final class Native {
        static Throwable ioUringCause() {
            return io.netty.channel.uring.IoUring.unavailabilityCause();
        }

        static Throwable epollCause() {
            return io.netty.channel.epoll.Epoll.unavailabilityCause();
        }

        static Throwable kqueueCause() {
            return io.netty.channel.kqueue.KQueue.unavailabilityCause();
        }

        static IoHandlerFactory ioUringFactory() {
            return io.netty.channel.uring.IoUringIoHandler.newFactory();
        }

        static IoHandlerFactory epollFactory() {
            return io.netty.channel.epoll.EpollIoHandler.newFactory();
        }

        static IoHandlerFactory kqueueFactory() {
            return io.netty.channel.kqueue.KQueueIoHandler.newFactory();
        }

        static Class<? extends ServerSocketChannel> ioUringServerSocket() {
            return io.netty.channel.uring.IoUringServerSocketChannel.class;
        }

        static Class<? extends ServerSocketChannel> epollServerSocket() {
            return io.netty.channel.epoll.EpollServerSocketChannel.class;
        }

        static Class<? extends ServerSocketChannel> kqueueServerSocket() {
            return io.netty.channel.kqueue.KQueueServerSocketChannel.class;
        }

        static Class<? extends SocketChannel> ioUringSocket() {
            return io.netty.channel.uring.IoUringSocketChannel.class;
        }

        static Class<? extends SocketChannel> epollSocket() {
            return io.netty.channel.epoll.EpollSocketChannel.class;
        }

        static Class<? extends SocketChannel> kqueueSocket() {
            return io.netty.channel.kqueue.KQueueSocketChannel.class;
        }

        static Class<? extends DatagramChannel> ioUringDatagram() {
            return io.netty.channel.uring.IoUringDatagramChannel.class;
        }

        static Class<? extends DatagramChannel> epollDatagram() {
            return io.netty.channel.epoll.EpollDatagramChannel.class;
        }

        static Class<? extends DatagramChannel> kqueueDatagram() {
            return io.netty.channel.kqueue.KQueueDatagramChannel.class;
        }
    }
}

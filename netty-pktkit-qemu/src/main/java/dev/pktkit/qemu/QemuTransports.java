package dev.pktkit.qemu;

import dev.pktkit.codec.transport.TransportKind;
import dev.pktkit.codec.transport.Transports;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/**
 * Which Netty channel class and address type serve a {@link QemuAddress} on a given event-loop group.
 *
 * <p>TCP and UDP work on every transport. Unix stream sockets work on NIO (JDK 16+ {@code UnixDomainSocketAddress})
 * and on the native transports (Netty's {@code DomainSocketAddress}). Unix datagram sockets exist only on epoll
 * and kqueue; asking for one on NIO or io_uring fails with an {@link IllegalStateException} saying so.
 */
final class QemuTransports {
    private QemuTransports() {
    }

    /** The I/O type of {@code group}'s loops. */
    static TransportKind kindOf(EventLoopGroup group) {
        if (!(group instanceof IoEventLoopGroup io)) {
            throw new IllegalArgumentException("QEMU channels need a Netty 4.2 IoEventLoopGroup "
                    + "(e.g. MultiThreadIoEventLoopGroup); got " + group.getClass().getName());
        }
        if (io.isIoType(NioIoHandler.class)) {
            return TransportKind.NIO;
        }
        for (TransportKind kind : new TransportKind[] {TransportKind.EPOLL, TransportKind.IO_URING,
                TransportKind.KQUEUE}) {
            try {
                if (Native.isIoType(io, kind)) {
                    return kind;
                }
            } catch (LinkageError absent) {
                // that transport's classes are not on the class path, so the group cannot be of its type
            }
        }
        throw new IllegalArgumentException("unsupported I/O type of " + group.getClass().getName()
                + "; QEMU channels run on NIO, epoll, io_uring or kqueue loops");
    }

    static Class<? extends ServerChannel> streamServerChannel(TransportKind kind, QemuAddress address) {
        if (address instanceof QemuAddress.Inet) {
            return Transports.serverSocketChannelClass(kind);
        }
        return switch (kind) {
            case NIO -> NioServerDomainSocketChannel.class;
            case EPOLL -> Native.epollServerDomain();
            case IO_URING -> Native.ioUringServerDomain();
            case KQUEUE -> Native.kqueueServerDomain();
        };
    }

    static Class<? extends Channel> streamChannel(TransportKind kind, QemuAddress address) {
        if (address instanceof QemuAddress.Inet) {
            return Transports.socketChannelClass(kind);
        }
        return switch (kind) {
            case NIO -> NioDomainSocketChannel.class;
            case EPOLL -> Native.epollDomain();
            case IO_URING -> Native.ioUringDomain();
            case KQUEUE -> Native.kqueueDomain();
        };
    }

    static Class<? extends Channel> datagramChannel(TransportKind kind, QemuAddress address) {
        if (address instanceof QemuAddress.Inet) {
            return Transports.datagramChannelClass(kind);
        }
        return switch (kind) {
            case EPOLL -> Native.epollDomainDatagram();
            case KQUEUE -> Native.kqueueDomainDatagram();
            case NIO, IO_URING -> throw new IllegalStateException("Unix datagram sockets (" + address
                    + ") need the epoll or kqueue transport; this event-loop group runs " + kind
                    + ". Use a group of " + "EpollIoHandler/KQueueIoHandler loops, or UDP.");
        };
    }

    /** The transport address of {@code address} for channels of {@code kind}. */
    static SocketAddress socketAddress(TransportKind kind, QemuAddress address) {
        if (address instanceof QemuAddress.Inet inet) {
            return new InetSocketAddress(inet.host(), inet.port());
        }
        String path = ((QemuAddress.Unix) address).path().toString();
        return kind == TransportKind.NIO ? UnixDomainSocketAddress.of(path) : Native.domainSocketAddress(path);
    }

    /**
     * Whether a datagram sender can be replied to: not an unbound (unnamed) Unix socket, whose address is an empty
     * path.
     */
    static boolean isNamed(SocketAddress sender) {
        if (sender instanceof InetSocketAddress) {
            return true;
        }
        if (sender instanceof UnixDomainSocketAddress uds) {
            return !uds.getPath().toString().isEmpty();
        }
        try {
            return Native.isNamedDomainSocketAddress(sender);
        } catch (LinkageError absent) {
            return true;
        }
    }

    /** Whether {@code ch} is a connected UDP or Unix datagram channel (it sends plain buffers to its peer). */
    static boolean isConnectedDatagram(Channel ch) {
        if (ch instanceof io.netty.channel.socket.DatagramChannel udp) {
            return udp.isConnected();
        }
        try {
            return Native.isConnectedDomainDatagram(ch);
        } catch (LinkageError absent) {
            return false;
        }
    }

    /** The path of Netty's {@code DomainSocketAddress}, or null for any other address (or without the jar). */
    static String nettyUnixPath(SocketAddress address) {
        try {
            return Native.domainSocketPath(address);
        } catch (LinkageError absent) {
            return null;
        }
    }

    /** Every reference to an optional transport, so that a missing jar is a LinkageError here only. */
    private static final class Native {
        static boolean isIoType(IoEventLoopGroup group, TransportKind kind) {
            return switch (kind) {
                case EPOLL -> group.isIoType(io.netty.channel.epoll.EpollIoHandler.class);
                case IO_URING -> group.isIoType(io.netty.channel.uring.IoUringIoHandler.class);
                case KQUEUE -> group.isIoType(io.netty.channel.kqueue.KQueueIoHandler.class);
                case NIO -> group.isIoType(NioIoHandler.class);
            };
        }

        static Class<? extends ServerChannel> epollServerDomain() {
            return io.netty.channel.epoll.EpollServerDomainSocketChannel.class;
        }

        static Class<? extends ServerChannel> ioUringServerDomain() {
            return io.netty.channel.uring.IoUringServerDomainSocketChannel.class;
        }

        static Class<? extends ServerChannel> kqueueServerDomain() {
            return io.netty.channel.kqueue.KQueueServerDomainSocketChannel.class;
        }

        static Class<? extends Channel> epollDomain() {
            return io.netty.channel.epoll.EpollDomainSocketChannel.class;
        }

        static Class<? extends Channel> ioUringDomain() {
            return io.netty.channel.uring.IoUringDomainSocketChannel.class;
        }

        static Class<? extends Channel> kqueueDomain() {
            return io.netty.channel.kqueue.KQueueDomainSocketChannel.class;
        }

        static Class<? extends Channel> epollDomainDatagram() {
            return io.netty.channel.epoll.EpollDomainDatagramChannel.class;
        }

        static Class<? extends Channel> kqueueDomainDatagram() {
            return io.netty.channel.kqueue.KQueueDomainDatagramChannel.class;
        }

        static SocketAddress domainSocketAddress(String path) {
            return new io.netty.channel.unix.DomainSocketAddress(path);
        }

        static boolean isConnectedDomainDatagram(Channel ch) {
            return ch instanceof io.netty.channel.unix.DomainDatagramChannel d && d.isConnected();
        }

        static String domainSocketPath(SocketAddress a) {
            return a instanceof io.netty.channel.unix.DomainSocketAddress d ? d.path() : null;
        }

        static boolean isNamedDomainSocketAddress(SocketAddress a) {
            return !(a instanceof io.netty.channel.unix.DomainSocketAddress d) || !d.path().isEmpty();
        }
    }
}

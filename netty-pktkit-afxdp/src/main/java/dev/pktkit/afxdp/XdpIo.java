package dev.pktkit.afxdp;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;

/**
 * The loop-specific half of an {@link XdpChannel}: tells the channel when its RX ring has frames.
 * {@link EpollXdpIo} keeps the socket in epoll (level-triggered {@code EPOLLIN} while the pipeline wants frames);
 * {@link IoUringXdpIo} keeps one {@code POLL_ADD} in flight. Frames themselves never pass through a system call:
 * the channel reads and writes the rings, and kicks the kernel with {@code sendto}/{@code recvfrom} when the
 * rings' need-wakeup flags ask for it.
 */
abstract class XdpIo {
    private static final boolean EPOLL_PRESENT = present("io.netty.channel.epoll.EpollIoHandle");
    private static final boolean IO_URING_PRESENT = present("io.netty.channel.uring.IoUringIoHandle");

    final XdpChannel ch;
    IoRegistration registration;

    XdpIo(XdpChannel ch) {
        this.ch = ch;
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, XdpIo.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    static boolean isCompatible(IoEventLoop loop) {
        return EPOLL_PRESENT && loop.isCompatible(EpollXdpIo.class)
                || IO_URING_PRESENT && loop.isCompatible(IoUringXdpIo.class);
    }

    static XdpIo create(XdpChannel ch, IoEventLoop loop) {
        if (EPOLL_PRESENT && loop.isCompatible(EpollXdpIo.class)) {
            return new EpollXdpIo(ch);
        }
        if (IO_URING_PRESENT && loop.isCompatible(IoUringXdpIo.class)) {
            return new IoUringXdpIo(ch);
        }
        throw new IllegalStateException("an XdpChannel needs an epoll or io_uring event loop, not " + loop);
    }

    abstract IoHandle handle();

    void registered(IoRegistration r) {
        registration = r;
    }

    /** The pipeline wants frames. */
    abstract void beginRead();

    /** The channel closed: stop, and run {@code whenIdle} once the loop holds nothing on the socket. */
    abstract void channelClosed(Runnable whenIdle);
}

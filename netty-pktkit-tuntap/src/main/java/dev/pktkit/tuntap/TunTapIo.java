package dev.pktkit.tuntap;

import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;

/**
 * The loop-specific half of a TUN/TAP channel: one instance per registration, the {@link IoHandle} the loop
 * calls back. {@link EpollTunTapIo} makes system calls when epoll reports the descriptor ready;
 * {@link IoUringTunTapIo} submits the reads and writes themselves to io_uring.
 *
 * <p>The epoll and io_uring classes are optional dependencies: an engine is only loaded when its transport is on
 * the class path and the loop is of its kind.
 */
abstract class TunTapIo {
    private static final boolean EPOLL_PRESENT = present("io.netty.channel.epoll.EpollIoHandle");
    private static final boolean IO_URING_PRESENT = present("io.netty.channel.uring.IoUringIoHandle");

    final AbstractTunTapChannel ch;
    IoRegistration registration;

    TunTapIo(AbstractTunTapChannel ch) {
        this.ch = ch;
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, TunTapIo.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Whether a TUN/TAP channel can register with {@code loop}: an epoll or io_uring loop. */
    static boolean isCompatible(IoEventLoop loop) {
        return EPOLL_PRESENT && loop.isCompatible(EpollTunTapIo.class)
                || IO_URING_PRESENT && loop.isCompatible(IoUringTunTapIo.class);
    }

    /** The engine for {@code loop}'s kind. */
    static TunTapIo create(AbstractTunTapChannel ch, IoEventLoop loop) {
        if (EPOLL_PRESENT && loop.isCompatible(EpollTunTapIo.class)) {
            return new EpollTunTapIo(ch);
        }
        if (IO_URING_PRESENT && loop.isCompatible(IoUringTunTapIo.class)) {
            return new IoUringTunTapIo(ch);
        }
        throw new IllegalStateException("TUN/TAP channels need an epoll or io_uring event loop, not " + loop);
    }

    /** The handle to register with the loop (the engine itself). */
    abstract IoHandle handle();

    /** The loop accepted the handle. */
    void registered(IoRegistration r) {
        registration = r;
    }

    /** The pipeline asked for packets. */
    abstract void beginRead();

    /** Writes what {@code in} holds flushed. */
    abstract void write(ChannelOutboundBuffer in) throws Exception;

    /** The channel closed: stop, release what the engine holds, close the descriptor once nothing uses it. */
    abstract void channelClosed();

    /** The channel is leaving this loop (but stays open). */
    abstract void deregister();
}

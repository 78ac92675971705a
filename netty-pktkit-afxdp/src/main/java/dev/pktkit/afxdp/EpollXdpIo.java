package dev.pktkit.afxdp;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;

/**
 * An AF_XDP socket on an epoll loop: level-triggered {@code EPOLLIN} (the RX ring is not empty) while the
 * pipeline wants frames, so a batch may stop at {@code MAX_MESSAGES_PER_READ} and the loop comes back for the
 * rest after serving its other channels.
 */
final class EpollXdpIo extends XdpIo implements EpollIoHandle {
    private static final int IN = EpollIoOps.EPOLLIN.value();
    private static final int ERR = EpollIoOps.EPOLLERR.value();

    private final FileDescriptor fd;
    private boolean readInterest;
    private boolean added;
    private Runnable whenIdle;

    EpollXdpIo(XdpChannel ch) {
        super(ch);
        this.fd = new FileDescriptor(ch.socket.fd);
    }

    @Override
    IoHandle handle() {
        return this;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        int ops = ((EpollIoEvent) event).ops().value();
        if ((ops & (IN | ERR)) != 0 && ch.isOpen()) {
            ch.readReady();
            if (!ch.wantsRead() && readInterest && ch.isOpen()) {
                interest(false);
            }
        }
    }

    @Override
    void beginRead() {
        if (!readInterest) {
            interest(true);
        }
    }

    private void interest(boolean read) {
        readInterest = read;
        IoRegistration r = registration;
        if (r == null || !r.isValid()) {
            return;
        }
        // not NONE (Netty deletes the descriptor for NONE, then modifies it on the next submit): EPOLLERR alone
        // keeps it registered and quiet
        r.submit(EpollIoOps.valueOf(read ? IN : ERR));
        added = true;
    }

    @Override
    void channelClosed(Runnable whenIdle) {
        this.whenIdle = whenIdle;
        IoRegistration r = registration;
        if (r != null && r.isValid()) {
            r.cancel(); // on the loop: removes the socket from epoll and calls unregistered()
        } else {
            idle();
        }
    }

    @Override
    public void unregistered() {
        if (!ch.isOpen()) {
            idle();
        }
    }

    private void idle() {
        Runnable w = whenIdle;
        whenIdle = null;
        if (w != null) {
            w.run();
        }
    }

    @Override
    public void close() {
        ch.unsafe().close(ch.unsafe().voidPromise());
    }
}

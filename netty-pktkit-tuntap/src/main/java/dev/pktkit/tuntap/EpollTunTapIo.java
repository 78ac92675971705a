package dev.pktkit.tuntap;

import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;

/**
 * A TUN/TAP descriptor on an epoll loop: level-triggered {@code EPOLLIN} while the pipeline wants packets,
 * {@code EPOLLOUT} only while a write is waiting for room; {@code read(2)} until {@code EAGAIN} or the batch
 * limit, {@code write(2)}/{@code writev(2)} per packet on flush.
 *
 * <p>Level-triggered, so that a batch may stop at {@code MAX_MESSAGES_PER_READ} and the loop comes back for the
 * rest after serving its other channels.
 */
final class EpollTunTapIo extends TunTapIo implements EpollIoHandle {
    private static final int IN = EpollIoOps.EPOLLIN.value();
    private static final int OUT = EpollIoOps.EPOLLOUT.value();
    private static final int ERR = EpollIoOps.EPOLLERR.value();

    private final Runnable flushTask;
    private boolean readInterest;
    private boolean writeInterest;
    private boolean added;
    /** A read buffer kept from the last read that did not hand its buffer on. */
    private ByteBuf spare;

    EpollTunTapIo(AbstractTunTapChannel ch) {
        super(ch);
        this.flushTask = ch::resumeFlush;
    }

    @Override
    IoHandle handle() {
        return this;
    }

    @Override
    public FileDescriptor fd() {
        return ch.fileDescriptor;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        int ops = ((EpollIoEvent) event).ops().value();
        if ((ops & (OUT | ERR)) != 0 && writeInterest) {
            interest(readInterest, false);
            ch.resumeFlush();
        }
        if ((ops & (IN | ERR)) != 0) {
            if ((ops & ERR) != 0 && !ch.reader.wantsRead()) {
                errorReady();
            } else {
                readReady();
            }
        }
    }

    /**
     * {@code EPOLLERR} while nobody asked for packets (a TUN/TAP descriptor reports it when its device is gone):
     * one read finds out (and delivers a packet, should there be one), so that level-triggered epoll does not
     * report the error again and again. (The kernel wakes pollers of a lost device with {@code EPOLLIN} only, so
     * in practice the error is seen by the next read the pipeline asks for.)
     */
    private void errorReady() {
        if (!ch.isActive()) {
            return;
        }
        ByteBuf buf = spare;
        spare = null;
        if (buf == null || buf.capacity() != ch.reader.readLength()) {
            if (buf != null) {
                buf.release();
            }
            buf = ch.reader.newReadBuffer();
        }
        long n = ch.reader.read(buf.memoryAddress(), buf.capacity());
        if (n > 0) {
            if (!ch.reader.onRead(buf, (int) n)) {
                spare = buf;
            }
            ch.reader.readBatchDone(1);
            return;
        }
        spare = buf;
        if (n != -Errno.EAGAIN && n != -Errno.EINTR) {
            ch.reader.readFailed((int) -n);
        }
    }

    @Override
    void beginRead() {
        if (!readInterest) {
            interest(true, writeInterest);
        }
    }

    private void readReady() {
        if (!ch.isActive()) {
            return;
        }
        int max = ch.reader.maxMessagesPerRead();
        int reads = 0;
        while (reads < max && ch.reader.wantsRead()) {
            ByteBuf buf = spare;
            spare = null;
            if (buf == null || buf.capacity() != ch.reader.readLength()) {
                if (buf != null) {
                    buf.release();
                }
                buf = ch.reader.newReadBuffer();
            }
            long n = ch.reader.read(buf.memoryAddress(), buf.capacity());
            if (n < 0) {
                spare = buf;
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n != -Errno.EAGAIN) {
                    ch.reader.readBatchDone(reads);
                    ch.reader.readFailed((int) -n);
                    return;
                }
                break;
            }
            reads++;
            if (!ch.reader.onRead(buf, (int) n)) {
                spare = buf;
            }
        }
        ch.reader.readBatchDone(reads);
        if (!ch.reader.wantsRead() && readInterest && ch.isOpen()) {
            interest(false, writeInterest);
        }
    }

    @Override
    void write(ChannelOutboundBuffer in) throws Exception {
        int budget = ch.config().getMaxMessagesPerWrite();
        for (;;) {
            Object msg = in.current();
            if (msg == null) {
                if (writeInterest) {
                    interest(readInterest, false);
                }
                return;
            }
            if (budget-- <= 0) {
                ch.eventLoop().execute(flushTask); // let the loop serve others, then go on
                return;
            }
            long r = ch.writer.writeNow(msg);
            if (r == -Errno.EAGAIN) {
                if (!writeInterest) {
                    interest(readInterest, true);
                }
                return;
            }
            if (r == -Errno.EINTR) {
                budget++;
                continue;
            }
            if (r < 0 && TunTapWriter.isFatalWriteError(r)) {
                throw new IOException("writing to " + ch.localAddress() + " failed: " + Errno.name((int) -r));
            }
            Throwable failure = ch.writer.writeDone(msg, r);
            if (failure == null) {
                in.remove();
            } else {
                in.remove(failure);
            }
        }
    }

    private void interest(boolean read, boolean write) {
        readInterest = read;
        writeInterest = write;
        int ops = (read ? IN : 0) | (write ? OUT : 0);
        IoRegistration r = registration;
        if (r == null || !r.isValid()) {
            return;
        }
        if (ops == 0) {
            if (!added) {
                return;
            }
            // not NONE: Netty's registration deletes the descriptor for NONE but then modifies it on the next
            // submit; EPOLLERR alone keeps it registered and quiet (a TUN descriptor reports it only when detached)
            ops = ERR;
        }
        r.submit(EpollIoOps.valueOf(ops));
        added = true;
    }

    @Override
    void channelClosed() {
        IoRegistration r = registration;
        if (r != null && r.isValid()) {
            r.cancel(); // on the loop this removes the descriptor from epoll and calls unregistered() at once
        } else {
            released();
            ch.closeFd();
        }
    }

    @Override
    void deregister() {
        IoRegistration r = registration;
        if (r != null) {
            r.cancel();
        }
    }

    @Override
    public void unregistered() {
        released();
        if (!ch.isOpen()) {
            ch.closeFd(); // out of epoll now: the number may be reused safely
        }
    }

    private void released() {
        if (spare != null) {
            spare.release();
            spare = null;
        }
    }

    /** The loop is shutting down: close the channel. */
    @Override
    public void close() {
        ch.unsafe().close(ch.unsafe().voidPromise());
    }
}

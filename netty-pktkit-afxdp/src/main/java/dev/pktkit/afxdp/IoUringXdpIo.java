package dev.pktkit.afxdp;

import dev.pktkit.linux.Errno;
import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;

/**
 * An AF_XDP socket on an io_uring loop: one {@code POLL_ADD(POLLIN)} in flight while the pipeline wants frames;
 * its completion reads a batch from the RX ring and re-arms it. Closing cancels the poll
 * ({@code ASYNC_CANCEL}) and lets the socket go once both completions are in.
 */
final class IoUringXdpIo extends XdpIo implements IoUringIoHandle {
    static final byte IORING_OP_POLL_ADD = 6;
    static final byte IORING_OP_ASYNC_CANCEL = 14;
    static final int POLLIN = 0x1;

    private boolean pollInFlight;
    private long pollId;
    private int cancelsInFlight;
    private boolean closing;
    private Runnable whenIdle;

    IoUringXdpIo(XdpChannel ch) {
        super(ch);
    }

    @Override
    IoHandle handle() {
        return this;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        IoUringIoEvent e = (IoUringIoEvent) event;
        switch (e.opcode()) {
            case IORING_OP_POLL_ADD -> pollDone(e.res());
            case IORING_OP_ASYNC_CANCEL -> cancelsInFlight--;
            default -> {
            }
        }
        if (closing && !pollInFlight && cancelsInFlight == 0) {
            finish();
        }
    }

    @Override
    void beginRead() {
        if (!closing && !pollInFlight && ch.isOpen()) {
            arm();
        }
    }

    private void arm() {
        pollInFlight = true;
        pollId = registration.submit(new IoUringIoOps(IORING_OP_POLL_ADD, (byte) 0, (short) 0, ch.socket.fd, 0L,
                0L, 0, POLLIN, 0L, (short) 0, (short) 0, 0, 0L));
    }

    private void pollDone(int res) {
        pollInFlight = false;
        if (closing || res == -Errno.ECANCELED) {
            return;
        }
        if (res < 0) {
            ch.readFailed(-res);
            return;
        }
        ch.readReady();
        if (ch.wantsRead() && ch.isOpen() && !closing) {
            arm();
        }
    }

    @Override
    void channelClosed(Runnable whenIdle) {
        this.whenIdle = whenIdle;
        closing = true;
        IoRegistration r = registration;
        if (pollInFlight && r != null && r.isValid()) {
            cancelsInFlight++;
            r.submit(new IoUringIoOps(IORING_OP_ASYNC_CANCEL, (byte) 0, (short) 0, -1, 0L, pollId, 0, 0, 0L,
                    (short) 0, (short) 0, 0, 0L));
        } else {
            finish();
        }
    }

    private void finish() {
        Runnable w = whenIdle;
        whenIdle = null;
        IoRegistration r = registration;
        if (r != null && r.isValid()) {
            r.cancel();
        }
        if (w != null) {
            w.run();
        }
    }

    @Override
    public void unregistered() {
        if (!ch.isOpen() && whenIdle != null) { // also at loop shutdown, a poll still armed: the ring holds its own file reference
            finish();
        }
    }

    @Override
    public void close() {
        if (ch.isOpen()) {
            ch.unsafe().close(ch.unsafe().voidPromise());
        }
    }
}

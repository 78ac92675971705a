package dev.pktkit.tuntap;

import io.netty.channel.ChannelException;

/**
 * Opening, creating or attaching a TUN/TAP device failed. {@link #reason()} says why in a form a program can
 * act on; the message says it for a person, naming the device and what to do.
 *
 * <p>Thrown by the channel constructors (the device node cannot be opened) and reported through the bind
 * future (the device cannot be created or attached).
 */
public final class TunTapException extends ChannelException {
    private static final long serialVersionUID = 1L;

    /** Why a device could not be opened. */
    public enum Reason {
        /** Not Linux (or not a 64-bit JVM): TUN/TAP channels need Linux's {@code /dev/net/tun}. */
        NOT_LINUX,
        /** {@code /dev/net/tun} does not exist or its driver is not loaded. */
        NO_TUN_DEVICE,
        /**
         * No permission: creating or attaching a device needs {@code CAP_NET_ADMIN} (or, for a persistent device,
         * being its owner or group), and opening {@code /dev/net/tun} needs read/write access to it.
         */
        PERMISSION_DENIED,
        /**
         * The name is taken: by a TUN/TAP device another file descriptor is attached to, by a device of the other
         * kind (TUN vs TAP) or multi-queue setting, or by a different kind of interface.
         */
        NAME_IN_USE,
        /** Attaching to a device that does not exist ({@code TunTapAddress.attach}). */
        NO_SUCH_DEVICE,
        /** The kernel does not support a requested feature (multi-queue, virtio-net headers, an offload). */
        UNSUPPORTED,
        /** Any other error from the kernel; the message carries its errno. */
        SYSTEM_ERROR
    }

    private final Reason reason;
    private final int errno;

    TunTapException(Reason reason, String message, int errno) {
        super(message);
        this.reason = reason;
        this.errno = Math.abs(errno);
    }

    TunTapException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.errno = 0;
    }

    /** Why the device could not be opened. */
    public Reason reason() {
        return reason;
    }

    /** The kernel's errno (positive), or 0 if the failure did not come from a system call. */
    public int errno() {
        return errno;
    }
}

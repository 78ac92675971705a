package dev.pktkit.afxdp;

import dev.pktkit.linux.LinuxException;

/** Setting up an AF_XDP socket or its XDP program failed; {@link #reason()} says what kind of failure. */
public final class XdpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Kinds of setup failure. */
    public enum Reason {
        /** Not Linux, or no AF_XDP / bpf(2) here. */
        UNSUPPORTED,
        /** The caller lacks CAP_NET_ADMIN / CAP_BPF (or CAP_NET_RAW for the socket). */
        PERMISSION_DENIED,
        /** No such interface or queue. */
        NO_SUCH_DEVICE,
        /** A zero-copy bind the driver refused. */
        ZERO_COPY_REFUSED,
        /** The verifier rejected the program (its log is in the message). */
        PROGRAM_REJECTED,
        /** The interface already has an XDP program (or the queue a socket). */
        BUSY,
        /** Any other failure of a system call. */
        SYSTEM_ERROR
    }

    private final Reason reason;
    private final int errno;

    XdpException(Reason reason, String message, int errno, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.errno = Math.abs(errno);
    }

    /** From a failed call's {@code -errno}. */
    static XdpException of(String what, int result) {
        LinuxException le = new LinuxException(what, result);
        Reason r = switch (le.reason()) {
            case PERMISSION_DENIED -> Reason.PERMISSION_DENIED;
            case NOT_FOUND -> Reason.NO_SUCH_DEVICE;
            case BUSY, ALREADY_EXISTS -> Reason.BUSY;
            case UNSUPPORTED -> Reason.UNSUPPORTED;
            default -> Reason.SYSTEM_ERROR;
        };
        if (-result == dev.pktkit.linux.Errno.ENODEV || -result == dev.pktkit.linux.Errno.ENXIO) {
            r = Reason.NO_SUCH_DEVICE;
        }
        return new XdpException(r, le.getMessage(), result, le);
    }

    /** What kind of failure. */
    public Reason reason() {
        return reason;
    }

    /** The errno (positive), or 0. */
    public int errno() {
        return errno;
    }
}

package dev.pktkit.linux;

/**
 * A Linux system call (or a request to the kernel, such as rtnetlink) failed. {@link #errno()} is the kernel's
 * error number, {@link #reason()} the kind of failure a program can act on, and the message says, for a person,
 * what was being done, the errno's name and text, and (for missing privileges) what is needed.
 *
 * <p>{@link #check(long, String)} turns a {@link LibC} result ({@code -errno} on failure) into this exception.
 */
public class LinuxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The kinds of failure, derived from the errno. */
    public enum Reason {
        /** {@code EPERM}, {@code EACCES}: a privilege ({@code CAP_NET_ADMIN}, {@code CAP_SYS_ADMIN}) is missing. */
        PERMISSION_DENIED,
        /** {@code ENOENT}, {@code ENODEV}, {@code ENXIO}, {@code ESRCH}: the file, device or interface is missing. */
        NOT_FOUND,
        /** {@code EEXIST}, {@code EADDRINUSE}: it exists already. */
        ALREADY_EXISTS,
        /** {@code EBUSY}: in use by someone else. */
        BUSY,
        /** {@code EINVAL}, {@code ERANGE}, {@code EMSGSIZE}: the kernel refused a value (an MTU out of range, ...). */
        INVALID_ARGUMENT,
        /**
         * {@code EOPNOTSUPP}, {@code ENOSYS}, {@code ENOTTY}, {@code EAFNOSUPPORT}, {@code EPROTONOSUPPORT}: this
         * kernel or device does not offer it.
         */
        UNSUPPORTED,
        /** {@code ENOMEM}, {@code ENOBUFS}, {@code EMFILE}, {@code ENFILE}: out of memory or descriptors. */
        NO_RESOURCES,
        /** {@code EAGAIN}, {@code ETIMEDOUT} where a bounded wait ran out (an rtnetlink answer that did not come). */
        TIMED_OUT,
        /** Not Linux, not a 64-bit JVM, or native access refused: the bindings cannot work here (errno 0). */
        NOT_AVAILABLE,
        /** The kernel's answer could not be understood (errno 0). */
        BAD_REPLY,
        /** Anything else; see the errno. */
        OTHER;

        /** The reason for {@code errno} (either sign). */
        public static Reason of(int errno) {
            return switch (Math.abs(errno)) {
                case Errno.EPERM, Errno.EACCES -> PERMISSION_DENIED;
                case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO, Errno.ESRCH -> NOT_FOUND;
                case Errno.EEXIST, Errno.EADDRINUSE -> ALREADY_EXISTS;
                case Errno.EBUSY -> BUSY;
                case Errno.EINVAL, Errno.ERANGE, Errno.EMSGSIZE -> INVALID_ARGUMENT;
                case Errno.EOPNOTSUPP, Errno.ENOSYS, Errno.ENOTTY, Errno.EAFNOSUPPORT, Errno.EPROTONOSUPPORT ->
                        UNSUPPORTED;
                case Errno.ENOMEM, Errno.ENOBUFS, Errno.EMFILE, Errno.ENFILE -> NO_RESOURCES;
                case Errno.EAGAIN, Errno.ETIMEDOUT -> TIMED_OUT;
                default -> OTHER;
            };
        }
    }

    private final int errno;
    private final Reason reason;

    /** {@code what} failed with {@code errno} (either sign). */
    public LinuxException(String what, int errno) {
        super(what + ": " + Errno.name(errno) + hint(errno));
        this.errno = Math.abs(errno);
        this.reason = Reason.of(errno);
    }

    /** A failure without an errno ({@link Reason#NOT_AVAILABLE}, {@link Reason#BAD_REPLY}). */
    public LinuxException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.errno = 0;
        this.reason = reason;
    }

    /**
     * Returns {@code result} if it is not negative; otherwise throws a {@code LinuxException} for
     * {@code -result} while doing {@code what}. For {@link LibC}'s results.
     */
    public static long check(long result, String what) {
        if (result < 0) {
            throw new LinuxException(what, (int) -result);
        }
        return result;
    }

    /** {@link #check(long, String)} for {@code int} results. */
    public static int check(int result, String what) {
        if (result < 0) {
            throw new LinuxException(what, -result);
        }
        return result;
    }

    /** The kernel's error number (positive), or 0 if the failure was not an errno. */
    public int errno() {
        return errno;
    }

    /** What kind of failure this is. */
    public Reason reason() {
        return reason;
    }

    private static String hint(int errno) {
        int e = Math.abs(errno);
        if (e == Errno.EPERM || e == Errno.EACCES) {
            return "; this needs CAP_NET_ADMIN (network configuration) or CAP_SYS_ADMIN (entering a namespace) "
                    + "in the namespace's user namespace";
        }
        return "";
    }
}

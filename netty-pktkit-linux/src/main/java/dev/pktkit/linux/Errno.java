package dev.pktkit.linux;

/**
 * Linux {@code errno} values (x86-64, arm64 and riscv64 share them) that the native transports meet, and their
 * names. {@link LibC}'s calls return failures as the negated value ({@code -EPERM}); {@link LinuxException}
 * carries the positive one.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int EBADFD = 77;
    public static final int EMSGSIZE = 90;
    public static final int ENOPROTOOPT = 92;
    public static final int EPROTONOSUPPORT = 93;
    public static final int EOPNOTSUPP = 95;
    public static final int EAFNOSUPPORT = 97;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETDOWN = 100;
    public static final int ENETUNREACH = 101;
    public static final int ENOBUFS = 105;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTUNREACH = 113;
    public static final int ECANCELED = 125;

    private Errno() {
    }

    /**
     * The symbolic name of {@code errno} (either sign) with its usual text, e.g.
     * {@code "EPERM (operation not permitted)"}; {@code "errno N"} for values not listed here.
     */
    public static String name(int errno) {
        int e = Math.abs(errno);
        return switch (e) {
            case EPERM -> "EPERM (operation not permitted)";
            case ENOENT -> "ENOENT (no such file or directory)";
            case ESRCH -> "ESRCH (no such process)";
            case EINTR -> "EINTR (interrupted system call)";
            case EIO -> "EIO (input/output error)";
            case ENXIO -> "ENXIO (no such device or address)";
            case EBADF -> "EBADF (bad file descriptor)";
            case EAGAIN -> "EAGAIN (resource temporarily unavailable)";
            case ENOMEM -> "ENOMEM (cannot allocate memory)";
            case EACCES -> "EACCES (permission denied)";
            case EFAULT -> "EFAULT (bad address)";
            case EBUSY -> "EBUSY (device or resource busy)";
            case EEXIST -> "EEXIST (file exists)";
            case ENODEV -> "ENODEV (no such device)";
            case EINVAL -> "EINVAL (invalid argument)";
            case ENFILE -> "ENFILE (too many open files in system)";
            case EMFILE -> "EMFILE (too many open files)";
            case ENOTTY -> "ENOTTY (inappropriate ioctl for device)";
            case ERANGE -> "ERANGE (result out of range)";
            case ENOSYS -> "ENOSYS (function not implemented)";
            case EBADFD -> "EBADFD (file descriptor in bad state)";
            case EMSGSIZE -> "EMSGSIZE (message too long)";
            case ENOPROTOOPT -> "ENOPROTOOPT (protocol not available)";
            case EPROTONOSUPPORT -> "EPROTONOSUPPORT (protocol not supported)";
            case EOPNOTSUPP -> "EOPNOTSUPP (operation not supported)";
            case EAFNOSUPPORT -> "EAFNOSUPPORT (address family not supported by protocol)";
            case EADDRINUSE -> "EADDRINUSE (address already in use)";
            case EADDRNOTAVAIL -> "EADDRNOTAVAIL (cannot assign requested address)";
            case ENETDOWN -> "ENETDOWN (network is down)";
            case ENETUNREACH -> "ENETUNREACH (network is unreachable)";
            case ENOBUFS -> "ENOBUFS (no buffer space available)";
            case ETIMEDOUT -> "ETIMEDOUT (connection timed out)";
            case ECONNREFUSED -> "ECONNREFUSED (connection refused)";
            case EHOSTUNREACH -> "EHOSTUNREACH (no route to host)";
            case ECANCELED -> "ECANCELED (operation canceled)";
            default -> "errno " + e;
        };
    }
}

package dev.pktkit.tuntap.netlink;

import dev.pktkit.tuntap.linux.LibC;

/**
 * A request to the kernel's network configuration (rtnetlink) or a namespace switch failed. The message names
 * the operation, the object and the kernel's error ({@code errno} name and text).
 */
public class NetlinkException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    /** A failure the kernel reported with {@code errno} (positive), while doing {@code what}. */
    public NetlinkException(String what, int errno) {
        super(what + ": " + LibC.errnoName(errno) + hint(errno));
        this.errno = Math.abs(errno);
    }

    /** A failure without an errno (a malformed or missing reply). */
    public NetlinkException(String message) {
        super(message);
        this.errno = 0;
    }

    /** The kernel's error number (positive), or 0 if the failure was not an errno. */
    public int errno() {
        return errno;
    }

    private static String hint(int errno) {
        int e = Math.abs(errno);
        if (e == LibC.EPERM || e == LibC.EACCES) {
            return "; changing network configuration needs CAP_NET_ADMIN in the namespace's user namespace";
        }
        return "";
    }
}

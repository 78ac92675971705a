package dev.pktkit.linux.netlink;

import dev.pktkit.linux.LinuxException;

/**
 * A request to the kernel's network configuration (rtnetlink) failed. The message names the operation, the
 * object, the namespace and the kernel's error ({@code errno} name and text); {@link #errno()} and
 * {@link #reason()} say it for a program ({@code EINVAL}/{@code INVALID_ARGUMENT} for an MTU out of range,
 * {@code ENODEV}/{@code NOT_FOUND} for a missing interface, {@code EAGAIN}/{@code TIMED_OUT} when the kernel did
 * not answer within {@link RtNetlink#TIMEOUT_SECONDS}).
 */
public class NetlinkException extends LinuxException {
    private static final long serialVersionUID = 1L;

    /** A failure the kernel reported with {@code errno} (either sign), while doing {@code what}. */
    public NetlinkException(String what, int errno) {
        super(what, errno);
    }

    /** An answer that could not be understood ({@link Reason#BAD_REPLY}, errno 0). */
    public NetlinkException(String message) {
        super(Reason.BAD_REPLY, message, null);
    }
}

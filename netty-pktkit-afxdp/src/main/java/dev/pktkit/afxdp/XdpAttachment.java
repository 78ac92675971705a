package dev.pktkit.afxdp;

import dev.pktkit.linux.LibC;

/**
 * An XDP program attached to an interface through a {@code bpf_link}: closing it (or the process ending)
 * detaches the program. Thread-safe.
 */
public final class XdpAttachment implements AutoCloseable {
    private final int linkFd;
    private final String ifname;
    private final int ifindex;
    private final XdpMode mode;
    private boolean closed;

    XdpAttachment(int linkFd, String ifname, int ifindex, XdpMode mode) {
        this.linkFd = linkFd;
        this.ifname = ifname;
        this.ifindex = ifindex;
        this.mode = mode;
    }

    /** The interface's name when attached. */
    public String ifname() {
        return ifname;
    }

    /** The interface's index. */
    public int ifindex() {
        return ifindex;
    }

    /** The mode the program runs in. */
    public XdpMode mode() {
        return mode;
    }

    /** Detaches the program (once). */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.close(linkFd);
        }
    }

    @Override
    public String toString() {
        return "XdpAttachment(" + ifname + ", " + mode + ")";
    }
}

package dev.pktkit.linux.netlink;

import dev.pktkit.linux.Errno;
import dev.pktkit.linux.LibC;
import dev.pktkit.linux.NetNamespace;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client of the kernel's rtnetlink: names, MTU, state, addresses, routes and namespaces of network interfaces,
 * without running {@code ip}. One {@code NETLINK_ROUTE} socket in the namespace it was opened in; every method
 * sends one request and waits for the kernel's answer (the kernel handles these requests synchronously, so the
 * wait is microseconds; a receive timeout of {@value #TIMEOUT_SECONDS} s bounds it anyway).
 *
 * <pre>{@code
 * try (RtNetlink nl = RtNetlink.open()) {
 *     int tun = nl.link("pk0").index();
 *     nl.setMtu(tun, 1400);
 *     nl.addAddress(tun, InetAddress.getByName("10.0.0.1"), 24);
 *     nl.addAddress(tun, InetAddress.getByName("fd00::1"), 64);
 *     nl.setUp(tun, true);
 *     nl.addRoute(InetAddress.getByName("10.1.0.0"), 16, tun, null);
 * }
 * }</pre>
 *
 * <p>Thread-safe: requests are serialised on the socket by a lock that only callers of this object take.
 * Every request blocks its caller until the kernel answers, and the kernel may make it wait (its rtnetlink lock
 * is held for seconds while, for example, a namespace is torn down): call it on a thread that may block, never on
 * an event loop. {@link #close()} never waits for a request in progress; the socket is closed when the last one
 * returns. Failures throw {@link NetlinkException} with the kernel's errno. Changing configuration needs
 * {@code CAP_NET_ADMIN}.
 */
public final class RtNetlink implements AutoCloseable {
    /** Upper bound on the wait for one answer. */
    public static final int TIMEOUT_SECONDS = 5;

    static final int NETLINK_ROUTE = 0;
    static final int NLMSG_HDRLEN = 16;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLM_F_REQUEST = 0x1;
    static final int NLM_F_ACK = 0x4;
    static final int NLM_F_REPLACE = 0x100;
    static final int NLM_F_EXCL = 0x200;
    static final int NLM_F_CREATE = 0x400;
    static final int RTM_NEWLINK = 16;
    static final int RTM_DELLINK = 17;
    static final int RTM_GETLINK = 18;
    static final int RTM_NEWADDR = 20;
    static final int RTM_DELADDR = 21;
    static final int RTM_NEWROUTE = 24;
    static final int RTM_DELROUTE = 25;
    static final int IFLA_ADDRESS = 1;
    static final int IFLA_IFNAME = 3;
    static final int IFLA_MTU = 4;
    static final int IFLA_NET_NS_FD = 28;
    static final int IFA_ADDRESS = 1;
    static final int IFA_LOCAL = 2;
    static final int IFA_FLAGS = 8;
    static final int IFA_F_NODAD = 0x02;
    static final int RTA_DST = 1;
    static final int RTA_OIF = 4;
    static final int RTA_GATEWAY = 5;
    static final int RTA_PRIORITY = 6;
    static final int RT_TABLE_MAIN = 254;
    static final int RTPROT_STATIC = 4;
    static final int RT_SCOPE_UNIVERSE = 0;
    static final int RT_SCOPE_LINK = 253;
    static final int RTN_UNICAST = 1;
    static final int IFINFOMSG_LEN = 16;
    static final int IFADDRMSG_LEN = 8;
    static final int RTMSG_LEN = 12;
    static final int MAX_NAME_BYTES = 15;
    private static final int RECEIVE_BUFFER = 32 * 1024;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    /** Requests in progress, plus 1 while open: the socket is closed when it drops to 0. */
    private final AtomicInteger users = new AtomicInteger(1);
    private final ReentrantLock lock = new ReentrantLock();
    private final int fd;
    private final String where;
    private volatile boolean closed;
    private int seq;

    private RtNetlink(int fd, String where) {
        this.fd = fd;
        this.where = where;
    }

    /** A socket in the calling thread's network namespace (for most programs, the JVM's). */
    public static RtNetlink open() {
        return open0("the current network namespace");
    }

    /** A socket in {@code namespace} (created on a thread that entered it); the current one if null. */
    public static RtNetlink open(NetNamespace namespace) {
        if (namespace == null) {
            return open();
        }
        try {
            return namespace.call(() -> open0(namespace.path().toString()));
        } catch (RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetlinkException("interrupted while opening rtnetlink in " + namespace, Errno.EINTR);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static RtNetlink open0(String where) {
        int fd = LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) {
            throw new NetlinkException("opening an rtnetlink socket", -fd);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tv = arena.allocate(16);
            tv.set(ValueLayout.JAVA_LONG, 0, TIMEOUT_SECONDS);
            tv.set(ValueLayout.JAVA_LONG, 8, 0);
            int r = LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, tv);
            if (r < 0) {
                LibC.close(fd);
                throw new NetlinkException("setting the rtnetlink receive timeout", -r);
            }
            MemorySegment sa = arena.allocate(12);
            sa.set(U16, 0, (short) LibC.AF_NETLINK);
            r = LibC.bind(fd, sa);
            if (r < 0) {
                LibC.close(fd);
                throw new NetlinkException("binding an rtnetlink socket", -r);
            }
        }
        return new RtNetlink(fd, where);
    }

    // ---- links ----

    /** The interface named {@code name}, if there is one. */
    public Optional<LinkInfo> findLink(String name) {
        checkName(name);
        RtMessage m = new RtMessage(RTM_GETLINK, NLM_F_REQUEST);
        m.ifinfo(0, 0, 0);
        m.attrString(IFLA_IFNAME, name);
        return Optional.ofNullable(request(m, "looking up interface " + name, true));
    }

    /** The interface named {@code name}; throws {@link NetlinkException} ({@code ENODEV}) if there is none. */
    public LinkInfo link(String name) {
        return findLink(name).orElseThrow(() -> new NetlinkException("looking up interface " + name + " in "
                + where, Errno.ENODEV));
    }

    /** The interface with index {@code index}; throws {@link NetlinkException} ({@code ENODEV}) if none. */
    public LinkInfo link(int index) {
        RtMessage m = new RtMessage(RTM_GETLINK, NLM_F_REQUEST);
        m.ifinfo(index, 0, 0);
        LinkInfo info = request(m, "looking up interface #" + index, true);
        if (info == null) {
            throw new NetlinkException("looking up interface #" + index + " in " + where, Errno.ENODEV);
        }
        return info;
    }

    /** Sets the interface administratively up or down. */
    public void setUp(int index, boolean up) {
        RtMessage m = new RtMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        m.ifinfo(index, up ? LinkInfo.IFF_UP : 0, LinkInfo.IFF_UP);
        request(m, "setting interface #" + index + (up ? " up" : " down"), false);
    }

    /** Sets the MTU. */
    public void setMtu(int index, int mtu) {
        if (mtu <= 0) {
            throw new IllegalArgumentException("mtu must be positive: " + mtu);
        }
        RtMessage m = new RtMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        m.ifinfo(index, 0, 0);
        m.attrInt(IFLA_MTU, mtu);
        request(m, "setting the MTU of interface #" + index + " to " + mtu, false);
    }

    /** Renames the interface (the kernel requires it to be down). */
    public void setName(int index, String name) {
        checkName(name);
        RtMessage m = new RtMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        m.ifinfo(index, 0, 0);
        m.attrString(IFLA_IFNAME, name);
        request(m, "renaming interface #" + index + " to " + name, false);
    }

    /** Sets the link-layer (MAC) address: {@code mac}'s low 48 bits. */
    public void setMacAddress(int index, long mac) {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (mac >>> (40 - 8 * i));
        }
        RtMessage m = new RtMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        m.ifinfo(index, 0, 0);
        m.attrBytes(IFLA_ADDRESS, b);
        request(m, "setting the MAC address of interface #" + index, false);
    }

    /**
     * Moves the interface into {@code target} (it keeps its name, and its index if free there). A TUN/TAP
     * device keeps working through its open file descriptors; its configuration must then be done in the target
     * namespace ({@link #open(NetNamespace)}).
     */
    public void moveToNamespace(int index, NetNamespace target) {
        Objects.requireNonNull(target, "target");
        RtMessage m = new RtMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        m.ifinfo(index, 0, 0);
        m.attrInt(IFLA_NET_NS_FD, target.fd());
        request(m, "moving interface #" + index + " to " + target, false);
    }

    /** Deletes the interface (virtual interfaces such as veth, vxlan, bridge; TUN/TAP devices go with their fd). */
    public void deleteLink(int index) {
        RtMessage m = new RtMessage(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
        m.ifinfo(index, 0, 0);
        request(m, "deleting interface #" + index, false);
    }

    // ---- addresses ----

    /**
     * Adds {@code address/prefixLength} to the interface (replacing the same address). IPv6 addresses skip
     * duplicate address detection ({@code IFA_F_NODAD}) so they are usable at once.
     */
    public void addAddress(int index, InetAddress address, int prefixLength) {
        addressRequest(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, index, address,
                prefixLength, "adding");
    }

    /** Removes {@code address/prefixLength} from the interface. */
    public void deleteAddress(int index, InetAddress address, int prefixLength) {
        addressRequest(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, index, address, prefixLength, "removing");
    }

    private void addressRequest(int type, int flags, int index, InetAddress address, int prefixLength,
                                String verb) {
        byte[] a = address.getAddress();
        checkPrefix(a, prefixLength);
        boolean v6 = address instanceof Inet6Address;
        RtMessage m = new RtMessage(type, flags);
        m.ifaddr(v6 ? LibC.AF_INET6 : LibC.AF_INET, prefixLength, v6 ? IFA_F_NODAD : 0, index);
        m.attrBytes(IFA_LOCAL, a);
        m.attrBytes(IFA_ADDRESS, a);
        if (v6) {
            m.attrInt(IFA_FLAGS, IFA_F_NODAD);
        }
        request(m, verb + " address " + address.getHostAddress() + "/" + prefixLength + " on interface #"
                + index, false);
    }

    // ---- routes ----

    /**
     * Adds (or replaces) a route in the main table: {@code destination/prefixLength} through interface
     * {@code index}, via {@code gateway} if not null (else directly on the link).
     */
    public void addRoute(InetAddress destination, int prefixLength, int index, InetAddress gateway) {
        routeRequest(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, destination,
                prefixLength, index, gateway, "adding");
    }

    /** Removes the route {@code destination/prefixLength} through interface {@code index}. */
    public void deleteRoute(InetAddress destination, int prefixLength, int index, InetAddress gateway) {
        routeRequest(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, destination, prefixLength, index, gateway,
                "removing");
    }

    private void routeRequest(int type, int flags, InetAddress destination, int prefixLength, int index,
                              InetAddress gateway, String verb) {
        byte[] dst = destination.getAddress();
        checkPrefix(dst, prefixLength);
        boolean v6 = destination instanceof Inet6Address;
        if (gateway != null && (gateway instanceof Inet6Address) != v6) {
            throw new IllegalArgumentException("gateway " + gateway + " is not of the destination's family");
        }
        RtMessage m = new RtMessage(type, flags);
        int scope = gateway == null && !v6 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
        m.rtmsg(v6 ? LibC.AF_INET6 : LibC.AF_INET, prefixLength, scope);
        if (prefixLength > 0) {
            m.attrBytes(RTA_DST, dst);
        }
        m.attrInt(RTA_OIF, index);
        if (gateway != null) {
            m.attrBytes(RTA_GATEWAY, gateway.getAddress());
        }
        request(m, verb + " route " + destination.getHostAddress() + "/" + prefixLength + " dev #" + index
                + (gateway == null ? "" : " via " + gateway.getHostAddress()), false);
    }

    /** Closes the socket; a request in progress on another thread finishes first (this call does not wait). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            release();
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    private void release() {
        if (users.decrementAndGet() == 0) {
            LibC.close(fd);
        }
    }

    private void acquire() {
        for (;;) {
            int n = users.get();
            if (n == 0 || closed) {
                throw new IllegalStateException(this + " is closed");
            }
            if (users.compareAndSet(n, n + 1)) {
                return;
            }
        }
    }

    @Override
    public String toString() {
        return "RtNetlink(" + where + ")";
    }

    // ---- request / answer ----

    /**
     * Sends {@code m} and waits for its answer: an ACK (returns null), an error (throws, except {@code ENODEV}
     * for a lookup, which returns null), or, for a lookup, the link it asked for.
     */
    private LinkInfo request(RtMessage m, String what, boolean lookup) {
        acquire();
        try {
            lock.lock();
            try {
                return exchange(m, what, lookup);
            } finally {
                lock.unlock();
            }
        } finally {
            release();
        }
    }

    private LinkInfo exchange(RtMessage m, String what, boolean lookup) {
        int mySeq = ++seq;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment req = m.finish(arena, mySeq);
            MemorySegment kernel = arena.allocate(12);
            kernel.set(U16, 0, (short) LibC.AF_NETLINK);
            long sent = LibC.sendto(fd, req, req.byteSize(), kernel);
            if (sent < 0) {
                throw new NetlinkException(what + " (sending the request)", (int) -sent);
            }
            MemorySegment buf = arena.allocate(RECEIVE_BUFFER);
            while (true) {
                long n = LibC.recv(fd, buf, 0);
                if (n < 0) {
                    if (-n == Errno.EINTR) {
                        continue;
                    }
                    throw new NetlinkException(what + " (waiting " + TIMEOUT_SECONDS + " s at most for the kernel's "
                            + "answer)", (int) -n);
                }
                RtMessage.Answer a = RtMessage.answer(buf, (int) n, mySeq, lookup);
                switch (a.kind()) {
                    case MALFORMED -> throw new NetlinkException(what + ": malformed rtnetlink answer");
                    case ERROR -> {
                        if (lookup && a.errno() == Errno.ENODEV) {
                            return null;
                        }
                        throw new NetlinkException(what + " in " + where, a.errno());
                    }
                    case DONE -> {
                        return a.link();
                    }
                    case NONE -> {
                        // not the answer to this request (a late one to an earlier request): read on
                    }
                }
            }
        }
    }

    static void checkName(String name) {
        Objects.requireNonNull(name, "name");
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        if (b.length == 0 || b.length > MAX_NAME_BYTES || name.contains("/") || name.equals(".")
                || name.equals("..") || name.chars().anyMatch(c -> c <= ' ' || c == ':')) {
            throw new IllegalArgumentException("not an interface name (1-15 bytes, no '/', ':' or spaces): '"
                    + name + "'");
        }
    }

    private static void checkPrefix(byte[] address, int prefixLength) {
        if (prefixLength < 0 || prefixLength > address.length * 8) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range for "
                    + (address.length == 4 ? "IPv4" : "IPv6"));
        }
    }
}

package dev.pktkit.tuntap.netlink;

import dev.pktkit.tuntap.linux.LibC;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;

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
 * <p>Thread-safe (requests are serialised on the socket). Failures throw {@link NetlinkException} with the
 * kernel's errno. Changing configuration needs {@code CAP_NET_ADMIN}.
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

    private final int fd;
    private final String where;
    private int seq;
    private boolean closed;

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
            throw new NetlinkException("interrupted while opening rtnetlink in " + namespace);
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
        Message m = new Message(RTM_GETLINK, NLM_F_REQUEST);
        m.ifinfo(0, 0, 0);
        m.attrString(IFLA_IFNAME, name);
        return Optional.ofNullable(request(m, "looking up interface " + name, true));
    }

    /** The interface named {@code name}; throws {@link NetlinkException} ({@code ENODEV}) if there is none. */
    public LinkInfo link(String name) {
        return findLink(name).orElseThrow(() -> new NetlinkException("looking up interface " + name + " in "
                + where, LibC.ENODEV));
    }

    /** The interface with index {@code index}; throws {@link NetlinkException} ({@code ENODEV}) if none. */
    public LinkInfo link(int index) {
        Message m = new Message(RTM_GETLINK, NLM_F_REQUEST);
        m.ifinfo(index, 0, 0);
        LinkInfo info = request(m, "looking up interface #" + index, true);
        if (info == null) {
            throw new NetlinkException("looking up interface #" + index + " in " + where, LibC.ENODEV);
        }
        return info;
    }

    /** Sets the interface administratively up or down. */
    public void setUp(int index, boolean up) {
        Message m = new Message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        m.ifinfo(index, up ? LinkInfo.IFF_UP : 0, LinkInfo.IFF_UP);
        request(m, "setting interface #" + index + (up ? " up" : " down"), false);
    }

    /** Sets the MTU. */
    public void setMtu(int index, int mtu) {
        if (mtu <= 0) {
            throw new IllegalArgumentException("mtu must be positive: " + mtu);
        }
        Message m = new Message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        m.ifinfo(index, 0, 0);
        m.attrInt(IFLA_MTU, mtu);
        request(m, "setting the MTU of interface #" + index + " to " + mtu, false);
    }

    /** Renames the interface (the kernel requires it to be down). */
    public void setName(int index, String name) {
        checkName(name);
        Message m = new Message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
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
        Message m = new Message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
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
        Message m = new Message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        m.ifinfo(index, 0, 0);
        m.attrInt(IFLA_NET_NS_FD, target.fd());
        request(m, "moving interface #" + index + " to " + target, false);
    }

    /** Deletes the interface (virtual interfaces such as veth, vxlan, bridge; TUN/TAP devices go with their fd). */
    public void deleteLink(int index) {
        Message m = new Message(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK);
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
        Message m = new Message(type, flags);
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
        Message m = new Message(type, flags);
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

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.close(fd);
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
    private synchronized LinkInfo request(Message m, String what, boolean lookup) {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
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
                    if (-n == LibC.EINTR) {
                        continue;
                    }
                    throw new NetlinkException(what + " (waiting for the kernel's answer)", (int) -n);
                }
                int off = 0;
                while (off + NLMSG_HDRLEN <= n) {
                    int len = buf.get(U32, off);
                    int type = Short.toUnsignedInt(buf.get(U16, off + 4));
                    int rseq = buf.get(U32, off + 8);
                    if (len < NLMSG_HDRLEN || off + len > n) {
                        throw new NetlinkException(what + ": malformed rtnetlink answer");
                    }
                    if (rseq == mySeq) {
                        if (type == NLMSG_ERROR) {
                            int err = buf.get(U32, off + NLMSG_HDRLEN);
                            if (err == 0) {
                                return null;
                            }
                            if (lookup && -err == LibC.ENODEV) {
                                return null;
                            }
                            throw new NetlinkException(what + " in " + where, -err);
                        }
                        if (type == RTM_NEWLINK && lookup) {
                            return parseLink(buf, off, len);
                        }
                        if (type == NLMSG_DONE) {
                            return null;
                        }
                    }
                    off += align(len);
                }
            }
        }
    }

    private static LinkInfo parseLink(MemorySegment buf, int off, int len) {
        int body = off + NLMSG_HDRLEN;
        int index = buf.get(U32, body + 4);
        int flags = buf.get(U32, body + 8);
        String name = null;
        int mtu = 0;
        long mac = 0;
        int a = body + IFINFOMSG_LEN;
        int end = off + len;
        while (a + 4 <= end) {
            int alen = Short.toUnsignedInt(buf.get(U16, a));
            int atype = Short.toUnsignedInt(buf.get(U16, a + 2)) & 0x3FFF;
            if (alen < 4 || a + alen > end) {
                break;
            }
            int data = a + 4;
            int dlen = alen - 4;
            switch (atype) {
                case IFLA_IFNAME -> {
                    byte[] s = new byte[dlen];
                    MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, data, s, 0, dlen);
                    int z = 0;
                    while (z < s.length && s[z] != 0) {
                        z++;
                    }
                    name = new String(s, 0, z, StandardCharsets.UTF_8);
                }
                case IFLA_MTU -> mtu = dlen >= 4 ? buf.get(U32, data) : 0;
                case IFLA_ADDRESS -> {
                    if (dlen == 6) {
                        for (int i = 0; i < 6; i++) {
                            mac = (mac << 8) | (buf.get(ValueLayout.JAVA_BYTE, data + i) & 0xFF);
                        }
                    }
                }
                default -> {
                }
            }
            a += align(alen);
        }
        return new LinkInfo(index, name, mtu, flags, mac);
    }

    static int align(int n) {
        return (n + 3) & ~3;
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

    /** A request under construction: a netlink header, one fixed struct, attributes. */
    private static final class Message {
        private final byte[] bytes = new byte[512];
        private final java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.nativeOrder());

        Message(int type, int flags) {
            b.putInt(0); // length, filled by finish
            b.putShort((short) type);
            b.putShort((short) flags);
            b.putInt(0); // seq, filled by finish
            b.putInt(0); // port id: 0 = the kernel fills ours
        }

        void ifinfo(int index, int flags, int change) {
            b.put((byte) 0).put((byte) 0).putShort((short) 0);
            b.putInt(index).putInt(flags).putInt(change);
        }

        void ifaddr(int family, int prefixLength, int flags, int index) {
            b.put((byte) family).put((byte) prefixLength).put((byte) flags).put((byte) 0).putInt(index);
        }

        void rtmsg(int family, int dstLength, int scope) {
            b.put((byte) family).put((byte) dstLength).put((byte) 0).put((byte) 0);
            b.put((byte) RT_TABLE_MAIN).put((byte) RTPROT_STATIC).put((byte) scope).put((byte) RTN_UNICAST);
            b.putInt(0);
        }

        void attrInt(int type, int value) {
            b.putShort((short) 8).putShort((short) type).putInt(value);
        }

        void attrBytes(int type, byte[] value) {
            b.putShort((short) (4 + value.length)).putShort((short) type).put(value);
            pad();
        }

        void attrString(int type, String value) {
            byte[] s = value.getBytes(StandardCharsets.UTF_8);
            b.putShort((short) (4 + s.length + 1)).putShort((short) type).put(s).put((byte) 0);
            pad();
        }

        private void pad() {
            while ((b.position() & 3) != 0) {
                b.put((byte) 0);
            }
        }

        MemorySegment finish(Arena arena, int seq) {
            int len = b.position();
            b.putInt(0, len);
            b.putInt(8, seq);
            MemorySegment s = arena.allocate(len);
            MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, len);
            return s;
        }
    }
}
